"""``radio backup DEST``: a consistent, incremental snapshot of the data folder while the
archive serves and processes.

A backup folder holds a store of files named by their sha256 and one snapshot folder a
backup, with the databases' copies and the manifest (``radio.upkeep.layout``).

The databases are copied first, through SQLite's online backup API: one consistent moment,
whatever writers do meanwhile; a database nothing has written to since the last snapshot
(``radio.upkeep.folder.source_signature``) is that snapshot's copy, linked. Then every
file that copy refers to (originals, renditions, peaks) and the rest of the data folder
(``radio.upkeep.folder``) go into the object store; a file already there (same path, size
and modification time as in the last snapshot, or the same bytes) is not copied again.
The archive writes every file whole and renames it into place, so a file read here is
never half-written; one the database refers to that was deleted in between is recorded
in the manifest as missing, not a crash.

A snapshot is built under a dot-name and renamed into place once its manifest is written:
a backup killed at any instant leaves no snapshot that looks complete (``verify`` and
``restore`` see only finished ones), and the next backup clears what it left.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import stat
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from radio.data import takedowns
from radio.db import backup_database, integrity_problems, open_copy, utcnow
from radio.media.store import CHUNK, episode_dir, fsync_path, media_root
from radio.upkeep import state
from radio.upkeep.errors import BackupBusy, UpkeepError
from radio.upkeep.folder import (
    LIVE_MANIFEST,
    MAIN_DATABASE,
    MANIFEST,
    FileEntry,
    Manifest,
    data_files,
    databases,
    hash_file,
    referenced_files,
    source_signature,
    write_json,
)
from radio.upkeep.layout import (
    LATEST,
    OBJECTS,
    PARTIAL,
    SNAPSHOTS,
    find_snapshot,
    locked,
    object_path,
    unfinished,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupResult:
    snapshot: str
    path: Path
    files: int
    copied_files: int
    copied_bytes: int
    missing: list[str]


def run_backup(home: str | Path, dest: str | Path, keep: int | None = None) -> BackupResult:
    """Back up and record the outcome (ok, or the error) in the data folder's backups.json;
    then, with ``keep``, remove all but the newest ``keep`` snapshots."""
    try:
        done = backup(home, dest)
    except BackupBusy:
        raise  # the other backup records its own outcome
    except Exception as e:
        message = str(e) if isinstance(e, UpkeepError) else f"unexpected error: {e}"
        state.record_failure(home, dest, message)
        raise
    state.record_success(
        home, dest, done.snapshot, files=done.files, copied_files=done.copied_files,
        copied_bytes=done.copied_bytes, missing=tuple(done.missing),
    )  # fmt: skip
    if keep:
        from radio.upkeep.prune import prune

        try:
            prune(dest, keep)
        except (UpkeepError, OSError) as e:  # the backup itself is fine
            logger.error("could not remove old backups from %s: %s", dest, e)
    return done


def backup(home: str | Path, dest: str | Path) -> BackupResult:
    """Make one snapshot of the data folder ``home`` in the backup folder ``dest``."""
    home, dest = Path(home).resolve(), Path(dest).expanduser().resolve()
    if not (home / MAIN_DATABASE).is_file():
        raise UpkeepError(f"{home} holds no archive (no {MAIN_DATABASE}); is --home right?")
    if dest == home:
        raise UpkeepError(f"Back up into a folder outside the data folder, not {dest}.")
    try:
        _prepare(dest)
        with locked(dest):
            _clear_leftovers(dest)
            name = _new_name(dest)
            work = dest / SNAPSHOTS / f".{name}{PARTIAL}"
            work.mkdir()
            try:
                manifest, copied = _fill(home, dest, work, name)
                _finish(dest, work, name)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
    except OSError as e:
        raise UpkeepError(
            f"The backup into {dest} failed: {e.strerror or e} ({e.filename or dest}). "
            "Is that disk full, unplugged or read-only?"
        ) from e
    except sqlite3.Error as e:
        raise UpkeepError(
            f"The backup into {dest} failed: a database could not be copied ({e}); "
            "`radio verify` checks the data folder's databases."
        ) from e
    try:  # what `radio verify` checks the data folder against
        write_json(home / LIVE_MANIFEST, manifest.as_json())
    except OSError as e:
        logger.warning("could not keep the backup's manifest in %s: %s", home, e)
    for rel in manifest.missing:
        logger.warning("backup %s: %s was deleted before it could be copied", name, rel)
    logger.info("backup %s: %d files, %d copied", name, len(manifest.files), copied.files)
    return BackupResult(
        name, dest / SNAPSHOTS / name, len(manifest.files), copied.files, copied.bytes,
        list(manifest.missing),
    )  # fmt: skip


_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _damaged(database: Path, problem: str) -> UpkeepError:
    return UpkeepError(
        f"{database} is damaged ({problem}), so nothing was backed up; "
        "the earlier backups are kept. `radio verify` says more."
    )


@dataclass
class _Copied:
    files: int = 0
    bytes: int = 0
    folders: set[Path] = field(default_factory=set)


def _fill(home: Path, dest: Path, work: Path, name: str) -> tuple[Manifest, _Copied]:
    """Databases first, then the files that copy refers to and the rest; the manifest last."""
    manifest = Manifest(snapshot=name, created_at=utcnow())
    latest = _latest(dest)
    withheld = _copy_databases(home, dest, work, manifest, latest)
    manifest.withheld = sorted(withheld)
    copy = open_copy(work / MAIN_DATABASE)
    try:
        referenced = referenced_files(copy)
    finally:
        copy.conn.close()
    before = latest.files if latest is not None else {}
    copied = _Copied()
    for rel in sorted(set(data_files(home, leave_out=dest)) | referenced):
        if rel in withheld or rel.startswith(tuple(w for w in withheld if w.endswith("/"))):
            continue  # a taken-down episode's folder or original
        path = home / rel
        if not path.resolve().is_relative_to(home):
            manifest.missing.append(rel)  # a row pointing outside the data folder
            continue
        try:
            manifest.files[rel] = _store(dest, path, before.get(rel), copied)
        except FileNotFoundError:
            if rel in referenced:  # otherwise: gone since listed (a finished upload), fine
                manifest.missing.append(rel)
    for folder in copied.folders:
        fsync_path(folder)
    manifest.finished_at = utcnow()
    write_json(work / MANIFEST, manifest.as_json())
    return manifest, copied


def _copy_databases(
    home: Path, dest: Path, work: Path, manifest: Manifest, latest: Manifest | None
) -> set[str]:
    """Each database copied into the snapshot (or the last snapshot's copy of one nothing
    has written to since); what the copies leave out."""
    withheld: set[str] = set()
    for db_name in databases(home):
        signature = source_signature(home / db_name)
        manifest.sources[db_name] = signature
        reused = _reuse_copy(dest, latest, db_name, signature, work)
        if reused is not None:
            manifest.databases[db_name] = reused
            if db_name == MAIN_DATABASE and latest is not None:
                withheld = set(latest.withheld)
            continue
        try:
            backup_database(home / db_name, work / db_name)
            if db_name == MAIN_DATABASE:  # takedowns (#16): the copy holds none of them
                withheld = _withheld(home, takedowns.scrub_copy(work / db_name))
        except sqlite3.DatabaseError as e:  # a bad page the copy itself had to read
            if (getattr(e, "sqlite_errorcode", 0) & 0xFF) not in _DAMAGED:
                raise
            raise _damaged(home / db_name, str(e)) from e
        damage = integrity_problems(work / db_name, copy=True)
        if damage:  # the earlier backups stay as they are: none is pruned for this one
            raise _damaged(home / db_name, damage[0])
        sha, size = hash_file(work / db_name)
        mode = stat.S_IMODE((home / db_name).stat().st_mode)
        manifest.databases[db_name] = FileEntry(sha, size, 0, mode)
    return withheld


def _reuse_copy(
    dest: Path, latest: Manifest | None, db_name: str, signature: str, work: Path
) -> FileEntry | None:
    """The last snapshot's copy of a database unchanged since, linked into this snapshot:
    copying and checking a 10,000-hour archive's database takes most of a minute (#17).
    None when it changed, or the copy is not there as recorded."""
    if latest is None or latest.sources.get(db_name) != signature:
        return None
    entry = latest.databases.get(db_name)
    old = dest / SNAPSHOTS / latest.snapshot / db_name
    try:
        if entry is None or old.stat().st_size != entry.size:
            return None
        try:
            os.link(old, work / db_name)
        except OSError:  # a disk without hard links (FAT): a plain copy, still no check
            shutil.copy2(old, work / db_name)
    except OSError:
        return None
    return entry


def _withheld(home: Path, gone: list[takedowns.Withheld]) -> set[str]:
    """What a backup leaves out, as data folder paths: each taken-down episode's folder
    (ending in /) and its original unless a live episode shares it."""
    found = {episode_dir(home, w.guid).relative_to(home).as_posix() + "/" for w in gone}
    prefix = media_root(home).relative_to(home).as_posix()
    return found | {f"{prefix}/{w.original}" for w in gone if w.original}


def _store(dest: Path, path: Path, known: FileEntry | None, copied: _Copied) -> FileEntry:
    """Put one file's bytes in the object store, unless they are there already."""
    with path.open("rb") as src:
        st = os.fstat(src.fileno())
        mode = stat.S_IMODE(st.st_mode)
        if (
            known is not None
            and (known.size, known.mtime_ns) == (st.st_size, st.st_mtime_ns)
            and _holds(dest, known.sha256, known.size)
        ):
            return FileEntry(known.sha256, st.st_size, st.st_mtime_ns, mode)
        tmp = dest / OBJECTS / ".tmp" / uuid.uuid4().hex
        sha, size = _copy_hashing(src, tmp)
    final = object_path(dest, sha)
    if _holds(dest, sha, size):
        tmp.unlink()
    else:
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
        with contextlib.suppress(OSError):  # FAT and some shares have no permissions
            final.chmod(0o444)
        copied.files += 1
        copied.bytes += size
        copied.folders.add(final.parent)
    return FileEntry(sha, size, st.st_mtime_ns, mode)


