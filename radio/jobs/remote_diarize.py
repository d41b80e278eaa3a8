"""Speakers for a transcript the archive already has, diarized on a worker (#17).

A remote worker makes the transcript and its speakers together. When the archive already
has an episode's transcript but not its speakers (its own speakers step failed or was cut
off, then ``radio retry``), the heavy part (who speaks when in the original: voice prints
and their clustering) is still a worker's: it sends the diarization, the archive keeps it
(``worker_diarizations``, migration 0027) and its speakers step only labels the transcript's
words with it (``radio.jobs.voiceprints.sent_diarization``), as after a
retranscription.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from radio.data import audit, processing, worker_tokens
from radio.data.episodes import get_episode
from radio.db import connect, database_path, utcnow
from radio.jobs.remote_http import RemoteError
from radio.jobs.remote_results import forget_local
from radio.jobs.remote_retranscribe import diarize_original
from radio.jobs.remote_uploads import HandoffError, LeaseLost
from radio.jobs.voiceprints import sent_diarization_of
from radio.media import store

# -- on the worker ----------------------------------------------------------------------


def diarize_and_send(worker: Any, lent: dict[str, Any]) -> None:  # a remote.RemoteWorker
    """Fetch the original, diarize it here, send the turns and voices to the archive."""
    config = worker.settings()
    db = connect(database_path(worker.app))
    try:
        local_id = worker.fetch(db, config, lent)
        body = diarize_original(store.resolve(config["HOME"], lent["source_path"]), lent)
        forget_local(db, config["HOME"], local_id)  # scratch: only the diarization travels
    finally:
        db.conn.close()
    status, answer = worker.client.json("POST", f"episodes/{lent['id']}/diarization", body)
    if status != 200:
        raise RemoteError(f"episode {lent['id']}: the archive refused the speakers: {answer}")


# -- on the archive ---------------------------------------------------------------------


def keep_sent(
    db: sqlite_utils.Database, episode_id: int, owner: str, sent: dict[str, Any]
) -> dict[str, Any]:
    """Keep a worker's diarization of the episode's original for its speakers step."""
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")
    try:
        found = sent_diarization_of(sent)
        names = int(sent["speakers"])
    except (KeyError, TypeError, ValueError) as e:
        raise HandoffError(f"the speakers are not in the expected shape ({e})") from e
    episode = get_episode(db, episode_id)
    worker_tokens.save_diarization(db, episode_id, episode.source_sha256, names,
                                   json.dumps(sent), utcnow())  # fmt: skip
    _, name, worker = owner.split("/", 2)
    after = {"worker": worker, "diarization": {"turns": len(found.turns),
                                               "voices": len(found.voices)}}  # fmt: skip
    audit.record(db.conn, audit.Actor(f"worker:{name}"), "worker.commit",
                 audit.subject("episode", episode_id), after=after)  # fmt: skip
    return {"episode": episode_id, "turns": len(found.turns), "voices": len(found.voices)}
