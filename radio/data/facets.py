"""The lists beside every search and on the home page, kept until the archive changes.

Shows with their episode counts, the station's topics, the languages and the people heard
are each a scan of every episode (the people, until migration 0025, of every segment):
tens of milliseconds at 10,000 hours, the people seconds, on every page that shows them.
They change only when an episode, a show, a tag, a participant or who speaks in an episode
does, and migration 0025's triggers count each such write in ``counters``, whichever
process made it; migration 0026's count leaves out what only the latest episodes show (a
title, a description) and a job's progress. A list is computed again when its count has
moved, or when an episode scheduled for later (``publish_at``) has come out since it was
made.

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
# small values kept for many keys (a number per feed): their own room, never crowding out
# the lists every page shows
SMALL = {"feed total": 2_000}
_cache: dict[tuple[str, str, Any], _Entry] = {}
_lock = threading.Lock()


# Listings that show episodes' titles and descriptions: computed again after any change
# to an episode (counters.listing_changes, migration 0025). The others (counts, shows,
# topics, languages, people, a search's filtered episodes) only after a change that can
# alter them (counters.listing_shape_changes, migration 0026): an editor's new title no
# longer costs the next listener every list of the archive.
WITH_TITLES = {"latest"}


def changes(db: sqlite_utils.Database, counter: str = "listing_changes") -> int:
    """How many writes that can change a listing the archive has seen (any process)."""
    row = db.execute("select n from counters where name = ?", [counter]).fetchone()
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
    counter = "listing_changes" if name in WITH_TITLES else "listing_shape_changes"
    now_changes = changes(db, counter)
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
        if sum(k[1] == name for k in _cache) > SMALL.get(name, MAX_ENTRIES):
            for k in [k for k in _cache if k[1] == name]:  # keys that differ: start afresh
                del _cache[k]
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
