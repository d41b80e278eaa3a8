"""The lists beside every search and on the home page, kept until the archive changes.

Shows with their episode counts, the station's topics, the languages and the people heard
are each a scan of every episode (the people, until migration 0025, of every segment):
tens of milliseconds at 10,000 hours, the people seconds, on every page that shows them.
They change only when an episode, a show, a tag, a participant or who speaks in an episode
does, and migration 0025's triggers count each such write in ``counters``, whichever
process made it. A list is computed again when that count has moved, or when an episode
scheduled for later (``publish_at``) has come out since it was made.

``segment_speakers`` (who speaks in which episode, kept by triggers on ``segments``) is
this module's table.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlite_utils

from radio.data.episodes import live_sql, public_sql
from radio.data.turns import clean_name
from radio.db import utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry:
    changes: int  # counters.listing_changes when it was made
    until: str | None  # the next scheduled publication then: the list may change at it
    value: Any


MAX_ENTRIES = 64  # a search filter's entry holds a row per episode: a few MB at 10,000 hours
_cache: dict[tuple[str, str, Any], _Entry] = {}
_lock = threading.Lock()


def changes(db: sqlite_utils.Database) -> int:
    """How many writes that can change a listing the archive has seen (any process)."""
    row = db.execute("select n from counters where name = 'listing_changes'").fetchone()
    return row[0] if row else -1


def segments_version(db: sqlite_utils.Database) -> tuple[int, int]:
    """Changes whenever segments are added or removed (with ``changes``, for what is
    computed from transcripts: new segments add ids, and deletions are counted)."""
    row = db.execute(
        "select (select coalesce(max(id), 0) from segments), "
        "(select n from counters where name = 'segments_deleted')"
    ).fetchone()
    return row[0], row[1]


def _next_publication(db: sqlite_utils.Database) -> str | None:
    return db.execute(
        "select min(publish_at) from episodes where publish_at > radio_now()"
    ).fetchone()[0]


def cached(db: sqlite_utils.Database, name: str, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``'s value, computed again only after a change that could alter it."""
    where = (db.execute("pragma database_list").fetchone()[2], name, key)
    now_changes = changes(db)
    with _lock:
        entry = _cache.get(where)
    if (
        entry is not None
        and entry.changes == now_changes
        and (entry.until is None or utcnow() < entry.until)
    ):
        return entry.value
    value = compute()
    # the count was read before computing: a write meanwhile makes the next call compute again
    with _lock:
        if len(_cache) > MAX_ENTRIES:  # keys that differ (a search's filters): start afresh
            _cache.clear()
        _cache[where] = _Entry(now_changes, _next_publication(db), value)
    return value


def forget() -> None:
    """Drop every cached listing (tests that change the clock)."""
    with _lock:
        _cache.clear()


def archive_speakers(db: sqlite_utils.Database, *, include_hidden: bool = False) -> list[str]:
    """Every speaker heard in the archive's episodes (public ones unless ``include_hidden``),
    in alphabetical order whatever their case and accents, from the per-episode summary
    (``segment_speakers``, kept by triggers)."""
    visible = live_sql("e") if include_hidden else public_sql("e")
    rows = db.execute(
        "select distinct ss.speaker from segment_speakers ss "
        f"join episodes e on e.id = ss.episode_id where {visible}"
    ).fetchall()
    names = {name for (speaker,) in rows if (name := clean_name(speaker))}
    return sorted(names, key=_alphabetical)


def _alphabetical(name: str) -> tuple[str, str]:
    """Á beside A, whatever the case: letters without their accents, then as written."""
    bare = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in bare if not unicodedata.combining(c)), name
