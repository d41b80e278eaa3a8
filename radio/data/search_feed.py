"""Which episodes a saved search's feed lists, without reading every match each time (#17).

``matching_episodes_sql`` is the rule: an episode is found when a segment of it or its
title and description match. Walking every segment match of a common word takes hundreds
of milliseconds at 10,000 hours, and a feed was built again after any change to the
archive (a title edited anywhere). The episodes whose segments match are kept per search
until a transcript changes (``counters('transcript_changes')``, migration 0026's
triggers); when only new segments came (a newly transcribed episode: higher ids, nothing
deleted or edited), only those are searched and added. The titles and descriptions are
matched afresh each time (a small index).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import sqlite_utils

from radio.data.query import parse_query, uses_script_index
from radio.data.search import SCRIPTS, WORDS

KEPT = 64  # searches followed


@dataclass
class _Matches:
    changes: int  # counters.transcript_changes when read
    upto: int  # the highest segment id searched
    episodes: set[int]


_kept: dict[tuple[str, str], _Matches] = {}
_lock = threading.Lock()


def search_feed_sql(db: sqlite_utils.Database, text: str) -> tuple[str, list[str]]:
    """SQL for "episode ``e`` is found by ``text``", and its parameters (which say exactly
    which episodes: a feed may keep what it computed from them)."""
    index = SCRIPTS if uses_script_index(text) else WORDS
    fts = parse_query(text, unsegmented=index is SCRIPTS)
    episodes = _segment_matches(db, index.segments, fts)
    ep = index.episodes
    titled = db.execute(f"select rowid from {ep} where {ep} match ?", [fts]).fetchall()
    found = episodes | {r[0] for r in titled}
    # "+": the episodes are read in feed order (newest first) until the page is full,
    # not each found episode looked up and all of them sorted
    return "+e.id in (select value from json_each(?))", [json.dumps(sorted(found))]


def _segment_matches(db: sqlite_utils.Database, seg: str, fts: str) -> set[int]:
    changes, highest = db.execute(
        "select (select n from counters where name = 'transcript_changes'), "
        "(select coalesce(max(id), 0) from segments)"
    ).fetchone()
    key = (db.execute("pragma database_list").fetchone()[2], f"{seg}:{fts}")
    with _lock:
        kept = _kept.get(key)
    added = highest - kept.upto if kept else 0
    if kept and kept.changes == changes and added == 0:
        return kept.episodes
    # New segments count as changes too: only appended ones (the count moved by as many as
    # the ids grew) keep what was found below them.
    if kept and added > 0 and changes - kept.changes == _inserted(db, kept.upto):
        episodes = kept.episodes | _episodes_matching(db, seg, fts, kept.upto)
    else:
        episodes = _episodes_matching(db, seg, fts, 0)
    with _lock:
        if len(_kept) >= KEPT:
            _kept.clear()
        _kept[key] = _Matches(changes, highest, episodes)
    return episodes


def _inserted(db: sqlite_utils.Database, above: int) -> int:
    return db.execute("select count(*) from segments where id > ?", [above]).fetchone()[0]


def _episodes_matching(db: sqlite_utils.Database, seg: str, fts: str, above: int) -> set[int]:
    rows = db.execute(
        f"select distinct s.episode_id from {seg} join segments s on s.id = {seg}.rowid "
        f"where {seg} match ? and {seg}.rowid > ?",
        [fts, above],
    ).fetchall()
    return {r[0] for r in rows}
