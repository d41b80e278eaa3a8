"""The archive's side of a worker on another machine (#17): lend it an episode, take its
results back.

A remote worker (``radio.jobs.remote``) holds the episode's lease like any worker, under an
owner name of its own (``remote/NAME/host:pid:id``: never taken for a dead process of this
machine, so only its expiry frees it). It runs the heavy steps (``REMOTE_STEPS``: the
listening copies, the transcript, the speakers' voice prints and turns) with the archive's
settings and uploads the files into a folder of its own under ``media/incoming/remote``
(``radio.jobs.remote_uploads``). ``commit`` applies the result: every
file checked against the manifest's size and SHA-256 and renamed into the episode's
folder, then every row in one transaction, with the manifest's hash, so the same commit
sent again is answered the same and changes nothing, and the audit history names the
worker's token. The light steps run on the archive, which has the show's voices and
taxonomy: name suggestions for the voices the worker found, topics, file tags.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlite_utils

from radio.data import audit, processing, transcripts, worker_tokens
from radio.data.episodes import (
    Episode,
    EpisodeStatus,
    end_review,
    get_episode,
    hold_for_review,
    update_episode,
)
from radio.data.processing import StepName, StepStatus
from radio.data.renditions import save_renditions
from radio.data.shows import show_language
from radio.db import transaction, utcnow
from radio.jobs import leases
from radio.jobs.remote_transcript import (
    TRANSCRIPT_FILE,
    Transcript,
    apply_transcript,
    read_transcript,
)
from radio.jobs.remote_uploads import HandoffError, LeaseLost, checked_name, upload_dir
from radio.media import store

# The steps a worker may run: the speakers step only with the transcript it diarizes (for
# a transcript the archive already has, the worker sends only who speaks when and the
# archive labels its transcript with it: radio.jobs.remote_diarize).
REMOTE_STEPS = (StepName.AUDIO, StepName.TRANSCRIBE, StepName.SPEAKERS)
# Queue entries a remote worker leaves to the archive (radio.jobs.tasks names them): new
# file tags work on the archive's files in place.
PASSED_BACK = ("tag_files",)
# What a worker may ask the archive to run: also a retranscription and a re-run, whose
# heavy part a worker does itself (radio.jobs.remote_retranscribe, remote_rerun) unless it
# is done already (staged) or there is none (topics; the swap, the tags).
RUN_HERE = ("retranscribe_episode", "rerun_episode", *PASSED_BACK)
RENDITION_KINDS = ("mp3", "opus", "aac")  # radio.media.renditions.KINDS, without loading PyAV
# What makes a worker's results the same as this archive's own (radio.jobs.steps).
SETTINGS = (
    "TARGET_LUFS",
    "MAX_TRUE_PEAK_DBTP",
    "MP3_BITRATE",
    "OPUS_BITRATE",
    "AAC_BITRATE",
    "MAX_DURATION_HOURS",
    "WHISPER_MODEL",
    "WHISPER_THREADS",
    "TRANSCRIBE",
    "CHINESE_SCRIPT",
    "LEASE_SECONDS",
)
EPISODE_FIELDS = (
    "duration",
    "loudness_before",
    "true_peak_before",
    "loudness_after",
    "true_peak_after",
    "language",
    "language_hint",
    "language_probability",
    "transcript_language",
    "transcript_model",
    "transcribe_seconds",
)


def settings(config: dict[str, Any]) -> dict[str, Any]:
    return {key: config.get(key) for key in SETTINGS}


def lease_seconds(config: dict[str, Any]) -> float:
    return float(config.get("LEASE_SECONDS") or 120)


def take(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, owner: str
) -> dict[str, Any] | None:
    """Lend the episode to ``owner``: what it needs to process it, or None while another
    worker holds it."""
    episode = get_episode(db, episode_id)
    refuse_gone(episode)
    now = time.time()
    if not processing.claim_lease(db, episode_id, owner, now + lease_seconds(config), now):
        return None
    done = processing.finished_steps(db, episode_id)
    if episode.status != EpisodeStatus.READY:
        update_episode(db, episode_id, status=EpisodeStatus.PROCESSING, error=None)
    return {
        "id": episode.id,
        "guid": episode.guid,
        "title": episode.title,
        "source_sha256": episode.source_sha256,
        "source_path": episode.source_path,
        "source_bytes": episode.source_bytes,
        "language": episode.language,
        "speakers": episode.speaker_names,
        "show_language": show_language(db, episode.show_id),
        "done": sorted(done),
        "remote_steps": lent_steps(done),
        # the archive has the transcript but not its speakers: the worker diarizes the
        # original for it (radio.jobs.remote_diarize)
        "diarize": (
            StepName.TRANSCRIBE in done
            and StepName.SPEAKERS not in done
            and bool(config.get("TRANSCRIBE", True))
            and transcripts.has_transcript(db, episode_id)
        ),
        "lease_seconds": lease_seconds(config),
    }


def lent_steps(done: set[str]) -> list[str]:
    if StepName.TRANSCRIBE in done:
        return [s for s in REMOTE_STEPS if s != StepName.SPEAKERS]
    return list(REMOTE_STEPS)


def renew(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    owner: str,
    progress: float | None,
) -> None:
    """Renew the worker's lease, with its progress (None: the episode's stays as it is)."""
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")
    until = time.time() + lease_seconds(config)
    if progress is None:
        progress = get_episode(db, episode_id).progress or 0.0
    processing.report_progress(db, episode_id, owner, min(max(progress, 0.0), 1.0), until)


def give_back(db: sqlite_utils.Database, episode_id: int, owner: str) -> None:
    processing.release_lease(db, episode_id, owner)


def hand_to_archive(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, owner: str
) -> None:
    """Pass the worker's lease straight to this process, which runs the light steps next:
    never free in between, so ``recover`` does not queue the episode again meanwhile. A
    repeat (the first answer was lost) finds the lease already here and is fine."""
    if processing.lease_owner(db, episode_id) == leases.WORKER_ID:
        return
    until = time.time() + lease_seconds(config)
    if not processing.take_over_lease(db, episode_id, leases.WORKER_ID, owner, until):
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")


def fail(db: sqlite_utils.Database, episode_id: int, owner: str, step: str, message: str) -> None:
    """A heavy step failed on the worker: record it as the pipeline does here."""
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")
    if step not in REMOTE_STEPS:
        raise HandoffError(f"{step} is not a step a worker runs")
    processing.mark_step(db, episode_id, step, StepStatus.FAILED, error=message)
    if get_episode(db, episode_id).status == EpisodeStatus.READY:
        update_episode(db, episode_id, step=None, error=f"{step}: {message}")
    else:
        update_episode(db, episode_id, status=EpisodeStatus.FAILED, error=f"{step}: {message}")
    processing.release_lease(db, episode_id, owner)


# -- commit ----------------------------------------------------------------------------


def manifest_hash(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def refuse_gone(episode: Episode) -> None:
    if episode.deleted_at is not None:
        raise HandoffError(f"episode {episode.id} is in the trash")
    if episode.taken_down_at is not None:
        raise HandoffError(f"episode {episode.id} was taken down")


def commit(
    db: sqlite_utils.Database, home: str, episode_id: int, owner: str, manifest: dict[str, Any]
) -> dict[str, Any]:
    """Apply a worker's results atomically and once; the answer (the same for a repeat)."""
    digest = manifest_hash(manifest)
    before = worker_tokens.commit_answer(db, episode_id, digest)
    if before is not None:
        return json.loads(before)
    check_manifest(manifest)
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")
    episode = get_episode(db, episode_id)
    refuse_gone(episode)  # taken down while the worker had it: nothing comes back (#16)
    target = store.episode_dir(home, episode.guid)
    sent = _transcript(home, episode_id, owner, manifest)
    media = [f for f in manifest.get("files") or [] if f["name"] != TRANSCRIPT_FILE]
    place_files(home, episode_id, owner, media, target)
    answer = {
        "episode": episode_id,
        "committed": digest,
        "files": len(manifest.get("files") or []),
        "segments": len(sent.segments) if sent else 0,
    }
    with transaction(db) as conn:
        _apply_rows(db, home, episode_id, target, manifest, sent)
        worker_tokens.record_commit(
            conn, episode_id, digest, owner, json.dumps(answer, sort_keys=True), utcnow()
        )
        _audit_commit(conn, episode_id, owner, manifest, answer)
    for folder in upload_dir(home, episode_id, owner).parent.glob(f"{episode_id}-*"):
        shutil.rmtree(folder, ignore_errors=True)  # this worker's, and any a dead one left
    return answer


