"""The per-episode processing steps, each idempotent and resumable.

An episode moves ``queued -> processing -> ready`` (or ``failed`` with a message).
A step that finished is recorded in ``episode_steps`` and never redone; a step that
was cut off (worker killed) simply runs again, and each step is written so that
running it again is safe: files are renamed into place when complete, rows are
upserted, and transcription resumes after the last saved segment.

Only one worker processes an episode at a time: it holds a lease (owner and expiry
on the episode row), renewed as work progresses. A killed worker's lease expires
and ``recover`` hands the episode to the next worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio import store
from radio.db import utcnow
from radio.episodes import get_episode, update_episode

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class StepError(Exception):
    """A step failed in a way the user can act on; the message is shown as the episode's error."""


@dataclass
class Context:
    """What a step needs: the database, the config and a way to report progress."""

    db: sqlite_utils.Database
    config: dict[str, Any]
    episode: dict[str, Any]
    report: Callable[[float], None]  # fraction of this step done, 0..1

    @property
    def home(self) -> str:
        return self.config["HOME"]


Step = Callable[[Context], None]


def steps() -> list[tuple[str, Step, float]]:
    """(name, function, share of the total progress bar), in the order they run."""
    from radio import steps as s
    from radio import tagging

    return [
        ("audio", s.audio_step, 0.3),
        ("transcribe", s.transcribe_step, 0.65),
        ("topics", tagging.topics_step, 0.05),
    ]


def take_lease(db: sqlite_utils.Database, episode_id: int, seconds: float) -> bool:
    """Claim the episode for this worker unless another live worker holds it."""
    now = time.time()
    cur = db.execute(
        "update episodes set lease_owner = ?, lease_until = ? where id = ? and "
        "(lease_owner is null or lease_owner = ? or lease_until < ?)",
        [WORKER_ID, now + seconds, episode_id, WORKER_ID, now],
    )
    if cur.rowcount == 1:
        return True
    row = db.execute("select lease_owner from episodes where id = ?", [episode_id]).fetchone()
    if row and owner_is_dead(row[0]):
        cur = db.execute(
            "update episodes set lease_owner = ?, lease_until = ? where id = ? and lease_owner = ?",
            [WORKER_ID, now + seconds, episode_id, row[0]],
        )
        return cur.rowcount == 1
    return False


def owner_is_dead(owner: str | None) -> bool:
    """True when a lease belongs to a process on this machine that no longer runs, so a
    restarted worker resumes at once instead of waiting for the lease to expire."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or owner == WORKER_ID:
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid_text) == os.getpid()  # our own pid under an old worker id: a past life


def release_lease(db: sqlite_utils.Database, episode_id: int) -> None:
    db.execute(
        "update episodes set lease_owner = null, lease_until = null "
        "where id = ? and lease_owner = ?",
        [episode_id, WORKER_ID],
    )


def finished_steps(db: sqlite_utils.Database, episode_id: int) -> set[str]:
    return {
        row["step"]
        for row in db.query(
            "select step from episode_steps where episode_id = ? and status = 'done'", [episode_id]
        )
    }


def process(db: sqlite_utils.Database, config: dict[str, Any], episode_id: int) -> str:
    """Run every unfinished step of one episode; return its final status.

    Returns ``"busy"`` without doing anything when another worker holds the episode.
    """
    lease = float(config.get("LEASE_SECONDS", 120))
    if not take_lease(db, episode_id, lease):
        logger.info("episode %s is being processed by another worker", episode_id)
        return "busy"
    try:
        return _run_steps(db, config, episode_id, lease)
    finally:
        release_lease(db, episode_id)


def _run_steps(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, lease: float
) -> str:
    episode = get_episode(db, episode_id)
    if episode["status"] == "ready":
        return "ready"
    done = finished_steps(db, episode_id)
    update_episode(db, episode_id, status="processing", error=None)
    base = 0.0
    for name, step, share in steps():
        if name in done:
            base += share
            continue
        reporter = _Reporter(db, episode_id, base, share, lease)
        _mark_step(db, episode_id, name, "running")
        update_episode(db, episode_id, step=name, progress=round(base, 4))
        try:
            step(Context(db, config, get_episode(db, episode_id), reporter))
        except Exception as e:
            message = str(e) if isinstance(e, StepError) else f"{type(e).__name__}: {e}"
            logger.exception("episode %s: step %s failed", episode_id, name)
            _mark_step(db, episode_id, name, "failed", error=message)
            update_episode(db, episode_id, status="failed", error=f"{name}: {message}")
            return "failed"
        _mark_step(db, episode_id, name, "done")
        base += share
    fields: dict[str, Any] = {"status": "ready", "step": None, "progress": 1.0, "error": None}
    if not episode.get("published_at"):
        fields["published_at"] = utcnow()
    update_episode(db, episode_id, **fields)
    logger.info("episode %s is ready", episode_id)
    return "ready"


def _mark_step(
    db: sqlite_utils.Database, episode_id: int, step: str, status: str, error: str | None = None
) -> None:
    now = utcnow()
    row: dict[str, Any] = {"episode_id": episode_id, "step": step, "status": status, "error": error}
    if status == "running":
        row["started_at"] = now
        db.execute(
            "insert into episode_steps (episode_id, step, status, started_at, attempts) "
            "values (?, ?, 'running', ?, 1) on conflict(episode_id, step) do update set "
            "status = 'running', started_at = excluded.started_at, error = null, "
            "attempts = attempts + 1",
            [episode_id, step, now],
        )
        return
    row["finished_at"] = now
    db["episode_steps"].upsert(row, pk=("episode_id", "step"))


class _Reporter:
    """Progress callback: writes progress and renews the lease, at most once a second."""

    def __init__(
        self, db: sqlite_utils.Database, episode_id: int, base: float, share: float, lease: float
    ) -> None:
        self.db, self.episode_id = db, episode_id
        self.base, self.share, self.lease = base, share, lease
        self.last = 0.0
        self.lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        now = time.time()
        if now - self.last < 1.0:
            return
        with self.lock:
            self.last = now
            overall = self.base + self.share * min(max(fraction, 0.0), 1.0)
            self.db.execute(
                "update episodes set progress = ?, lease_until = ? "
                "where id = ? and lease_owner = ?",
                [round(overall, 4), now + self.lease, self.episode_id, WORKER_ID],
            )


def retry(db: sqlite_utils.Database, episode_id: int) -> None:
    """Make a failed episode runnable again; finished steps stay finished."""
    db.execute(
        "update episode_steps set status = 'pending', error = null "
        "where episode_id = ? and status != 'done'",
        [episode_id],
    )
    update_episode(db, episode_id, status="queued", error=None)


def unfinished(db: sqlite_utils.Database, include_queued: bool = True) -> list[int]:
    """Episodes a worker should pick up: queued, or processing under an expired lease."""
    rows = db.execute(
        "select id, lease_owner, lease_until from episodes "
        "where (? and status = 'queued') or status = 'processing' order by id",
        [int(include_queued)],
    ).fetchall()
    now = time.time()
    return [
        episode_id
        for episode_id, owner, until in rows
        if owner is None or (until or 0) < now or owner_is_dead(owner)
    ]


def sweep_episode_dir(home: str, guid: str) -> None:
    """Remove half-written files a killed worker left in an episode's folder."""
    folder = store.episode_dir(home, guid)
    if folder.is_dir():
        for part in folder.glob("*.part"):
            part.unlink(missing_ok=True)
