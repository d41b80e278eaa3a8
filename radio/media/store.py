"""Media on disk: content-addressed originals and per-episode derived files.

Layout under ``<home>/media``:

- ``incoming/``   uploads being received; a file here is never referenced by the database
- ``originals/ab/abcdef….ext``  each original once, named by its sha256, never modified
- ``episodes/<guid>/``  renditions, peaks and other files derived from the original

Every write goes to a temporary name first and is renamed into place, so a
crash leaves either the old state or the new one, never half a file. A file being
written in ``incoming/`` carries its writer's process id in its name
(``<pid>.<host>.<random>``): ``sweep_partials`` removes those whose writer is gone,
at the next start and before every new upload, without touching one still being written.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from radio.i18n import _
from radio.media.errors import DiskFull, StoreError, is_disk_full

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
MB = 1024 * 1024
STALE_INCOMING_SECONDS = 24 * 3600  # a partial file of another machine (shared data folder)
# Which machine wrote a partial file: pids mean something only on their own host.
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
_PARTIAL = re.compile(r"^(?P<pid>\d+)\.(?P<host>[0-9a-f]{8})\.")
# A hard link can't be made here: copy instead (another filesystem, FAT/exFAT, too many links).
_NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES})


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


def incoming_dir(home: str | Path) -> Path:
    return media_root(home) / "incoming"


def safe_suffix(filename: str) -> str:
    """The file's extension, lower-cased, only if it is short and plain (it ends up in a path)."""
    suffix = Path(filename).suffix.lower()
    if 1 < len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return ""


def partial_prefix() -> str:
    """The start of the name of a file this process writes in ``incoming/``."""
    return f"{os.getpid()}.{_HOST}."


def spool_file(home: str | Path) -> IO[bytes]:
    """A temporary file in ``incoming/`` for an upload being parsed, removed when closed.

    ``receive`` links such a file into the archive instead of copying it, so a web upload
    takes its size on this disk once; if the server dies, the next start removes it.
    """
    folder = incoming_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(  # noqa: SIM115 - the caller closes it
        mode="w+b", dir=folder, prefix=partial_prefix(), suffix=".spool"
    )


