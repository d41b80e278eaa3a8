"""Topics and chapters in the database: computed tags, editors' tags, chapters, queries.

Each episode's tags are rows of ``episode_tags`` with a ``source``:

- ``keyphrase`` and ``taxonomy`` rows are computed (``topics_step``, ``retag``) and replaced
  whole each time;
- ``manual`` rows are editors' decisions and are never touched by a computation: an added
  tag (``removed = 0``) stays, and a removed one (``removed = 1``) is kept as a row so that
  no retag brings it back.

The primary key (episode, tag) holds one row per tag, so a manual row simply wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlite_utils

from radio.config import load_station_taxonomy
from radio.data.episodes import Episode, get_episode, live_sql, public_sql
from radio.data.errors import Invalid, NotFound
from radio.data.shows import slugify
from radio.db import home_of, transaction, utcnow
from radio.i18n import _
from transcription.segments import Chapter
from transcription.taxonomy import Taxonomy
from transcription.topics import Keyphrase, TopicScore

logger = logging.getLogger(__name__)


_LIVE = "coalesce(et.removed, 0) = 0"  # a tag an editor removed is kept, but doesn't count


class TagKind(StrEnum):
    """A tag's kind, and also the source of an episode's tag (who decided it)."""

    TAXONOMY = "taxonomy"  # one of the station's topics (taxonomy.toml)
    KEYPHRASE = "keyphrase"  # a phrase the recording kept coming back to
    MANUAL = "manual"  # a new tag an editor typed


AUTO_SOURCES = (TagKind.KEYPHRASE, TagKind.TAXONOMY)  # computed, replaced on every retag


@dataclass(frozen=True)
class Topic:
    id: int
    slug: str
    label: str
    kind: str


@dataclass(frozen=True)
class TopicCount:
    slug: str
    label: str
    kind: str
    episodes: int  # that the viewer may see


@dataclass(frozen=True)
class EpisodeTag:
    slug: str
    label: str
    kind: str
    source: str  # keyphrase | taxonomy | manual: who decided it
    score: float | None
    removed: bool = False  # an editor's removal, kept so no retag brings it back


@dataclass(frozen=True)
class TaggedEpisode(Episode):
    """An episode as a topic lists it: with who decided the tag, and how strongly."""

    source: str | None = None
    score: float | None = None


class TagError(Invalid):
    """An editor's tag change can't be made; the message says what to type instead."""


class TopicNotFound(NotFound):
    def __init__(self, slug: str) -> None:
        super().__init__(
            _("There is no topic {slug!r}. `radio topics` lists the topics.").format(slug=slug)
        )


def replace_computed(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    topics: Sequence[TopicScore],
    keyphrases: Sequence[Keyphrase],
    chapters: Sequence[Chapter],
    taxonomy_slugs: set[str],
) -> None:
    """Replace an episode's computed tags and its chapters in one transaction.

    Editors' manual rows win over computed ones and are never touched here.
    """
    rows: dict[str, tuple[str, str, str, float]] = {}  # slug -> label, kind, source, score
    for topic in topics:
        rows[topic.slug] = (topic.label, TagKind.TAXONOMY, TagKind.TAXONOMY, topic.score)
    for phrase in keyphrases:
        slug = slugify(phrase.text)
        if slug in taxonomy_slugs or slug in rows or slug == "show":
            continue  # taxonomy topics are decided by the taxonomy, not by one phrase
        rows[slug] = (phrase.text, TagKind.KEYPHRASE, TagKind.KEYPHRASE, phrase.score)
    now = utcnow()
    with transaction(db) as conn:
        conn.execute(
            "delete from episode_tags where episode_id = ? and source in (?, ?)",
            [episode_id, *AUTO_SOURCES],
        )
        for slug, (label, kind, source, score) in rows.items():
            tag_id = _ensure_tag(conn, slug, label, kind, now)
            # A manual row for this tag (added or removed by an editor) wins: ignore.
            conn.execute(
                "insert or ignore into episode_tags "
                "(episode_id, tag_id, source, score, removed, created_at) "
                "values (?, ?, ?, ?, 0, ?)",
                [episode_id, tag_id, source, round(score, 4), now],
            )
        # A keyphrase no episode has any more goes: its words may be all that is left of
        # a removed passage (#16), and the topic lists never show an empty one anyway.
        conn.execute(
            "delete from tags where kind = ? and not exists "
            "(select 1 from episode_tags et where et.tag_id = tags.id)",
            [TagKind.KEYPHRASE],
        )
        if chapters_by_hand(conn, episode_id):
            chapters = []  # an editor's chapters stay, as editors' tags do (#15)
        else:
            _write_chapters(conn, episode_id, chapters)
    logger.info("episode %s: tags %s, %d chapters", episode_id, list(rows), len(chapters))


def _write_chapters(conn: Any, episode_id: int, chapters: Sequence[Chapter]) -> None:
    conn.execute("delete from chapters where episode_id = ?", [episode_id])
    for idx, chapter in enumerate(chapters):
        conn.execute(
            "insert into chapters (episode_id, idx, start, end, title) values (?, ?, ?, ?, ?)",
            [episode_id, idx, chapter.start, chapter.end, chapter.title],
        )


def chapters_by_hand(conn: Any, episode_id: int) -> str | None:
    """When an editor last set the episode's chapters, or None while they are computed."""
    row = conn.execute("select chapters_by_hand from episodes where id = ?", [episode_id])
    found = row.fetchone()
    return found[0] if found else None


