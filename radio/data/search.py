"""Search what was said: FTS5 over transcript segments and episode titles and descriptions.

People type queries, not FTS5 syntax, so a query is parsed here into quoted FTS5
terms: words, "quoted phrases", prefixes (``farm*``), ``OR`` between terms and
``-word`` to exclude. Whatever is typed, FTS5 only ever sees well-formed input, so
a stray quote or operator gives results or a clear ``BadQuery``, never an error.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlite_utils

from radio.data.episodes import public_sql
from radio.data.errors import Invalid
from radio.data.segment_map import int_list, segment_map
from radio.data.tags import topic_filter_sql

MAX_QUERY_CHARS = 500
MAX_TERMS = 24
MARK_START, MARK_END = "\x02", "\x03"  # snippet highlight markers, escaped later per output

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


class BadQuery(Invalid):
    """The query cannot be searched; the message says how to fix it."""


@dataclass(frozen=True)
class Hit:
    segment_id: int
    start: float
    end: float
    speaker: str | None
    snippet: str  # text with MARK_START/MARK_END around matched words
    time: float  # when the first matched word is said: where a player should start

    @property
    def snippet_html(self) -> str:
        return highlight(self.snippet, "<mark>", "</mark>", escape=True)


@dataclass(frozen=True)
class EpisodeResult:
    episode_id: int
    guid: str
    title: str
    show_title: str | None
    show_slug: str | None
    recorded_at: str | None
    language: str | None
    duration: float | None
    score: float
    hit_count: int
    hits: list[Hit] = field(default_factory=list)


@dataclass(frozen=True)
class Results:
    query: str
    fts_query: str
    total: int  # episodes matching, over all pages
    page: int
    per_page: int
    episodes: list[EpisodeResult]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def highlight(snippet: str, start: str, end: str, *, escape: bool = False) -> str:
    text = html.escape(snippet) if escape else snippet
    return text.replace(MARK_START, start).replace(MARK_END, end)


def _quote(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


def parse_query(text: str) -> str:
    """Turn what a person typed into a safe FTS5 expression (``""`` if nothing searchable)."""
    if len(text) > MAX_QUERY_CHARS:
        raise BadQuery(f"The search is too long; use at most {MAX_QUERY_CHARS} characters.")
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for m in _TOKEN.finditer(text):
        minus, phrase, bare = m.group(1), m.group(2), m.group(3)
        if bare == "OR":
            pending_or = bool(positive)
            continue
        if phrase is not None:
            words, prefix, exclude = _WORD.findall(phrase), False, bool(minus)
        else:
            exclude = bare.startswith("-") and len(bare) > 1
            prefix = bare.endswith("*")
            words = _WORD.findall(bare)
        if not words:
            continue
        term = _quote(words) + ("*" if prefix and len(words[-1]) >= 2 else "")
        if exclude:
            negative.append(term)
        elif pending_or:
            positive[-1] = f"({positive[-1]} OR {term})"
            pending_or = False
        else:
            positive.append(term)
    if len(positive) + len(negative) > MAX_TERMS:
        raise BadQuery(f"The search has too many words; use at most {MAX_TERMS}.")
    if not positive:
        return ""
    expression = " AND ".join(positive)
    for term in negative:
        expression = f"({expression}) NOT {term}"
    return expression


def _filters(
    show: str | None,
    language: str | None,
    date_from: str | None,
    date_to: str | None,
    topic: str | None,
    include_hidden: bool,
) -> tuple[str, dict[str, Any]]:
    clauses = [] if include_hidden else [public_sql("e")]
    params = {
        "show": show,
        "language": language,
        "date_from": date_from,
        "date_to": date_to,
        "topic": topic,
    }
    if topic:
        clauses.append(topic_filter_sql("e", ":topic"))
    if show:
        clauses.append("sh.slug = :show")
    if language:
        clauses.append("coalesce(e.transcript_language, e.language) = :language")
    if date_from:
        clauses.append("substr(e.recorded_at, 1, 10) >= :date_from")
    if date_to:
        clauses.append("substr(e.recorded_at, 1, 10) <= :date_to")
    return (" and ".join(clauses) or "1"), params


# Ranking by bm25 costs about 2.5 µs a matching segment and joining each match to its
# episode as much again; past this many matches (a word said in most recordings)
# episodes are ranked from their match counts instead (``_rank_common``).
BM25_MAX_MATCHES = 4_000
# Episode-level BM25 over match counts: k1 and b as FTS5's own bm25 uses them.
_K1, _B = 1.2, 0.75
_TITLE_BONUS = 1.0  # a title or description match lifts an episode a band up

_RANKED = """
with f as materialized (
    select rowid, bm25(segments_fts) as rank from segments_fts where segments_fts match :q
), seg as (
    select s.episode_id, min(f.rank) as best, count(*) as n
    from f join segments s on s.id = f.rowid group by s.episode_id
), ttl as materialized (
    -- a title match ranks like a strong transcript match
    select rowid as episode_id, bm25(episodes_fts, 5.0, 1.0) * 2 as best, 0 as n
    from episodes_fts where episodes_fts match :q
), ranked as (
    select episode_id, min(best) as best, sum(n) as n
    from (select * from seg union all select * from ttl) group by episode_id
)
"""
_COLUMNS = (
    "e.guid, e.title, sh.title, sh.slug, e.recorded_at, "
    "coalesce(e.transcript_language, e.language), e.duration"
)


def search(
    db: sqlite_utils.Database,
    text: str,
    *,
    show: str | None = None,
    language: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    topic: str | None = None,
    page: int = 1,
    per_page: int = 10,
    hits_per_episode: int = 5,
    include_hidden: bool = False,
) -> Results:
    """Episodes matching ``text``, best first, each with its best moments."""
    fts = parse_query(text)
    page = max(1, page)
    if not fts:
        return Results(text, fts, 0, page, per_page, [])
    where, params = _filters(show, language, date_from, date_to, topic, include_hidden)
    matches = db.execute(
        "select count(*) from segments_fts where segments_fts match ?", [fts]
    ).fetchone()[0]
    common = matches > BM25_MAX_MATCHES
    rank = _rank_common if common else _rank_bm25
    rows, total = rank(db, {"q": fts, **params}, where, page, per_page)
    episodes = [
        EpisodeResult(
            episode_id=r[0],
            score=r[1],
            hit_count=r[2],
            guid=r[3],
            title=r[4],
            show_title=r[5],
            show_slug=r[6],
            recorded_at=r[7],
            language=r[8],
            duration=r[9],
            hits=_hits(db, fts, r[0], hits_per_episode, common),
        )
        for r in rows
    ]
    return Results(text, fts, total, page, per_page, episodes)


Row = tuple[Any, ...]  # episode id, score, matches, then the _COLUMNS


def _rank_bm25(
    db: sqlite_utils.Database, named: dict[str, Any], where: str, page: int, per_page: int
) -> tuple[list[Row], int]:
    """One page of episodes ranked by their best segment's bm25, and the total."""
    sql = (
        f"{_RANKED} select {{cols}} from ranked r join episodes e on e.id = r.episode_id "
        f"left join shows sh on sh.id = e.show_id where {where}"
    )
    rows = db.execute(
        sql.format(cols=f"r.episode_id, -r.best, r.n, {_COLUMNS}, count(*) over ()")
        + " order by r.best, e.recorded_at desc limit :limit offset :offset",
        {**named, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    if rows:
        return [r[:-1] for r in rows], rows[0][-1]
    if page > 1:  # past the last page: count what there is
        return [], db.execute(sql.format(cols="count(*)"), named).fetchone()[0]
    return [], 0


def _rank_common(
    db: sqlite_utils.Database, named: dict[str, Any], where: str, page: int, per_page: int
) -> tuple[list[Row], int]:
    """Episodes ranked by BM25 over their match counts, for words said nearly everywhere.

    The matching rowids come out of SQLite as one string and their episodes from the
    in-memory segment map, so no match is joined row by row.
    """
    rowids = int_list(
        db.execute(
            "select group_concat(rowid) from segments_fts where segments_fts match :q", named
        ).fetchone()[0]
    )
    smap = segment_map(db)
    found = smap.episodes_of(rowids)
    counts = np.bincount(found[found >= 0], minlength=1)
    lengths = smap.lengths()
    lengths = np.pad(lengths, (0, max(0, len(counts) - len(lengths))))[: len(counts)]
    average = lengths[lengths > 0].mean() if (lengths > 0).any() else 1.0
    norm = _K1 * (1 - _B + _B * lengths / average)
    scores = {
        int(e): float(counts[e] * (_K1 + 1) / (counts[e] + norm[e])) for e in np.flatnonzero(counts)
    }
    titled = db.execute(
        "select rowid from episodes_fts where episodes_fts match :q", named
    ).fetchall()
    for (episode_id,) in titled:
        scores[episode_id] = scores.get(episode_id, 0.0) + _TITLE_BONUS
    rows = db.execute(
        f"select e.id, {_COLUMNS} from episodes e left join shows sh on sh.id = e.show_id "
        f"where e.id in (select value from json_each(:ids)) and {where}",
        {**named, "ids": json.dumps(list(scores))},
    ).fetchall()
    rows.sort(key=lambda r: r[5] or "", reverse=True)  # ties: the most recent first
    rows.sort(key=lambda r: scores[r[0]], reverse=True)
    start = (page - 1) * per_page
    chosen = rows[start : start + per_page]
    return [
        (r[0], scores[r[0]], int(counts[r[0]]) if r[0] < len(counts) else 0, *r[1:]) for r in chosen
    ], len(rows)


def _hits(
    db: sqlite_utils.Database, fts: str, episode_id: int, limit: int, common: bool = False
) -> list[Hit]:
    """The episode's best-matching segments, shown in the order they are said.

    A transcript's segments are written one after another, so the episode's rowid
    range lets FTS5 look only at its own matches, not at every match in the archive.
    For a word said nearly everywhere every segment matches about as well, and the
    first few are taken in order, without ranking them all.
    """
    lo, hi = db.execute(
        "select min(id), max(id) from segments where episode_id = ?", [episode_id]
    ).fetchone()
    if lo is None:
        return []
    order = "segments_fts.rowid" if common else "bm25(segments_fts)"
    rows = db.execute(
        "select s.id, s.start, s.end, s.speaker, "
        "snippet(segments_fts, 0, char(2), char(3), '…', 16) "
        "from segments_fts join segments s on s.id = segments_fts.rowid "
        "where segments_fts match ? and segments_fts.rowid between ? and ? "
        f"and s.episode_id = ? order by {order} limit ?",
        [fts, lo, hi, episode_id, limit],
    ).fetchall()
    words = _segment_words(db, [r[0] for r in rows])
    hits = [
        Hit(r[0], r[1], r[2], r[3], r[4], _word_time(r[4], words.get(r[0]), r[1])) for r in rows
    ]
    return sorted(hits, key=lambda h: h.start)


def fold(text: str) -> str:
    """Lower case without accents, as the search index compares words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.S)


def _segment_words(db: sqlite_utils.Database, ids: list[int]) -> dict[int, list[list]]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"select id, words from segments where id in ({marks})", ids).fetchall()
    return {r[0]: json.loads(r[1] or "[]") for r in rows}


def _word_time(snippet: str, words: list[list] | None, start: float) -> float:
    """When the first word the snippet marks is said. A segment can last half a minute;
    the words' own timings let a player start at the word, not the sentence."""
    marked = {fold(t) for m in _MARKED.findall(snippet) for t in _WORD.findall(m)}
    for word_start, _end, word, *_ in words or []:
        if marked & set(_WORD.findall(fold(word))):
            return float(word_start)
    return start
