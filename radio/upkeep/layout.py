"""A backup folder's layout, shared by backup, prune, restore and verify::

objects/ab/abcdef…          each file's bytes once, named by their sha256 (read-only)
snapshots/20261102T030000Z/ the databases' copies and manifest.json, one folder a backup
snapshots/.NAME.partial/    a snapshot being made (or left by a killed backup)
latest                      the newest complete snapshot's name
.lock                       held while a backup or prune runs: one at a time
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from radio.upkeep.errors import BackupBusy, UpkeepError
from radio.upkeep.folder import MANIFEST

SNAPSHOTS = "snapshots"
OBJECTS = "objects"
LATEST = "latest"
PARTIAL = ".partial"


def object_path(dest: Path, sha256: str) -> Path:
    return dest / OBJECTS / sha256[:2] / sha256[2:]


def snapshots(dest: Path) -> list[str]:
    """The backup folder's complete snapshots, oldest first."""
    folder = Path(dest) / SNAPSHOTS
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file()
    )


def unfinished(dest: Path) -> list[str]:
    """Snapshots a killed or failed backup left half-made (the next backup removes them)."""
    folder = Path(dest) / SNAPSHOTS
    return sorted(p.name for p in folder.glob(f".*{PARTIAL}")) if folder.is_dir() else []


def find_snapshot(dest: str | Path, name: str | None = None) -> Path:
    """A complete snapshot's folder: the one named, else the latest."""
    dest = Path(dest).expanduser().resolve()
    done = snapshots(dest)
    if not done:
        raise UpkeepError(f"{dest} holds no complete backup (is it the right folder?).")
    if name is None:
        latest = (dest / LATEST).read_text().strip() if (dest / LATEST).is_file() else ""
        name = latest if latest in done else done[-1]
    if name not in done:
        newest = ", ".join(reversed(done[-5:])) + (", …" if len(done) > 5 else "")
        raise UpkeepError(f"{dest} has no complete snapshot {name!r}; the newest: {newest}.")
    return dest / SNAPSHOTS / name


@contextmanager
def locked(dest: Path) -> Iterator[None]:
    """Hold the backup folder: one backup (or prune) at a time."""
    with (dest / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupBusy(
                f"Another backup into {dest} is running; try again when it has finished."
            ) from None
        yield
