"""Search what was said: FTS5 over transcript segments and episode titles and descriptions.

A query (parsed by ``radio.data.query``) goes to the word index, or, when it has words of
a script written without spaces, to the index that holds each of their characters as a
token (migration 0008). Both are ranked and shown the same way.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from radio.data.episodes import live_sql, public_sql
from radio.data.query import (
    WORD,
    BadQuery,
    checked_date,
    checked_language,
    checked_speaker,
    parse_query,
    uses_script_index,
)
from radio.data.search_common import prefix_as_words, rank_common
from radio.data.tags import topic_filter_sql
from radio.data.turns import speaker_forms, speaker_sql
from transcription.scripts import SEPARATOR, has_unsegmented

__all__ = ["BadQuery", "EpisodeResult", "Hit", "Results", "highlight", "parse_query", "search"]

MARK_START, MARK_END = "\x02", "\x03"  # snippet highlight markers, escaped later per output


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
    # a word said nearly everywhere: ``total`` is estimated from the newest episodes read
    # (radio.data.search_common), and the pages beyond them are found as they are asked for
    estimated: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def highlight(snippet: str, start: str, end: str, *, escape: bool = False) -> str:
    text = html.escape(snippet) if escape else snippet
    return text.replace(MARK_START, start).replace(MARK_END, end)


def _filters(
    show: str | None,
    language: str | None,
    date_from: str | None,
    date_to: str | None,
    topic: str | None,
    speaker: str | None,
    include_hidden: bool,
) -> tuple[str, dict[str, Any]]:
    """The episodes' conditions and every parameter; ``:speakers`` (the spellings of the
    speaker asked for, or None) is for the segments' condition, ``_said``."""
    clauses = [live_sql("e")] if include_hidden else [public_sql("e")]
    said_by = checked_speaker(speaker)
    params = {
        "show": show,
        "language": checked_language(language),
        "date_from": checked_date(date_from, "from"),
        "date_to": checked_date(date_to, "to"),
        "topic": topic,
        "speakers": speaker_forms(said_by) if said_by else None,
    }
    if topic:
        clauses.append(topic_filter_sql("e", ":topic"))
    if show:
        clauses.append("sh.slug = :show")
    if params["language"]:
        clauses.append("lower(coalesce(e.transcript_language, e.language)) = :language")
    if params["date_from"]:
        clauses.append("substr(e.recorded_at, 1, 10) >= :date_from")
    if params["date_to"]:  # a month or a year runs to its end
        clauses.append("substr(e.recorded_at, 1, length(:date_to)) <= :date_to")
    return (" and ".join(clauses) or "1"), params


def _said(speakers: str | None, param: str = ":speakers") -> str:
    """The segments' condition: said by the speaker asked for, or any."""
    return speaker_sql("s", param) if speakers else "1"


def _titles(speakers: str | None) -> str:
    """Whether titles and descriptions count: not for what a speaker said."""
    return "0" if speakers else "1"


# Ranking by bm25 costs about 2.5 µs a matching segment and joining each match to its
# episode as much again; past this many matches (a word said in most recordings)
# episodes are ranked from their match counts instead (``_rank_common``).
BM25_MAX_MATCHES = 4_000


@dataclass(frozen=True)
class Index:
    segments: str
    episodes: str


WORDS = Index("segments_fts", "episodes_fts")  # words as unicode61 splits them
SCRIPTS = Index("segments_scripts", "episodes_scripts")  # unsegmented scripts, per character

