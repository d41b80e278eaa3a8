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

Even so, the first listener after an episode was published or hidden paid for every list
again (35-40 ms at 10,000 hours). So the lists on the search and home pages and a feed's
total are kept as rows per episode (``by_episode``, which suits any list of episodes' rows):
migration 0029's ``listing_touches`` names the episodes each write touched (whichever
process made it), and only their rows are read again; a hidden episode's people and show
leave the lists at the very next request.

``segment_speakers`` (who speaks in which episode, kept by triggers on ``segments``) is
this module's table.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlite_utils

from radio.data.episodes import live_sql, public_sql
from radio.data.shows import ShowSummary
from radio.data.tags import TagKind, TopicCount
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
        if sum(k[1] == name for k in _cache) > MAX_ENTRIES:
            for k in [k for k in _cache if k[1] == name]:  # keys that differ: start afresh
                del _cache[k]
        _cache[where] = _Entry(now_changes, _next_publication(db), value)
    return value


def forget() -> None:
    """Drop every cached listing (tests that change the clock)."""
    with _lock:
        _cache.clear()
        _kept.clear()


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


# Lists kept as rows per episode (migration 0029): after a change, only the rows of the
# episodes it touched are read again, then the list is made from all the rows in Python
# (a few ms at 10,000 hours, where reading every episode took 6-14 ms a list).
MAX_TOUCHED = 200  # episodes touched since a list was made: more, and it is read whole
Rows = dict[int, tuple[tuple, ...]]  # episode id -> its rows (without the id)
# a feed's total, one per feed followed (most of a show's or a topic's few episodes): their
# own room, never crowding out the lists every page shows
KEPT_BY_EPISODE = {"feed total": 256}


@dataclass(frozen=True)
class _Kept:
    seq: int  # the last listing_touches row when it was made
    until: str | None
    rows: Rows
    value: Any


_kept: dict[tuple[str, str, Any], _Kept] = {}


def by_episode(
    db: sqlite_utils.Database,
    name: str,
    key: Any,
    read: Callable[[str | None], list[tuple]],
    make: Callable[[Rows], T],
) -> T:
    """``make(rows)``, where ``read(touched)`` gives rows whose first value is their
    episode's id, of every episode (``touched`` None) or of those in ``touched`` (a JSON
    list, see ``only``): read again only for the episodes changed since it was made
    (``listing_touches``)."""
    where = (db.execute("pragma database_list").fetchone()[2], name, key)
    seq = _last_touch(db)
    with _lock:
        entry = _kept.get(where)
    fresh = entry is not None and (entry.until is None or utcnow() < entry.until)
    if entry is not None and fresh and entry.seq == seq:
        return entry.value
    touched = _touched_since(db, entry.seq) if entry is not None and fresh else None
    if entry is None or touched is None:
        rows = _grouped(read(None))
    else:
        rows = dict(entry.rows)  # a copy: other threads may be reading the kept one
        for episode_id in touched:
            rows.pop(episode_id, None)
        rows.update(_grouped(read(json.dumps(sorted(touched)))))
    value = make(rows)
    # the position was read first: a write meanwhile is read again at the next call
    with _lock:
        if sum(k[1] == name for k in _kept) > KEPT_BY_EPISODE.get(name, MAX_ENTRIES):
            for k in [k for k in _kept if k[1] == name]:
                del _kept[k]
        _kept[where] = _Kept(seq, _next_publication(db), rows, value)
    return value


def only(touched: str | None, param: str = ":touched", alias: str = "e") -> str:
    """SQL keeping the rows of the episodes in ``touched`` (``param``), or all of them."""
    return "1" if touched is None else f"{alias}.id in (select value from json_each({param}))"


def _last_touch(db: sqlite_utils.Database) -> int:
    return db.execute("select coalesce(max(seq), 0) from listing_touches").fetchone()[0]


def _touched_since(db: sqlite_utils.Database, seq: int) -> set[int] | None:
    """The episodes changed after ``seq``; None when a change touched more than episodes
    (a show, a tag), or too many, or older touches are no longer kept."""
    first = db.execute("select min(seq) from listing_touches").fetchone()[0]
    if first is None or first > seq + 1:
        return None
    ids = db.execute(
        "select distinct episode_id from listing_touches where seq > ? limit ?",
        [seq, MAX_TOUCHED + 1],
    ).fetchall()
    touched = {i for (i,) in ids}
    return None if None in touched or len(touched) > MAX_TOUCHED else touched