def set_chapters_by_hand(
    conn: Any, episode_id: int, chapters: Sequence[Chapter] | None, now: str
) -> None:
    """Inside the caller's transaction: an editor's chapters replace the episode's, and no
    computation replaces them again; None gives the chapters back to the computation
    (the next retag finds them)."""
    if chapters is not None:
        _write_chapters(conn, episode_id, chapters)
    conn.execute(
        "update episodes set chapters_by_hand = ?, updated_at = ? where id = ?",
        [now if chapters is not None else None, now, episode_id],
    )


def replace_topics(conn: Any, episode_id: int, topics: Sequence[dict], now: str) -> None:
    """In the caller's transaction: an imported episode's topics, as its station set them."""
    conn.execute("delete from episode_tags where episode_id = ?", [episode_id])
    conn.executemany(
        "insert or ignore into tags (slug, label, kind, created_at) values (?, ?, ?, ?)",
        [(t["slug"], t["label"], t.get("kind"), now) for t in topics],
    )
    conn.executemany(
        "insert or ignore into episode_tags (episode_id, tag_id, source, score, removed, "
        "created_at) select ?, id, ?, ?, 0, ? from tags where slug = ?",
        [(episode_id, t.get("source"), t.get("score"), now, t["slug"]) for t in topics],
    )


def _ensure_tag(conn: Any, slug: str, label: str, kind: str, now: str) -> int:
    conn.execute(
        "insert or ignore into tags (slug, label, kind, created_at) values (?, ?, ?, ?)",
        [slug, label, kind, now],
    )
    if kind == TagKind.TAXONOMY:  # the taxonomy file owns its labels, even if a tag came first
        conn.execute("update tags set label = ?, kind = 'taxonomy' where slug = ?", [label, slug])
    return conn.execute("select id from tags where slug = ?", [slug]).fetchone()[0]


# -- editors -------------------------------------------------------------------------------


