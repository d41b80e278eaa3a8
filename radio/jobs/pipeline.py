"""The per-episode processing steps, each idempotent and resumable.

An episode moves ``queued -> processing -> ready`` (or ``failed`` with a message). A
published (ready) episode is never set back: steps it lacks run in place while it stays
public, and finished steps are made again beside the old results by ``radio.jobs.rerun``.
A step that finished is recorded in ``episode_steps`` and never redone; a step that
was cut off (worker killed) simply runs again, and each step is written so that
running it again is safe: files are renamed into place when complete, rows are
upserted, and transcription resumes after the last saved segment.

Only one worker processes an episode at a time: it holds a lease (``radio.jobs.leases``),
renewed as work progresses. A killed worker's lease expires and ``recover`` hands the
episode to the next worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from radio.data import processing
from radio.data.episodes import EpisodeStatus, get_episode, update_episode
from radio.data.processing import StepStatus
from radio.db import utcnow
from radio.jobs import leases
from radio.jobs.context import Context, Step, StepError
from radio.jobs.steps import STEPS
from radio.media import reserve, store
from radio.media.errors import is_disk_full
from radio.upkeep.logs import episode_context

logger = logging.getLogger(__name__)


def process(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    steps: Sequence[tuple[str, Step, float]] = STEPS,
) -> str:
    """Run every unfinished step of one episode; return its final status.

    Returns ``"busy"`` without doing anything when another worker holds the episode.
    ``steps`` is a part of ``STEPS`` for a worker on another machine (``radio.jobs.remote``),
    which runs the heavy ones in a scratch archive of its own and sends the results back.
    """
    with episode_context(episode_id):  # every log line from here on says which episode
        try:
            return _leased(db, config, episode_id, steps)
        except Exception as e:
            if not is_disk_full(e):
                raise
            return _ended_by_full_disk(db, config, episode_id, e)


def _leased(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    steps: Sequence[tuple[str, Step, float]],
) -> str:
    lease = float(config.get("LEASE_SECONDS", 120))
    if not leases.take_lease(db, episode_id, lease):
        logger.info("episode %s is being processed by another worker", episode_id)
        return "busy"
    try:
        return _run_steps(db, config, episode_id, lease, steps)
    finally:
        processing.release_lease(db, episode_id, leases.WORKER_ID)


def _run_steps(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    lease: float,
    steps: Sequence[tuple[str, Step, float]] = STEPS,
) -> str:
    episode = get_episode(db, episode_id)
    done = processing.finished_steps(db, episode_id)
    live = episode.status == EpisodeStatus.READY  # listeners may have it: never unpublish
    if live and all(name in done for name, _, _ in steps):
        return EpisodeStatus.READY
    if not live:
        update_episode(db, episode_id, status=EpisodeStatus.PROCESSING, error=None)
    base = 0.0
    for name, step, share in steps:
        if name in done:
            base += share
            continue
        reporter = _Reporter(db, episode_id, base, share, lease)
        processing.mark_step(db, episode_id, name, StepStatus.RUNNING)
        update_episode(db, episode_id, step=name, progress=round(base, 4))
        try:
            step(Context(db, config, get_episode(db, episode_id), reporter))
        except Exception as e:
            logger.exception("episode %s: step %s failed", episode_id, name)
            message = _failure_message(e, config, episode_id)
            processing.mark_step(db, episode_id, name, StepStatus.FAILED, error=message)
            if live:  # what it had stays published; the message is for editors
                update_episode(db, episode_id, step=None, error=f"{name}: {message}")
                return EpisodeStatus.READY
            update_episode(db, episode_id, status=EpisodeStatus.FAILED, error=f"{name}: {message}")
            return EpisodeStatus.FAILED
        processing.mark_step(db, episode_id, name, StepStatus.DONE)
        base += share
    fields: dict[str, Any] = {
        "status": EpisodeStatus.READY,
        "step": None,
        "progress": 1.0,
        "error": None,
    }
    if not episode.published_at:  # a scheduled episode's date is its moment (#15)
        fields["published_at"] = episode.publish_at or utcnow()
    update_episode(db, episode_id, **fields)
    logger.info("episode %s is ready", episode_id)
    return EpisodeStatus.READY


def _failure_message(e: Exception, config: dict[str, Any], episode_id: int) -> str:
    if is_disk_full(e):
        return disk_full_message(config["HOME"], episode_id)
    return str(e) if isinstance(e, StepError) else _unexpected(episode_id)


def disk_full_message(home: str, episode_id: int) -> str:
    free = store.megabytes(store.free_bytes(home))
    return (
        f"disk full: only {free} free on the disk of the data folder {home}. "
        f"Free some space, then `radio retry {episode_id}`."
    )


def _ended_by_full_disk(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, error: Exception
) -> str:
    """The disk filled up so far that even the episode's bookkeeping failed: give back the
    room kept in reserve (``reserve.keep_reserve``) and record the episode ``failed``, not
    leave it ``processing``. What was stored stays; ``radio retry`` goes on from there."""
    logger.error("episode %s: the disk is full (%s)", episode_id, error)
    reserve.release_reserve(config["HOME"])
    step = get_episode(db, episode_id).step or "processing"
    message = disk_full_message(config["HOME"], episode_id)
    update_episode(db, episode_id, status=EpisodeStatus.FAILED, error=f"{step}: {message}")
    processing.release_lease(db, episode_id, leases.WORKER_ID)
    return EpisodeStatus.FAILED


def _unexpected(episode_id: int) -> str:
    """What the user reads for a failure no step foresaw: never a Python class name."""
    return (
        f"an unexpected error stopped this step; the log has the details for episode "
        f"{episode_id}. Run `radio retry {episode_id}` to try again."
    )


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
            processing.report_progress(
                self.db, self.episode_id, leases.WORKER_ID, overall, now + self.lease
            )


def retry(db: sqlite_utils.Database, episode_id: int) -> None:
    """Make a failed episode runnable again; finished steps stay finished.

    A ready episode stays ready (and public): only the steps it lacks run, in place. Making
    its finished steps again is ``radio.jobs.rerun``, which swaps the results in whole.
    """
    processing.reopen_unfinished_steps(db, episode_id)
    if get_episode(db, episode_id).status != EpisodeStatus.READY:
        update_episode(db, episode_id, status=EpisodeStatus.QUEUED, error=None)