_RANKED = """
with f as materialized (
    select rowid, bm25({seg}) as rank from {seg} where {seg} match :q
), seg as (
    select s.episode_id, min(f.rank) as best, count(*) as n
    from f join segments s on s.id = f.rowid where {said} group by s.episode_id
), ttl as materialized (
    -- a title match ranks like a strong transcript match (not when a speaker is asked for)
    select rowid as episode_id, bm25({ep}, 5.0, 1.0) * 2 as best, 0 as n
    from {ep} where {ep} match :q and {titles}
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
    speaker: str | None = None,
    page: int = 1,
    per_page: int = 10,
    hits_per_episode: int = 5,
    include_hidden: bool = False,
) -> Results:
    """Episodes matching ``text``, best first, each with its best moments; with
    ``speaker``, only what that speaker said (their name in any case)."""
    where, params = _filters(show, language, date_from, date_to, topic, speaker, include_hidden)
    index = SCRIPTS if uses_script_index(text) else WORDS
    fts = parse_query(text, unsegmented=index is SCRIPTS)
    page = max(1, page)
    if not fts:
        return Results(text, fts, 0, page, per_page, [])
    # counted only up to the limit: a word said everywhere has millions of matches
    common = _matches_beyond(db, index, fts, BM25_MAX_MATCHES)
    rank = _rank_common if common else _rank_bm25
    rows, total, estimated = rank(db, index, {"q": fts, **params}, where, page, per_page)
    # a prefix said everywhere: each episode's hits are found through its words
    hits_query = prefix_as_words(db, index.segments, fts) if common else fts
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
            hits=_hits(db, index, hits_query, r[0], hits_per_episode, common, params["speakers"]),
        )
        for r in rows
    ]
    return Results(text, fts, total, page, per_page, episodes, estimated)


def _matches_beyond(db: sqlite_utils.Database, index: Index, fts: str, limit: int) -> bool:
    """Whether segments and titles match more than ``limit`` times (counted only that far:
    a word said everywhere has millions of matches). Titles count too: a show named after
    a word ("Farm Hour") puts it in every episode's title, and ranking thousands of titles
    by bm25 costs as much as ranking thousands of segments."""
    matches = 0
    for table in (index.segments, index.episodes):
        matches += db.execute(
            f"select count(*) from (select 1 from {table} where {table} match ? limit ?)",
            [fts, limit + 1 - matches],
        ).fetchone()[0]
        if matches > limit:
            return True
    return False


def matching_episodes_sql(text: str) -> tuple[str, list[str]] | None:
    """SQL for "episode ``e`` is found by ``text``" and its parameters (a saved search's
    feed), or None when the text has nothing to search for."""
    index = SCRIPTS if uses_script_index(text) else WORDS
    fts = parse_query(text, unsegmented=index is SCRIPTS)
    if not fts:
        return None
    seg, ep = index.segments, index.episodes
    condition = (
        f"e.id in (select s.episode_id from {seg} join segments s on s.id = {seg}.rowid "
        f"where {seg} match ? union select rowid from {ep} where {ep} match ?)"
    )
    return condition, [fts, fts]


Row = tuple[Any, ...]  # episode id, score, matches, then the _COLUMNS


def _rank_bm25(
    db: sqlite_utils.Database,
    index: Index,
    named: dict[str, Any],
    where: str,
    page: int,
    per_page: int,
) -> tuple[list[Row], int, bool]:
    """One page of episodes ranked by their best segment's bm25, the total (exact)."""
    speakers = named["speakers"]
    ranked = _RANKED.format(
        seg=index.segments, ep=index.episodes, said=_said(speakers), titles=_titles(speakers)
    )
    sql = (
        ranked + "select {cols} from ranked r join episodes e on e.id = r.episode_id "
        f"left join shows sh on sh.id = e.show_id where {where}"
    )
    rows = db.execute(
        sql.format(cols=f"r.episode_id, -r.best, r.n, {_COLUMNS}, count(*) over ()")
        + " order by r.best, e.recorded_at desc limit :limit offset :offset",
        {**named, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    if rows:
        return [r[:-1] for r in rows], rows[0][-1], False
    if page > 1:  # past the last page: count what there is
        return [], db.execute(sql.format(cols="count(*)"), named).fetchone()[0], False
    return [], 0, False


def _rank_common(
    db: sqlite_utils.Database,
    index: Index,
    named: dict[str, Any],
    where: str,
    page: int,
    per_page: int,
) -> tuple[list[Row], int, bool]:
    """Episodes ranked by BM25 over their match counts, for words said nearly everywhere
    (``radio.data.search_common``); the total may be an estimate."""
    speakers = named["speakers"]
    titled_sql = (
        f"select rowid from {index.episodes} where {index.episodes} match :q "
        f"and {_titles(speakers)}"
    )
    chosen, total, estimated = rank_common(
        db, index.segments, titled_sql, _said(speakers), named, where, page, per_page
    )
    columns = {
        r[0]: r[1:]
        for r in db.execute(
            f"select e.id, {_COLUMNS} from episodes e left join shows sh on sh.id = e.show_id "
            "where e.id in (select value from json_each(:ids))",
            {"ids": json.dumps([episode_id for episode_id, _, _ in chosen])},
        ).fetchall()
    }
    rows = [(e, score, n, *columns[e]) for e, score, n in chosen if e in columns]
    return rows, total, estimated


def _hits(
    db: sqlite_utils.Database,
    index: Index,
    fts: str,
    episode_id: int,
    limit: int,
    common: bool = False,
    speakers: str | None = None,
) -> list[Hit]:
    """The episode's best-matching segments, shown in the order they are said.

    A transcript's segments are written one after another, so the episode's rowid
    range lets FTS5 look only at its own matches, not at every match in the archive.
    For a word said nearly everywhere every segment matches about as well, and the
    first few are taken in order, without ranking them all. With ``speakers``, only the
    segments that speaker said.
    """
    lo, hi = db.execute(
        "select min(id), max(id) from segments where episode_id = ?", [episode_id]
    ).fetchone()
    if lo is None:
        return []
    fts_table = index.segments
    order = f"{fts_table}.rowid" if common else f"bm25({fts_table})"
    # Snippets of the script index carry its separators between characters: taken out.
    rows = db.execute(
        "select s.id, s.start, s.end, s.speaker, "
        f"replace(snippet({fts_table}, 0, char(2), char(3), '…', 16), ?, '') "
        f"from {fts_table} join segments s on s.id = {fts_table}.rowid "
        f"where {fts_table} match ? and {fts_table}.rowid between ? and ? "
        f"and s.episode_id = ? and {_said(speakers, '?')} order by {order} limit ?",
        [SEPARATOR, fts, lo, hi, episode_id, *([speakers] if speakers else []), limit],
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
    marked = {fold(t) for m in _MARKED.findall(snippet) for t in WORD.findall(m)}
    for word_start, _end, word, *_ in words or []:
        said = set(WORD.findall(fold(word)))
        # A character of an unsegmented script is marked alone; Whisper's word holds it.
        if marked & said or any(has_unsegmented(m) and m in fold(word) for m in marked):
            return float(word_start)
    return start
