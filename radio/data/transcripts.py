"""The ``segments`` table: transcripts, written as transcription yields them and read back
as ``transcription`` dataclasses (or as lines with their ids, for pages and editing)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from transcription.segments import Segment, Word


@dataclass(frozen=True)
class TranscriptLine:
    """A stored segment as a page shows it: its id (for edits and links), time and text."""

    id: int
    start: float
    end: float
    text: str
    speaker: str | None


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


def transcript_lines(db: sqlite_utils.Database, episode_id: int) -> list[TranscriptLine]:
    """The transcript in order, without word timings."""
    rows = db.execute(
        "select id, start, end, text, speaker from segments where episode_id = ? order by idx",
        [episode_id],
    ).fetchall()
    return [TranscriptLine(*r) for r in rows]


def has_transcript(db: sqlite_utils.Database, episode_id: int) -> bool:
    row = db.execute("select 1 from segments where episode_id = ? limit 1", [episode_id])
    return row.fetchone() is not None


def segment_count(db: sqlite_utils.Database, episode_id: int) -> int:
    return db.execute(
        "select count(*) from segments where episode_id = ?", [episode_id]
    ).fetchone()[0]


def resume_point(db: sqlite_utils.Database, episode_id: int) -> tuple[float, int] | None:
    """(end of the last saved segment, its index), or None when nothing is saved yet."""
    row = db.execute(
        "select max(end), max(idx) from segments where episode_id = ?", [episode_id]
    ).fetchone()
    return None if row[1] is None else (float(row[0]), int(row[1]))


def add_segments(
    db: sqlite_utils.Database, episode_id: int, segments: Iterable[Segment], first_idx: int
) -> int:
    """Save segments one by one as they come (each its own commit, so a crash keeps them);
    returns how many were saved."""
    saved = 0
    for idx, segment in enumerate(segments, start=first_idx):
        db.execute(
            "insert into segments (episode_id, idx, start, end, text, speaker, words) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [
                episode_id,
                idx,
                round(segment.start, 3),
                round(segment.end, 3),
                segment.text.strip(),
                segment.speaker,
                _words_json(segment.words),
            ],
        )
        saved += 1
    return saved


def _words_json(words: Iterable[Word]) -> str:
    return json.dumps(
        [[round(w.start, 3), round(w.end, 3), w.word, round(w.probability, 3)] for w in words],
        ensure_ascii=False,
    )


def segment_texts(db: sqlite_utils.Database, episode_id: int) -> dict[int, str]:
    """Segment id -> text, for checking an editor's changes against what is stored."""
    rows = db.execute("select id, text from segments where episode_id = ?", [episode_id])
    return dict(rows.fetchall())


def transcribed_episode_ids(db: sqlite_utils.Database) -> list[int]:
    """Every episode with a transcript, oldest first: what ``retag --all`` goes over."""
    rows = db.execute("select distinct episode_id from segments order by episode_id").fetchall()
    return [r[0] for r in rows]
