"""Podcast feed queries: which episodes a feed lists, one page at a time, as typed rows.

A feed is one of ``FeedKind``: every public episode, one show, one topic (tag) or a
saved search, newest first, ``limit`` items a page. Visibility is the archive's one rule
(``public_sql``) plus "has an MP3 to enclose": an episode without its main rendition is
not finished, whatever its status says. Turning these rows into feed items with URLs is
``radio.web.feed_items``'s job.

Every feed has a data-saver twin (``FeedSpec.saver``): the same episodes, each enclosing
its small rendition (``renditions.saver_kind``: AAC when it has one, which iPhones play,
else Opus), for the many apps that never look at ``podcast:alternateEnclosure``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlite_utils

from radio.data import soundbites as bites
from radio.data import tags
from radio.data.episodes import names_from_json, public_sql
from radio.data.errors import NotFound
from radio.data.facets import by_episode, only
from radio.data.search import matching_episodes_sql
from radio.data.search_feed import search_feed_sql
from radio.data.shows import get_show, shows
from radio.i18n import _, ngettext
from transcription.segments import Chapter

MAIN_RENDITION = "mp3"  # the renditions.kind every podcast app can play: the enclosure
OPENING_SEGMENTS = 4
RECENT_EPISODES = 20  # of a show, to tell its hosts from its guests


class FeedKind(StrEnum):
    ALL = "all"
    SHOW = "show"
    TOPIC = "topic"
    SEARCH = "search"


class FeedNotFound(NotFound):
    """No such show, topic or page; the message says what exists."""


@dataclass(frozen=True)
class FeedSpec:
    kind: FeedKind
    key: str = ""  # show slug, tag slug or the search as typed
    page: int = 1
    saver: bool = False  # the data-saver twin: the small rendition is the enclosure

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FeedKind(self.kind))  # "show" is FeedKind.SHOW


@dataclass(frozen=True)
class Subject:
    """What a show or topic feed is about (empty for the whole archive)."""

    title: str = ""  # the show's title, the topic's label or the search as typed
    description: str = ""
    language: str | None = None
    hosts: tuple[str, ...] = ()  # a show's hosts
    artwork: str | None = None  # a show's artwork (radio.data.artwork name)
    category: str | None = None  # a show's Apple category; None: the station's


@dataclass(frozen=True)
class RenditionFacts:
    kind: str  # renditions.kind: mp3, opus
    bytes: int
    mime: str
    bitrate: int | None


@dataclass(frozen=True)
class FeedEpisode:
    id: int
    guid: str
    title: str
    description: str
    published: datetime | None
    updated: datetime | None
    duration: float
    language: str | None
    speakers: tuple[str, ...]
    hosts: tuple[str, ...]  # its show's hosts: the speakers who aren't guests
    renditions: dict[str, RenditionFacts]  # by kind; the main one is always there
    opening: tuple[str, ...]  # the first segments' texts (none: not transcribed)
    chapters: tuple[Chapter, ...]  # in time order; none yet for a recording still untagged
    topics: tuple[str, ...]  # labels of its live tags, best first
    licence: str | None = None  # a radio.data.licences code; None: none stated
    soundbites: tuple[bites.Soundbite, ...] = ()  # moments an editor marked, in time order
    artwork: str | None = None  # its own artwork, else its show's (radio.data.artwork name)


@dataclass(frozen=True)
class FeedSubject:
    """A feed one can subscribe to, as the subscribe page and the OPML file list it."""

    spec: FeedSpec
    title: str  # the show's title, the topic's label, the search; "" for the whole archive
    episodes: int  # public ones


@dataclass(frozen=True)
class FeedPage:
    spec: FeedSpec
    subject: Subject
    episodes: list[FeedEpisode]
    pages: int


def parse_time(value: str | None) -> datetime | None:
    """The archive's UTC timestamps (``2026-11-02T10:00:00Z``, or naive ISO) as aware datetimes."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_ELSEWHERE = "/feeds/all.xml has every episode."


def _missing(spec: FeedSpec) -> FeedNotFound:
    """The one answer for a show or topic that doesn't exist, and for one with nothing a
    listener may see (a private show, a topic of private episodes only): the same words,
    so nobody learns that it exists, let alone its name."""
    return FeedNotFound(f"There is no {spec.kind} {spec.key!r}; {_ELSEWHERE}")


