"""The ``redactions`` table (#16 item 4): passages removed from episodes, where and why.

A row says where the passage was, what stands in its place (a tone or silence), who removed
it and why, and how much went; never the removed words (``radio.jobs.redact`` does the
removing and writes the row in the same transaction as the transcript's changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data import audit


@dataclass(frozen=True)
class RedactionRow:
    id: int
    episode_id: int
    start: float
    end: float
    sound: str
    reason: str
    by: str
    at: str
    words_removed: int
    segments_removed: int
    files_rewritten: int


_COLUMNS = ", ".join(RedactionRow.__dataclass_fields__)


def add_redaction(
    conn: Any,
    episode_id: int,
    *,
    span: tuple[float, float],
    sound: str,
    reason: str,
    actor: audit.Actor,
    at: str,
    counts: tuple[int, int, int],
    replaced_sha256: str | None,
) -> int:
    """Record a redaction inside the caller's transaction; ``counts`` are (words removed,
    segments removed, files rewritten). Returns its id."""
    words, segments, files = counts
    cursor = conn.execute(
        "insert into redactions (episode_id, start, end, sound, reason, by, by_id, at, "
        "words_removed, segments_removed, files_rewritten, replaced_sha256) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            episode_id,
            round(span[0], 3),
            round(span[1], 3),
            sound,
            reason,
            actor.name,
            actor.user_id,
            at,
            words,
            segments,
            files,
            replaced_sha256,
        ],
    )
    return int(cursor.lastrowid)


def redactions_of(db: sqlite_utils.Database, episode_id: int) -> list[RedactionRow]:
    """An episode's redactions, oldest first."""
    rows = db.execute(
        f"select {_COLUMNS} from redactions where episode_id = ? order by id", [episode_id]
    ).fetchall()
    return [RedactionRow(*row) for row in rows]
