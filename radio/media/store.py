"""Media on disk: content-addressed originals and per-episode derived files.

Layout under ``<home>/media``:

- ``incoming/``   uploads being received; a file here is never referenced by the database
- ``originals/ab/abcdef….ext``  each original once, named by its sha256, never modified
- ``episodes/<guid>/``  renditions, peaks and other files derived from the original

Every write goes to a temporary name first and is renamed into place, so a
crash leaves either the old state or the new one, never half a file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from radio.media.errors import MediaError

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
STALE_INCOMING_SECONDS = 24 * 3600


class StoreError(MediaError):
    """A storage problem the user can act on (disk full, upload too large)."""


class TooLargeError(StoreError):
    pass


@dataclass(frozen=True)
class Received:
    """An upload written to ``incoming/`` and hashed on the way."""

    path: Path
    sha256: str
    size: int


def media_root(home: str | Path) -> Path:
    return Path(home) / "media"


def safe_suffix(filename: str) -> str:
    """The file's extension, lower-cased, only if it is short and plain (it ends up in a path)."""
    suffix = Path(filename).suffix.lower()
    if 1 < len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return ""


def receive(
    home: str | Path,
    stream: BinaryIO,
    filename: str,
    *,
    max_bytes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Received:
    """Stream ``stream`` into ``incoming/`` while hashing it; never held whole in memory."""
    incoming = media_root(home) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / f"{uuid.uuid4().hex}{safe_suffix(filename)}"
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLargeError(
                        f"{filename} is larger than the limit of {max_bytes // (1024 * 1024)} MB."
                    )
                digest.update(chunk)
                out.write(chunk)
                if progress:
                    progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    except OSError as e:
        path.unlink(missing_ok=True)
        raise StoreError(f"Could not store {filename}: {e.strerror or e}. Is the disk full?") from e
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Received(path=path, sha256=digest.hexdigest(), size=size)


def original_relpath(sha256: str, suffix: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}{suffix}"


def keep_original(home: str | Path, received: Received, suffix: str) -> str:
    """Move a received file to its content address; return the path relative to media/."""
    rel = original_relpath(received.sha256, suffix)
    dest = media_root(home) / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():  # same bytes already kept (a retried upload): keep the first copy
        received.path.unlink(missing_ok=True)
    else:
        os.replace(received.path, dest)
        dest.chmod(0o444)  # originals are never modified
        fsync_path(dest.parent)
    return rel


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder after a rename in it: without this a power cut can forget
    what was written or renamed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def episode_dir(home: str | Path, guid: str) -> Path:
    return media_root(home) / "episodes" / guid


def resolve(home: str | Path, relpath: str) -> Path:
    """A database path back to a file, refusing anything outside media/."""
    root = media_root(home).resolve()
    path = (root / relpath).resolve()
    if root not in path.parents:
        raise StoreError(f"{relpath} is outside the media folder.")
    return path


def relative(home: str | Path, path: Path) -> str:
    return str(Path(path).resolve().relative_to(media_root(home).resolve()))


def discard(home: str | Path, relpath: str) -> None:
    """Remove a stored file (used only to undo a store whose database write failed)."""
    path = resolve(home, relpath)
    if path.exists():
        path.chmod(0o644)
        path.unlink()


def sweep_incoming(home: str | Path, older_than: float = STALE_INCOMING_SECONDS) -> int:
    """Delete uploads left in incoming/ by a crash; return how many."""
    cutoff = time.time() - older_than
    removed = 0
    for path in (media_root(home) / "incoming").glob("*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def sweep_episode_dir(home: str | Path, guid: str) -> None:
    """Remove half-written files a killed worker left in an episode's folder."""
    folder = episode_dir(home, guid)
    if folder.is_dir():
        for part in folder.glob("*.part"):
            part.unlink(missing_ok=True)
