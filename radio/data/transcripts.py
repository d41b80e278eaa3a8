"""The ``segments`` table: transcripts, written as transcription yields them and read back
as ``transcription`` dataclasses (or as lines with their ids, for pages and editing).

A transcript made again (``radio.jobs.retranscribe``) is written to ``segments_staging``
and swapped in by ``radio.data.swaps.swap_staged`` in one transaction;
``retranscriptions`` records what was asked and how far it got (migration 0010)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import sqlite_utils

from radio.db import transaction, utcnow
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
    return _insert_each(db, "insert into segments", episode_id, segments, first_idx)


def _insert_each(
    db: sqlite_utils.Database,
    verb: str,
    episode_id: int,
    segments: Iterable[Segment],
    first_idx: int,
) -> int:
    """Insert segments one by one as they come, each its own commit; how many."""
    saved = 0
    for idx, segment in enumerate(segments, start=first_idx):
        db.execute(
            f"{verb} (episode_id, idx, start, end, text, speaker, words) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            segment_values(episode_id, idx, segment),
        )
        saved += 1
    return saved


def replace_all(conn: Any, episode_id: int, segments: Iterable[Segment]) -> None:
    """Inside the caller's transaction: the episode's transcript becomes these segments (an
    imported episode's, #17); corrections made here to the old one go with it."""
    conn.execute("delete from transcript_edits where episode_id = ?", [episode_id])
    conn.execute("delete from segments where episode_id = ?", [episode_id])
    conn.executemany(
        "insert into segments (episode_id, idx, start, end, text, speaker, words) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        [segment_values(episode_id, idx, s) for idx, s in enumerate(segments)],
    )


def segment_values(episode_id: int, idx: int, segment: Segment) -> list[object]:
    """A segment as stored, in the column order of ``segments`` and ``segments_staging``."""
    return [
        episode_id,
        idx,
        round(segment.start, 3),
        round(segment.end, 3),
        segment.text.strip(),
        segment.speaker,
        _words_json(segment.words),
    ]


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


# --- transcribing again: the request, the staged transcript and the swap ----------------


class Phase(StrEnum):
    """How far a retranscription got; after a crash each phase resumes as it stands."""

    QUEUED = "queued"
    RUNNING = "running"  # transcribing into segments_staging
    STAGED = "staged"  # complete in staging, not yet swapped in
    TOPICS = "topics"  # swapped in; topics and chapters still to recompute


@dataclass(frozen=True)
class Retranscription:
    """One ``retranscriptions`` row: a new transcript asked for and not yet finished."""

    episode_id: int
    model: str | None  # the model asked for by name; None: the archive's choice
    language: str | None  # the language hint asked for; None: the episode's or show's
    status: str
    progress: float = 0.0
    error: str | None = None  # set when the last run failed; the phase stays where it stopped
    staged_model: str | None = None
    staged_model_path: str | None = None
    staged_language: str | None = None
    staged_language_probability: float | None = None
    seconds: float = 0.0
    requested_by: int | None = None
    requested_at: str | None = None
    updated_at: str | None = None


def get_retranscription(db: sqlite_utils.Database, episode_id: int) -> Retranscription | None:
    rows = list(db.query("select * from retranscriptions where episode_id = ?", [episode_id]))
    if not rows:
        return None
    names = {f.name for f in fields(Retranscription)}
    return Retranscription(**{k: v for k, v in rows[0].items() if k in names})


def request_retranscription(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    model: str | None,
    language: str | None,
    user_id: int | None,
) -> None:
    """Ask for a new transcript. Asking again for the same model and language resumes a
    stopped one where it stopped; anything else starts afresh, dropping what was staged."""
    now = utcnow()
    with transaction(db) as conn:
        row = conn.execute(
            "select model, language from retranscriptions where episode_id = ?", [episode_id]
        ).fetchone()
        if row is not None and tuple(row) == (model, language):
            conn.execute(
                "update retranscriptions set error = null, requested_by = ?, requested_at = ?, "
                "updated_at = ? where episode_id = ?",
                [user_id, now, now, episode_id],
            )
            return
        conn.execute("delete from segments_staging where episode_id = ?", [episode_id])
        conn.execute("delete from retranscriptions where episode_id = ?", [episode_id])
        conn.execute(
            "insert into retranscriptions (episode_id, model, language, status, progress, "
            "seconds, requested_by, requested_at, updated_at) values (?, ?, ?, ?, 0, 0, ?, ?, ?)",
            [episode_id, model, language, Phase.QUEUED, user_id, now, now],
        )


def update_retranscription(db: sqlite_utils.Database, episode_id: int, **changes: object) -> None:
    """Record progress, a phase, a failure (``error``) or what staging used."""
    changes["updated_at"] = utcnow()
    db["retranscriptions"].update(episode_id, changes)


def finish_retranscription(db: sqlite_utils.Database, episode_id: int) -> None:
    db.execute("delete from retranscriptions where episode_id = ?", [episode_id])


def retranscription_candidates(
    db: sqlite_utils.Database, include_queued: bool
) -> list[tuple[int, str | None, float | None]]:
    """(episode id, lease owner, lease expiry) of retranscriptions a worker should carry on
    with: not failed (a failure waits for a person), and queued ones only if asked."""
    return db.execute(
        "select r.episode_id, e.lease_owner, e.lease_until from retranscriptions r "
        "join episodes e on e.id = r.episode_id "
        "where r.error is null and (? or r.status != ?) order by r.episode_id",
        [int(include_queued), Phase.QUEUED],
    ).fetchall()


def add_staged(
    db: sqlite_utils.Database, episode_id: int, segments: Iterable[Segment], first_idx: int
) -> int:
    """Stage a new transcript's segments as they come, each its own commit (a killed worker
    keeps them and resumes after the last); the published transcript is not touched."""
    return _insert_each(
        db, "insert or replace into segments_staging", episode_id, segments, first_idx
    )


def staged_resume_point(db: sqlite_utils.Database, episode_id: int) -> tuple[float, int] | None:
    """(end of the last staged segment, its index), or None when nothing is staged."""
    row = db.execute(
        "select max(end), max(idx) from segments_staging where episode_id = ?", [episode_id]
    ).fetchone()
    return None if row[1] is None else (float(row[0]), int(row[1]))


def clear_staging(db: sqlite_utils.Database, episode_id: int) -> None:
    db.execute("delete from segments_staging where episode_id = ?", [episode_id])


# --- removing a passage (#16 item 4, radio.jobs.redact) ---------------------------------


def segments_overlapping(
    db: sqlite_utils.Database, episode_id: int, start: float, end: float
) -> list[tuple[int, Segment]]:
    """(id, segment) of every segment with some time inside [start, end), in order."""
    rows = db.query(
        "select id, start, end, text, speaker, words from segments "
        "where episode_id = ? and end > ? and start < ? order by idx",
        [episode_id, start, end],
    )
    return [
        (
            row["id"],
            Segment(
                start=row["start"],
                end=row["end"],
                text=row["text"],
                speaker=row["speaker"],
                words=tuple(Word(*w) for w in json.loads(row["words"] or "[]")),
            ),
        )
        for row in rows
    ]


def rewrite_segment(conn: Any, segment_id: int, segment: Segment) -> None:
    """Inside the caller's transaction: a segment's times, text and words replaced (the
    search indexes follow by their triggers)."""
    conn.execute(
        "update segments set start = ?, end = ?, text = ?, words = ? where id = ?",
        [
            round(segment.start, 3),
            round(segment.end, 3),
            segment.text.strip(),
            _words_json(segment.words),
            segment_id,
        ],
    )


def delete_segments(conn: Any, segment_ids: Iterable[int]) -> None:
    """Inside the caller's transaction: segments gone (the search indexes and the segment
    map's deletion counter follow by their triggers)."""
    for segment_id in segment_ids:
        conn.execute("delete from segments where id = ?", [segment_id])
