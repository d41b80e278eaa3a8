"""A re-run's audio done by a worker on another machine (#15, #17): the heavy part (rendering
the original's listening copies and peaks again) on the worker, the rest on the archive,
as with a retranscription (``radio.jobs.remote_retranscribe``).

The worker borrows the episode's lease while its re-run waits for new audio (``take``:
phase queued or running, step audio or all), renders with the archive's settings and the
archive's own code (``rerun_render.render_staging``), and uploads the files through the
chunked, checksummed upload path. ``commit`` checks every file against the manifest and
renames it into the episode's staging folder (``media/episodes/<guid>/next/``), then
records what was made in the reruns row, which stays "running": untagged files are not
staged yet. ``finish`` hands the lease to the archive, which carries the re-run on as its
own worker would (``rerun.run``): it tags the received files (the tags need the archive's
titles, chapters and licence), swaps them in in one transaction, and asks for the new
transcript of a whole re-run, which goes back on the queue as a retranscription (a worker
does that one too). Listeners keep the old files until the swap; a re-run with nothing
heavy left (topics, a staged swap) is the archive's.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from typing import Any, Protocol

import sqlite_utils
from flask import Flask

from radio.data import audit, processing, worker_tokens
from radio.data.episodes import get_episode
from radio.data.reruns import RerunPhase, RerunStep, get_rerun, update_rerun
from radio.db import connect, database_path, transaction, utcnow
from radio.i18n import _
from radio.jobs import handoff, rerun
from radio.jobs.remote_http import ArchiveClient, RemoteError, file_sha256
from radio.jobs.remote_results import forget_local
from radio.jobs.remote_uploads import HandoffError, LeaseLost, checked_name, upload_dir
from radio.media import store

logger = logging.getLogger(__name__)

HEAVY = (RerunStep.AUDIO, RerunStep.ALL)  # re-runs whose first phase renders the audio
PROGRESS_EVERY_S = 5.0  # how often a worker tells how far its rendering has come
_FACTS = ("duration", "loudness_before", "true_peak_before", "loudness_after",
          "true_peak_after")  # fmt: skip
_RENDITION = {"kind": str, "file": str, "mime": str, "bitrate": int, "sample_rate": int,
              "duration": float}  # fmt: skip


# -- on the archive --------------------------------------------------------------------


def take(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, owner: str
) -> dict[str, Any] | None:
    """Lend the episode for its re-run's rendering: what the worker needs, ``stage`` False
    when there is nothing heavy left for a worker; None while another worker holds it."""
    asked = get_rerun(db, episode_id)
    episode = get_episode(db, episode_id)
    if (
        asked is None
        or asked.step not in HEAVY
        or asked.status not in (RerunPhase.QUEUED, RerunPhase.RUNNING)
        or rerun.received(rerun.staging_dir(config, episode), asked.staged) is not None
    ):
        return {"id": episode_id, "stage": False}
    try:
        handoff.refuse_gone(episode)
    except HandoffError:  # nothing is made again for an episode taken down or in the trash
        gone = _("The episode was taken down or put in the trash; it was not made again.")
        update_rerun(db, episode_id, status=RerunPhase.FAILED, error=str(gone))
        raise
    lent = handoff.take(db, config, episode_id, owner)
    if lent is None:
        return None
    update_rerun(db, episode_id, status=RerunPhase.RUNNING, progress=0.0, error=None)
    return {**lent, "stage": True, "request": asked.requested_at}


def report(db: sqlite_utils.Database, episode_id: int, owner: str, fraction: float) -> None:
    """How far the worker's rendering has come, on the re-run's own progress bar."""
    _hold(db, episode_id, owner)
    share = rerun.RENDER_SHARE * min(max(fraction, 0.0), 1.0) if fraction == fraction else 0.0
    update_rerun(db, episode_id, progress=round(share, 4))


def commit(
    db: sqlite_utils.Database, home: str, episode_id: int, owner: str, manifest: dict[str, Any]
) -> dict[str, Any]:
    """Check the sent files and place them in the staging folder, then record them in the
    reruns row, with the audit entry, in one transaction; the same commit twice is answered
    the same and changes nothing."""
    digest = handoff.manifest_hash(manifest)
    before = worker_tokens.commit_answer(db, episode_id, digest)
    if before is not None:
        return json.loads(before)
    _hold(db, episode_id, owner)
    episode = get_episode(db, episode_id)
    handoff.refuse_gone(episode)
    asked = get_rerun(db, episode_id)
    if (
        asked is None
        or asked.status != RerunPhase.RUNNING
        or manifest.get("request") != asked.requested_at
    ):
        raise HandoffError(f"episode {episode_id} has no re-run waiting for these files")
    facts = facts_of(manifest)
    staging = store.episode_dir(home, episode.guid) / rerun.STAGING
    handoff.place_files(home, episode_id, owner, manifest["files"], staging)
    answer = {"episode": episode_id, "committed": digest, "files": len(manifest["files"])}
    _, name, worker = owner.split("/", 2)
    after = {"worker": worker, "rerun": asked.step, "files": answer["files"]}
    with transaction(db) as conn:
        update_rerun(db, episode_id, progress=rerun.RENDER_SHARE, staged=json.dumps(facts))
        worker_tokens.record_commit(
            conn, episode_id, digest, owner, json.dumps(answer, sort_keys=True), utcnow()
        )
        audit.record(conn, audit.Actor(f"worker:{name}"), "worker.commit",
                     audit.subject("episode", episode_id), after=after)  # fmt: skip
    for folder in upload_dir(home, episode_id, owner).parent.glob(f"{episode_id}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    return answer


def facts_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """The reruns row's ``staged`` from a manifest, every value of its expected type, and
    exactly the files it names sent (refused before anything is touched)."""
    try:
        sent = manifest["staged"]
        facts: dict[str, Any] = {
            key: None if sent[key] is None else float(sent[key]) for key in _FACTS
        }
        facts["duration"] = float(sent["duration"])
        facts["renditions"] = [
            {key: kind(r[key]) for key, kind in _RENDITION.items()} for r in sent["renditions"]
        ]
        for r in facts["renditions"]:
            checked_name(r["file"])
            if r["kind"] not in handoff.RENDITION_KINDS:
                raise HandoffError(f"{r['kind']!r} is not a kind of listening copy")
        named = {r["file"] for r in facts["renditions"]} | {rerun.PEAKS}
        files = manifest["files"]
        for entry in files:
            checked_name(str(entry["name"])), int(entry["bytes"]), str(entry["sha256"])
    except (KeyError, TypeError, ValueError) as e:
        raise HandoffError(f"the manifest is not in the expected shape ({e})") from e
    if {str(entry["name"]) for entry in files} != named or len(files) != len(named):
        raise HandoffError("the files sent are not the listening copies and peaks named")
    if {r["kind"] for r in facts["renditions"]} != set(handoff.RENDITION_KINDS):
        raise HandoffError("a re-run sends one listening copy of each kind")
    return facts


def fail(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, owner: str, message: str
) -> None:
    """The rendering stopped on the worker: the old files stay, the message is the re-run's
    (as when it stops here)."""
    _hold(db, episode_id, owner)
    rerun.discard_staging(config, get_episode(db, episode_id))
    if "Listeners keep" not in message:
        message = f"{message} Listeners keep the episode as it was."
    update_rerun(db, episode_id, status=RerunPhase.FAILED, error=message)
    handoff.give_back(db, episode_id, owner)


def finish_here(app: Flask, episode_id: int) -> str:
    """The rest of the re-run on the archive, under the lease the worker handed over: the
    received files tagged and swapped in, then what follows them (``rerun.run``)."""
    from radio.jobs import tasks

    db = connect(database_path(app))
    try:
        result = rerun.run(db, app.config, episode_id, handed=True)
    finally:
        db.conn.close()
    if result.retranscribe:  # every step again: the new transcript comes next
        tasks.enqueue_retranscription(episode_id, app)
    return result.outcome


def _hold(db: sqlite_utils.Database, episode_id: int, owner: str) -> None:
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")


# -- on the worker ---------------------------------------------------------------------


class RemoteWorker(Protocol):
    """What this needs of ``radio.jobs.remote.RemoteWorker`` (which imports this module)."""

    app: Flask
    client: ArchiveClient

    def settings(self) -> dict[str, Any]: ...

    def fetch(self, db: Any, config: dict[str, Any], lent: dict[str, Any]) -> int: ...

    def upload(self, episode_id: int, manifest: dict[str, Any], files: dict[str, Any]) -> None: ...


def render_here(worker: RemoteWorker, lent: dict[str, Any], url: str) -> str:
    """Render the lent episode's original here, upload and commit what was made; "staged",
    or "failed" when the audio itself stops it (told to the archive, for the editors)."""
    from radio.jobs.rerun_render import render_staging  # PyAV: only where the work is done
    from radio.media import audio
    from radio.media.errors import MediaError

    episode_id, config = int(lent["id"]), worker.settings()
    db = connect(database_path(worker.app))
    try:
        local_id = worker.fetch(db, config, lent)
        source = store.resolve(config["HOME"], lent["source_path"])
        staging = store.episode_dir(config["HOME"], lent["guid"]) / rerun.STAGING
        try:
            facts = render_staging(config, source, staging, _Reporter(worker, url))
        except (audio.AudioError, MediaError) as e:
            worker.client.json("POST", f"{url}/fail", {"message": str(e)})
            forget_local(db, config["HOME"], local_id)
            return "failed"
        files = {r["file"]: staging / r["file"] for r in facts["renditions"]}
        files[rerun.PEAKS] = staging / rerun.PEAKS
        manifest = {
            "guid": lent["guid"],
            "kind": "rerun",
            "request": lent["request"],  # this request's: a later re-run is a new commit
            "files": [
                {"name": name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
                for name, path in sorted(files.items())
            ],
            "staged": facts,
        }
        worker.upload(episode_id, manifest, files)
        status, answer = worker.client.json("POST", f"{url}/commit", manifest)
        if status != 200:
            raise RemoteError(f"episode {episode_id}: the archive refused it: {answer}")
        forget_local(db, config["HOME"], local_id)
    finally:
        db.conn.close()
    logger.info("episode %s: new listening copies sent (%s files)", episode_id, answer["files"])
    return "staged"


class _Reporter:
    """Rendering progress to the archive, at most every ``PROGRESS_EVERY_S``; one try each
    (the lease thread keeps the episode; a lost report is only a slower bar)."""

    def __init__(self, worker: RemoteWorker, url: str) -> None:
        self.worker, self.url, self.last = worker, url, time.monotonic()

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        try:
            self.worker.client.call("POST", f"{self.url}/progress",
                                    payload={"progress": fraction}, attempts=1)  # fmt: skip
        except RemoteError as e:
            logger.debug("progress not told: %s", e)
