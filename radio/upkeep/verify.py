"""``radio verify``: the data folder, or a backup, checked against the recorded hashes, and
``PRAGMA integrity_check`` on every database.

The data folder: every file its database refers to must exist; every original must still
hash to its name (originals are never modified); every other file the last backup recorded
must hash as it did then, unless the archive has rewritten it since (a new modification
time: a rendition made again, config.toml edited). A backup folder: every complete
snapshot (or the one named), its databases and every object its manifest lists, each
object hashed once however many snapshots share it, and the files the database copy
refers to all held. A snapshot a killed backup left half-made is not one of them.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from radio.db import connect, integrity_problems, open_copy
from radio.upkeep.errors import UpkeepError
from radio.upkeep.folder import (
    LIVE_MANIFEST,
    MAIN_DATABASE,
    MANIFEST,
    FileEntry,
    Manifest,
    databases,
    hash_file,
    referenced_files,
)
from radio.upkeep.layout import find_snapshot, object_path, snapshots, unfinished

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    path: str  # the file, as the person can find it
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass
class Report:
    checked: int = 0  # files hashed or looked at
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not wrong

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, path: Path | str, what: str) -> None:
        self.problems.append(Problem(str(path), what))


def verify_home(home: str | Path) -> Report:
    """Check the data folder: databases, references, originals, the last backup's hashes."""
    home = Path(home).resolve()
    if not (home / MAIN_DATABASE).is_file():
        raise UpkeepError(f"{home} holds no archive (no {MAIN_DATABASE}); is --home right?")
    report = Report()
    for name in databases(home):
        for line in integrity_problems(home / name):
            report.problem(home / name, f"integrity check: {line}")
    try:
        db = connect(home / MAIN_DATABASE)
        try:
            referenced = referenced_files(db)
        finally:
            db.conn.close()
    except sqlite3.Error as e:
        report.problem(home / MAIN_DATABASE, f"its episodes can't be read ({e})")
        referenced = set()
    for rel in sorted(referenced):
        if not (home / rel).is_file():
            report.problem(home / rel, "missing: the database refers to it")
    for path in sorted((home / "media" / "originals").rglob("*")):
        if path.is_file() and not path.name.endswith(".part"):
            _check_original(report, path)
    _check_against_backup(report, home, referenced)
    return report


def _check_original(report: Report, path: Path) -> None:
    sha, _ = hash_file(path)
    report.checked += 1
    if sha != path.name.split(".")[0]:
        report.problem(path, f"damaged: its sha256 is {sha[:16]}…, not the one it is named by")


def _check_against_backup(report: Report, home: Path, referenced: set[str]) -> None:
    try:
        manifest = Manifest.read(home / LIVE_MANIFEST)
    except FileNotFoundError:
        report.notes.append("No backup recorded here yet: only originals and references checked.")
        return
    except (OSError, ValueError, KeyError, TypeError) as e:
        report.problem(home / LIVE_MANIFEST, f"can't be read ({e})")
        return
    for rel, entry in sorted(manifest.files.items()):
        path = home / rel
        if rel.startswith("media/originals/"):
            continue  # checked against their names above
        try:
            st = path.stat()
        except FileNotFoundError:
            if rel not in referenced:
                report.notes.append(f"{path}: gone since backup {manifest.snapshot}")
            continue
        if (st.st_size, st.st_mtime_ns) != (entry.size, entry.mtime_ns):
            report.notes.append(f"{path}: rewritten since backup {manifest.snapshot}")
            continue
        sha, _ = hash_file(path)
        report.checked += 1
        if sha != entry.sha256:
            report.problem(
                path, f"damaged: its bytes changed since backup {manifest.snapshot}, though "
                "the file was never rewritten (a failing disk?)",
            )  # fmt: skip


def verify_backup(dest: str | Path, snapshot: str | None = None) -> Report:
    """Check a backup folder: every complete snapshot, or the one named."""
    dest = Path(dest).expanduser().resolve()
    names = [find_snapshot(dest, snapshot).name] if snapshot else snapshots(dest)
    if not names:
        raise UpkeepError(f"{dest} holds no complete backup (is it the right folder?).")
    report = Report()
    for name in unfinished(dest):
        report.notes.append(f"{dest / 'snapshots' / name}: an unfinished backup, not used")
    objects: dict[str, str | None] = {}  # sha256 -> what is wrong with its object
    for name in names:
        _check_snapshot(report, dest, name, objects)
    return report


def _check_snapshot(report: Report, dest: Path, name: str, objects: dict[str, str | None]) -> None:
    folder = dest / "snapshots" / name
    try:
        manifest = Manifest.read(folder / MANIFEST)
    except (OSError, ValueError, KeyError, TypeError) as e:
        report.problem(folder / MANIFEST, f"can't be read ({e})")
        return
    for db_name, entry in manifest.databases.items():
        what = _damage(folder / db_name, entry)
        report.checked += 1
        for line in [what] if what else integrity_problems(folder / db_name, copy=True):
            report.problem(folder / db_name, line if what else f"integrity check: {line}")
    for rel, entry in sorted(manifest.files.items()):
        if entry.sha256 not in objects:
            objects[entry.sha256] = _damage(object_path(dest, entry.sha256), entry)
            report.checked += 1
        if objects[entry.sha256]:
            report.problem(
                object_path(dest, entry.sha256), f"{objects[entry.sha256]} (holds {rel})"
            )
    _check_references(report, folder, manifest)


def _check_references(report: Report, folder: Path, manifest: Manifest) -> None:
    if MAIN_DATABASE not in manifest.databases or not (folder / MAIN_DATABASE).is_file():
        report.problem(folder, f"the snapshot has no {MAIN_DATABASE}")
        return
    try:
        db = open_copy(folder / MAIN_DATABASE)
        try:
            referenced = referenced_files(db)
        finally:
            db.conn.close()
    except sqlite3.Error as e:  # a damaged copy, reported above
        logger.debug("could not read references of %s: %s", folder, e)
        return
    for rel in sorted(referenced - manifest.files.keys()):
        report.problem(f"{folder}: {rel}", "the database refers to it, the backup lacks it")


def _damage(path: Path, entry: FileEntry) -> str | None:
    """What is wrong with a stored copy, or None."""
    try:
        sha, size = hash_file(path)
    except FileNotFoundError:
        return "missing"
    except OSError as e:
        return f"can't be read ({e.strerror or e})"
    if size != entry.size:
        return f"damaged: {size} bytes where the manifest says {entry.size}"
    if sha != entry.sha256:
        return f"damaged: its sha256 is {sha[:16]}…, not {entry.sha256[:16]}…"
    return None
