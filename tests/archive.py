"""One way to fill a test archive (the ``seed`` fixture in conftest.py).

- ``seed.episode(title, segments)``: a transcribed episode without audio, written through
  the data layer, for search, pages, topics and feeds that only need words and times
  (a segment is ``(start, end, text)``, ``(start, end, text, speaker)`` or a ``Segment``);
- ``seed.recording(clip)``: a real recording taken in by ``ingest_file`` and processed by
  the real pipeline (renditions, transcript when the app transcribes, topics);
- ``seed.episodes(n, minutes)``: an archive with ``n`` such transcribed episodes of
  ``minutes`` of made-up speech each (paging, big feeds, benches).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils
from flask import Flask

from radio.data import transcripts
from radio.data.episodes import Episode, add_episode, get_episode
from radio.data.shows import get_or_create_show
from radio.db import utcnow
from radio.jobs.ingest import Limits, Metadata, ingest_file
from transcription.segments import Segment, SegmentLike, Word

Timed = tuple[float, float, str]  # start, end, text
Spoken = tuple[float, float, str, str | None]  # start, end, text, speaker


class Seeder:
    def __init__(self, app: Flask, db: sqlite_utils.Database) -> None:
        self.app, self.db = app, db

    def episode(
        self,
        title: str,
        segments: Iterable[Timed | Spoken | SegmentLike] = (),
        *,
        show: str | None = None,
        **fields: Any,
    ) -> int:
        """A transcribed episode, ready and public unless ``fields`` say otherwise."""
        now = utcnow()
        row: dict[str, Any] = {
            "guid": f"guid-{title}-{uuid.uuid4().hex[:8]}",
            "title": title,
            "status": "ready",
            "visibility": "public",
            "source_sha256": uuid.uuid4().hex,
            "language": "en",
            "published_at": now,
            **fields,
        }
        if show:
            row["show_id"] = get_or_create_show(self.db, show)
        episode_id = add_episode(self.db, **row)
        transcripts.add_segments(self.db, episode_id, [as_segment(s) for s in segments], 0)
        return episode_id

    def recording(self, clip: Path, *, process: bool = True, **meta: Any) -> Episode:
        """A real recording, taken in and (unless ``process=False``) processed now."""
        from radio.jobs import tasks

        result = ingest_file(
            self.db,
            self.app.config["HOME"],
            clip,
            Metadata(**meta),
            Limits.from_config(self.app.config),
        )
        if process:
            tasks.run_episode(self.app, result.episode_id)
        return get_episode(self.db, result.episode_id)

    def episodes(self, n: int, minutes: float = 1.0, **fields: Any) -> list[int]:
        """An archive with ``n`` transcribed episodes of made-up speech, oldest first."""
        from tests.webserver import write_transcript

        ids = []
        for i in range(n):
            episode_id = self.episode(f"Episode {i + 1}", duration=minutes * 60, **fields)
            write_transcript(self.db, episode_id, minutes, seed=i + 1)
            ids.append(episode_id)
        return ids


def as_segment(item: Timed | Spoken | SegmentLike) -> Segment:
    """A stored segment from (start, end, text), (start, end, text, speaker) or anything
    with those fields."""
    if isinstance(item, Segment):
        return item
    if isinstance(item, tuple):
        start, end, text, *rest = item
        return Segment(start, end, text, words=(), speaker=rest[0] if rest else None)
    return Segment(item.start, item.end, item.text, (), getattr(item, "speaker", None))


def timed_words(words: Sequence[tuple[float, float, str]]) -> tuple[Word, ...]:
    """Word timings as the transcriber gives them: (start, end, word) with a probability."""
    return tuple(Word(start, end, word, 0.9) for start, end, word in words)
