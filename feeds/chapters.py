"""Podcasting 2.0 JSON chapters (``application/json+chapters``), version 1.2.0.

https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from feeds import FeedError

CHAPTERS_MIME = "application/json+chapters"
VERSION = "1.2.0"


@dataclass(frozen=True)
class ChapterMark:
    """A chapter as a chapters file lists it: where it starts, its title, maybe a link."""

    start: float  # seconds from the start of the episode
    title: str
    end: float | None = None
    url: str | None = None  # e.g. a link to the moment on the episode page


def _seconds(value: float) -> float | int:
    rounded = round(float(value), 3)
    return int(rounded) if rounded.is_integer() else rounded


def chapters_document(
    chapters: Iterable[ChapterMark], *, title: str | None = None, podcast_name: str | None = None
) -> dict:
    """The chapters file as a dict, chapters in time order."""
    ordered = sorted(chapters, key=lambda c: c.start)
    if not ordered:
        raise FeedError("There are no chapters to write; leave podcast:chapters out instead.")
    items = []
    for chapter in ordered:
        if chapter.start < 0:
            raise FeedError(f"Chapter {chapter.title!r} starts at {chapter.start} s, before 0.")
        item: dict = {"startTime": _seconds(chapter.start), "title": chapter.title}
        if chapter.end is not None and chapter.end > chapter.start:
            item["endTime"] = _seconds(chapter.end)
        if chapter.url:
            item["url"] = chapter.url
        items.append(item)
    doc: dict = {"version": VERSION}
    if title:
        doc["title"] = title
    if podcast_name:
        doc["podcastName"] = podcast_name
    doc["chapters"] = items
    return doc


def to_json(
    chapters: Iterable[ChapterMark], *, title: str | None = None, podcast_name: str | None = None
) -> bytes:
    """The chapters file as UTF-8 JSON bytes (non-ASCII kept as is)."""
    doc = chapters_document(chapters, title=title, podcast_name=podcast_name)
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
