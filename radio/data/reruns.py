"""The ``reruns`` table: a finished episode's steps made again while it stays published
(issue #15; ``radio.jobs.rerun`` does the work). One row per episode, the latest request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlite_utils

from radio.db import utcnow


class RerunStep(StrEnum):
    AUDIO = "audio"  # the listening copies and peaks, then their tags
    TOPICS = "topics"  # topics and chapters, then the chapters inside the files
    ALL = "all"  # the audio, then a new transcript (which finds topics again)


class RerunPhase(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # making the new files in the staging folder
    STAGED = "staged"  # complete beside the old ones; the swap is next
    TOPICS = "topics"  # finding topics and chapters again
    DONE = "done"
    FAILED = "failed"  # the message is in ``error``; the old files stay


UNFINISHED = (RerunPhase.QUEUED, RerunPhase.RUNNING, RerunPhase.STAGED, RerunPhase.TOPICS)


@dataclass(frozen=True)
class Rerun:
    episode_id: int
    step: str
    status: str
    progress: float
    requested_at: str
    error: str | None = None
    staged: str | None = None  # JSON: what the staging folder holds (radio.jobs.rerun)
    requested_by: int | None = None
    finished_at: str | None = None

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED


def request_rerun(
    db: sqlite_utils.Database, episode_id: int, step: RerunStep, user_id: int | None
) -> None:
    """Ask for ``step`` again: a new request replaces the last, finished or not."""
    db.execute(
        "insert into reruns (episode_id, step, status, progress, error, staged, requested_by, "
        "requested_at, finished_at) values (?, ?, 'queued', 0, null, null, ?, ?, null) "
        "on conflict(episode_id) do update set step = excluded.step, status = 'queued', "
        "progress = 0, error = null, staged = null, requested_by = excluded.requested_by, "
        "requested_at = excluded.requested_at, finished_at = null",
        [episode_id, str(step), user_id, utcnow()],
    )


def get_rerun(db: sqlite_utils.Database, episode_id: int) -> Rerun | None:
    row = next(iter(db.query("select * from reruns where episode_id = ?", [episode_id])), None)
    return Rerun(**row) if row else None


def update_rerun(db: sqlite_utils.Database, episode_id: int, **fields: Any) -> None:
    if fields.get("status") in (RerunPhase.DONE, RerunPhase.FAILED):
        fields.setdefault("finished_at", utcnow())
    names = ", ".join(f"{name} = ?" for name in fields)
    db.execute(f"update reruns set {names} where episode_id = ?", [*fields.values(), episode_id])


def rerun_candidates(
    db: sqlite_utils.Database, include_queued: bool
) -> list[tuple[int, str | None, float | None]]:
    """(id, lease owner, lease expiry) of episodes with a re-run to carry on."""
    phases = [p for p in UNFINISHED if include_queued or p != RerunPhase.QUEUED]
    marks = ", ".join("?" for _ in phases)
    return db.execute(
        f"select e.id, e.lease_owner, e.lease_until from reruns r "
        f"join episodes e on e.id = r.episode_id where r.status in ({marks}) order by e.id",
        [str(p) for p in phases],
    ).fetchall()
