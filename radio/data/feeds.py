"""What the podcast feeds show, read from the database as ``feeds`` dataclasses.

A feed is one of: every public episode (``all``), one show, one topic (tag) or a
saved search, newest first, ``FEED_LIMIT`` items a page. Visibility is the archive's
one rule (``public_sql``) plus "has an MP3 to enclose": an episode without its
main rendition is not finished, whatever its status says.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import sqlite_utils

from feeds.build import Enclosure, FeedInfo, FeedItem, Paging, Person, Transcript
from feeds.chapters import Chapter
from radio.data.episodes import public_sql
from radio.data.search import parse_query

logger = logging.getLogger(__name__)

KINDS = ("all", "show", "topic", "search")
OPENING_SEGMENTS = 4
OPENING_CHARS = 320
RECENT_EPISODES = 20  # of a show, to tell its hosts from its guests
CATEGORY = "Society & Culture"

# Where things live on the archive's web side (the URL map shared with the web pages).
TRANSCRIPTS = (  # extension, MIME type, captions
    ("vtt", "text/vtt", True),
    ("srt", "application/x-subrip", False),
    ("json", "application/json", False),
)


class FeedNotFound(LookupError):
    """No such show, topic or page; the message says what exists."""


@dataclass(frozen=True)
class FeedSpec:
    kind: str  # one of KINDS
    key: str = ""  # show slug, tag slug or the search as typed
    page: int = 1


@dataclass(frozen=True)
class FeedData:
    info: FeedInfo
    items: list[FeedItem]
    last_modified: datetime | None


class Urls:
    """Absolute URLs on the archive, from RADIO_BASE_URL or the request's own root."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def __call__(self, path: str) -> str:
        return self.base + path

    def episode(self, guid: str) -> str:
        return self(f"/episodes/{guid}")

    def media(self, guid: str, kind: str) -> str:
        return self(f"/media/{guid}/audio.{kind}")

    def transcript(self, guid: str, ext: str) -> str:
        return self(f"/episodes/{guid}/transcript.{ext}")

    def chapters(self, guid: str) -> str:
        return self(f"/feeds/chapters/{guid}.json")

    def feed(self, spec: FeedSpec, page: int = 1) -> str:
        if spec.kind == "all":
            path, query = "/feeds/all.xml", {}
        elif spec.kind == "search":
            path, query = "/feeds/search.xml", {"q": spec.key}
        else:
            path, query = f"/feeds/{spec.kind}s/{quote(spec.key)}.xml", {}
        if page > 1:
            query["page"] = str(page)
        return self(path) + ("?" + urlencode(query) if query else "")

    def page(self, spec: FeedSpec) -> str:
        """The web page listing the same episodes as the feed."""
        if spec.kind == "show":
            return self(f"/shows/{quote(spec.key)}")
        if spec.kind == "topic":
            return self(f"/topics/{quote(spec.key)}")
        if spec.kind == "search":
            return self("/search?" + urlencode({"q": spec.key}))
        return self("/")


def parse_time(value: str | None) -> datetime | None:
    """The archive's UTC timestamps (``2026-11-02T10:00:00Z``, or naive ISO) as aware datetimes."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _selection(db: sqlite_utils.Database, spec: FeedSpec) -> tuple[str, list[Any], dict]:
    """The SQL condition picking the feed's episodes, its parameters and facts for the channel."""
    if spec.kind == "all":
        return "1", [], {}
    if spec.kind == "show":
        row = db.execute(
            "select id, slug, title, description, language from shows where slug = ?", [spec.key]
        ).fetchone()
        if not row:
            raise FeedNotFound(f"There is no show {spec.key!r}; /feeds/all.xml has every episode.")
        keys = ("id", "slug", "title", "description", "language")
        return "e.show_id = ?", [row[0]], dict(zip(keys, row, strict=True))
    if spec.kind == "topic":
        row = db.execute("select id, slug, label from tags where slug = ?", [spec.key]).fetchone()
        if not row:
            raise FeedNotFound(f"There is no topic {spec.key!r}; /feeds/all.xml has every episode.")
        condition = (
            "exists (select 1 from episode_tags et where et.episode_id = e.id "
            "and et.tag_id = ? and coalesce(et.removed, 0) = 0)"
        )
        return condition, [row[0]], {"id": row[0], "slug": row[1], "title": row[2]}
    if spec.kind == "search":
        fts = parse_query(spec.key)  # raises BadQuery with a message for the listener
        if not fts:
            raise FeedNotFound("Say what to follow: /feeds/search.xml?q=water")
        condition = (
            "e.id in (select s.episode_id from segments_fts join segments s "
            "on s.id = segments_fts.rowid where segments_fts match ? "
            "union select rowid from episodes_fts where episodes_fts match ?)"
        )
        return condition, [fts, fts], {"query": spec.key}
    raise FeedNotFound(f"There is no kind of feed {spec.kind!r}; use one of {', '.join(KINDS)}.")


