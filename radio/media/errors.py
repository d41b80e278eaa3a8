"""The media layer's one error family: audio that can't be read or written, and files the
store can't take. Messages say what is wrong with the file and what to do."""

from __future__ import annotations

import errno
import sqlite3

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class MediaError(Exception):
    """A recording or a media file can't be handled; the message says why."""


class FileTagError(MediaError):
    """A listening file can't be tagged; the message names it and says what to do."""


class StoreError(MediaError):
    """A storage problem the user can act on (disk full, upload too large)."""


class DiskFull(StoreError):
    """The data folder's disk has too little free space; the message says how much and
    what to do."""


def is_disk_full(error: BaseException | None) -> bool:
    """True when ``error``, or an error it was raised from, is a full disk: ``DiskFull``,
    an ``OSError`` with ENOSPC or EDQUOT (PyAV's errors are ``OSError`` too), or SQLite's
    "database or disk is full"."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFull):
            return True
        if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
            return True
        if isinstance(error, sqlite3.Error) and (
            getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        ):
            return True
        error = error.__cause__ or error.__context__
    return False
