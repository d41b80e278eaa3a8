"""Transcripts out: WebVTT, SRT, Podcasting 2.0 JSON and plain text.

The segment text is the authority (an editor may have corrected it); word timestamps only
give the timing when a long segment is split into several cues, and are used only while
they still line up with the text's words.

A segment's speaker, when known, is in every format: a WebVTT voice span (``<v Amina>``)
on each of its cues, "Amina: " leading each SRT cue, a ``speaker`` field in JSON, and
"Amina: " in plain text wherever the speaker changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .segments import Segment

LINE_WIDTH = 65  # characters per cue line, tag included: readable on a phone
MAX_LINES = 2  # lines per cue; longer segments become several cues
MAX_NAME = 30  # characters of a speaker's name in a cue
PARAGRAPH_PAUSE = 2.0  # seconds of silence that start a new paragraph in plain text
PARAGRAPH_CHARS = 700  # a paragraph longer than this ends at the next sentence end
_ARROW = re.compile(r"--+>")  # a cue timing's arrow: not allowed in an SRT cue's text


@dataclass(frozen=True)
class _Token:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class _Cue:
    start: float
    end: float
    lines: tuple[str, ...]


def to_webvtt(segments: Sequence[Segment]) -> str:
    out = ["WEBVTT", ""]
    for seg in segments:
        name = _speaker(seg)
        voice = f"<v {_escape(_short(name))}>" if name else ""
        for cue in _cues(seg, escape=_escape, first_prefix=voice):
            out.append(f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}")
            out.extend(cue.lines)
            out.append("")
    return "\n".join(out) if segments else "WEBVTT\n"


def to_srt(segments: Sequence[Segment]) -> str:
    # SRT has no escaping and no voice tag: the speaker's name leads the cue's first line.
    # Its one hazard is a text line with "-->", which readers take for a timing line.
    out: list[str] = []
    number = 0
    for seg in segments:
        name = _speaker(seg)
        prefix = f"{_srt_safe(_short(name))}: " if name else ""
        for cue in _cues(seg, escape=_srt_safe, first_prefix=prefix):
            number += 1
            out.append(str(number))
            out.append(f"{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}")
            out.extend(cue.lines)
            out.append("")
    return "\n".join(out)


def to_podcast_json(
    segments: Sequence[Segment],
    *,
    license: Mapping[str, str] | None = None,
    consent: Mapping[str, object] | None = None,
) -> str:
    """Podcasting 2.0 JSON transcript (podcast:transcript, type application/json); with
    ``license`` (``{"identifier": "cc-by-4.0", "name": ..., "url": ...}``), a top-level
    "license" says what the recording may be used under; with ``consent`` (``{"state":
    "given", "participants": [{"name": ..., "consent": "yes"}]}``), who agreed to be heard."""
    items = []
    for seg in segments:
        item: dict[str, object] = {}
        name = _speaker(seg)
        if name:
            item["speaker"] = name
        item["startTime"] = round(seg.start, 3)
        item["endTime"] = round(seg.end, 3)
        item["body"] = seg.text.strip()
        items.append(item)
    document: dict[str, object] = {"version": "1.0.0"}
    if license:
        document["license"] = dict(license)
    if consent:
        document["consent"] = dict(consent)
    document["segments"] = items
    return json.dumps(document, ensure_ascii=False, indent=1)


def to_text(segments: Sequence[Segment]) -> str:
    """Paragraphs: a new one when the speaker changes or after a pause; "Name: " leads the
    paragraph where a named speaker starts to speak."""
    paragraphs: list[tuple[str | None, list[str]]] = []
    previous: Segment | None = None
    for seg in segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        if previous is None or _new_paragraph(previous, seg, paragraphs[-1][1]):
            paragraphs.append((_speaker(seg), []))
        paragraphs[-1][1].append(text)
        previous = seg
    blocks = []
    speaker = None
    for name, texts in paragraphs:
        body = " ".join(texts)
        blocks.append(f"{name}: {body}" if name and name != speaker else body)
        speaker = name
    return "\n\n".join(blocks) + ("\n" if blocks else "")


FORMATS: dict[str, tuple[Callable[[Sequence[Segment]], str], str]] = {
    "vtt": (to_webvtt, "text/vtt"),
    "srt": (to_srt, "application/x-subrip"),
    "json": (to_podcast_json, "application/json"),
    "txt": (to_text, "text/plain"),
}


def _new_paragraph(previous: Segment, seg: Segment, current: list[str]) -> bool:
    if _speaker(seg) != _speaker(previous) or seg.start - previous.end >= PARAGRAPH_PAUSE:
        return True
    long = sum(len(t) + 1 for t in current) >= PARAGRAPH_CHARS
    return long and current[-1].rstrip().endswith((".", "?", "!", "…", "。", "？", "！"))


def _speaker(seg: Segment) -> str | None:
    """The segment's speaker as written out: one line, spaces collapsed; None if unknown."""
    return " ".join((seg.speaker or "").split()) or None


