"""Ranking for words said nearly everywhere ("the", "water" at a water committee's station).

Such a word matches millions of segments at 10,000 hours: counting them alone takes longer
than a page may. Episodes are ranked by BM25 over their match counts (k1 and b as FTS5's
bm25 uses them), and the matches are counted episode by episode, newest first, through
each episode's range of segment ids (``episode_segments``, kept by migration 0025's
triggers), so that show, date, topic and language filters choose the ranges to read
instead of filtering every match afterwards. Once ``WINDOW`` matches are counted and the
page asked for is full, the walk stops: the rest of the archive is not read, the ranking is
of the newest episodes, and the total is estimated from the share of the filtered episodes
read. A smaller archive is read whole, and then ranking and total are exact.

``episode_segments`` is this module's table.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data.facets import Rows, by_episode, only, segments_version

WINDOW = 10_000  # matches counted before the walk may stop: 15 hours of speech for "the"
_K1, _B = 1.2, 0.75
_TITLE_BONUS = 1.0  # a title or description match lifts an episode a band up


@dataclass(frozen=True)
class Ranges:
    """An episode's segment ids: between ``lo`` and ``hi``, ``n`` of them."""

    episode_id: int
    lo: int | None
    hi: int | None
    n: int
    recorded_at: str | None


@dataclass(frozen=True)
class Counted:
    counts: dict[int, int]  # episode id -> matching segments, for the episodes read
    read: list[Ranges]  # the episodes read (all of them when ``complete``)
    complete: bool


def filtered_episodes(db: sqlite_utils.Database, where: str, named: dict[str, Any]) -> list[Ranges]:
    """The episodes the filters let through, those without a transcript first, then the
    newest transcripts first: kept by episode (``radio.data.facets.by_episode``), so that
    a change to one episode (published, hidden) reads only its row again; reading every
    episode's row takes 25 ms at 10,000 hours."""
    filters = tuple(sorted((k, str(v)) for k, v in named.items() if k != "q"))

    def read(touched: str | None) -> list[tuple]:
        rows = db.execute(
            "select e.id, es.lo, es.hi, coalesce(es.n, 0), e.recorded_at from episodes e "
            "left join episode_segments es on es.episode_id = e.id "
            f"left join shows sh on sh.id = e.show_id where ({where}) and {only(touched)}",
            {**named, "touched": touched},
        ).fetchall()
        return [(r[0], Ranges(*r)) for r in rows]

    def make(rows: Rows) -> list[Ranges]:
        found = [ranges for episode in rows.values() for (ranges,) in episode]
        found.sort(key=lambda r: (r.hi is not None, -(r.hi or 0)))  # as _read_filtered orders
        return found

    return by_episode(db, "search filter", (where, filters, segments_version(db)), read, make)


def _read_filtered(db: sqlite_utils.Database, where: str, named: dict[str, Any]) -> list[Ranges]:
    rows = db.execute(
        "select e.id, es.lo, es.hi, coalesce(es.n, 0), e.recorded_at from episodes e "
        "left join episode_segments es on es.episode_id = e.id "
        f"left join shows sh on sh.id = e.show_id where {where} "
        "order by es.hi is not null, es.hi desc",
        named,
    ).fetchall()
    return [Ranges(*r) for r in rows]


def _next_run(episodes: list[Ranges], first: int, span: int) -> list[Ranges]:
    """Episodes from ``first`` on read as one range of ids, at most ``span`` long: while
    the gap to the next (other episodes' segments, read for nothing) is smaller than the
    episodes on either side of it."""
    run = [episodes[first]]
    for ranges in episodes[first + 1 :]:
        gap = run[-1].lo - ranges.hi
        if run[0].hi - ranges.lo > span or gap > max(ranges.n, run[-1].n):
            break
        run.append(ranges)
    return run


def _count_run(
    db: sqlite_utils.Database, seg: str, said: str, named: dict[str, Any], run: list[Ranges]
) -> dict[int, int]:
    # "+s.episode_id": the ids are checked after the join, never looked up one by one
    rows = db.execute(
        f"select s.episode_id, count(*) from {seg} join segments s on s.id = {seg}.rowid "
        f"where {seg} match :q and {seg}.rowid between :lo and :hi and {said} "
        "and +s.episode_id in (select value from json_each(:ids)) group by s.episode_id",
        {
            **named,
            "lo": run[-1].lo,
            "hi": run[0].hi,
            "ids": json.dumps([r.episode_id for r in run]),
        },
    ).fetchall()
    return dict(rows)


