"""The feeds' cache: each feed built once per change of the archive, kept plain and gzipped.

Podcast apps poll feeds all day. A feed is rebuilt only when the database may have
changed (``fingerprint``) or a scheduled episode's moment has come (#15: it goes public
with no write to the database), so a revalidation costs two ``stat`` calls and no query.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from radio.data.schedule import has_passed, next_moment
from radio.db import connect

CACHE_ENTRIES = 64
CACHE_SECONDS = 60  # rebuild at least this often, whatever the fingerprint says


@dataclass(frozen=True)
class Built:
    token: str  # the archive's fingerprint when built
    at: float
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime | None


class FeedCache:
    """The last few feeds built, by (spec, base URL); shared by the server's threads."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, Built] = OrderedDict()
        self.lock = threading.Lock()
        self.moments = Moments()

    def token(self, path: str | os.PathLike[str]) -> str:
        """What a cached feed must have been built with to be served: the database's
        fingerprint and the next scheduled moment, which changes when that moment passes."""
        fp = fingerprint(path)
        return f"{fp}|{self.moments.next(fp, lambda: _ask_next_moment(path)) or '-'}"

    def get(self, key: tuple, token: str) -> Built | None:
        with self.lock:
            built = self.entries.get(key)
            if built is None or built.token != token or time.time() - built.at > CACHE_SECONDS:
                return None
            self.entries.move_to_end(key)
            return built

    def put(self, key: tuple, built: Built) -> None:
        with self.lock:
            self.entries[key] = built
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def fingerprint(path: str | os.PathLike[str]) -> str:
    """A cheap token that changes whenever anything in the database at ``path`` may change.

    It decides whether a cached feed can be reused, so it must never miss a change:
    every commit writes the WAL (or, after a checkpoint, the main file), so their sizes
    and modification times are that token, read with two ``stat`` calls and without
    opening the database. Unrelated writes (a job's progress) change it too; that only
    costs a rebuild, since the ETag is a hash of the feed's bytes, not this token.
    """
    parts = []
    for name in (os.fspath(path), os.fspath(path) + "-wal"):
        try:
            st = os.stat(name)
        except FileNotFoundError:
            parts.append("-")
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    return "/".join(parts)


class Moments:
    """The soonest scheduled publishing moment, asked of the database only when the database
    changed or the moment it knew of has passed (so mostly never)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.known_for: str | None = None  # the fingerprint it was asked at
        self.moment: str | None = None

    def next(self, fp: str, ask: Callable[[], str | None]) -> str | None:
        with self.lock:
            if fp != self.known_for or has_passed(self.moment):
                self.moment, self.known_for = ask(), fp
            return self.moment


def _ask_next_moment(path: str | os.PathLike[str]) -> str | None:
    db = connect(path)
    try:
        return next_moment(db)
    finally:
        db.conn.close()