def _transcript(
    home: str, episode_id: int, owner: str, manifest: dict[str, Any]
) -> Transcript | None:
    """The uploaded transcript file, whole and in shape (read before anything changes)."""
    steps = manifest.get("steps") or ()
    if StepName.TRANSCRIBE not in steps:
        return None
    (entry,) = [f for f in manifest["files"] if f["name"] == TRANSCRIPT_FILE]
    path = upload_dir(home, episode_id, owner) / TRANSCRIPT_FILE
    if not _matches(path, entry):
        raise HandoffError(
            f"{TRANSCRIPT_FILE} did not arrive whole (size or SHA-256 differs); send it again"
        )
    try:
        return read_transcript(path, steps)
    except (KeyError, TypeError, ValueError) as e:
        raise HandoffError(f"the transcript is not in the expected shape ({e})") from e


def _audit_commit(
    conn: audit.Executes, episode_id: int, owner: str, manifest: dict[str, Any], answer: dict
) -> None:
    """The history says which worker (by its token's name) sent which results."""
    _, token_name, worker = owner.split("/", 2)
    after = {"worker": worker, "steps": manifest.get("steps") or [],
             "files": answer["files"], "segments": answer["segments"]}  # fmt: skip
    actor = audit.Actor(f"worker:{token_name}")
    audit.record(conn, actor, "worker.commit", audit.subject("episode", episode_id), after=after)


