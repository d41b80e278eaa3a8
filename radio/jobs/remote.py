"""A worker on another machine (#17): ``radio worker --archive URL --token T``.

It takes work from the archive's own queue (Redis, ``QUEUE_URL``), borrows the episode's
lease over HTTP, fetches the original, runs the heavy steps (``handoff.REMOTE_STEPS``:
listening copies, transcript, and the voice prints and clustering of the speakers step)
with the very pipeline the archive runs (``pipeline.process`` over a part of ``STEPS``) in a
scratch archive of its own (its ``--home``: a database and media folder that start empty),
with the archive's settings; then uploads the files (the transcript, speakers and voices
as one file, ``radio.jobs.remote_transcript``), commits, and asks the archive to run the
light steps (name suggestions from the show's voices, topics, file tags), which need the
archive's other episodes. A retranscription is staged here too and swapped in by the
archive (``radio.jobs.remote_retranscribe``), and so are the new listening copies of a
re-run (``radio.jobs.remote_rerun``), which the archive tags and swaps in. While it works, a
thread renews the lease; if the worker vanishes the lease runs out and the episode goes to
the next worker. Work that only the archive can do (new file tags, a re-run's light phases)
is passed back to it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from huey import Huey

from radio.data import processing
from radio.data.episodes import EpisodeNotFound, get_episode
from radio.data.processing import StepName
from radio.db import connect, database_path
from radio.jobs import handoff, tasks
from radio.jobs.remote_http import ArchiveClient, RemoteError
from radio.jobs.remote_results import build_manifest, forget_local, prepare_local
from radio.media import store
from radio.upkeep.logs import episode_context

logger = logging.getLogger(__name__)

RECOVER_EVERY_S = 60.0


class RemoteWorker:
    """One worker process: its scratch app (``app``) and the archive it works for."""

    def __init__(self, app: Flask, client: ArchiveClient) -> None:
        self.app, self.client = app, client
        self.stop = threading.Event()
        self._in_hand: set[int] = set()  # episodes a thread of this process is working on
        self._lock = threading.Lock()

    def settings(self) -> dict[str, Any]:
        """The local config with the archive's processing settings over it."""
        status, theirs = self.client.json("GET", "settings")
        if status != 200:
            raise RemoteError(f"the archive did not give its settings ({status})")
        config = dict(self.app.config)
        for key, value in theirs.items():
            if key == "WHISPER_MODEL" and value and value != config.get(key):
                logger.info("the archive transcribes with %s; this worker with %s", value,
                            config.get(key))  # fmt: skip
                continue  # a path on the archive's machine: this machine has its own models
            config[key] = value
        return config

    def process(self, episode_id: int) -> str:
        """Take the episode, do the heavy steps here, send them back; the outcome."""
        return self._one_at_a_time(episode_id, self._process)

    def retranscribe(self, episode_id: int) -> str:
        """Transcribe the episode again here as asked, send the new transcript back."""
        kind = "retranscribe_episode"
        return self._one_at_a_time(episode_id, self._borrow, "retranscription", kind, self._stage)

    def rerun(self, episode_id: int) -> str:
        """Render a published episode's listening copies again here for its re-run, send
        them back; the archive tags and swaps them (``radio.jobs.remote_rerun``)."""
        from radio.jobs.remote_rerun import render_here

        def stage(lent: dict[str, Any], url: str) -> str:
            return render_here(self, lent, url)

        return self._one_at_a_time(episode_id, self._borrow, "rerun", "rerun_episode", stage)

    def _one_at_a_time(self, episode_id: int, work: Callable[..., str], *args: Any) -> str:
        """The lease is this process's: a second thread of it must not take the same episode
        up as well (the queue may hold it twice), as in ``tasks.run_episode``."""
        with self._lock:
            if episode_id in self._in_hand:
                return "busy"
            self._in_hand.add(episode_id)
        try:
            return work(episode_id, *args)
        finally:
            with self._lock:
                self._in_hand.discard(episode_id)

    def _process(self, episode_id: int) -> str:
        with episode_context(episode_id):
            try:
                status, lent = self.client.json("POST", f"episodes/{episode_id}/lease")
            except RemoteError as e:
                logger.error("episode %s not taken: %s", episode_id, e)
                return "unreachable"
            if status == 409:
                logger.info("episode %s is being processed by another worker", episode_id)
                return "busy"
            if status != 200:
                logger.warning("episode %s: the archive refused it (%s)", episode_id, lent)
                return "refused"
            try:
                with self.renewing(episode_id, float(lent["lease_seconds"])):
                    return self._work(lent)
            except RemoteError as e:  # said plainly; the episode is taken up again later
                logger.error("episode %s given back: %s", episode_id, e)
                self.give_back(episode_id)
                return "given back"
            except BaseException:
                self.give_back(episode_id)
                raise

    def _work(self, lent: dict[str, Any]) -> str:
        episode_id = int(lent["id"])
        heavy = [s for s in lent["remote_steps"] if s not in lent["done"]]
        if heavy:
            config = self.settings()
            db = connect(database_path(self.app))
            try:
                outcome = self._run_heavy(db, config, lent, heavy)
            finally:
                db.conn.close()
            if outcome != "committed":
                return outcome
        if lent.get("diarize"):  # the archive has the transcript; who speaks when, from here
            from radio.jobs.remote_diarize import diarize_and_send

            diarize_and_send(self, lent)
        status, answer = self.client.json("POST", f"episodes/{episode_id}/finish")
        if status != 202:
            raise RemoteError(f"episode {episode_id}: the archive did not finish it: {answer}")
        logger.info("episode %s: results sent; the archive runs the remaining steps", episode_id)
        return "committed"

    def _run_heavy(self, db: Any, config: dict[str, Any], lent: dict[str, Any],
                   heavy: list[str]) -> str:  # fmt: skip
        from radio.jobs import pipeline  # audio and model code load only where work is done
        from radio.jobs.steps import STEPS

        episode_id = int(lent["id"])
        local_id = self.fetch(db, config, lent)
        pipeline.retry(db, local_id)  # a step that failed here before runs again
        steps = tuple(_here(step) for step in STEPS if step[0] in heavy)
        outcome = pipeline.process(db, config, local_id, steps)
        if outcome == "busy":
            return "busy"
        local = db["episodes"].get(local_id)
        if outcome == "failed":
            # What finished before the failure is kept, as in-process: a retry goes on from
            # there (a failed speakers step then runs on the archive, on the sent transcript).
            kept = [s for s in heavy if s in processing.finished_steps(db, local_id)]
            if kept:
                self.send_results(episode_id, *build_manifest(db, config["HOME"], local_id, kept))
            step, _, message = (local["error"] or "").partition(": ")
            self.client.json("POST", f"episodes/{episode_id}/fail",
                             {"step": local["step"] or step, "message": message})  # fmt: skip
            return "failed"
        manifest, files = build_manifest(db, config["HOME"], local_id, heavy)
        self.send_results(episode_id, manifest, files)
        forget_local(db, config["HOME"], local_id)  # scratch: the archive has it all now
        return "committed"

    def _borrow(
        self, episode_id: int, what: str, kind: str, stage: Callable[[dict[str, Any], str], str]
    ) -> str:
        """Borrow a published episode for one piece of work (``what``: its retranscription,
        a re-run's audio), ``stage`` it here and send it; the archive does the rest. What
        is not a worker's to do any more is passed back to the archive as ``kind``."""
        with episode_context(episode_id):
            url = f"episodes/{episode_id}/{what}"
            try:
                status, lent = self.client.json("POST", f"{url}/lease")
            except RemoteError as e:
                logger.error("episode %s not taken: %s", episode_id, e)
                return "unreachable"
            if status != 200:
                return "busy" if status == 409 else "refused"
            if not lent.get("stage"):  # staged already: what is left is the archive's
                return self.pass_back(kind, episode_id)
            try:
                with self.renewing(episode_id, float(lent["lease_seconds"]), progress=False):
                    outcome = stage(lent, url)
            except RemoteError as e:
                logger.error("episode %s given back: %s", episode_id, e)
                self.give_back(episode_id)
                return "given back"
            except BaseException:
                self.give_back(episode_id)
                raise
            if outcome == "staged":
                status, answer = self.client.json("POST", f"{url}/finish")
                if status != 202:
                    raise RemoteError(f"episode {episode_id}: not finished: {answer}")
            return outcome

    def _stage(self, lent: dict[str, Any], url: str) -> str:
        from radio.jobs.remote_retranscribe import stage_here, stopped

        episode_id, config = int(lent["id"]), self.settings()
        db = connect(database_path(self.app))
        try:
            local_id = self.fetch(db, config, lent)
            try:
                manifest, files = stage_here(db, config, local_id, lent, lambda *_: None)
            except stopped() as e:  # said plainly to the editors; the old transcript stays
                self.client.json("POST", f"{url}/fail", {"message": str(e)})
                forget_local(db, config["HOME"], local_id)
                return "failed"
            self.upload(episode_id, manifest, files)
            status, answer = self.client.json("POST", f"{url}/commit", manifest)
            if status != 200:
                raise RemoteError(f"episode {episode_id}: the archive refused it: {answer}")
            forget_local(db, config["HOME"], local_id)
        finally:
            db.conn.close()
        logger.info("episode %s: new transcript sent (%s segments)", episode_id, answer["staged"])
        return "staged"

    def fetch(self, db: Any, config: dict[str, Any], lent: dict[str, Any]) -> int:
        """The scratch copy of the lent episode, with its original; its local id."""
        episode_id = int(lent["id"])
        local_id = prepare_local(db, config["HOME"], lent)
        source = store.resolve(config["HOME"], lent["source_path"])
        if not source.exists():
            logger.info("episode %s: fetching the original (%s bytes)", episode_id,
                        lent.get("source_bytes"))  # fmt: skip
            self.client.download(f"episodes/{episode_id}/original", source, lent["source_sha256"])
        return local_id

    def upload(self, episode_id: int, manifest: dict[str, Any], files: dict[str, Any]) -> None:
        status, have = self.client.json("GET", f"episodes/{episode_id}/uploads")
        sent = have.get("files", {}) if status == 200 else {}
        for entry in manifest["files"]:
            name = entry["name"]
            already = int(sent.get(name, 0))
            if already > entry["bytes"]:
                already = 0  # not this file: the archive refuses it at commit; send again
            self.client.upload(episode_id, name, files[name], already)

    def send_results(
        self, episode_id: int, manifest: dict[str, Any], files: dict[str, Any]
    ) -> None:
        self.upload(episode_id, manifest, files)
        status, answer = self.client.json("POST", f"episodes/{episode_id}/commit", manifest)
        if status == 400:  # sending it again would not help: record it for the editors
            message = f"the archive refused this worker's results: {answer.get('error')}"
            self.client.json("POST", f"episodes/{episode_id}/fail",
                             {"step": manifest["steps"][0], "message": message})  # fmt: skip
        if status != 200:
            raise RemoteError(f"episode {episode_id}: the archive refused the commit: {answer}")
        logger.info("episode %s: committed %s files and %s segments", episode_id,
                    answer["files"], answer["segments"])  # fmt: skip

    def give_back(self, episode_id: int) -> None:
        try:
            self.client.call("DELETE", f"episodes/{episode_id}/lease", attempts=2)
        except RemoteError as e:  # the lease runs out by itself
            logger.warning("episode %s: could not give the lease back: %s", episode_id, e)

    @contextmanager
    def renewing(self, episode_id: int, seconds: float, progress: bool = True) -> Iterator[None]:
        """Renew the archive's lease every third of its length while the work goes on (with
        the progress of processing; a published episode's retranscription shows none)."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(max(1.0, seconds / 3)):
                said = {"progress": self._local_progress(episode_id) if progress else None}
                try:
                    status, _ = self.client.json("POST", f"episodes/{episode_id}/lease/renew", said)
                except RemoteError as e:
                    logger.warning("episode %s: lease not renewed: %s", episode_id, e)
                    continue
                if status == 409:  # its commit will be refused; the new holder goes on
                    logger.warning("episode %s: another worker took it over", episode_id)

        thread = threading.Thread(target=renew, daemon=True, name=f"lease-{episode_id}")
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(5)

    def _local_progress(self, episode_id: int) -> float:
        """How far the scratch copy has come (the steps write it, on the archive's scale)."""
        db = connect(database_path(self.app))
        try:
            return float(get_episode(db, episode_id).progress or 0.0)
        except EpisodeNotFound:
            return 0.0
        finally:
            db.conn.close()

    def recover_periodically(self, every: float) -> None:
        """Ask the archive to queue again what a vanished worker held (no consumer of the
        archive's own may be running to do it)."""
        while not self.stop.wait(every):
            try:
                self.client.json("POST", "recover")
            except RemoteError as e:
                logger.warning("could not ask the archive to recover: %s", e)

    def pass_back(self, kind: str, episode_id: int) -> str:
        status, answer = self.client.json("POST", f"episodes/{episode_id}/run/{kind}")
        return "passed to the archive" if status == 202 else f"refused: {answer}"


def _here(step: tuple[str, Any, float]) -> tuple[str, Any, float]:
    """A step as this worker runs it: the speakers step also keeps the voices it found,
    for the archive to match against the show's named voices."""
    from radio.jobs.remote_transcript import speakers_keeping_voices

    name, run_step, share = step
    return (name, speakers_keeping_voices if name == StepName.SPEAKERS else run_step, share)


def _as_task(func: Any, name: str) -> Any:
    # Huey names a task by its function's module and the name given: these must read
    # exactly as the archive's (radio.jobs.tasks) for the queue entries to reach them.
    func.__module__ = tasks.__name__
    func.__qualname__ = func.__name__ = name
    return func


def make_queue(app: Flask, worker: RemoteWorker) -> Huey:
    """The archive's queue, with this worker's answers to each kind of entry."""
    huey = tasks.make_huey(app)
    huey.task(name="process_episode")(_as_task(lambda episode_id: worker.process(episode_id),
                                               "process_episode"))  # fmt: skip
    retranscribe = _as_task(lambda episode_id: worker.retranscribe(episode_id),
                            "retranscribe_episode")  # fmt: skip
    huey.task(name="retranscribe_episode")(retranscribe)

    def rerun_episode(episode_id: int) -> str:
        outcome = worker.rerun(episode_id)
        if outcome == "busy":  # as the archive's own worker: again once the other work is done
            entry.schedule((episode_id,), delay=tasks.BUSY_RETRY_SECONDS)
        return outcome

    entry = huey.task(name="rerun_episode")(_as_task(rerun_episode, "rerun_episode"))
    for kind in handoff.PASSED_BACK:
        entry = _as_task(lambda episode_id, kind=kind: worker.pass_back(kind, episode_id), kind)
        huey.task(name=kind)(entry)
    huey.task(name="recover")(_as_task(lambda: worker.client.json("POST", "recover")[0], "recover"))
    return huey


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run(app: Flask, archive: str, token: str, workers: int = 1) -> None:
    """Work for ``archive`` until Ctrl-C or SIGTERM."""
    if not app.config.get("QUEUE_URL"):
        raise RemoteError(
            "a worker on another machine needs the archive's queue: set RADIO_QUEUE_URL "
            "(redis://ARCHIVE-HOST:6379/0), as on the archive"
        )
    client = ArchiveClient(archive, token, worker_id())
    worker = RemoteWorker(app, client)
    status, settings = client.json("GET", "settings")  # the token works, the archive answers
    if status != 200:
        raise RemoteError(f"the archive at {archive} answered {status}")
    lease = float(settings.get("LEASE_SECONDS") or 120)
    every = min(RECOVER_EVERY_S, max(1.0, lease / 2))
    threading.Thread(target=worker.recover_periodically, args=(every,), daemon=True).start()
    huey = make_queue(app, worker)
    logger.info("working for %s as %s with %d thread(s)", archive, client.worker_id, workers)
    huey.create_consumer(workers=workers, worker_type="thread", periodic=False).run()
