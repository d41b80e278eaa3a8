"""The languages Whisper knows, by code and English name, and which the installed models know.

Light on purpose: the web process offers these on the upload form without loading
faster-whisper (whose ``tokenizer._LANGUAGE_CODES`` holds the same codes; a test keeps the
two equal), and reads a model's languages from its tokenizer.json without joining it.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from transcription.assembly import PACKAGED, package_dirs
from transcription.models import (
    NAMES,
    bundled_path,
    is_model_dir,
    is_multilingual,
    normalise_language,
)

# In Whisper's own order (its language tokens' order, most training data first).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian",
    "ko": "Korean", "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish",
    "pl": "Polish", "ca": "Catalan", "nl": "Dutch", "ar": "Arabic", "sv": "Swedish",
    "it": "Italian", "id": "Indonesian", "hi": "Hindi", "fi": "Finnish", "vi": "Vietnamese",
    "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay", "cs": "Czech",
    "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian",
    "la": "Latin", "mi": "Māori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak",
    "te": "Telugu", "fa": "Persian", "lv": "Latvian", "bn": "Bengali", "sr": "Serbian",
    "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada", "et": "Estonian",
    "mk": "Macedonian", "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian",
    "ne": "Nepali", "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian",
    "sw": "Swahili", "gl": "Galician", "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala",
    "km": "Khmer", "sn": "Shona", "yo": "Yoruba", "so": "Somali", "af": "Afrikaans",
    "oc": "Occitan", "ka": "Georgian", "be": "Belarusian", "tg": "Tajik", "sd": "Sindhi",
    "gu": "Gujarati", "am": "Amharic", "yi": "Yiddish", "lo": "Lao", "uz": "Uzbek",
    "fo": "Faroese", "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen",
    "nn": "Norwegian Nynorsk", "mt": "Maltese", "sa": "Sanskrit", "lb": "Luxembourgish",
    "my": "Burmese", "bo": "Tibetan", "tl": "Tagalog", "mg": "Malagasy", "as": "Assamese",
    "tt": "Tatar", "haw": "Hawaiian", "ln": "Lingala", "ha": "Hausa", "ba": "Bashkir",
    "jw": "Javanese", "su": "Sundanese", "yue": "Cantonese",
}  # fmt: skip
_TOKEN = re.compile(r"<\|([a-z]{2,3})\|>")
_MODEL_FILES = ("tokenizer.json", "vocabulary.json", "vocabulary.txt")


def language_name(code: str | None) -> str:
    """'es' -> 'Spanish'; a code Whisper doesn't know is shown as it is."""
    lang = normalise_language(code) or ""
    return LANGUAGE_NAMES.get(lang, code or "")


def is_known(code: str | None) -> bool:
    """Whether Whisper has this language (a hint it hasn't is ignored: it detects instead)."""
    return normalise_language(code) in LANGUAGE_NAMES


def model_languages(folder: Path) -> tuple[str, ...]:
    """The languages a model folder can transcribe: its tokenizer's language tokens."""
    stamp = tuple((folder / n).stat().st_mtime_ns for n in _MODEL_FILES if (folder / n).is_file())
    return _folder_languages(str(folder), stamp)


@functools.lru_cache(maxsize=8)
def _folder_languages(folder: str, _stamp: tuple[int, ...]) -> tuple[str, ...]:
    path = Path(folder)
    if not is_multilingual(path):
        return ("en",)
    if not (path / "tokenizer.json").is_file():  # vocabulary only: the 99 before large-v3
        return tuple(c for c in LANGUAGE_NAMES if c != "yue")
    with (path / "tokenizer.json").open(encoding="utf-8") as fh:
        added = json.load(fh).get("added_tokens", [])
    found = {m.group(1) for t in added if (m := _TOKEN.fullmatch(t.get("content", "")))}
    return tuple(code for code in LANGUAGE_NAMES if code in found)


def installed_languages(configured: str | Path | None = None) -> tuple[str, ...]:
    """Every language some installed model knows, in Whisper's order; nothing is joined."""
    folders = [d[-1] for d in map(package_dirs, PACKAGED.values()) if d and is_model_side(d[-1])]
    bundled = bundled_path()
    if bundled is not None and is_model_dir(bundled):
        folders.append(bundled)
    folder = Path(str(configured or "")).expanduser()
    if configured and str(configured).casefold() not in NAMES and is_model_dir(folder):
        folders.append(folder)
    known = {code for folder in folders for code in model_languages(folder)}
    return tuple(code for code in LANGUAGE_NAMES if code in known) or ("en",)


def is_model_side(folder: Path) -> bool:
    """A packaged model's last package: its tokenizer and vocabulary beside a part."""
    return (folder / "tokenizer.json").is_file() and (folder / "vocabulary.json").is_file()