def _srt_safe(text: str) -> str:
    return _ARROW.sub("->", text)


def _short(name: str) -> str:
    # A cue line must hold the name and a word; names longer than this are cut.
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timestamp(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _cues(seg: Segment, escape: Callable[[str], str], first_prefix: str) -> list[_Cue]:
    """Cues of at most MAX_LINES lines of LINE_WIDTH, timed by the words they hold."""
    tokens = _tokens(seg, escape, LINE_WIDTH - len(first_prefix))
    cues: list[_Cue] = []
    group: list[_Token] = []
    for token in tokens:
        if group and len(_wrap([*group, token], first_prefix)) > MAX_LINES:
            cues.append(_cue(group, first_prefix))
            group = []
        group.append(token)
    if group:
        cues.append(_cue(group, first_prefix))
    return cues


def _cue(group: list[_Token], prefix: str) -> _Cue:
    start = group[0].start
    end = max(group[-1].end, start + 0.001)  # a cue must end after it starts
    return _Cue(start, end, tuple(_wrap(group, prefix)))


def _wrap(tokens: list[_Token], prefix: str) -> list[str]:
    """Fill lines greedily at word boundaries; the prefix (voice tag) leads the first line."""
    lines: list[str] = []
    line = prefix
    fresh = True  # nothing but the prefix on this line yet: the next token goes on it
    for token in tokens:
        candidate = line + token.text if fresh else f"{line} {token.text}"
        if fresh or len(candidate) <= LINE_WIDTH:
            line, fresh = candidate, False
        else:
            lines.append(line)
            line = token.text
    lines.append(line)
    return lines


def _tokens(seg: Segment, escape: Callable[[str], str], width: int) -> list[_Token]:
    """The text's words with times: from the word timestamps if they still match the text,
    else spread over the segment by character position. Over-long words are cut to fit."""
    words = seg.text.split()
    timed = [w for w in seg.words if w.word.strip()]
    if len(timed) == len(words) and words:
        spans = [(w.start, w.end) for w in timed]
    else:
        spans = _spread(words, seg.start, seg.end)
    tokens: list[_Token] = []
    for word, (start, end) in zip(words, spans, strict=True):
        text = escape(word)
        if len(text) <= width:
            tokens.append(_Token(text, start, end))
            continue
        pieces = _pieces(word, escape, width)
        step = (end - start) / len(pieces)
        tokens.extend(
            _Token(p, start + i * step, start + (i + 1) * step) for i, p in enumerate(pieces)
        )
    return tokens


def _pieces(word: str, escape: Callable[[str], str], width: int) -> list[str]:
    # Cut the raw text, then escape, so an entity like &amp; is never cut in half.
    pieces, current = [], ""
    for ch in word:
        if len(escape(current + ch)) > width:
            pieces.append(escape(current))
            current = ""
        current += ch
    pieces.append(escape(current))
    return pieces


def _spread(words: list[str], start: float, end: float) -> list[tuple[float, float]]:
    total = sum(len(w) + 1 for w in words) or 1
    spans, pos = [], 0
    for w in words:
        a = start + (end - start) * pos / total
        pos += len(w) + 1
        spans.append((a, start + (end - start) * pos / total))
    return spans
