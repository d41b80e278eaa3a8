"""The checks every field people type goes through, wherever it comes in: the upload and
edit forms, ``radio ingest`` options and query strings.

Text is cleaned the same way everywhere: Unicode NFC; no NUL or other control characters
(a description keeps its line breaks and tabs); no bidirectional embedding, override or
isolate characters (U+202A-U+202E, U+2066-U+2069), which can make a title read backwards
in a listing or a file name look like another; no noncharacters. Then each field has its
limit, and a value over it is refused with a message that names the field and the limit
(never silently cut, except where the archive makes the value up itself, as a title from
a file name). ``FieldError`` is a ``radio.data.errors.Invalid``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from radio.data import licences
from radio.data.errors import Invalid, NotFound
from radio.i18n import _
from transcription.languages import LANGUAGE_NAMES
from transcription.models import normalise_language

MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000
MAX_SHOW_CHARS = 120
MAX_NAME_CHARS = 64  # a speaker's name
MAX_NAMES = 20  # speakers given for one recording
MAX_TAG_CHARS = 80
MAX_FILENAME_CHARS = 200  # as shown and stored; the file on disk is named by its hash
MAX_QUERY_CHARS = 500  # a search as typed
MAX_PAGE = 100_000  # past this no listing has pages: a bigger number is a 404, never a 500
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100

# Bidirectional embeddings, overrides and isolates ("Trojan Source"); the marks LRM, RLM and
# ALM stay: Arabic and Hebrew titles use them as punctuation.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_KEEP_MULTILINE = "\n\t"
_DIGITS = re.compile(r"[0-9]+")


class FieldError(Invalid):
    """A field's value can't be taken as given; the message names the field and the fix."""


# Each field's own sentence, so that translators see it whole (a field's name alone can't
# be dropped into another language's sentence: gender, articles, case).
_TOO_LONG = {
    "title": _("The title is too long ({length:,} characters); use at most {limit:,}."),
    "description": _("The description is too long ({length:,} characters); use at most {limit:,}."),
    "show name": _("The show name is too long ({length:,} characters); use at most {limit:,}."),
    "name": _("The name is too long ({length:,} characters); use at most {limit:,}."),
    "speaker's name": _(
        "The speaker's name is too long ({length:,} characters); use at most {limit:,}."
    ),
    "tag": _("The tag is too long ({length:,} characters); use at most {limit:,}."),
    "search": _("The search is too long ({length:,} characters); use at most {limit:,}."),
    "chapter title": _(
        "The chapter title is too long ({length:,} characters); use at most {limit:,}."
    ),
}
# Any other field: named as the query string names it (``q``, ``show``), not translated.
_PARAMETER_TOO_LONG = _("The {name} is too long ({length:,} characters); use at most {limit:,}.")


class PageNotFound(NotFound):
    """A page number so far past the end that no listing has it."""


def _dropped(char: str, multiline: bool) -> bool:
    if multiline and char in _KEEP_MULTILINE:
        return False
    if char in _BIDI_CONTROLS:
        return True
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):  # controls (NUL included) and lone surrogates
        return True
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE  # noncharacters


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """``value`` without the characters no field keeps; one line of single spaces unless
    ``multiline`` (then line breaks are kept, as ``\\n``, and each line's end trimmed)."""
    text = unicodedata.normalize("NFC", value or "")
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if not _dropped(c, multiline))
    if not multiline:
        return " ".join(text.split())
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _capped(name: str, text: str, limit: int) -> str:
    if len(text) > limit:
        message = _TOO_LONG.get(name, _PARAMETER_TOO_LONG)
        raise FieldError(message.format(name=name, length=len(text), limit=limit))
    return text


def title(value: str | None, *, required: bool = False) -> str:
    """An episode title as typed: one line of at most MAX_TITLE_CHARS; '' when not given
    (the archive then makes one up) unless ``required``."""
    text = _capped("title", clean_text(value), MAX_TITLE_CHARS)
    if required and not text:
        raise FieldError(str(_("The title can't be empty.")))
    return text


def made_up_title(text: str) -> str:
    """A title the archive makes itself (from a file name): cleaned, cut at a word if long."""
    text = clean_text(text)
    if len(text) <= MAX_TITLE_CHARS:
        return text
    cut = text[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] or text[: MAX_TITLE_CHARS - 1]
    return cut.rstrip() + "…"


