"""Topics and chapters as a pipeline step: settings, analysis, retagging, topic moments.

The computing lives in ``transcription.topics`` and ``transcription.chapters``; what is
stored lives in ``radio.data.tags``. This module ties the two for the pipeline and editors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.config import load_station_taxonomy
from radio.data import tags, topic_moments
from radio.data.episodes import Episode, get_episode
from radio.data.transcripts import load_segments
from radio.jobs.context import Context, StepError
from transcription.chapters import CHAPTER_PENALTY, split_chapters
from transcription.segments import Chapter, Segment
from transcription.taxonomy import Taxonomy, TaxonomyError
from transcription.topics import (
    DEFAULT_THRESHOLD,
    Keyphrase,
    TopicScore,
    extract_keyphrases,
    phrase_moments,
    score_topics,
)

logger = logging.getLogger(__name__)

SETTINGS_FIX = (
    "fix TOPIC_THRESHOLD, KEYPHRASE_TAGS, CHAPTER_MIN_SECONDS or CHAPTER_PENALTY in config.toml"
)
MOMENT_GAP = 60.0  # seconds: mentions closer than this are one moment
MIN_CONFIDENCE = 0.5  # mean word probability of a segment whose words may become tags


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


def analyse_episode(
    db: sqlite_utils.Database, episode: Episode, taxonomy: Taxonomy, settings: Settings
) -> Analysis:
    segments = load_segments(db, episode.id)
    language = episode.spoken_language or "en"
    # Tags come only from what the model heard with confidence: a hallucinated "thank you
    # for watching" must not become a listener-facing topic. Chapters use every segment.
    heard = [s for s in segments if s.confidence is None or s.confidence >= MIN_CONFIDENCE]
    return Analysis(
        keyphrases=extract_keyphrases(heard, language, n=max(settings.keyphrase_tags, 1)),
        topics=score_topics(heard, taxonomy, language, settings.threshold),
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
    save_analysis(ctx.db, ctx.episode.id, analysis, taxonomy, settings)
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

    Stored when an episode is tagged (``radio.data.topic_moments``); an episode without
    them (an editor's manual tag, a corrected transcript) has them computed from its
    transcript here and stored, so an editor's tag gets its moments too: a taxonomy
    topic's keywords, or a free tag's words.
    """
    tag = tags.get_topic(db, slug)
    page = tags.episodes_for_topic(db, slug, public_only=public_only, limit=limit, offset=offset)
    wanted = {ep.id: _basis(taxonomy, tag.slug, tag.label, ep.spoken_language) for ep in page}
    found = topic_moments.stored(db, slug, wanted)
    moments: list[Moment] = []
    for ep in page:
        if ep.id not in found:
            segments = load_segments(db, ep.id)
            found[ep.id] = _find(segments, ep.spoken_language, taxonomy, slug, tag.label)
            topic_moments.store_quietly(db, ep.id, [(slug, wanted[ep.id], found[ep.id])])
        moments += [Moment(ep.id, ep.guid, ep.title, at, text) for at, text in found[ep.id]]
    return moments


def _basis(taxonomy: Taxonomy, slug: str, label: str, language: str | None) -> str:
    """What an episode's moments of a topic are computed from: the taxonomy topic (its
    words in every language), else the tag's label; and the episode's language."""
    topic = taxonomy.get(slug)
    return topic_moments.basis(repr(topic) if topic else ("phrase", label), language or "en")


def _find(
    segments: list[Segment], language: str | None, taxonomy: Taxonomy, slug: str, label: str
) -> topic_moments.Found:
    """(start, text) of each moment an episode talks about a topic."""
    topic = taxonomy.get(slug)
    language = language or "en"
    if topic is not None:
        found = score_topics(segments, Taxonomy((topic,)), language, include_below=True)
        times = list(found[0].moments) if found else []
    else:
        times = phrase_moments(segments, label, language, gap=MOMENT_GAP)
    return [(at, _said_at(segments, at)) for at in times]


def _said_at(segments: list[Segment], at: float) -> str:
    return next((s.text for s in segments if s.start <= at < s.end + 0.01), "").strip()


def store_moments(
    db: sqlite_utils.Database, episode_id: int, taxonomy: Taxonomy, language: str | None
) -> None:
    """Find and keep where an episode talks about each of its topics (after tagging): the
    station's topics scored together, in one reading of the transcript."""
    segments = load_segments(db, episode_id)
    listed = tags.episode_tags(db, episode_id)
    station = Taxonomy(tuple(t for e in listed if (t := taxonomy.get(e.slug)) is not None))
    scored = score_topics(segments, station, language or "en", include_below=True)
    times = {found.slug: found.moments for found in scored}
    found = []
    for tag in listed:
        if taxonomy.get(tag.slug) is not None:
            moments = [(at, _said_at(segments, at)) for at in times.get(tag.slug, ())]
        else:
            moments = _find(segments, language, taxonomy, tag.slug, tag.label)
        found.append((tag.slug, _basis(taxonomy, tag.slug, tag.label, language), moments))
    topic_moments.store(db, episode_id, found)


def save_analysis(
    db: sqlite_utils.Database,
    episode_id: int,
    analysis: Analysis,
    taxonomy: Taxonomy,
    settings: Settings | None = None,
) -> None:
    """Store an analysis: computed tags (the best keyphrases only) and chapters."""
    settings = settings or Settings()
    tags.replace_computed(
        db,
        episode_id,
        topics=analysis.topics,
        keyphrases=analysis.keyphrases[: settings.keyphrase_tags],
        chapters=analysis.chapters,
        taxonomy_slugs={t.slug for t in taxonomy.topics},
    )
    store_moments(db, episode_id, taxonomy, get_episode(db, episode_id).spoken_language)
