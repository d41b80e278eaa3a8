"""What of the data folder a backup holds, the manifest that records it, and atomic writes.

A backup holds every database (any SQLite file at the top of the data folder: ``archive.db``,
``queue.db``), copied through SQLite's backup API, and every other file that matters:
``media/originals``, ``media/episodes``, ``config.toml``, ``taxonomy.toml``, ``secret_key``
and whatever else lives there. It leaves out what is rebuilt or passing: uploads being
received (``media/incoming``), the Whisper models (``models/``, from their packages), logs,
half-written ``*.part`` files, locks, SQLite's ``-wal``/``-shm`` companions, the backup's
own bookkeeping, and hidden files at the top of the data folder (the disk reserve that
``radio.media.reserve.keep_reserve`` keeps, a restore's work folder).

The manifest (``manifest.json``) records the sha256, size, mode and modification time of
each file, by its path in the data folder (``media/originals/ab/abcd….flac``).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data.episodes import list_episodes
from radio.data.renditions import renditions
from radio.media.store import fsync_path

CHUNK = 1024 * 1024
SQLITE_HEADER = b"SQLite format 3\x00"
MAIN_DATABASE = "archive.db"
MANIFEST = "manifest.json"
LIVE_MANIFEST = "backup-manifest.json"  # in the data folder: what the last backup recorded
STATE_FILE = "backups.json"  # in the data folder: the last backup's time and result
HEARTBEAT_FILE = "worker.alive"
FORMAT = 1
SKIPPED_DIRS = ("media/incoming", "models", "logs")
SKIPPED_FILES = (LIVE_MANIFEST, STATE_FILE, HEARTBEAT_FILE)
SKIPPED_SUFFIXES = (".part", ".tmp", ".lock", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class FileEntry:
    """One file as a backup recorded it."""

    sha256: str
    size: int
    mtime_ns: int = 0
    mode: int = 0o644


@dataclass
class Manifest:
    """What one snapshot holds: its databases (files beside the manifest) and the data
    folder's other files (objects in the backup's store, by sha256)."""

    snapshot: str
    created_at: str
    finished_at: str | None = None
    databases: dict[str, FileEntry] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # referenced, gone before it was copied
    # each database as it was just before it was copied (``source_signature``), and what
    # the copy left out (taken-down episodes' files): a backup of an unchanged database
    # reuses this snapshot's copy
    sources: dict[str, str] = field(default_factory=dict)
    withheld: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            snapshot=data["snapshot"],
            created_at=data["created_at"],
            finished_at=data.get("finished_at"),
            databases={k: FileEntry(**v) for k, v in data.get("databases", {}).items()},
            files={k: FileEntry(**v) for k, v in data.get("files", {}).items()},
            missing=list(data.get("missing", [])),
            sources=dict(data.get("sources", {})),
            withheld=list(data.get("withheld", [])),
        )

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def is_database(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def databases(home: Path) -> list[str]:
    """The data folder's databases, ``archive.db`` first."""
    found = [
        p.name
        for p in sorted(home.iterdir())
        if p.is_file() and not p.name.endswith(SKIPPED_SUFFIXES) and is_database(p)
    ]
    return sorted(found, key=lambda name: (name != MAIN_DATABASE, name))


def data_files(home: Path, leave_out: Path | None = None) -> Iterator[str]:
    """Every file a backup holds besides the databases, as paths in the data folder."""
    leave_out = leave_out.resolve() if leave_out else None
    skipped = {(home / d).resolve() for d in SKIPPED_DIRS}
    dbs = set(databases(home))
    for root, dirs, files in os.walk(home):
        here = Path(root)
        top = here == home
        dirs[:] = sorted(
            d
            for d in dirs
            if (here / d).resolve() not in skipped
            and (leave_out is None or (here / d).resolve() != leave_out)
            and not (here / d).is_symlink()
            and not (top and d.startswith("."))
        )
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(home).as_posix()
            if name.endswith(SKIPPED_SUFFIXES) or rel in SKIPPED_FILES or rel in dbs:
                continue
            if top and name.startswith("."):  # machinery: the disk reserve, a restore's work
                continue
            if path.is_file() and not path.is_symlink():
                yield rel


def referenced_files(db: sqlite_utils.Database) -> set[str]:
    """Every file the database points to (originals, renditions, peaks), as data folder paths."""
    found: set[str] = set()
    for episode in list_episodes(db, limit=-1):
        for relpath in (episode.source_path, episode.peaks_path):
            if relpath:
                found.add(f"media/{relpath}")
        found.update(f"media/{r['path']}" for r in renditions(db, episode.id))
    return found


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256, size) of a file, read in pieces."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def write_json(path: Path, data: Any) -> None:
    """Write JSON whole or not at all: a temporary file, flushed, renamed into place."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(path.parent)


def read_json(path: Path) -> Any:
    """A JSON file's data, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def source_signature(database: Path) -> str:
    """What every commit to a live database changes: the size, modification time and
    header of the file and of its write-ahead log. A commit appends to the log (it grows);
    a log begun again after a checkpoint has new salts in its header; a database without
    a log counts each change in its own header. Read before the copy starts: a commit
    meanwhile makes the next backup copy again."""
    digest = hashlib.sha256()
    for path, header in ((database, 100), (database.with_name(database.name + "-wal"), 32)):
        try:
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                digest.update(f"{st.st_size}:{st.st_mtime_ns}:".encode() + f.read(header))
        except FileNotFoundError:
            digest.update(b"none:")
    return digest.hexdigest()