def _grouped(rows: list[tuple]) -> Rows:
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row[1:])
    # tuples of plain values: the garbage collector stops looking at them
    return {i: tuple(r) for i, r in grouped.items()}


# The lists themselves, each the same as the query it replaces (``shows.shows``,
# ``episodes.languages``, ``tags.list_topics`` of the station's topics, ``archive_speakers``;
# tests/test_data_facet_lists.py holds them equal): SQL on one episode's rows, the rest here.


def _visible(hidden: bool) -> str:
    return live_sql("e") if hidden else public_sql("e")


def shows_listed(db: sqlite_utils.Database, hidden: bool) -> list[ShowSummary]:
    """Shows that have something to listen to, with their episode counts, by title."""

    def read(touched: str | None) -> list[tuple]:
        return db.execute(
            "select e.id, e.show_id, e.recorded_at from episodes e "
            f"where e.show_id is not null and {_visible(hidden)} and {only(touched)}",
            {"touched": touched},
        ).fetchall()

    def make(rows: Rows) -> list[ShowSummary]:
        count: Counter[int] = Counter()
        latest: dict[int, str | None] = {}
        for episode in rows.values():
            for show_id, recorded in episode:
                count[show_id] += 1
                known = latest.get(show_id)
                if recorded is not None and (known is None or recorded > known):
                    latest[show_id] = recorded
        found = [r for r in db.execute("select id, slug, title from shows") if count[r[0]]]
        found.sort(key=lambda r: (r[2].translate(_NOCASE), r[0]))  # SQLite's "nocase"
        return [ShowSummary(slug, title, count[i], latest.get(i)) for i, slug, title in found]

    return by_episode(db, "shows", hidden, read, make)


_NOCASE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def languages_listed(db: sqlite_utils.Database, hidden: bool) -> list[str]:
    """The languages of the episodes (what was said, else what was given), in order."""

    def read(touched: str | None) -> list[tuple]:
        return db.execute(
            "select e.id, coalesce(e.transcript_language, e.language) from episodes e "
            f"where {_visible(hidden)} and {only(touched)}",
            {"touched": touched},
        ).fetchall()

    def make(rows: Rows) -> list[str]:
        languages = {lang for episode in rows.values() for (lang,) in episode}
        return sorted(lang for lang in languages if lang is not None)

    return by_episode(db, "languages", hidden, read, make)


def topics_listed(db: sqlite_utils.Database, hidden: bool) -> list[TopicCount]:
    """``tags.list_topics``, kept by episode: every tag in use with its episode count, the
    station's topics first, then the most used. The topics page and each topic's count."""

    def read(touched: str | None) -> list[tuple]:
        return db.execute(
            "select et.episode_id, et.tag_id from episode_tags et "
            "join episodes e on e.id = et.episode_id "
            f"where coalesce(et.removed, 0) = 0 and {_visible(hidden)} and {only(touched)}",
            {"touched": touched},
        ).fetchall()

    def make(rows: Rows) -> list[TopicCount]:
        count = Counter(tag_id for episode in rows.values() for (tag_id,) in episode)
        tags = db.execute("select id, slug, label, kind from tags").fetchall()
        found = sorted(
            (r for r in tags if count[r[0]]),
            key=lambda r: (r[3] != TagKind.TAXONOMY, -count[r[0]], r[2], r[0]),
        )
        return [TopicCount(slug, label, kind, count[i]) for i, slug, label, kind in found]

    return by_episode(db, "topics", hidden, read, make)


def station_topics_listed(db: sqlite_utils.Database, hidden: bool) -> list[TopicCount]:
    """The station's own topics in use, with their episode counts, the most used first."""
    return [t for t in topics_listed(db, hidden) if t.kind == TagKind.TAXONOMY]


def speakers_listed(db: sqlite_utils.Database, hidden: bool) -> list[str]:
    """``archive_speakers``, kept by episode: a hidden episode's people leave at once."""

    def read(touched: str | None) -> list[tuple]:
        rows = db.execute(
            "select ss.episode_id, ss.speaker from segment_speakers ss "
            f"join episodes e on e.id = ss.episode_id where {_visible(hidden)} and {only(touched)}",
            {"touched": touched},
        ).fetchall()
        return [(episode, name) for episode, speaker in rows if (name := clean_name(speaker))]

    def make(rows: Rows) -> list[str]:
        names = {name for episode in rows.values() for (name,) in episode}
        return sorted(names, key=_alphabetical)

    return by_episode(db, "speakers", hidden, read, make)