def check_manifest(manifest: dict[str, Any]) -> None:
    """Refuse a manifest of the wrong shape before anything is touched (400, not a crash
    halfway through the transaction)."""
    try:
        for entry in manifest.get("files") or []:
            checked_name(str(entry["name"]))
            int(entry["bytes"]), str(entry["sha256"])
        for r in manifest["renditions"]:
            if r["kind"] not in RENDITION_KINDS:
                raise HandoffError(f"{r['kind']!r} is not a kind of listening copy")
            checked_name(str(r["file"]))
            int(r["bytes"]), float(r["duration"] or 0)
        steps = set(manifest.get("steps") or ())
        if not steps <= set(REMOTE_STEPS):
            raise HandoffError(f"a worker runs only the steps {', '.join(REMOTE_STEPS)}")
        if StepName.SPEAKERS in steps and StepName.TRANSCRIBE not in steps:
            raise HandoffError("a worker finds the speakers only of the transcript it made")
        named = {str(entry["name"]) for entry in manifest.get("files") or []}
        if StepName.TRANSCRIBE in steps and TRANSCRIPT_FILE not in named:
            raise HandoffError(f"a transcript comes as the file {TRANSCRIPT_FILE}")
    except (KeyError, TypeError, ValueError) as e:
        raise HandoffError(f"the manifest is not in the expected shape ({e})") from e


def place_files(
    home: str, episode_id: int, owner: str, files: list[dict[str, Any]], target: Path
) -> None:
    """Check every file, then rename each into the episode's folder. A file already there
    with the right checksum (an earlier attempt of this commit got that far) is fine."""
    folder = upload_dir(home, episode_id, owner)
    moves = []
    for entry in files:
        name = checked_name(str(entry["name"]))
        sent, placed = folder / name, target / name
        if _matches(sent, entry):
            moves.append((sent, placed))
        elif not _matches(placed, entry):
            raise HandoffError(
                f"{name} did not arrive whole (size or SHA-256 differs); send it again"
            )
    target.mkdir(parents=True, exist_ok=True)
    for sent, placed in moves:
        os.replace(sent, placed)
        store.fsync_path(placed)


def _matches(path: Path, entry: dict[str, Any]) -> bool:
    if not path.is_file() or path.stat().st_size != int(entry["bytes"]):
        return False
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == str(entry["sha256"]).lower()


def _apply_rows(
    db: sqlite_utils.Database,
    home: str,
    episode_id: int,
    target: Path,
    manifest: dict[str, Any],
    sent: Transcript | None,
) -> None:
    """Every row of the result (inside the caller's transaction)."""
    made = [SimpleNamespace(**{k: r[k] for k in _RENDITION_KEYS}) for r in manifest["renditions"]]
    paths = [store.relative(home, target / checked_name(r["file"])) for r in manifest["renditions"]]
    save_renditions(db, episode_id, made, paths)
    fields = {k: v for k, v in (manifest.get("episode") or {}).items() if k in EPISODE_FIELDS}
    if manifest.get("peaks_file"):
        fields["peaks_path"] = store.relative(home, target / checked_name(manifest["peaks_file"]))
    if fields:
        update_episode(db, episode_id, **fields)
    if sent is not None:
        apply_transcript(db, db.conn, episode_id, sent)
        if manifest.get("review_note"):
            hold_for_review(db, episode_id, manifest["review_note"])
        else:
            end_review(db, episode_id)
    for step in manifest.get("steps", ()):
        if step in REMOTE_STEPS:
            processing.mark_step(db, episode_id, step, StepStatus.DONE)


_RENDITION_KEYS = ("kind", "bytes", "mime", "bitrate", "sample_rate", "duration")
