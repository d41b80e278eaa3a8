"""What a person typed into the search box, as a safe FTS5 query, and checked filters.

People type queries, not FTS5 syntax: words, "quoted phrases", prefixes (``farm*``),
``OR`` between terms and ``-word`` to exclude. Whatever is typed, FTS5 only ever sees
well-formed input, so a stray quote or operator gives results or a clear ``BadQuery``.

Words in scripts written without spaces (Chinese, Japanese, Korean) are searched in the
index that holds each of their characters as a token (``transcription.scripts``): a word
becomes the phrase of its characters, in simplified and traditional Chinese alike.
"""

from __future__ import annotations

import re
from datetime import date

from radio.data.errors import Invalid
from radio.data.turns import clean_name
from radio.i18n import _
from transcription.scripts import has_unsegmented, script_variants, tokens

MAX_QUERY_CHARS = 500
MAX_TERMS = 24

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
WORD = re.compile(r"\w+", re.UNICODE)


class BadQuery(Invalid):
    """The query cannot be searched; the message says how to fix it."""


def _quote(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


def _phrase(words: list[str], unsegmented: bool) -> str:
    """The FTS5 phrase for some typed words; in the unsegmented-script index, one phrase
    per script variant (simplified, traditional), any of which may match."""
    if not unsegmented:
        return _quote(words)
    variants = script_variants(" ".join(words))
    phrases = [_quote([t for w in v.split() for t in tokens(w)]) for v in variants]
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def uses_script_index(text: str) -> bool:
    """A query with words of an unsegmented script is searched in that script's index."""
    return has_unsegmented(text)


def parse_query(text: str, *, unsegmented: bool = False) -> str:
    """Turn what a person typed into a safe FTS5 expression (``""`` if nothing searchable);
    ``unsegmented`` writes it for the unsegmented-script index."""
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(
            _("The search is too long; use at most {limit} characters.").format(
                limit=MAX_QUERY_CHARS
            )
        )
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for m in _TOKEN.finditer(text):
        minus, phrase, bare = m.group(1), m.group(2), m.group(3)
        if bare == "OR":
            pending_or = bool(positive)
            continue
        if phrase is not None:
            words, prefix, exclude = WORD.findall(phrase), False, bool(minus)
        else:
            exclude = bare.startswith("-") and len(bare) > 1
            prefix = bare.endswith("*")
            words = WORD.findall(bare)
        if not words:
            continue
        prefix = prefix and len(words[-1]) >= 2 and not has_unsegmented(words[-1])
        term = _phrase(words, unsegmented) + ("*" if prefix else "")
        if exclude:
            negative.append(term)
        elif pending_or:
            positive[-1] = f"({positive[-1]} OR {term})"
            pending_or = False
        else:
            positive.append(term)
    if len(positive) + len(negative) > MAX_TERMS:
        raise BadQuery(
            _("The search has too many words; use at most {limit}.").format(limit=MAX_TERMS)
        )
    if not positive:
        return ""
    expression = " AND ".join(positive)
    for term in negative:
        expression = f"({expression}) NOT {term}"
    return expression


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def checked_date(value: str | None, name: str) -> str | None:
    """A filter date: a day (2026-11-02), a month (2026-11) or a year (2026)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            date.fromisoformat(text + {4: "-01-01", 7: "-01"}.get(len(text), ""))
            return text
        except ValueError:
            pass
    messages = {  # whole sentences for translators; ``name`` is what the caller calls it
        "from": _("The from date must look like 2026-11-02 (or 2026-11, or 2026), not {value!r}."),
        "to": _("The to date must look like 2026-11-02 (or 2026-11, or 2026), not {value!r}."),
    }
    message = messages.get(name) or _(
        "The {name} date must look like 2026-11-02 (or 2026-11, or 2026), not {value!r}."
    )
    raise BadQuery(message.format(name=name, value=value[:40]))


def checked_language(value: str | None) -> str | None:
    """A language filter as a code like en, sw or pt-BR."""
    if not value:
        return None
    text = value.strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", text):
        raise BadQuery(
            _("The language must be a code like en, sw or pt, not {value!r}.").format(
                value=value[:40]
            )
        )
    return text.lower()


MAX_SPEAKER_CHARS = 100


def checked_speaker(value: str | None) -> str | None:
    """A speaker filter: a name as the transcript shows it ("Amina", "Speaker 2"), any case."""
    text = clean_name(value)
    if text is None:
        return None
    if len(text) > MAX_SPEAKER_CHARS or not text.isprintable():
        raise BadQuery(
            _(
                "The speaker must be a name as the transcript shows it, like Amina or Speaker 2 "
                "(at most {limit} characters), not {value!r}."
            ).format(limit=MAX_SPEAKER_CHARS, value=text[:40])
        )
    return text