def tag_episode(
    db: sqlite_utils.Database,
    episode_id: int,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    *,
    taxonomy: Taxonomy | None = None,
) -> list[dict[str, Any]]:
    """An editor adds and removes tags ("water", "Health", "market day"); returns the tags.

    Names are matched to taxonomy topics first (by slug, label or the start of a slug, so
    "water" is "water-and-sanitation"), then to existing tags; an added name that matches
    nothing becomes a new tag. Both kinds of decision are kept through every retag.
    """
    taxonomy = taxonomy or load_station_taxonomy(home_of(db))
    get_episode(db, episode_id)  # raises EpisodeNotFound
    overlap = {slugify(a) for a in add} & {slugify(r) for r in remove}
    if overlap:
        raise TagError(
            _("Tag {tag!r} is both added and removed; choose one.").format(tag=sorted(overlap)[0])
        )
    now = utcnow()
    resolved = [(_resolve(db, name, taxonomy, adding=True), 0) for name in add] + [
        (_resolve(db, name, taxonomy, adding=False), 1) for name in remove
    ]
    with transaction(db) as conn:
        for (slug, label, kind), removed in resolved:
            tag_id = _ensure_tag(conn, slug, label, kind, now)
            conn.execute(
                "insert into episode_tags (episode_id, tag_id, source, score, removed, created_at) "
                "values (?, ?, 'manual', ?, ?, ?) on conflict(episode_id, tag_id) do update set "
                "source = 'manual', removed = excluded.removed, created_at = excluded.created_at, "
                "score = case when excluded.removed then episode_tags.score else 1.0 end",
                [episode_id, tag_id, None if removed else 1.0, removed, now],
            )
    logger.info("episode %s: tags +%s -%s", episode_id, list(add), list(remove))
    return episode_tags(db, episode_id, include_removed=True)


def _resolve(
    db: sqlite_utils.Database, name: str, taxonomy: Taxonomy, *, adding: bool
) -> tuple[str, str, str]:
    """(slug, label, kind) for what an editor typed."""
    text = " ".join(name.split())
    if not re.search(r"[^\W_]", text):
        raise TagError(
            _("{name!r} is not a tag name; use letters or digits, e.g. +water.").format(name=name)
        )
    slug = slugify(text)
    if not adding:
        # A Remove button names the tag's own slug: a keyphrase tag "water" must not be
        # taken for the taxonomy topic "water-and-sanitation".
        row = db.execute("select slug, label, kind from tags where slug = ?", [slug]).fetchone()
        if row:
            return row[0], row[1], row[2]
    topic = taxonomy.find(text) or taxonomy.get(slug)
    if topic is None:
        prefixed = [t for t in taxonomy.topics if t.slug.startswith(slug + "-")]
        if len(prefixed) == 1:
            topic = prefixed[0]
    if topic:
        return topic.slug, topic.label, TagKind.TAXONOMY
    row = db.execute("select slug, label, kind from tags where slug = ?", [slug]).fetchone()
    if row:
        return row[0], row[1], row[2]
    if not adding:
        raise TagError(
            _(
                "There is no tag {tag!r} to remove. `radio tag EPISODE` lists the episode's tags."
            ).format(tag=text)
        )
    return slug, text, TagKind.MANUAL


def episode_tags(
    db: sqlite_utils.Database, episode_id: int, *, include_removed: bool = False
) -> list[EpisodeTag]:
    """An episode's tags, best first (editors' removals last, when asked for)."""
    hide = "" if include_removed else f"and {_LIVE}"
    rows = db.execute(
        "select t.slug, t.label, t.kind, et.source, et.score, et.removed "
        "from episode_tags et join tags t on t.id = et.tag_id "
        f"where et.episode_id = ? {hide} "
        "order by et.removed, et.source = 'keyphrase', et.score desc, t.label",
        [episode_id],
    ).fetchall()
    return [EpisodeTag(*r[:5], removed=bool(r[5])) for r in rows]


