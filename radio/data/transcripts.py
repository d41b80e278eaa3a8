"""Transcripts stored in the database, read back as ``transcription`` dataclasses."""

from __future__ import annotations

import json

import sqlite_utils

from transcription.segments import Segment, Word


def load_segments(db: sqlite_utils.Database, episode_id: int) -> list[Segment]:
    rows = db.query(
        "select start, end, text, speaker, words from segments where episode_id = ? order by idx",
        [episode_id],
    )
    return [
        Segment(
            start=row["start"],
            end=row["end"],
            text=row["text"],
            speaker=row["speaker"],
            words=tuple(Word(*w) for w in json.loads(row["words"] or "[]")),
        )
        for row in rows
    ]
