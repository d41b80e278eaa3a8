"""Uploads from a worker on another machine (#17): the chunks it sends into a folder of its
own under ``media/incoming/remote`` (``EPISODE-OWNERTAG``), and the sweep of the folders
whose episode never committed; and the errors the archive answers a worker with.

A folder is stale when no live lease of its owner covers its episode and nothing arrived
in it for ``STALE_LEASES`` lease lengths: the worker died or gave up, and its lease ran
out long ago (a new holder of the lease uploads into a folder of its own, and a commit
removes every folder of its episode).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
from pathlib import Path

import sqlite_utils

from radio.data import processing
from radio.media import store

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class HandoffError(Exception):
    """Something a worker sent or asked that the archive refuses; ``status`` is HTTP's."""

    status = 400


class LeaseLost(HandoffError):
    status = 409


class ChunkRefused(HandoffError):
    """A chunk at the wrong offset or with a wrong checksum; ``have`` is what is kept."""

    status = 409

    def __init__(self, message: str, have: int) -> None:
        super().__init__(message)
        self.have = have


def upload_dir(home: str, episode_id: int, owner: str) -> Path:
    """Where one worker's files for one episode gather (a new lease holder starts afresh)."""
    return store.incoming_dir(home) / "remote" / f"{episode_id}-{_tag(owner)}"


def _tag(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:16]


def checked_name(name: str) -> str:
    if not _FILE_NAME.match(name) or name.endswith(".part"):
        raise HandoffError(f"{name!r} is not a file name a worker may send")
    return name


def uploaded(home: str, episode_id: int, owner: str) -> dict[str, int]:
    """The files (and bytes of each) this worker has sent for the episode so far."""
    folder = upload_dir(home, episode_id, owner)
    if not folder.is_dir():
        return {}
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def receive_chunk(
    db: sqlite_utils.Database,
    home: str,
    episode_id: int,
    owner: str,
    name: str,
    offset: int,
    data: bytes,
    sha256: str | None,
) -> int:
    """Append one chunk to an uploaded file; returns the file's size after it. A chunk must
    start where the file ends (else the worker asks what is there and goes on from it) and
    match its checksum (a corrupted chunk is refused, the file stays as it was)."""
    if processing.lease_owner(db, episode_id) != owner:
        raise LeaseLost(f"episode {episode_id} is no longer lent to this worker")
    path = upload_dir(home, episode_id, owner) / checked_name(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    have = path.stat().st_size if path.exists() else 0
    if offset != have:
        raise ChunkRefused(f"{name} has {have} bytes here, not {offset}", have)
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256.lower():
        raise ChunkRefused(f"a chunk of {name} arrived damaged (checksum differs)", have)
    store.ensure_free(home, len(data))
    with path.open("ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return have + len(data)


STALE_LEASES = 3  # lease lengths without a chunk, for a folder no live lease covers


def sweep_stale_uploads(db: sqlite_utils.Database, home: str, lease_seconds: float) -> list[str]:
    """Remove the upload folders of workers that never committed; the names removed. The
    folder of an episode's current lease holder stays however quiet it is."""
    root = store.incoming_dir(home) / "remote"
    if not root.is_dir():
        return []
    cutoff = time.time() - STALE_LEASES * lease_seconds
    removed = []
    for folder in sorted(root.iterdir()):
        episode, _, tag = folder.name.partition("-")
        if not folder.is_dir() or not episode.isdigit():
            continue
        holder = processing.lease_owner(db, int(episode))
        if holder is not None and _tag(holder) == tag:
            continue
        if _last_arrival(folder) < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    if removed:
        logger.info("removed %d stale upload folder(s) of remote workers: %s", len(removed),
                    ", ".join(removed))  # fmt: skip
    return removed


def _last_arrival(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    times += [p.stat().st_mtime for p in folder.iterdir() if p.is_file()]
    return max(times)
