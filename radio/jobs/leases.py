"""Who processes which episode: a lease (owner and expiry on the episode row).

Only one worker processes an episode at a time. It holds the lease, renewed as work
progresses; a killed worker's lease expires (or, on this machine, is taken over at once
when its process is gone) and the next worker resumes the episode. Light to import: the
web process and the queue use it without loading any audio or model code.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import sqlite_utils

from radio.data import processing

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def take_lease(db: sqlite_utils.Database, episode_id: int, seconds: float) -> bool:
    """Claim the episode for this worker unless another live worker holds it."""
    now = time.time()
    if processing.claim_lease(db, episode_id, WORKER_ID, now + seconds, now):
        return True
    owner = processing.lease_owner(db, episode_id)
    if owner and owner_is_dead(owner):
        return processing.take_over_lease(db, episode_id, WORKER_ID, owner, now + seconds)
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


def unfinished(db: sqlite_utils.Database, include_queued: bool = True) -> list[int]:
    """Episodes a worker should pick up: queued, or processing under an expired lease."""
    now = time.time()
    return [
        episode_id
        for episode_id, owner, until in processing.lease_candidates(db, include_queued)
        if owner is None or (until or 0) < now or owner_is_dead(owner)
    ]