def topic_labels(db: sqlite_utils.Database, episode_ids: list[int]) -> dict[int, list[str]]:
    """The labels of each episode's live tags, best first (feed items' categories)."""
    found: dict[int, list[str]] = {i: [] for i in episode_ids}
    if not episode_ids:
        return found
    marks = ",".join("?" * len(episode_ids))
    rows = db.execute(
        "select et.episode_id, t.label from episode_tags et join tags t on t.id = et.tag_id "
        f"where et.episode_id in ({marks}) and {_LIVE} "
        "order by et.episode_id, et.score desc, t.label",
        episode_ids,
    ).fetchall()
    for episode_id, label in rows:
        found[episode_id].append(label)
    return found


# -- pages, search and feeds ----------------------------------------------------------------


def topic_filter_sql(alias: str = "e", param: str = "?") -> str:
    """SQL for "episode ``alias`` has the topic whose slug is the parameter ``param``";
    the one such rule for pages, search and feeds: a tag an editor removed doesn't count."""
    return (
        "exists (select 1 from episode_tags et join tags t_f on t_f.id = et.tag_id "
        f"where et.episode_id = {alias}.id and {_LIVE} and t_f.slug = {param})"
    )


def get_topic(db: sqlite_utils.Database, slug: str) -> Topic:
    row = db.execute("select id, slug, label, kind from tags where slug = ?", [slug]).fetchone()
    if not row:
        raise TopicNotFound(slug)
    return Topic(*row)


def list_topics(
    db: sqlite_utils.Database, *, public_only: bool = True, kind: str | None = None
) -> list[TopicCount]:
    """Tags in use with their episode counts: taxonomy topics first, then by count."""
    visible = f"and {public_sql('e')}" if public_only else f"and {live_sql('e')}"
    where, params = ("where t.kind = ?", [kind]) if kind else ("", [])
    rows = db.execute(
        "select t.slug, t.label, t.kind, count(e.id) as episodes from tags t "
        f"left join episode_tags et on et.tag_id = t.id and {_LIVE} "
        f"left join episodes e on e.id = et.episode_id {visible} {where} "
        "group by t.id having episodes > 0 "
        "order by t.kind != 'taxonomy', episodes desc, t.label",
        params,
    ).fetchall()
    return [TopicCount(*r) for r in rows]


def episodes_for_topic(
    db: sqlite_utils.Database,
    slug: str,
    *,
    public_only: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[TaggedEpisode]:
    """Episodes with the topic, newest first, each with the tag's source and score."""
    visible = f"and {public_sql('e')}" if public_only else f"and {live_sql('e')}"
    rows = db.query(
        "select e.*, s.slug as show_slug, s.title as show_title, et.source, et.score "
        "from episode_tags et join episodes e on e.id = et.episode_id "
        "left join shows s on s.id = e.show_id "
        f"where et.tag_id = ? and {_LIVE} {visible} "
        "order by coalesce(e.published_at, e.created_at) desc, e.id desc limit ? offset ?",
        [get_topic(db, slug).id, limit, offset],
    )
    return [TaggedEpisode.from_row(r) for r in rows]


def chapters(db: sqlite_utils.Database, episode_id: int) -> list[Chapter]:
    """An episode's chapters in order (the one chapters query: pages, feeds, CLI)."""
    return [
        Chapter(start=row[0], end=row[1], title=row[2])
        for row in db.execute(
            "select start, end, title from chapters where episode_id = ? order by idx",
            [episode_id],
        ).fetchall()
    ]


def chapters_of_episodes(
    db: sqlite_utils.Database, episode_ids: list[int]
) -> dict[int, list[Chapter]]:
    """The chapters of each of these episodes that has any, in order (one query for a feed)."""
    found: dict[int, list[Chapter]] = {}
    if not episode_ids:
        return found
    marks = ",".join("?" * len(episode_ids))
    rows = db.execute(
        f"select episode_id, start, end, title from chapters where episode_id in ({marks}) "
        "order by episode_id, idx",
        episode_ids,
    ).fetchall()
    for episode_id, start, end, title in rows:
        found.setdefault(episode_id, []).append(Chapter(start=start, end=end, title=title))
    return found