FIRST_SPAN = 4_000  # segment ids read at first; then as many as should hold RUN_MATCHES
RUN_MATCHES = 5_000
# a word said in every episode but not often ("bless*"), with a show filter: the episodes
# are read one query each, so their number is bounded too
MAX_RUN_EPISODES = 40
BLOCK = 2_000  # matches read at a time when walking the whole index


def count_matches(
    db: sqlite_utils.Database,
    seg: str,
    said: str,
    named: dict[str, Any],
    episodes: list[Ranges],
    wanted: int,
) -> Counted:
    """Matching segments per episode, newest first, until ``WINDOW`` matches are counted
    and ``wanted`` episodes have some (or every episode is read)."""
    total = db.execute("select count(*) from episode_segments").fetchone()[0]
    transcribed = [r for r in episodes if r.lo is not None]
    if len(transcribed) * 2 >= total:  # most episodes: one walk down the whole index
        return _count_streaming(db, seg, said, named, episodes, wanted)
    return _count_in_runs(db, seg, said, named, episodes, wanted)


def _count_streaming(
    db: sqlite_utils.Database,
    seg: str,
    said: str,
    named: dict[str, Any],
    episodes: list[Ranges],
    wanted: int,
) -> Counted:
    """Every match, newest first, in one query read a block at a time; those of episodes
    the filters leave out are skipped."""
    allowed = {r.episode_id: r for r in episodes}
    counts: dict[int, int] = {}
    counted, lowest = 0, None
    blocks = _MatchBlocks(db, seg, said, named)
    for block in blocks:
        for episode_id in block:
            if episode_id in allowed:
                counts[episode_id] = counts.get(episode_id, 0) + 1
                counted += 1
        lowest = blocks.lowest
        if counted >= WINDOW and len(counts) >= wanted:
            break
    else:
        return Counted(counts, episodes, complete=True)
    blocks.close()
    # read: the episodes whose segments all lie above where the walk stopped
    read = [r for r in episodes if r.lo is None or r.lo >= lowest or r.episode_id in counts]
    return Counted(counts, read, complete=False)


class _MatchBlocks:
    """The episode of each match, newest first, a block at a time. Without a speaker's
    condition the matches are read from the index alone and placed in their episodes by
    id range (``_SegmentRanges``): joining each match to its segment row costs as much
    again as finding it."""

    def __init__(self, db: sqlite_utils.Database, seg: str, said: str, named: dict[str, Any]):
        self.db = db
        self.ranges = _segment_ranges(db) if said == "1" else None
        if self.ranges is None:
            sql = (
                f"select s.id, s.episode_id from {seg} join segments s on s.id = {seg}.rowid "
                f"where {seg} match :q and {said} order by {seg}.rowid desc"
            )
        else:
            sql = f"select rowid from {seg} where {seg} match :q order by rowid desc"
        self.cursor = db.execute(sql, named)
        self.lowest: int | None = None

    def __iter__(self) -> Iterator[list[int]]:
        while block := self.cursor.fetchmany(BLOCK):
            self.lowest = block[-1][0]
            if self.ranges is None:
                yield [episode_id for _, episode_id in block]
            else:
                yield self.ranges.episodes_of([r[0] for r in block], self.db)

    def close(self) -> None:
        self.cursor.close()


@dataclass(frozen=True)
class _SegmentRanges:
    """The episodes whose segment ids have no gaps, by their lowest id: an id between an
    episode's ``lo`` and ``hi`` is then surely its. Ids outside them (an episode whose
    transcript was partly made again) are looked up."""

    los: list[int]  # ascending
    his: list[int]
    episode_ids: list[int]

    def episodes_of(self, segment_ids: list[int], db: sqlite_utils.Database) -> list[int]:
        found: list[int] = []
        unplaced: list[int] = []
        lo, hi, episode_id = 1, 0, 0  # the range the last id fell in: the next often does
        for segment_id in segment_ids:
            if not lo <= segment_id <= hi:
                at = bisect_right(self.los, segment_id) - 1
                if at < 0 or segment_id > self.his[at]:
                    unplaced.append(segment_id)
                    continue
                lo, hi, episode_id = self.los[at], self.his[at], self.episode_ids[at]
            found.append(episode_id)
        if unplaced:
            found.extend(
                r[0]
                for r in db.execute(
                    "select episode_id from segments where id in (select value from json_each(?))",
                    [json.dumps(unplaced)],
                ).fetchall()
            )
        return found


_ranges_kept: dict[str, tuple[Any, _SegmentRanges]] = {}