def _copy_hashing(src: BinaryIO, tmp: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with tmp.open("wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _holds(dest: Path, sha256: str, size: int) -> bool:
    try:
        return object_path(dest, sha256).stat().st_size == size
    except FileNotFoundError:
        return False


def _latest(dest: Path) -> Manifest | None:
    try:
        return Manifest.read(find_snapshot(dest) / MANIFEST)
    except (UpkeepError, OSError, ValueError, KeyError, TypeError):
        return None


def _prepare(dest: Path) -> None:
    """The backup folder's layout; only its owner may read it (it holds the secret key and
    the accounts' password hashes), whatever the folder given allows."""
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    for sub in (OBJECTS, f"{OBJECTS}/.tmp", SNAPSHOTS):
        (dest / sub).mkdir(mode=0o700, exist_ok=True)


def _clear_leftovers(dest: Path) -> None:
    """What a killed backup left: a half-made snapshot, half-copied objects."""
    for name in unfinished(dest):
        shutil.rmtree(dest / SNAPSHOTS / name, ignore_errors=True)
    for tmp in (dest / OBJECTS / ".tmp").iterdir():
        tmp.unlink(missing_ok=True)


def _new_name(dest: Path) -> str:
    base = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (dest / SNAPSHOTS / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _finish(dest: Path, work: Path, name: str) -> None:
    """The snapshot becomes visible in one rename, then ``latest`` names it."""
    fsync_path(work)
    os.rename(work, dest / SNAPSHOTS / name)
    fsync_path(dest / SNAPSHOTS)
    tmp = dest / f".{LATEST}.tmp"
    with tmp.open("w") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, dest / LATEST)
    fsync_path(dest)