def description(value: str | None) -> str:
    return _capped("description", clean_text(value, multiline=True), MAX_DESCRIPTION_CHARS)


def show(value: str | None) -> str:
    """A show's name as typed ('' for none)."""
    return _capped("show name", clean_text(value), MAX_SHOW_CHARS)


def name(value: str | None, what: str = "name") -> str:
    return _capped(what, clean_text(value), MAX_NAME_CHARS)


def names(values: Iterable[str]) -> tuple[str, ...]:
    """Speakers' names: each cleaned and capped, blanks dropped, each once."""
    found = tuple(dict.fromkeys(n for n in (name(v, "speaker's name") for v in values) if n))
    if len(found) > MAX_NAMES:
        raise FieldError(
            _("{count} speakers were given; name at most {limit}.").format(
                count=len(found), limit=MAX_NAMES
            )
        )
    return found


def tag(value: str | None) -> str:
    return _capped("tag", clean_text(value), MAX_TAG_CHARS)


def filename(value: str | None) -> str:
    """An uploaded file's name, for showing and keeping only (never a path on disk): its last
    part, cleaned, cut to MAX_FILENAME_CHARS keeping the extension."""
    text = clean_text((value or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(". ")
    if not text:
        return "upload"
    if len(text) <= MAX_FILENAME_CHARS:
        return text
    stem, dot, ext = text.rpartition(".")
    ext = ext if dot and len(ext) <= 8 else ""
    keep = MAX_FILENAME_CHARS - len(ext) - (1 if ext else 0) - 1
    return text[:keep] + "…" + (f".{ext}" if ext else "")


def language(value: str | None, allowed: Sequence[str] | None = None) -> str | None:
    """A language code ('es', 'EN', 'pt-BR' -> 'es', 'en', 'pt'), or None when not given.

    Refused unless Whisper knows it and, when ``allowed`` is given (the installed models'
    languages), one of those."""
    text = clean_text(value)
    if not text:
        return None
    code = normalise_language(text) if len(text) <= 12 else None
    known = allowed if allowed is not None else tuple(LANGUAGE_NAMES)
    if not code or code not in known:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FieldError(
            _(
                "{value!r} is not a language the archive's models know; give a code such as "
                "en, fr, es, pt or sw (or leave it empty to detect it)."
            ).format(value=shown)
        )
    return code


def licence(value: str | None) -> str | None:
    """A licence's code ('CC BY', 'cc-by-sa', 'All rights reserved' -> 'cc-by', 'cc-by-sa',
    'all-rights-reserved'), or None when not given; anything else is refused, naming the
    choices (``radio.data.licences``)."""
    text = clean_text(value)
    if not text:
        return None
    found = licences.find(text) if len(text) <= 40 else None
    if found is None:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FieldError(
            _(
                "{value!r} is not a licence the archive knows; choose one of {choices} "
                "(or leave it empty)."
            ).format(value=shown, choices=licences.choices())
        )
    return found.code


def recorded_at(value: str | None, *, today: date | None = None) -> str:
    """A recording date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM, any offset, kept in
    UTC); today when not given."""
    text = clean_text(value)
    if not text:
        return (today or date.today()).isoformat()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
            kept = moment.date().isoformat()
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            kept = moment.isoformat(timespec="minutes")
    except (ValueError, OverflowError):
        shown = text if len(text) <= 30 else text[:30] + "…"
        raise FieldError(
            _(
                "{value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2026-11-02."
            ).format(value=shown)
        ) from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise FieldError(
            _("{value} is not a recording date; use a year from {earliest} to {latest}.").format(
                value=text, earliest=EARLIEST_YEAR, latest=LATEST_YEAR
            )
        )
    return kept


def page(value: str | None) -> int:
    """A page number from a query string: 1 when not given; ASCII digits from 1 to MAX_PAGE.

    Raises ``FieldError`` for anything else (``²``, ``-1``, ``1e3``); a number past MAX_PAGE
    is ``PageNotFound``, a page no listing has."""
    text = (value or "").strip()
    if not text:
        return 1
    if not _DIGITS.fullmatch(text) or int(text) < 1:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FieldError(
            _("page must be a whole number from 1, not {value!r}: ?page=2").format(value=shown)
        )
    number = int(text) if len(text) <= 9 else MAX_PAGE + 1
    if number > MAX_PAGE:
        raise PageNotFound(
            _("There is no page {number}; go back to the first page.").format(number=text[:20])
        )
    return number


def query(value: str | None, what: str = "search") -> str:
    """A search or filter as typed: one line, at most MAX_QUERY_CHARS."""
    return _capped(what, clean_text(value), MAX_QUERY_CHARS)


# -- chapters, as editors type them (#15) ---------------------------------------------------

MAX_CHAPTERS = 100  # an episode's; players list them all, and more is a table of contents
MAX_CHAPTER_TITLE_CHARS = 120
_TIME = re.compile(r"(?:(?:([0-9]{1,3}):)?([0-9]{1,2}):)?([0-9]{1,5})(?:[.,]([0-9]{1,3}))?")


def chapter_start(value: str | None) -> float:
    """A chapter's start as typed: ``m:ss``, ``h:mm:ss`` or seconds (``75``), a fraction
    allowed (``12:30.5``); seconds and minutes after a colon must be under 60."""
    text = clean_text(value)
    found = _TIME.fullmatch(text) if len(text) <= 16 else None
    if not text or found is None:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FieldError(
            _(
                "{value!r} is not a time in the recording: write m:ss or h:mm:ss, e.g. 12:30."
            ).format(value=shown)
        )
    hours, minutes, seconds, fraction = found.groups()
    if (minutes is not None and int(seconds) >= 60) or (hours is not None and int(minutes) >= 60):
        raise FieldError(
            _("{value!r} is not a time: minutes and seconds go up to 59, e.g. 1:05:30.").format(
                value=text
            )
        )
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)
    return total + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def chapter_title(value: str | None) -> str:
    text = _capped("chapter title", clean_text(value), MAX_CHAPTER_TITLE_CHARS)
    if not text:
        raise FieldError(str(_("Every chapter needs a title; remove the chapter instead.")))
    return text


def chapter_list(
    marks: Iterable[tuple[float, str]], duration: float | None
) -> list[tuple[float, float, str]]:
    """Chapters as (start, end, title) in time order, each ending where the next starts and
    the last at ``duration``: refused if one starts outside the recording, two start at
    the same moment, or there are more than MAX_CHAPTERS."""
    ordered = sorted(marks, key=lambda m: m[0])
    if len(ordered) > MAX_CHAPTERS:
        raise FieldError(
            _("{count} chapters; an episode can have at most {limit}.").format(
                count=len(ordered), limit=MAX_CHAPTERS
            )
        )
    for start, chapter in ordered:
        if start < 0 or (duration is not None and start >= duration):
            raise FieldError(
                _(
                    "Chapter {title!r} starts at {start}, outside the recording "
                    "(0:00 to {end}); give a time inside it."
                ).format(title=chapter, start=clock_text(start), end=clock_text(duration or 0))
            )
    for (first, a), (second, b) in zip(ordered, ordered[1:], strict=False):
        if round(second - first, 3) < 1:
            raise FieldError(
                _(
                    "Chapters {first!r} and {second!r} both start at {start}; "
                    "give each chapter its own start, at least a second apart."
                ).format(first=a, second=b, start=clock_text(first))
            )
    ends = [start for start, _ in ordered[1:]] + [duration]
    return [(s, e if e is not None else s, t) for (s, t), e in zip(ordered, ends, strict=False)]


def clock_text(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``, as people type chapter starts; a fraction only when there
    is one (``0:09.5``), so a form shown and sent again keeps the time it had."""
    millis = round(seconds * 1000)
    whole, fraction = divmod(millis, 1000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{fraction:03d}".rstrip("0") if fraction else text


def edited_recorded_at(value: str | None, current: str | None, *, today: date) -> str | None:
    """A recording date from the edit form (YYYY-MM-DD): the current value when left empty
    or unchanged (a stored time of day stays); refused if it is after ``today``."""
    text = clean_text(value)
    if not text or (current and text == current[:10]):
        return current
    if len(text) != 10:
        raise FieldError(
            _("{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-02.").format(value=text[:30])
        )
    kept = recorded_at(text)
    if date.fromisoformat(kept) > today:
        raise FieldError(
            _("{date} is after today; a recording date can't be in the future.").format(date=kept)
        )
    return kept
