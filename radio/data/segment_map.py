"""Which episode each transcript segment belongs to, held in memory for search.

A word said in most recordings matches tens of thousands of segments. Joining each
match to ``segments`` to find its episode is most of such a search's time; looking the
rowids up in two sorted arrays is a hundredth of it. The arrays are read once per
database and kept in step cheaply: new segments only ever add ids past the last one
read, and deletions (which may free ids for reuse) are counted by a trigger
(migration 0007), so a changed count makes the map read afresh.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import sqlite_utils


@dataclass(frozen=True)
class SegmentMap:
    ids: np.ndarray  # segment ids, ascending
    episodes: np.ndarray  # the episode of each
    deletions: int  # counters.segments_deleted when read

    def episodes_of(self, rowids: np.ndarray) -> np.ndarray:
        """The episode of each segment id (ids not in the map give -1)."""
        at = np.minimum(np.searchsorted(self.ids, rowids), max(len(self.ids) - 1, 0))
        if not len(self.ids):
            return np.full(len(rowids), -1)
        return np.where(self.ids[at] == rowids, self.episodes[at], -1)

    def lengths(self) -> np.ndarray:
        """Segments per episode id (index = episode id)."""
        return np.bincount(self.episodes) if len(self.episodes) else np.zeros(1, np.int64)


_maps: dict[str, SegmentMap] = {}
_lock = threading.Lock()


def int_list(text: str | None) -> np.ndarray:
    """``group_concat`` output as integers: SQLite joins, numpy parses, no Python rows."""
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64)


def _read(db: sqlite_utils.Database, after: int) -> tuple[np.ndarray, np.ndarray]:
    text = db.execute(
        "select group_concat(id || ',' || episode_id) from "
        "(select id, episode_id from segments where id > ? order by id)",
        [after],
    ).fetchone()[0]
    pairs = int_list(text).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def segment_map(db: sqlite_utils.Database) -> SegmentMap:
    """The map for ``db``, brought up to date (cheap when nothing changed)."""
    key = db.execute("pragma database_list").fetchone()[2]
    deletions = db.execute("select n from counters where name = 'segments_deleted'").fetchone()[0]
    last = db.execute("select max(id) from segments").fetchone()[0] or 0
    with _lock:
        current = _maps.get(key)
    if current is not None and current.deletions == deletions:
        known = int(current.ids[-1]) if len(current.ids) else 0
        if known == last:
            return current
        if known < last:
            ids, episodes = _read(db, known)
            updated = SegmentMap(
                np.concatenate([current.ids, ids]),
                np.concatenate([current.episodes, episodes]),
                deletions,
            )
            with _lock:
                _maps[key] = updated
            return updated
    ids, episodes = _read(db, 0)
    fresh = SegmentMap(ids, episodes, deletions)
    with _lock:
        _maps[key] = fresh
    return fresh
