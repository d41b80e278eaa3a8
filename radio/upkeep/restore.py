"""``radio restore SRC``: a backup's snapshot back into an empty data folder.

Every file is hashed as it is copied and compared with the manifest; any difference stops
the restore with the files named, and nothing of it stays behind. The snapshot is first
rebuilt in a hidden folder inside the target (the same disk, so the last step is a few
renames), each file with the permissions and modification time it had; the manifest comes
along, so ``radio verify`` can check the restored folder at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from radio.media.store import CHUNK
from radio.upkeep.errors import UpkeepError
from radio.upkeep.folder import (
    LIVE_MANIFEST,
    MAIN_DATABASE,
    MANIFEST,
    FileEntry,
    Manifest,
    write_json,
)
from radio.upkeep.layout import find_snapshot, object_path

logger = logging.getLogger(__name__)

WORK_PREFIX = ".restoring-"


@dataclass(frozen=True)
class RestoreResult:
    snapshot: str
    files: int
    bytes: int


def restore(src: str | Path, home: str | Path, snapshot: str | None = None) -> RestoreResult:
    """Restore a snapshot of the backup folder ``src`` (the latest unless named) into the
    empty data folder ``home``."""
    backup = Path(src).expanduser().resolve()
    home = Path(home).expanduser().resolve()
    folder = find_snapshot(backup, snapshot)
    try:
        manifest = Manifest.read(folder / MANIFEST)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UpkeepError(f"{folder / MANIFEST} can't be read ({e}); try another snapshot.") from e
    refuse_unless_empty(home)
    work = home / f"{WORK_PREFIX}{os.getpid()}"
    try:
        work.mkdir(mode=0o700, parents=True)
        total, problems = _copy_snapshot(backup, folder, manifest, work)
        if problems:
            raise UpkeepError(
                "Nothing was restored: the backup's copies of these files are damaged or "
                "missing; try another snapshot (--snapshot).\n  " + "\n  ".join(problems)
            )
        write_json(work / LIVE_MANIFEST, manifest.as_json())
        os.sync()
        _move_into_place(work, home)
    except OSError as e:
        raise UpkeepError(f"The restore into {home} failed: {e.strerror or e}.") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("restored snapshot %s into %s", manifest.snapshot, home)
    return RestoreResult(manifest.snapshot, len(manifest.files), total)


def refuse_unless_empty(home: Path) -> None:
    """Only an empty folder (or none) is restored into: never a mix of two archives."""
    if not home.exists():
        return
    if not home.is_dir():
        raise UpkeepError(f"{home} is a file, not a folder; restore into an empty folder.")
    found = []
    for root, dirs, files in os.walk(home):
        if Path(root) == home:  # what a killed restore left is not the archive's
            for leftover in [d for d in dirs if d.startswith(WORK_PREFIX)]:
                dirs.remove(leftover)
                if _running(leftover.removeprefix(WORK_PREFIX)):
                    raise UpkeepError(f"Another restore into {home} is running; let it finish.")
                shutil.rmtree(home / leftover, ignore_errors=True)
        found += [str((Path(root) / f).relative_to(home)) for f in files]
        if len(found) >= 3:
            break
    if found:
        raise UpkeepError(
            f"{home} is not empty (it holds {', '.join(sorted(found)[:3])}); restore only into "
            "an empty data folder: give another --home, or move this one aside first."
        )


def _running(pid: str) -> bool:
    """Whether the restore that made a work folder still runs (on this machine)."""
    try:
        if int(pid) == os.getpid():  # an old folder of a process that had our number
            return False
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _copy_snapshot(
    backup: Path, folder: Path, manifest: Manifest, work: Path
) -> tuple[int, list[str]]:
    total, problems = 0, []
    sources = [(folder / name, name, entry) for name, entry in manifest.databases.items()]
    sources += [(object_path(backup, e.sha256), rel, e) for rel, e in manifest.files.items()]
    if MAIN_DATABASE not in manifest.databases:
        problems.append(f"{folder}: the snapshot has no {MAIN_DATABASE}")
    for source, rel, entry in sources:
        target = (work / rel).resolve()
        if not target.is_relative_to(work.resolve()):
            problems.append(f"{rel}: a path outside the data folder; not restored")
            continue
        problem = _copy_checked(source, target, entry)
        if problem:
            problems.append(f"{rel} ({source}): {problem}")
        else:
            total += entry.size
    return total, problems


def _copy_checked(source: Path, target: Path, entry: FileEntry) -> str | None:
    """Copy one file while hashing it; what is wrong with it, or None."""
    if not source.is_file():
        return "missing from the backup"
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    if (digest.hexdigest(), size) != (entry.sha256, entry.size):
        return (
            f"damaged: sha256 {digest.hexdigest()[:16]}…, {size} bytes, where the manifest "
            f"says {entry.sha256[:16]}…, {entry.size} bytes"
        )
    target.chmod(entry.mode)
    if entry.mtime_ns:
        os.utime(target, ns=(entry.mtime_ns, entry.mtime_ns))
    return None


def _move_into_place(work: Path, home: Path) -> None:
    """A few renames on one disk, into the layout's empty folders if there are any; the
    database last, so a folder without it is visibly not a restored archive."""
    for entry in sorted(work.iterdir(), key=lambda p: p.name == MAIN_DATABASE):
        _merge(entry, home / entry.name)


def _merge(source: Path, target: Path) -> None:
    if source.is_dir() and target.is_dir():
        for child in source.iterdir():
            _merge(child, target / child.name)
    else:
        os.rename(source, target)