def _segment_ranges(db: sqlite_utils.Database) -> _SegmentRanges:
    """Kept until segments are added or removed (``segments_version``)."""
    path = db.execute("pragma database_list").fetchone()[2]
    version = segments_version(db)
    kept = _ranges_kept.get(path)
    if kept is not None and kept[0] == version:
        return kept[1]
    rows = db.execute(
        "select lo, hi, episode_id from episode_segments where n > 0 and n = hi - lo + 1 "
        "order by lo"
    ).fetchall()
    ranges = _SegmentRanges([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    _ranges_kept[path] = (version, ranges)
    return ranges


_PREFIX = re.compile(r'"(\w+)"\*')
MAX_PREFIX_WORDS = 64


def prefix_as_words(db: sqlite_utils.Database, seg: str, query: str) -> str:
    """A query of one prefix (``"bless"*``) as its words (``"bless" OR "blessed" OR ...``):
    FTS5 merges a prefix's words afresh for each query, milliseconds each time; the words
    are looked up once (``segments_fts_terms``) and each range query seeks in them."""
    found = _PREFIX.fullmatch(query)
    if seg != "segments_fts" or not found:
        return query
    bare = unicodedata.normalize("NFKD", found.group(1).casefold())
    prefix = "".join(c for c in bare if not unicodedata.combining(c))
    words = [
        r[0]
        for r in db.execute(
            "select term from segments_fts_terms where term >= ? and term < ? || char(1114111) "
            "limit ?",
            [prefix, prefix, MAX_PREFIX_WORDS + 1],
        ).fetchall()
    ]
    if not words or len(words) > MAX_PREFIX_WORDS:
        return query
    return " OR ".join(f'"{w}"' for w in words)


def _count_in_runs(
    db: sqlite_utils.Database,
    seg: str,
    said: str,
    named: dict[str, Any],
    episodes: list[Ranges],
    wanted: int,
) -> Counted:
    """A few of the episodes the filters let through: their ranges of ids, newest first."""
    counts: dict[int, int] = {}
    read = [r for r in episodes if r.lo is None]
    transcribed = [r for r in episodes if r.lo is not None]
    named = {**named, "q": prefix_as_words(db, seg, named["q"])}
    counted, span, at = 0, FIRST_SPAN, 0
    while at < len(transcribed):
        run = _next_run(transcribed, at, span)
        at += len(run)
        found = _count_run(db, seg, said, named, run)
        counts.update(found)
        counted += sum(found.values())
        read.extend(run)
        enough = counted >= WINDOW or len(read) >= MAX_RUN_EPISODES
        if enough and len(counts) >= wanted and at < len(transcribed):
            return Counted(counts, read, complete=False)
        density = max(1, sum(found.values())) / (run[0].hi - run[-1].lo + 1)
        span = max(FIRST_SPAN, int(RUN_MATCHES / density))
    return Counted(counts, read, complete=True)


def _average_length(db: sqlite_utils.Database) -> float:
    average = db.execute("select avg(n) from episode_segments where n > 0").fetchone()[0]
    return float(average or 1.0)


def scores(db: sqlite_utils.Database, counted: Counted, titled: set[int]) -> dict[int, float]:
    """BM25 over match counts (length: the episode's segments), plus the title bonus."""
    average = _average_length(db)
    out: dict[int, float] = {}
    for ranges in counted.read:
        episode_id = ranges.episode_id
        count = counted.counts.get(episode_id, 0)
        if count:
            norm = _K1 * (1 - _B + _B * ranges.n / average)
            out[episode_id] = count * (_K1 + 1) / (count + norm)
        if episode_id in titled:
            out[episode_id] = out.get(episode_id, 0.0) + _TITLE_BONUS
    return out


def rank_common(
    db: sqlite_utils.Database,
    seg: str,
    titled_sql: str,
    said: str,
    named: dict[str, Any],
    where: str,
    page: int,
    per_page: int,
) -> tuple[list[tuple[int, float, int]], int, bool]:
    """(episode id, score, matches) of one page, the total, and whether it is estimated."""
    episodes = filtered_episodes(db, where, named)
    counted = count_matches(db, seg, said, named, episodes, page * per_page)
    titled = {r[0] for r in db.execute(titled_sql, named).fetchall()}
    scored = scores(db, counted, titled)
    recorded = {r.episode_id: r.recorded_at or "" for r in counted.read if r.episode_id in scored}
    order = sorted(sorted(scored), key=lambda e: recorded[e], reverse=True)  # ties: newest
    order.sort(key=lambda e: scored[e], reverse=True)
    start = (page - 1) * per_page
    chosen = [(e, scored[e], counted.counts.get(e, 0)) for e in order[start : start + per_page]]
    if counted.complete:
        return chosen, len(scored), False
    # the share of the filtered episodes read that matched, over all of them
    estimate = round(len(scored) * len(episodes) / max(1, len(counted.read)))
    return chosen, max(estimate, len(scored)), True
