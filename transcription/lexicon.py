"""Words of a transcript as topic finding needs them: tokens, stopwords, fillers and stems.

Stopwords come from YAKE's lists (en, fr, es, pt and about thirty more) and, for languages
YAKE has none for (Swahili among them), from Stopwords ISO; both ship inside their PyPI
packages, so nothing is fetched. Stems come from Snowball where it has the language; elsewhere
words are only lower-cased and stripped of accents. Spoken fillers are listed here, per language.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

WORD = re.compile(r"[^\W\d_]+")

SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "en": "english", "es": "spanish", "et": "estonian", "eu": "basque",
    "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian",
    "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian", "ne": "nepali",
    "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "st": "sesotho", "sv": "swedish", "ta": "tamil",
    "tr": "turkish", "yi": "yiddish",
}  # fmt: skip

# Words people say that carry no subject: hesitations, discourse markers, greetings.
FILLERS: dict[str, tuple[str, ...]] = {
    "en": (
        "um", "umm", "uh", "uhh", "erm", "er", "ah", "eh", "hmm", "mm", "mhm", "uh-huh",
        "okay", "ok", "yeah", "yep", "yes", "oh", "well", "like", "actually", "basically",
        "really", "just", "right", "so", "anyway", "you know", "i mean", "kind of", "sort of",
        "you see", "thank you", "thanks", "good morning", "good afternoon", "good evening",
        "welcome", "hello", "lot", "thing", "things", "stuff", "gonna", "wanna", "gotta",
        "yknow", "y'know", "who cares",
    ),
    "fr": (
        "euh", "heu", "hein", "ben", "bah", "bon", "ouais", "oui", "voilà", "quoi", "genre",
        "alors", "donc", "enfin", "tu vois", "vous voyez", "en fait", "c'est-à-dire",
        "bonjour", "bonsoir", "merci", "bienvenue", "chose", "choses", "truc",
    ),
    "es": (
        "eh", "em", "este", "pues", "bueno", "vale", "o sea", "sabes", "mira", "digamos",
        "hola", "gracias", "buenos días", "buenas tardes", "bienvenidos", "cosa", "cosas",
        "sí", "claro",
    ),
    "pt": (
        "é", "hã", "hum", "né", "tipo", "então", "pronto", "quer dizer", "sabe", "olha",
        "bom dia", "boa tarde", "obrigado", "obrigada", "coisa", "coisas", "sim", "pois",
    ),
    "sw": (
        "eee", "ee", "eeh", "ehe", "aa", "ah", "mmh", "yaani", "basi", "sasa", "unajua",
        "kwa hiyo", "asante", "habari", "karibu", "karibuni", "ndiyo", "sawa", "kitu", "vitu",
    ),
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents: "Santé" and "sante" are one word to a matcher."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def base_language(language: str | None) -> str:
    return (language or "en").split("-")[0].split("_")[0][:3].lower() or "en"


@dataclass(frozen=True)
class Token:
    text: str  # as spoken, for display
    lower: str  # lower case, accents folded
    stem: str  # folded stem (merges plural and case variants)
    content: bool  # neither a stopword nor a filler


class Lexicon:
    """One language's stopwords, fillers and stemmer."""

    def __init__(self, language: str | None) -> None:
        self.language = base_language(language)
        self.fillers = FILLERS.get(self.language, ())
        single = {f for f in self.fillers if WORD.fullmatch(f)}
        self.stopwords = frozenset(_stopwords(self.language) | single)
        self.folded_stopwords = frozenset(fold(w) for w in self.stopwords)
        self.filler_phrases = tuple(f for f in self.fillers if not WORD.fullmatch(f))
        self._stemmer = _stemmer(self.language)
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        lower = word.lower()
        cached = self._cache.get(lower)
        if cached is None:
            stemmed = self._stemmer.stemWord(lower) if self._stemmer else lower
            cached = self._cache[lower] = fold(stemmed)
        return cached

    def is_stopword(self, word: str) -> bool:
        lower = word.lower()
        return lower in self.stopwords or fold(lower) in self.folded_stopwords

    def tokens(self, text: str) -> list[Token]:
        """Words of ``text`` (letters only: numbers and punctuation carry no subject)."""
        out = []
        for match in WORD.finditer(text):
            word = match.group()
            out.append(
                Token(
                    text=word,
                    lower=fold(word),
                    stem=self.stem(word),
                    content=len(word) > 1 and not self.is_stopword(word),
                )
            )
        return out

    def phrase_key(self, phrase: str) -> tuple[str, ...]:
        """What variants of a phrase have in common: "Water Pumps" and "water pump" agree."""
        return tuple(t.stem for t in self.tokens(phrase))

    def strip_fillers(self, text: str) -> str:
        """Cut multi-word fillers ("you know", "y'know") out, leaving a phrase break."""
        for phrase in self.filler_phrases:
            text = re.sub(rf"(?i)\b{re.escape(phrase)}\b", " , ", text)
        return text


@functools.lru_cache(maxsize=32)
def lexicon(language: str | None) -> Lexicon:
    return Lexicon(language)


@functools.lru_cache(maxsize=32)
def _stopwords(language: str) -> frozenset[str]:
    yake_list = _yake_stopword_file(language)
    if yake_list is not None:
        return frozenset(w.strip().lower() for w in yake_list.read_text("utf-8").split() if w)
    import stopwordsiso

    if stopwordsiso.has_lang(language):
        return frozenset(stopwordsiso.stopwords(language))
    logger.warning("no stopword list for language %r; keyphrases will be noisier", language)
    return frozenset()


def _yake_stopword_file(language: str) -> Path | None:
    import yake

    path = Path(yake.__file__).parent / "core" / "StopwordsList" / f"stopwords_{language}.txt"
    return path if path.exists() else None


def _stemmer(language: str):  # noqa: ANN202 - a snowballstemmer stemmer or None
    name = SNOWBALL.get(language)
    if name is None:
        return None
    import snowballstemmer

    return snowballstemmer.stemmer(name)
