"""Text in scripts written without spaces between words (Chinese, Japanese, Korean), and
Chinese in the script a station reads.

A search index that splits words at spaces sees a whole Chinese or Japanese sentence as
one word, so a word said inside it can't be found. ``index_text`` puts an invisible
separator (U+200B) between the characters of these scripts: every character becomes a
token of its own, and a word is found as the phrase of its characters, wherever it is
said. Korean words carry their particles (한국어를), so Hangul is split the same way.

OpenCC (from PyPI) converts between simplified and traditional Chinese: a query is
searched in both (``script_variants``), and a transcript can be stored in the script the
station chose (``to_chinese_script``). Light to import: OpenCC loads on first use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transcription.segments import Segment

SEPARATOR = "\u200b"  # zero-width space: a token boundary for the index, invisible on a page
_UNSEGMENTED = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0002fa1f"  # CJK extensions B to F, compatibility supplement
)
UNSEGMENTED = re.compile(f"[{_UNSEGMENTED}]")
_BETWEEN = re.compile(f"(?<=[{_UNSEGMENTED}])(?=\\w)|(?<=\\w)(?=[{_UNSEGMENTED}])")
CHINESE_SCRIPTS = ("simplified", "traditional")


def has_unsegmented(text: str | None) -> bool:
    """True when the text has characters of a script written without spaces."""
    return bool(text) and UNSEGMENTED.search(text) is not None


def index_text(text: str | None) -> str:
    """The text as the unsegmented-script index stores it: each such character a token."""
    if not text:
        return ""
    return _BETWEEN.sub(SEPARATOR, unicodedata.normalize("NFKC", text))


def tokens(word: str) -> list[str]:
    """A typed word as index tokens: its characters in these scripts, else the word."""
    return [t for t in index_text(word).split(SEPARATOR) if t]


@functools.cache
def _converter(config: str):  # noqa: ANN202 - opencc.OpenCC
    import opencc

    return opencc.OpenCC(config)


def script_variants(word: str) -> list[str]:
    """The word as typed, and in simplified and in traditional characters if it has Han."""
    if not UNSEGMENTED.search(word):
        return [word]
    variants = [word, _converter("t2s").convert(word), _converter("s2t").convert(word)]
    return list(dict.fromkeys(variants))


def to_chinese_script(segment: Segment, script: str) -> Segment:
    """A Chinese segment in the station's script (``simplified`` or ``traditional``)."""
    convert = _converter("t2s" if script == "simplified" else "s2t").convert
    words = tuple(replace(w, word=convert(w.word)) for w in segment.words)
    return replace(segment, text=convert(segment.text), words=words)