def _selection(db: sqlite_utils.Database, spec: FeedSpec) -> tuple[str, list[Any], Subject, int]:
    """The SQL condition picking the feed's episodes, its parameters, the subject and, for a
    show, its id (else 0)."""
    if spec.kind == FeedKind.SHOW:
        show = get_show(db, spec.key)
        if show is None:
            raise _missing(spec)
        subject = Subject(
            show.title,
            show.description or "",
            show.language,
            artwork=show.artwork,
            category=show.itunes_category,
        )
        return "e.show_id = ?", [show.id], subject, show.id
    if spec.kind == FeedKind.TOPIC:
        try:
            topic = tags.get_topic(db, spec.key)
        except tags.TopicNotFound:
            raise _missing(spec) from None
        return tags.topic_filter_sql("e"), [topic.slug], Subject(topic.label), 0
    if spec.kind == FeedKind.SEARCH:
        if matching_episodes_sql(spec.key) is None:  # BadQuery says what to fix
            raise FeedNotFound(str(_("Say what to follow: /feeds/search.xml?q=water")))
        where, params = search_feed_sql(db, spec.key)
        return where, params, Subject(spec.key), 0
    return "1", [], Subject(), 0


_EPISODES = (
    "select {cols} from episodes e join renditions r on r.episode_id = e.id "
    f"and r.kind = '{MAIN_RENDITION}' left join shows sh on sh.id = e.show_id "
    "where {public} and {where}"
)
_COLS = (
    "e.id, e.guid, e.title, e.description, coalesce(e.published_at, e.created_at) as published, "
    "e.updated_at, coalesce(r.duration, e.duration) as duration, "
    "coalesce(e.transcript_language, e.language, sh.language) as language, e.speakers, "
    "e.show_id, e.licence, coalesce(e.artwork, sh.artwork) as artwork"
)