_EPISODES = (
    "select {cols} from episodes e join renditions r on r.episode_id = e.id and r.kind = 'mp3' "
    "left join shows sh on sh.id = e.show_id where {public} and {where}"
)
_COLS = (
    "e.id, e.guid, e.title, e.description, coalesce(e.published_at, e.created_at) as published, "
    "e.updated_at, coalesce(r.duration, e.duration) as duration, "
    "coalesce(e.transcript_language, e.language, sh.language) as language, e.speakers, "
    "e.show_id, sh.title as show_title"
)


def load_feed(
    db: sqlite_utils.Database, config: dict[str, Any], urls: Urls, spec: FeedSpec
) -> FeedData:
    """The channel and one page of items for ``spec``."""
    limit = max(1, int(config.get("FEED_LIMIT") or 300))
    where, params, facts = _selection(db, spec)
    sql = _EPISODES.format(cols="{cols}", public=public_sql("e"), where=where)
    total = db.execute(sql.format(cols="count(*)"), params).fetchone()[0]
    pages = max(1, -(-total // limit))
    if not 1 <= spec.page <= pages:
        raise FeedNotFound(f"This feed has {pages} page(s); there is no page {spec.page}.")
    # Sort narrow rows, then read the page's few hundred in full.
    ids = [
        row[0]
        for row in db.execute(
            sql.format(cols="e.id")
            + " order by coalesce(e.published_at, e.created_at) desc, e.id desc limit ? offset ?",
            [*params, limit, (spec.page - 1) * limit],
        ).fetchall()
    ]
    by_id = {
        r["id"]: dict(r)
        for r in db.query(
            _EPISODES.format(cols=_COLS, public="1", where=f"e.id in ({','.join('?' * len(ids))})"),
            ids,
        )
    }
    rows = [by_id[i] for i in ids]
    hosts = _hosts(db, {r["show_id"] for r in rows if r["show_id"]} | _show_ids(facts, spec))
    items = _items(db, urls, rows, hosts)
    info = _info(config, urls, spec, facts, items, pages, hosts)
    stamps = [parse_time(r["updated_at"]) or parse_time(r["published"]) for r in rows]
    last_modified = max((s for s in stamps if s), default=None)
    return FeedData(info=info, items=items, last_modified=last_modified)


def _show_ids(facts: dict, spec: FeedSpec) -> set[int]:
    return {facts["id"]} if spec.kind == "show" else set()


def _hosts(db: sqlite_utils.Database, show_ids: set[int]) -> dict[int, list[str]]:
    """A show's hosts: ``shows.hosts`` when the station set it, else the people named as
    speakers in at least half of its recent episodes (those nearly always there are hosts).
    """
    hosts: dict[int, list[str]] = {}
    for show_id in sorted(show_ids):
        (listed,) = db.execute("select hosts from shows where id = ?", [show_id]).fetchone()
        if listed:
            hosts[show_id] = _names(listed)
            continue
        recent = db.execute(
            f"select e.speakers from episodes e where e.show_id = ? and {public_sql('e')} "
            "order by e.published_at desc limit ?",
            [show_id, RECENT_EPISODES],
        ).fetchall()
        counts = Counter(name for (speakers,) in recent for name in _names(speakers))
        hosts[show_id] = [name for name, n in counts.most_common() if 2 * n >= len(recent)]
    return hosts


def _names(speakers: str | None) -> list[str]:
    """The speakers column (a JSON list of names) as clean, distinct names."""
    try:
        names = json.loads(speakers) if speakers else []
    except ValueError:
        return []
    if not isinstance(names, list):
        return []
    return list(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


def _by_episode(db: sqlite_utils.Database, sql: str, ids: Sequence[int]) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    if ids:
        marks = ",".join("?" * len(ids))
        for row in db.execute(sql.format(ids=marks), list(ids)).fetchall():
            grouped[row[0]].append(row[1:])
    return grouped


def _items(
    db: sqlite_utils.Database, urls: Urls, rows: list[dict], hosts: dict[int, list[str]]
) -> list[FeedItem]:
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
    chaptered = _by_episode(
        db, "select distinct episode_id, 1 from chapters where episode_id in ({ids})", ids
    )
    topics = _by_episode(
        db,
        "select et.episode_id, t.label from episode_tags et join tags t on t.id = et.tag_id "
        "where et.episode_id in ({ids}) and coalesce(et.removed, 0) = 0 "
        "order by et.episode_id, et.score desc, t.label",
        ids,
    )
    items = []
    for row in rows:
        guid, eid = row["guid"], row["id"]
        kinds = {kind: (size, mime, bitrate) for kind, size, mime, bitrate in renditions[eid]}
        items.append(
            FeedItem(
                guid=guid,
                title=row["title"],
                link=urls.episode(guid),
                published=parse_time(row["published"]) or datetime.now(UTC),
                duration=float(row["duration"] or 0),
                enclosure=_enclosure(urls, guid, "mp3", kinds["mp3"]),
                alternates=(
                    (_enclosure(urls, guid, "opus", kinds["opus"], title="Data saver"),)
                    if "opus" in kinds
                    else ()
                ),
                transcripts=_transcripts(urls, guid, row["language"]) if openings[eid] else (),
                chapters_url=urls.chapters(guid) if chaptered[eid] else None,
                summary=row["description"] or "",
                opening=_opening(t for (t,) in openings[eid]),
                language=row["language"],
                persons=_persons(row["speakers"], hosts.get(row["show_id"], [])),
                topics=tuple(label for (label,) in topics[eid]),
            )
        )
    return items


def _enclosure(
    urls: Urls, guid: str, kind: str, facts: tuple, title: str | None = None
) -> Enclosure:
    size, mime, bitrate = facts
    return Enclosure(
        url=urls.media(guid, kind),
        length=int(size),
        mime=mime,
        bitrate=int(bitrate) if bitrate else None,
        codecs="opus" if kind == "opus" else None,
        title=title,
    )


def _transcripts(urls: Urls, guid: str, language: str | None) -> tuple[Transcript, ...]:
    return tuple(
        Transcript(urls.transcript(guid, ext), mime, language=language, captions=captions)
        for ext, mime, captions in TRANSCRIPTS
    )


def _opening(texts: Any) -> str:
    """The first few things said, cut at a word near OPENING_CHARS."""
    text = " ".join(t.strip() for t in texts if t and t.strip())
    if len(text) <= OPENING_CHARS:
        return text
    cut = text[:OPENING_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _persons(speakers: str | None, hosts: list[str]) -> tuple[Person, ...]:
    return tuple(Person(n, role="host" if n in hosts else "guest") for n in _names(speakers))


def _info(
    config: dict[str, Any],
    urls: Urls,
    spec: FeedSpec,
    facts: dict,
    items: list[FeedItem],
    pages: int,
    hosts: dict[int, list[str]],
) -> FeedInfo:
    station = config.get("STATION_NAME") or "Community Radio Archive"
    if spec.kind == "show":
        title = facts["title"]
        description = facts["description"] or f"{title}, from {station}."
    elif spec.kind == "topic":
        title = f"{facts['title']} · {station}"
        description = f"Episodes of {station} about {facts['title']}."
    elif spec.kind == "search":
        title = f"“{facts['query']}” · {station}"
        description = f"Episodes of {station} where “{facts['query']}” is said."
    else:
        title = station
        description = f"Everything {station} has published, newest first."
    languages = Counter(i.language for i in items if i.language)
    language = facts.get("language") or (languages.most_common(1)[0][0] if languages else None)
    show_hosts = hosts.get(facts["id"], []) if spec.kind == "show" else []
    return FeedInfo(
        title=title,
        link=urls.page(spec),
        self_url=urls.feed(spec, spec.page),
        guid_url=urls.feed(spec),
        description=description,
        author=station,
        language=language,
        owner_email=config.get("FEED_OWNER_EMAIL") or None,
        image_url=_image(urls, config.get("FEED_IMAGE_URL")),
        category=config.get("FEED_CATEGORY") or CATEGORY,
        locked=bool(config.get("FEED_LOCKED", True)),
        hosts=tuple(Person(name) for name in show_hosts),
        paging=_paging(urls, spec, pages),
    )


def _image(urls: Urls, value: str | None) -> str | None:
    """FEED_IMAGE_URL: a full URL, or a path on the archive such as /static/cover.png."""
    if not value:
        return None
    return urls(value) if value.startswith("/") else value


def _paging(urls: Urls, spec: FeedSpec, pages: int) -> Paging | None:
    if pages == 1:
        return None
    return Paging(
        first=urls.feed(spec, 1),
        previous=urls.feed(spec, spec.page - 1) if spec.page > 1 else None,
        next=urls.feed(spec, spec.page + 1) if spec.page < pages else None,
        last=urls.feed(spec, pages),
    )


def load_chapters(db: sqlite_utils.Database, guid: str) -> tuple[str, str | None, list[Chapter]]:
    """A public episode's chapters: (episode title, show title, chapters)."""
    row = db.execute(
        "select e.id, e.title, sh.title from episodes e left join shows sh on sh.id = e.show_id "
        f"where e.guid = ? and {public_sql('e')}",
        [guid],
    ).fetchone()
    if not row:
        raise FeedNotFound(f"Episode {guid} doesn't exist or isn't public.")
    chapters = [
        Chapter(start=start, title=title, end=end)
        for start, end, title in db.execute(
            "select start, end, title from chapters where episode_id = ? order by idx", [row[0]]
        ).fetchall()
    ]
    if not chapters:
        raise FeedNotFound(f"Episode {guid} has no chapters yet.")
    return row[1], row[2], chapters
