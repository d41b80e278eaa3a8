"""Topics and chapters in the database: the pipeline step, editors' tags, retagging, queries.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.db import utcnow
from radio.episodes import get_episode, public_sql, slugify
from radio.pipeline import Context, StepError
from radio.transcripts import load_segments
from transcription.taxonomy import Taxonomy, TaxonomyError, load_default_taxonomy, load_taxonomy
from transcription.topics import (
    CHAPTER_PENALTY,
    DEFAULT_THRESHOLD,
    Chapter,
    Keyphrase,
    TopicScore,
    extract_keyphrases,
    phrase_moments,
    score_topics,
    split_chapters,
)

logger = logging.getLogger(__name__)

TAXONOMY_FILE = "taxonomy.toml"
AUTO_SOURCES = ("keyphrase", "taxonomy")
SETTINGS_FIX = (
    "fix TOPIC_THRESHOLD, KEYPHRASE_TAGS, CHAPTER_MIN_SECONDS or CHAPTER_PENALTY in config.toml"
)
MOMENT_GAP = 60.0  # seconds: mentions closer than this are one moment


class TagError(ValueError):
    """An editor's tag change can't be made; the message says what to type instead."""


class TopicNotFound(LookupError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"There is no topic {slug!r}. `radio topics` lists the topics.")


@dataclass(frozen=True)
class Settings:
    threshold: float = DEFAULT_THRESHOLD
    keyphrase_tags: int = 5
    chapter_min_seconds: float = 60.0
    chapter_penalty: float = CHAPTER_PENALTY

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """From TOPIC_THRESHOLD, KEYPHRASE_TAGS, CHAPTER_MIN_SECONDS, CHAPTER_PENALTY."""
        try:
            settings = cls(
                threshold=float(_setting(config, "TOPIC_THRESHOLD", DEFAULT_THRESHOLD)),
                keyphrase_tags=int(_setting(config, "KEYPHRASE_TAGS", 5)),
                chapter_min_seconds=float(_setting(config, "CHAPTER_MIN_SECONDS", 60.0)),
                chapter_penalty=float(_setting(config, "CHAPTER_PENALTY", CHAPTER_PENALTY)),
            )
        except (TypeError, ValueError) as e:
            raise StepError(f"a topic setting is not a number ({e}); {SETTINGS_FIX}") from e
        if not 0 < settings.threshold <= 1 or settings.keyphrase_tags < 0:
            raise StepError(
                f"TOPIC_THRESHOLD must be in (0, 1], KEYPHRASE_TAGS >= 0; {SETTINGS_FIX}"
            )
        if settings.chapter_min_seconds <= 0 or settings.chapter_penalty <= 0:
            raise StepError(f"chapter settings must be above zero; {SETTINGS_FIX}")
        return settings


def _setting(config: dict[str, Any], key: str, default: float) -> Any:
    value = config.get(key)
    return default if value is None or value == "" else value


@dataclass(frozen=True)
class Analysis:
    keyphrases: list[Keyphrase]
    topics: list[TopicScore]
    chapters: list[Chapter]


def database_home(db: sqlite_utils.Database) -> Path:
    """The data folder a database lives in."""
    return Path(db.conn.execute("PRAGMA database_list").fetchone()[2]).parent


def load_station_taxonomy(home: str | Path) -> Taxonomy:
    """The data folder's ``taxonomy.toml`` if there is one, else the shipped default."""
    path = Path(home) / TAXONOMY_FILE
    if path.exists():
        return load_taxonomy(path)
    return load_default_taxonomy()


# -- computing -----------------------------------------------------------------------------


def analyse_episode(
    db: sqlite_utils.Database, episode: dict[str, Any], taxonomy: Taxonomy, settings: Settings
) -> Analysis:
    segments = load_segments(db, episode["id"])
    language = episode.get("transcript_language") or episode.get("language") or "en"
    return Analysis(
        keyphrases=extract_keyphrases(segments, language, n=max(settings.keyphrase_tags, 1)),
        topics=score_topics(segments, taxonomy, language, settings.threshold),
        chapters=split_chapters(
            segments, settings.chapter_min_seconds, language, penalty=settings.chapter_penalty
        ),
    )


def topics_step(ctx: Context) -> None:
    """Pipeline step: keyphrase and taxonomy tags and chapters, replacing earlier ones."""
    try:
        taxonomy = load_station_taxonomy(ctx.home)
    except TaxonomyError as e:
        raise StepError(str(e)) from e
    settings = Settings.from_config(ctx.config)
    ctx.report(0.1)
    analysis = analyse_episode(ctx.db, ctx.episode, taxonomy, settings)
    ctx.report(0.8)
    save_analysis(ctx.db, ctx.episode["id"], analysis, taxonomy, settings)
    ctx.report(1.0)


