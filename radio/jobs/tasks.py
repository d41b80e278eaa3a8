"""The job queue (Huey): SQLite in the data folder by default, Redis to share one queue.

The queue only says "look at episode N" (process it, or transcribe it again); what is done
and what is left lives in the archive's database (see ``radio.jobs.pipeline`` and
``radio.jobs.retranscribe``). So a lost or duplicated queue entry is harmless: ``recover``
re-enqueues every unfinished episode and retranscription when a worker starts and then
every minute, and the episode lease stops two workers doing the same work.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from radio.db import connect, database_path
from radio.jobs import leases, remote_uploads, rerun, retranscribe
from radio.media import reserve, store
from radio.upkeep.health import beat

logger = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 30  # a re-run waits this long while another worker holds the episode
_in_hand: set[int] = set()  # episodes a thread of this process is processing
_in_hand_lock = threading.Lock()


def make_huey(app: Flask) -> Huey:
    url = app.config.get("QUEUE_URL")
    if url:
        return RedisHuey("radio", url=url)
    return SqliteHuey("radio", filename=str(Path(app.config["HOME"]) / "queue.db"))


def init_app(app: Flask) -> None:
    huey = make_huey(app)

    @huey.task(name="process_episode")
    def process_episode(episode_id: int) -> str:
        return run_episode(app, episode_id)

    @huey.task(name="retranscribe_episode")
    def retranscribe_episode(episode_id: int) -> str:
        return run_retranscription(app, episode_id).outcome

    @huey.task(name="rerun_episode")
    def rerun_episode(episode_id: int) -> str:
        result = run_rerun(app, episode_id)
        if result.retranscribe:  # every step again: the new transcript comes next
            enqueue_retranscription(episode_id, app)
        if result.outcome == rerun.Outcome.BUSY:  # try again once the other work is done
            rerun_episode.schedule((episode_id,), delay=BUSY_RETRY_SECONDS)
        return result.outcome

    @huey.task(name="tag_files")
    def tag_files(episode_id: int) -> str:
        return run_file_tags(app, episode_id)

    @huey.periodic_task(_every_minute(), name="recover")
    def recover_periodically() -> int:
        # Queued episodes are already in the queue; only a dead worker's need a nudge.
        return recover(app, include_queued=False)

    app.extensions["radio.huey"] = huey
    app.extensions["radio.process_episode"] = process_episode
    app.extensions["radio.retranscribe_episode"] = retranscribe_episode
    app.extensions["radio.tag_files"] = tag_files
    app.extensions["radio.rerun_episode"] = rerun_episode


def _every_minute():  # noqa: ANN202 - huey's crontab returns a plain callable
    from huey import crontab

    return crontab(minute="*")


def run_episode(app: Flask, episode_id: int) -> str:
    """Process one episode with a database connection of this thread's own.

    The lease keeps other processes off an episode, but its owner is this process: a
    second thread of it must not take the episode up as well (the queue holds it more than
    once, as every start queues the unfinished episodes again), or both would write the
    same files at once.
    """
    with _in_hand_lock:
        if episode_id in _in_hand:
            return "busy"
        _in_hand.add(episode_id)
    try:
        # Loaded on the first episode, not at start: the web process stays free of audio code.
        from radio.jobs import pipeline

        db = connect(database_path(app))
        try:
            return pipeline.process(db, app.config, episode_id)
        finally:
            db.conn.close()
    finally:
        with _in_hand_lock:
            _in_hand.discard(episode_id)


def run_retranscription(app: Flask, episode_id: int) -> retranscribe.Result:
    """Transcribe one episode again, as asked, with a database connection of its own."""
    db = connect(database_path(app))
    try:
        return retranscribe.run(db, app.config, episode_id)
    finally:
        db.conn.close()


def run_file_tags(app: Flask, episode_id: int) -> str:
    """Write an episode's title, chapters and licence into its files again (an editor changed
    them); while a worker holds the episode, try again a little later."""
    from radio.jobs import filetags  # loaded here: mutagen and PyAV stay out of the web process

    db = connect(database_path(app))
    try:
        result = filetags.retag_episode(db, app.config, episode_id)
    finally:
        db.conn.close()
    if result.outcome == filetags.Outcome.BUSY:
        app.extensions["radio.tag_files"].schedule((episode_id,), delay=filetags.BUSY_RETRY_SECONDS)
    return result.outcome


def run_rerun(app: Flask, episode_id: int) -> rerun.Result:
    """Make a published episode's steps again (#15), with a database connection of its own."""
    db = connect(database_path(app))
    try:
        return rerun.run(db, app.config, episode_id)
    finally:
        db.conn.close()


def enqueue_rerun(episode_id: int, app: Flask | None = None) -> None:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions["radio.rerun_episode"](episode_id)


def enqueue_file_tags(episode_id: int, app: Flask | None = None) -> None:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions["radio.tag_files"](episode_id)


def enqueue(episode_id: int, app: Flask | None = None) -> None:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions["radio.process_episode"](episode_id)


def enqueue_retranscription(episode_id: int, app: Flask | None = None) -> None:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    app.extensions["radio.retranscribe_episode"](episode_id)


def recover(app: Flask, include_queued: bool = True) -> int:
    """Queue every episode a worker should be working on; return how many.

    Also, at a worker's start and every minute: remove what interrupted uploads and ingests
    left behind (only files whose writer is gone), and keep the room the pipeline gives
    back when the disk fills (``reserve.keep_reserve``).
    """
    store.sweep_partials(app.config["HOME"])
    reserve.keep_reserve(app.config["HOME"])
    beat(app.config["HOME"])  # /health: the worker is alive
    db = connect(database_path(app))
    try:
        ids = leases.unfinished(db, include_queued=include_queued)
        again = retranscribe.unfinished(db, include_queued=include_queued)
        remade = rerun.unfinished(db, include_queued=include_queued)
        lease = float(app.config.get("LEASE_SECONDS") or 120)
        remote_uploads.sweep_stale_uploads(db, app.config["HOME"], lease)  # workers' leftovers
    finally:
        db.conn.close()
    for episode_id in ids:
        enqueue(episode_id, app)
    for episode_id in again:
        enqueue_retranscription(episode_id, app)
    for episode_id in remade:
        enqueue_rerun(episode_id, app)
    if ids or again:
        logger.info("queued unfinished episodes %s and retranscriptions %s", ids, again)
    return len(ids) + len(again) + len(remade)


def consumer(app: Flask, workers: int = 1) -> Consumer:
    huey: Huey = app.extensions["radio.huey"]
    return huey.create_consumer(workers=workers, worker_type="thread", periodic=True)


def start_in_process(app: Flask, workers: int = 1) -> list[threading.Thread]:
    """Run consumer threads beside the web server, without touching signal handlers
    (Huey's ``Consumer.start`` installs its own, which would steal Ctrl-C from waitress)."""
    recover(app)
    c = consumer(app, workers)
    threads = [c.scheduler, *(t for _, t in c.worker_threads)]
    for t in threads:
        t.start()
    return threads


def run_worker(app: Flask, workers: int = 1) -> None:
    """Run consumers in the foreground until Ctrl-C or SIGTERM (``radio worker``)."""
    recover(app)
    consumer(app, workers).run()