def feed_page(db: sqlite_utils.Database, spec: FeedSpec, limit: int) -> FeedPage:
    """The subject and one page of episodes for ``spec``, newest first."""
    where, params, subject, show_id = _selection(db, spec)
    sql = _EPISODES.format(cols="{cols}", public=public_sql("e"), where=where)
    total = _total(db, where, params)
    if not total and spec.kind in (FeedKind.SHOW, FeedKind.TOPIC):
        raise _missing(spec)
    pages = max(1, -(-total // limit))
    if not 1 <= spec.page <= pages:
        raise FeedNotFound(
            ngettext(
                "This feed has {pages} page; there is no page {page}.",
                "This feed has {pages} pages; there is no page {page}.",
                pages,
            ).format(pages=pages, page=spec.page)
        )
    # Sort narrow rows, then read the page's few hundred in full.
    ids = [
        row[0]
        for row in db.execute(
            sql.format(cols="e.id")
            + " order by coalesce(e.published_at, e.created_at) desc, e.id desc limit ? offset ?",
            [*params, limit, (spec.page - 1) * limit],
        ).fetchall()
    ]
    marks = ",".join("?" * len(ids))
    by_id = {
        r["id"]: r
        for r in db.query(_EPISODES.format(cols=_COLS, public="1", where=f"e.id in ({marks})"), ids)
    }
    rows = [by_id[i] for i in ids]
    hosts = _hosts(db, {r["show_id"] for r in rows if r["show_id"]} | {show_id} - {0})
    if show_id:
        subject = replace(subject, hosts=hosts[show_id])
    return FeedPage(spec, subject, _episodes(db, rows, hosts), pages)


def _total(db: sqlite_utils.Database, where: str, params: list[Any]) -> int:
    """How many episodes a feed lists: counting reads every episode (10 ms at 10,000
    hours), so they are kept by episode (``radio.data.facets.by_episode``: after a change
    only the episodes it touched are read again) until the feed's renditions change (a new
    or removed MP3: read whole)."""
    renditions = db.execute("select max(id), count(*) from renditions").fetchone()

    def read(touched: str | None) -> list[tuple]:
        sql = _EPISODES.format(
            cols="e.id", public=public_sql("e"), where=f"({where}) and {only(touched, '?')}"
        )
        return db.execute(sql, params if touched is None else [*params, touched]).fetchall()

    key = (where, tuple(params), tuple(renditions))
    return by_episode(db, "feed total", key, read, lambda rows: sum(map(len, rows.values())))


def feed_subject(db: sqlite_utils.Database, spec: FeedSpec) -> FeedSubject:
    """What ``spec``'s feed is about, if it lists anything; ``FeedNotFound`` as the feed's
    own 404 otherwise (a show or topic with no public episode is not one)."""
    where, params, subject, _ = _selection(db, spec)
    sql = _EPISODES.format(cols="count(*)", public=public_sql("e"), where=where)
    total = db.execute(sql, params).fetchone()[0]
    if not total and spec.kind in (FeedKind.SHOW, FeedKind.TOPIC):
        raise _missing(spec)
    return FeedSubject(spec, subject.title, total)


def feed_subjects(db: sqlite_utils.Database, topic_kinds: Collection[str]) -> list[FeedSubject]:
    """Every feed worth listing: the whole archive, each show with a public episode (by
    title) and each topic of ``topic_kinds`` with one (the station's topics first)."""
    (total,) = db.execute(
        _EPISODES.format(cols="count(*)", public=public_sql("e"), where="1")
    ).fetchone()
    found = [FeedSubject(FeedSpec(FeedKind.ALL), "", total)]
    found += [
        FeedSubject(FeedSpec(FeedKind.SHOW, show.slug), show.title, show.episodes)
        for show in shows(db)
    ]
    found += [
        FeedSubject(FeedSpec(FeedKind.TOPIC, topic.slug), topic.label, topic.episodes)
        for topic in tags.list_topics(db, public_only=True)
        if topic.kind in topic_kinds
    ]
    return found


def _hosts(db: sqlite_utils.Database, show_ids: set[int]) -> dict[int, tuple[str, ...]]:
    """A show's hosts: ``shows.hosts`` when the station set it, else the people named as
    speakers in at least half of its recent episodes (those nearly always there are hosts).
    """
    hosts: dict[int, tuple[str, ...]] = {}
    for show_id in sorted(show_ids):
        (listed,) = db.execute("select hosts from shows where id = ?", [show_id]).fetchone()
        if listed:
            hosts[show_id] = tuple(names_from_json(listed))
            continue
        recent = db.execute(
            f"select e.speakers from episodes e where e.show_id = ? and {public_sql('e')} "
            "order by e.published_at desc limit ?",
            [show_id, RECENT_EPISODES],
        ).fetchall()
        counts = Counter(name for (speakers,) in recent for name in names_from_json(speakers))
        hosts[show_id] = tuple(n for n, times in counts.most_common() if 2 * times >= len(recent))
    return hosts


def _by_episode(db: sqlite_utils.Database, sql: str, ids: Sequence[int]) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    if ids:
        marks = ",".join("?" * len(ids))
        for row in db.execute(sql.format(ids=marks), list(ids)).fetchall():
            grouped[row[0]].append(row[1:])
    return grouped


def _episodes(
    db: sqlite_utils.Database, rows: list[dict[str, Any]], hosts: dict[int, tuple[str, ...]]
) -> list[FeedEpisode]:
    ids = [r["id"] for r in rows]
    renditions = _by_episode(
        db,
        "select episode_id, kind, bytes, mime, bitrate from renditions "
        "where episode_id in ({ids}) order by kind",
        ids,
    )
    openings = _by_episode(
        db,
        "select episode_id, text from segments where episode_id in ({ids}) "
        f"and idx < {OPENING_SEGMENTS} order by episode_id, idx",
        ids,
    )
    chapters = tags.chapters_of_episodes(db, ids)
    topics = tags.topic_labels(db, ids)
    marked = bites.of_episodes(db, ids)
    return [
        FeedEpisode(
            id=r["id"],
            guid=r["guid"],
            title=r["title"],
            description=r["description"] or "",
            published=parse_time(r["published"]),
            updated=parse_time(r["updated_at"]),
            duration=float(r["duration"] or 0),
            language=r["language"],
            speakers=tuple(names_from_json(r["speakers"])),
            hosts=hosts.get(r["show_id"], ()),
            renditions={f[0]: RenditionFacts(*f) for f in renditions[r["id"]]},
            opening=tuple(text for (text,) in openings[r["id"]]),
            chapters=tuple(chapters.get(r["id"], ())),
            topics=tuple(topics[r["id"]]),
            licence=r["licence"],
            soundbites=tuple(marked.get(r["id"], ())),
            artwork=r["artwork"],
        )
        for r in rows
    ]


def public_chapters(db: sqlite_utils.Database, guid: str) -> tuple[str, str | None, list[Chapter]]:
    """A public episode's chapters: (episode title, show title, chapters)."""
    row = db.execute(
        "select e.id, e.title, sh.title from episodes e left join shows sh on sh.id = e.show_id "
        f"where e.guid = ? and {public_sql('e')}",
        [guid],
    ).fetchone()
    if not row:  # the same answer whether it is missing or hidden
        raise FeedNotFound(_("Episode {guid} doesn't exist.").format(guid=guid))
    chapters = tags.chapters(db, row[0])
    if not chapters:
        raise FeedNotFound(_("Episode {guid} has no chapters yet.").format(guid=guid))
    return row[1], row[2], chapters