def retag(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_ids: Iterable[int],
    *,
    taxonomy: Taxonomy | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Recompute the automatic tags and chapters of some episodes; editors' tags stay."""
    taxonomy = taxonomy or load_station_taxonomy(config["HOME"])
    settings = Settings.from_config(config)
    done = 0
    for episode_id in episode_ids:
        episode = get_episode(db, episode_id)
        analysis = analyse_episode(db, episode, taxonomy, settings)
        save_analysis(db, episode_id, analysis, taxonomy, settings)
        done += 1
        if progress:
            progress(done)
    logger.info("retagged %d episode(s)", done)
    return done


def transcribed_episode_ids(db: sqlite_utils.Database) -> list[int]:
    """Every episode with a transcript, oldest first: what ``retag --all`` goes over."""
    rows = db.execute("select distinct episode_id from segments order by episode_id").fetchall()
    return [r[0] for r in rows]


def save_analysis(
    db: sqlite_utils.Database,
    episode_id: int,
    analysis: Analysis,
    taxonomy: Taxonomy,
    settings: Settings | None = None,
) -> None:
    """Replace an episode's computed tags and its chapters in one transaction."""
    settings = settings or Settings()
    taxonomy_slugs = {t.slug for t in taxonomy.topics}
    rows: dict[str, tuple[str, str, str, float]] = {}  # slug -> label, kind, source, score
    for topic in analysis.topics:
        rows[topic.slug] = (topic.label, "taxonomy", "taxonomy", topic.score)
    for phrase in analysis.keyphrases[: settings.keyphrase_tags]:
        slug = slugify(phrase.text)
        if slug in taxonomy_slugs or slug in rows or slug == "show":
            continue  # taxonomy topics are decided by the taxonomy, not by one phrase
        rows[slug] = (phrase.text, "keyphrase", "keyphrase", phrase.score)
    now = utcnow()
    conn = db.conn
    conn.execute("begin immediate")
    try:
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
        conn.execute("delete from chapters where episode_id = ?", [episode_id])
        for idx, chapter in enumerate(analysis.chapters):
            conn.execute(
                "insert into chapters (episode_id, idx, start, end, title) values (?, ?, ?, ?, ?)",
                [episode_id, idx, chapter.start, chapter.end, chapter.title],
            )
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")
    logger.info("episode %s: tags %s, %d chapters", episode_id, list(rows), len(analysis.chapters))


def _ensure_tag(conn: Any, slug: str, label: str, kind: str, now: str) -> int:
    conn.execute(
        "insert or ignore into tags (slug, label, kind, created_at) values (?, ?, ?, ?)",
        [slug, label, kind, now],
    )
    if kind == "taxonomy":  # the taxonomy file owns its labels, even if a tag came first
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
    taxonomy = taxonomy or load_station_taxonomy(database_home(db))
    get_episode(db, episode_id)  # raises EpisodeNotFound
    overlap = {slugify(a) for a in add} & {slugify(r) for r in remove}
    if overlap:
        raise TagError(f"Tag {sorted(overlap)[0]!r} is both added and removed; choose one.")
    now = utcnow()
    conn = db.conn
    resolved = [(_resolve(db, name, taxonomy, adding=True), 0) for name in add] + [
        (_resolve(db, name, taxonomy, adding=False), 1) for name in remove
    ]
    conn.execute("begin immediate")
    try:
        for (slug, label, kind), removed in resolved:
            tag_id = _ensure_tag(conn, slug, label, kind, now)
            conn.execute(
                "insert into episode_tags (episode_id, tag_id, source, score, removed, created_at) "
                "values (?, ?, 'manual', ?, ?, ?) on conflict(episode_id, tag_id) do update set "
                "source = 'manual', removed = excluded.removed, created_at = excluded.created_at, "
                "score = case when excluded.removed then episode_tags.score else 1.0 end",
                [episode_id, tag_id, None if removed else 1.0, removed, now],
            )
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")
    logger.info("episode %s: tags +%s -%s", episode_id, list(add), list(remove))
    return episode_tags(db, episode_id, include_removed=True)


def _resolve(
    db: sqlite_utils.Database, name: str, taxonomy: Taxonomy, *, adding: bool
) -> tuple[str, str, str]:
    """(slug, label, kind) for what an editor typed."""
    text = " ".join(name.split())
    if not re.search(r"[^\W_]", text):
        raise TagError(f"{name!r} is not a tag name; use letters or digits, e.g. +water.")
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
        return topic.slug, topic.label, "taxonomy"
    row = db.execute("select slug, label, kind from tags where slug = ?", [slug]).fetchone()
    if row:
        return row[0], row[1], row[2]
    if not adding:
        raise TagError(
            f"There is no tag {text!r} to remove. `radio tag EPISODE` lists the episode's tags."
        )
    return slug, text, "manual"


def episode_tags(
    db: sqlite_utils.Database, episode_id: int, *, include_removed: bool = False
) -> list[dict[str, Any]]:
    """An episode's tags: slug, label, kind, source, score, removed; best first."""
    hide = "" if include_removed else "and not et.removed"
    return list(
        db.query(
            "select t.slug, t.label, t.kind, et.source, et.score, et.removed "
            "from episode_tags et join tags t on t.id = et.tag_id "
            f"where et.episode_id = ? {hide} "
            "order by et.removed, et.source = 'keyphrase', et.score desc, t.label",
            [episode_id],
        )
    )


# -- pages, search and feeds ----------------------------------------------------------------


def topic_filter_sql(alias: str = "e") -> str:
    """SQL for "episode ``alias`` has the topic whose slug is the next ``?`` parameter"."""
    return (
        "exists (select 1 from episode_tags et_f join tags t_f on t_f.id = et_f.tag_id "
        f"where et_f.episode_id = {alias}.id and not et_f.removed and t_f.slug = ?)"
    )


def get_topic(db: sqlite_utils.Database, slug: str) -> dict[str, Any]:
    rows = list(db.query("select id, slug, label, kind from tags where slug = ?", [slug]))
    if not rows:
        raise TopicNotFound(slug)
    return rows[0]


def list_topics(
    db: sqlite_utils.Database, *, public_only: bool = True, kind: str | None = None
) -> list[dict[str, Any]]:
    """Tags in use with their episode counts: taxonomy topics first, then by count."""
    visible = f"and {public_sql('e')}" if public_only else ""
    where, params = ("where t.kind = ?", [kind]) if kind else ("", [])
    return list(
        db.query(
            "select t.slug, t.label, t.kind, count(e.id) as episodes from tags t "
            "left join episode_tags et on et.tag_id = t.id and not et.removed "
            f"left join episodes e on e.id = et.episode_id {visible} {where} "
            "group by t.id having episodes > 0 "
            "order by t.kind != 'taxonomy', episodes desc, t.label",
            params,
        )
    )


def episodes_for_topic(
    db: sqlite_utils.Database,
    slug: str,
    *,
    public_only: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Episodes with the topic, newest first, each with the tag's source and score."""
    topic = get_topic(db, slug)
    visible = f"and {public_sql('e')}" if public_only else ""
    return list(
        db.query(
            "select e.id, e.guid, e.title, e.recorded_at, e.published_at, e.duration, "
            "coalesce(e.transcript_language, e.language) as language, "
            "s.slug as show_slug, s.title as show_title, et.source, et.score "
            "from episode_tags et join episodes e on e.id = et.episode_id "
            "left join shows s on s.id = e.show_id "
            f"where et.tag_id = ? and not et.removed {visible} "
            "order by coalesce(e.published_at, e.created_at) desc, e.id desc limit ? offset ?",
            [topic["id"], limit, offset],
        )
    )


@dataclass(frozen=True)
class Moment:
    episode_id: int
    guid: str
    title: str
    start: float  # seconds into the episode
    text: str  # what was said there


def moments_for_topic(
    db: sqlite_utils.Database,
    slug: str,
    taxonomy: Taxonomy,
    *,
    public_only: bool = True,
    limit: int = 20,
    offset: int = 0,
) -> list[Moment]:
    """Where in the topic's episodes (newest first) the topic is talked about.

    Computed from the transcripts (a page of episodes at a time), so an editor's manual
    tag gets its moments too: a taxonomy topic's keywords, or a free tag's words.
    """
    topic = taxonomy.get(slug)
    tag = get_topic(db, slug)
    moments: list[Moment] = []
    for ep in episodes_for_topic(db, slug, public_only=public_only, limit=limit, offset=offset):
        segments = load_segments(db, ep["id"])
        language = ep.get("language") or "en"
        if topic is not None:
            found = score_topics(segments, Taxonomy((topic,)), language, include_below=True)
            times = list(found[0].moments) if found else []
        else:
            times = phrase_moments(segments, tag["label"], language, gap=MOMENT_GAP)
        for at in times:
            text = next((s.text for s in segments if s.start <= at < s.end + 0.01), "")
            moments.append(Moment(ep["id"], ep["guid"], ep["title"], at, text.strip()))
    return moments


def load_chapters(db: sqlite_utils.Database, episode_id: int) -> list[Chapter]:
    return [
        Chapter(start=row[0], end=row[1], title=row[2])
        for row in db.execute(
            "select start, end, title from chapters where episode_id = ? order by idx",
            [episode_id],
        ).fetchall()
    ]
