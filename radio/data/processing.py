"""Processing state in the database: which worker holds an episode (its lease), which steps
are done (``episode_steps``), and progress. ``radio.jobs.pipeline`` decides; this stores."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import sqlite_utils

from radio.db import utcnow


class StepName(StrEnum):
    """The processing steps, in the order they run (``radio.jobs.steps.STEPS``)."""

    AUDIO = "audio"  # listening copies: loudness-normalised MP3 and Opus, peaks
    TRANSCRIBE = "transcribe"
    SPEAKERS = "speakers"  # who speaks when: turns, labels, voices (radio.jobs.speakers)
    TOPICS = "topics"  # tags and chapters
    TAGS = "tags"  # title, chapters and cover inside the listening files (radio.jobs.filetags)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def claim_lease(
    db: sqlite_utils.Database, episode_id: int, owner: str, until: float, now: float
) -> bool:
    """Take the lease if it is free, expired or already ours."""
    cur = db.execute(
        "update episodes set lease_owner = ?, lease_until = ? where id = ? and "
        "(lease_owner is null or lease_owner = ? or lease_until < ?)",
        [owner, until, episode_id, owner, now],
    )
    return cur.rowcount == 1


def lease_owner(db: sqlite_utils.Database, episode_id: int) -> str | None:
    row = db.execute("select lease_owner from episodes where id = ?", [episode_id]).fetchone()
    return row[0] if row else None


def take_over_lease(
    db: sqlite_utils.Database, episode_id: int, owner: str, dead_owner: str, until: float
) -> bool:
    """Take the lease from an owner known to be dead, unless someone else was quicker."""
    cur = db.execute(
        "update episodes set lease_owner = ?, lease_until = ? where id = ? and lease_owner = ?",
        [owner, until, episode_id, dead_owner],
    )
    return cur.rowcount == 1


def release_lease(db: sqlite_utils.Database, episode_id: int, owner: str) -> None:
    db.execute(
        "update episodes set lease_owner = null, lease_until = null "
        "where id = ? and lease_owner = ?",
        [episode_id, owner],
    )


def report_progress(
    db: sqlite_utils.Database, episode_id: int, owner: str, progress: float, until: float
) -> None:
    """Write progress and renew the lease, only while this owner still holds it."""
    db.execute(
        "update episodes set progress = ?, lease_until = ? where id = ? and lease_owner = ?",
        [round(progress, 4), until, episode_id, owner],
    )


def finished_steps(db: sqlite_utils.Database, episode_id: int) -> set[str]:
    return {
        row[0]
        for row in db.execute(
            "select step from episode_steps where episode_id = ? and status = ?",
            [episode_id, StepStatus.DONE],
        ).fetchall()
    }


def mark_step(
    db: sqlite_utils.Database,
    episode_id: int,
    step: str,
    status: StepStatus,
    error: str | None = None,
) -> None:
    now = utcnow()
    if status == StepStatus.RUNNING:
        db.execute(
            "insert into episode_steps (episode_id, step, status, started_at, attempts) "
            "values (?, ?, 'running', ?, 1) on conflict(episode_id, step) do update set "
            "status = 'running', started_at = excluded.started_at, error = null, "
            "attempts = attempts + 1",
            [episode_id, step, now],
        )
        return
    db.execute(
        "insert into episode_steps (episode_id, step, status, finished_at, error) "
        "values (?, ?, ?, ?, ?) on conflict(episode_id, step) do update set "
        "status = excluded.status, finished_at = excluded.finished_at, error = excluded.error",
        [episode_id, step, str(status), now, error],
    )


def mark_all_done(conn: Any, episode_id: int, steps: Iterable[str], now: str) -> None:
    """Inside the caller's transaction: every step done (an imported episode, #17: nothing
    processes it again)."""
    conn.executemany(
        "insert into episode_steps (episode_id, step, status, finished_at, attempts) "
        "values (?, ?, 'done', ?, 0) on conflict(episode_id, step) do update set "
        "status = 'done', finished_at = excluded.finished_at, error = null",
        [(episode_id, str(step), now) for step in steps],
    )


def reopen_unfinished_steps(db: sqlite_utils.Database, episode_id: int) -> None:
    """Steps that did not finish become pending again; finished ones stay finished."""
    db.execute(
        "update episode_steps set status = 'pending', error = null "
        "where episode_id = ? and status != 'done'",
        [episode_id],
    )


def lease_candidates(
    db: sqlite_utils.Database, include_queued: bool
) -> list[tuple[int, str | None, float | None]]:
    """(id, lease owner, lease expiry) of queued (if asked) and processing episodes."""
    return db.execute(
        "select id, lease_owner, lease_until from episodes "
        "where (? and status = 'queued') or status = 'processing' order by id",
        [int(include_queued)],
    ).fetchall()
