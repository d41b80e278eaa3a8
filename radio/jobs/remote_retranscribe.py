"""A retranscription done by a worker on another machine (#17): the heavy part (transcribing
the original again with the model and language asked for) on the worker, the rest on the
archive, as with processing (``radio.jobs.handoff``).

The worker borrows the episode's lease, stages the new transcript in its scratch archive
with the archive's own code (``retranscribe.stage``: the same model choice, language check
and no-speech refusal), and uploads it as one file (``staged.json``: the segments and what
made them) through the chunked, checksummed upload path. ``commit`` writes it into the
archive's ``segments_staging`` and marks the retranscription staged (the phase is set only
once every row is in, so a commit cut off halfway is simply sent again; the same commit
twice is answered the same). The archive then carries the retranscription on from
"staged" as its own worker would: the swap that keeps editors' corrections, the language
review, speakers, topics and the listening files' tags. Listeners keep the old transcript
until the swap. A retranscription already staged (or failed, waiting for a person) is left
to the archive.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import audit, processing, transcripts, worker_tokens
from radio.data.episodes import get_episode
from radio.data.speakers import is_name
from radio.data.transcripts import Phase
from radio.db import utcnow
from radio.jobs import handoff
from radio.jobs.remote_http import file_sha256
from radio.jobs.remote_uploads import HandoffError, LeaseLost, upload_dir
from radio.jobs.voiceprints import sent_diarization_of, sent_print
from radio.media import store
from transcription.segments import Segment, Word

STAGED_FILE = "staged.json"
REMOTE_MODEL_PATH = "remote:"  # staged_model_path of a worker's staging: never resumed here
_MADE = ("staged_model", "staged_language", "staged_language_probability", "seconds")


# -- on the archive --------------------------------------------------------------------


def take(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, owner: str
) -> dict[str, Any] | None:
    """Lend the episode for its retranscription: what the worker needs, ``stage`` False
    when there is nothing left for a worker to do; None while another worker holds it."""
    asked = transcripts.get_retranscription(db, episode_id)
    if asked is None or asked.error or asked.status not in (Phase.QUEUED, Phase.RUNNING):
        return {"id": episode_id, "stage": False}
    lent = handoff.take(db, config, episode_id, owner)
    if lent is None:
        return None
    transcripts.update_retranscription(db, episode_id, status=Phase.RUNNING)
    return {**lent, "stage": True, "model": asked.model, "retranscribe_language": asked.language}


def commit(
    db: sqlite_utils.Database, home: str, episode_id: int, owner: str, manifest: dict[str, Any]
) -> dict[str, Any]:
    digest = handoff.manifest_hash(manifest)
    before = worker_tokens.commit_answer(db, episode_id, digest)
    if before is not None:
        return json.loads(before)
    if transcripts.get_retranscription(db, episode_id) is None:
        raise HandoffError(f"episode {episode_id} has no retranscription waiting")
    staged = _staged(home, episode_id, owner, manifest)
    _hold(db, episode_id, owner)
    segments = [_segment(row) for row in staged["segments"]]
    transcripts.clear_staging(db, episode_id)
    transcripts.add_staged(db, episode_id, segments, 0)
    made = {key: staged[key] for key in _MADE}
    if staged.get("diarization") is not None:
        sent = staged["diarization"]
        source = get_episode(db, episode_id).source_sha256
        worker_tokens.save_diarization(db, episode_id, source, int(sent["speakers"]),
                                       json.dumps(sent), utcnow())  # fmt: skip
    transcripts.update_retranscription(
        db, episode_id, **made, status=Phase.STAGED, progress=0.95, error=None,
        staged_model_path=f"{REMOTE_MODEL_PATH}{made['staged_model']}",
    )  # fmt: skip
    answer = {"episode": episode_id, "committed": digest, "staged": len(segments)}
    worker_tokens.record_commit(
        db.conn, episode_id, digest, owner, json.dumps(answer, sort_keys=True), utcnow()
    )
    _, name, worker = owner.split("/", 2)
    after = {"worker": worker, "retranscription": made, "segments": len(segments)}
    audit.record(db.conn, audit.Actor(f"worker:{name}"), "worker.commit",
                 audit.subject("episode", episode_id), after=after)  # fmt: skip
    for folder in upload_dir(home, episode_id, owner).parent.glob(f"{episode_id}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    return answer


def _staged(home: str, episode_id: int, owner: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """The uploaded staged file, whole and in shape."""
    try:
        (entry,) = [f for f in manifest["files"] if f["name"] == STAGED_FILE]
        path = upload_dir(home, episode_id, owner) / STAGED_FILE
        if (
            not path.is_file()
            or path.stat().st_size != int(entry["bytes"])
            or (file_sha256(path) != str(entry["sha256"]).lower())
        ):
            raise HandoffError(f"{STAGED_FILE} did not arrive whole (size or SHA-256 differs)")
        staged = json.loads(path.read_text(encoding="utf-8"))
        for row in staged["segments"]:
            _segment(row)
        if staged.get("diarization") is not None:
            sent_diarization_of(staged["diarization"])
        str(staged["staged_model"]), float(staged["seconds"])
    except (KeyError, TypeError, ValueError) as e:
        raise HandoffError(f"the new transcript is not in the expected shape ({e})") from e
    if not staged["segments"]:
        raise HandoffError("the new transcript has no segments; the old one stays")
    return staged


def _segment(row: list[Any]) -> Segment:
    _idx, start, end, text, speaker, words = row
    heard = [Word(float(w[0]), float(w[1]), str(w[2]), float(w[3])) for w in json.loads(words)]
    return Segment(float(start), float(end), str(text), tuple(heard), speaker)


def fail(db: sqlite_utils.Database, episode_id: int, owner: str, message: str) -> None:
    """The retranscription stopped on the worker: the old transcript stays, the message
    waits for an editor (as when it stops here)."""
    _hold(db, episode_id, owner)
    transcripts.update_retranscription(db, episode_id, error=message)
    handoff.give_back(db, episode_id, owner)


def _hold(db: sqlite_utils.Database, episode_id: int, owner: str) -> None:
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")


# -- on the worker ---------------------------------------------------------------------


def diarize_original(source: Path, lent: dict[str, Any]) -> dict[str, Any]:
    """Who speaks when in the original (the heavy part of the speakers of the new
    transcript): turns and voices, none for a two-party call (its channels say it)."""
    from transcription.channels import detect_two_party
    from transcription.diarize import diarize

    names = len([n for n in lent.get("speakers") or [] if is_name(n)])
    if detect_two_party(source):
        return {"speakers": names, "turns": [], "voices": []}
    found = diarize(source, speakers=names or None)
    return {
        "speakers": names,
        "turns": [[t.start, t.end, t.speaker] for t in found.turns],
        "voices": [[v.index, v.seconds, sent_print(v.print)] for v in found.voices],
    }


def stopped() -> tuple[type[Exception], ...]:
    """What stops a retranscription with a reason for the editors (not a worker's fault)."""
    from radio.config import ConfigError
    from radio.data.errors import DataError
    from radio.jobs.errors import JobError
    from transcription.errors import TranscriptionError

    return (JobError, DataError, TranscriptionError, ConfigError)


def stage_here(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    local_id: int,
    lent: dict[str, Any],
    report: Callable[[float, float], None],
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Transcribe the scratch copy again as asked; the manifest and its one file. Raises
    ``retranscribe.RetranscribeError`` (or a transcription error) with the reason."""
    from radio.jobs import retranscribe  # faster-whisper: only where the work is done

    transcripts.request_retranscription(
        db, local_id, model=lent.get("model"), language=lent.get("retranscribe_language"),
        user_id=None,
    )  # fmt: skip
    retranscribe.stage(db, config, local_id, report)
    asked = transcripts.get_retranscription(db, local_id)
    retranscribe.swap(db, local_id)  # the scratch copy has no transcript: staged -> segments
    body = {key: getattr(asked, key) for key in _MADE}
    body["diarization"] = diarize_original(store.resolve(config["HOME"], lent["source_path"]), lent)
    body["segments"] = [
        transcripts.segment_values(local_id, idx, segment)[1:]
        for idx, segment in enumerate(transcripts.load_segments(db, local_id))
    ]
    folder = store.episode_dir(config["HOME"], lent["guid"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STAGED_FILE
    path.write_text(json.dumps(body, ensure_ascii=False))
    transcripts.finish_retranscription(db, local_id)
    entry = {"name": STAGED_FILE, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
    return {"guid": lent["guid"], "kind": "retranscription", "files": [entry]}, {STAGED_FILE: path}