def receive(
    home: str | Path,
    stream: BinaryIO,
    filename: str,
    *,
    max_bytes: int | None = None,
    min_free: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Received:
    """Stream ``stream`` into ``incoming/`` while hashing it; never held whole in memory.

    Refused with ``DiskFull`` before a byte is written when the disk lacks room for the
    file plus ``min_free`` bytes. A ``spool_file`` is hashed where it lies and linked, not
    copied.
    """
    incoming = incoming_dir(home)
    incoming.mkdir(parents=True, exist_ok=True)
    sweep_partials(home)
    spooled = _spool_path(incoming, stream)
    size = _size_left(stream)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise TooLargeError(_too_large(filename, max_bytes))
    ensure_free(home, 0 if spooled else (size or 0), min_free)
    path = incoming / f"{partial_prefix()}{uuid.uuid4().hex}{safe_suffix(filename)}"
    try:
        if spooled is not None:
            digest, size = _link(spooled, path, filename, max_bytes, progress)
        else:
            digest, size = _copy(stream, path, filename, max_bytes, progress)
    except OSError as e:
        path.unlink(missing_ok=True)
        if is_disk_full(e):
            raise DiskFull(
                _(
                    "Not enough free space: the disk filled up while storing {filename} "
                    "({free} free now). Free some space, then try again."
                ).format(filename=filename, free=megabytes(free_bytes(home)))
            ) from e
        raise StoreError(
            _("Could not store {filename}: {problem}.").format(
                filename=filename, problem=e.strerror or e
            )
        ) from e
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Received(path=path, sha256=digest, size=size)


def _too_large(filename: str, max_bytes: int) -> str:
    return _("{filename} is larger than the limit of {limit} MB.").format(
        filename=filename, limit=max_bytes // MB
    )


def _spool_path(incoming: Path, stream: BinaryIO) -> Path | None:
    """The path of ``stream`` when it is a spool file in this ``incoming/`` (never a file
    of the user's: a link to it would let an edit of their file change the original)."""
    name = getattr(stream, "name", None)
    if not isinstance(name, str):
        return None
    path = Path(name)
    if not path.name.startswith(partial_prefix()) or not path.is_file():
        return None
    return path if path.parent.resolve() == incoming.resolve() else None


def _size_left(stream: BinaryIO) -> int | None:
    """Bytes left to read in ``stream`` when it is a regular file; None when unknown."""
    name = getattr(stream, "name", None)
    try:
        info = os.fstat(name) if isinstance(name, int) else os.stat(name) if name else None
        if info is None or not stat.S_ISREG(info.st_mode):
            return None
        return max(info.st_size - stream.tell(), 0)
    except (OSError, ValueError, TypeError):
        return None


def _copy(
    stream: BinaryIO,
    path: Path,
    filename: str,
    max_bytes: int | None,
    progress: Callable[[int], None] | None,
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise TooLargeError(_too_large(filename, max_bytes))
            digest.update(chunk)
            out.write(chunk)
            if progress:
                progress(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _link(
    spooled: Path,
    path: Path,
    filename: str,
    max_bytes: int | None,
    progress: Callable[[int], None] | None,
) -> tuple[str, int]:
    """Hash a spool file where it lies and give it a name of its own in ``incoming/``."""
    with spooled.open("rb") as src:
        try:
            os.link(spooled, path)
        except OSError as e:
            if e.errno not in _NO_LINK:
                raise
            return _copy(src, path, filename, max_bytes, progress)
        digest = hashlib.sha256()
        size = 0
        while chunk := src.read(CHUNK):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise TooLargeError(_too_large(filename, max_bytes))
            digest.update(chunk)
            if progress:
                progress(len(chunk))
        os.fsync(src.fileno())  # the spool was written without a flush to disk
    return digest.hexdigest(), size


def free_bytes(path: str | Path) -> int:
    """Free space for this user on the disk that holds ``path`` (or its nearest parent)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def megabytes(n: int) -> str:
    return f"{n / MB:.1f} MB" if n < 10 * MB else f"{n / MB:.0f} MB"


def ensure_free(home: str | Path, needed: int, keep_free: int = 0) -> None:
    """Raise ``DiskFull`` unless the data folder's disk has ``needed`` plus ``keep_free``
    bytes free."""
    free = free_bytes(home)
    if free >= needed + keep_free:
        return
    if keep_free:
        message = _(
            "Not enough free space: {free} free, {needed} needed plus {kept} kept free. "
            "Free some space on the disk of {home}, or lower min_free_mb in config.toml, "
            "then try again."
        )
    else:
        message = _(
            "Not enough free space: {free} free, {needed} needed. "
            "Free some space on the disk of {home}, then try again."
        )
    raise DiskFull(
        message.format(
            free=megabytes(free), needed=megabytes(needed), kept=megabytes(keep_free), home=home
        )
    )


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
        raise StoreError(_("{path} is outside the media folder.").format(path=relpath))
    return path


def relative(home: str | Path, path: Path) -> str:
    return str(Path(path).resolve().relative_to(media_root(home).resolve()))


def discard(home: str | Path, relpath: str) -> None:
    """Remove a stored file (used only to undo a store whose database write failed)."""
    path = resolve(home, relpath)
    if path.exists():
        path.chmod(0o644)
        path.unlink()


def sweep_partials(home: str | Path, older_than: float = STALE_INCOMING_SECONDS) -> int:
    """Remove what interrupted uploads and ingests left in ``incoming/``; return how many.

    A file whose writer was a process of this machine that is gone goes at once; one
    still being written stays. Any file goes once untouched for ``older_than`` seconds (one
    of another machine sharing the data folder, of unknown origin, or whose writer's pid
    was given to another process since). Safe at any time, from any process: ``receive``
    calls it, and so do ``serve``, ``worker`` and ``watch`` when they start.
    """
    folder = incoming_dir(home)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and _abandoned(path, cutoff):
                path.unlink()
                removed += 1
                logger.info("removed %s, left by an interrupted upload or ingest", path.name)
        except FileNotFoundError:  # its writer finished (or another sweep took it) meanwhile
            continue
    return removed


def _abandoned(path: Path, cutoff: float) -> bool:
    match = _PARTIAL.match(path.name)
    if match and match["host"] == _HOST and not _alive(int(match["pid"])):
        return True
    return path.stat().st_mtime < cutoff  # another machine's, or its pid taken by another


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_episode_dir(home: str | Path, guid: str) -> None:
    """Remove half-written files a killed worker left in an episode's folder."""
    folder = episode_dir(home, guid)
    if folder.is_dir():
        for part in folder.glob("*.part"):
            part.unlink(missing_ok=True)
