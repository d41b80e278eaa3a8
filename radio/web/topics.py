"""Topic pages: every topic with its episode count, and one topic's episodes and moments.

A topic is a tag (``radio.data.tags``): a station taxonomy topic, a keyphrase or an editor's
tag. Listeners see public episodes only; editors see every episode, as on the home page.
Each moment links to ``/episodes/<guid>?t=S#t=S``, which starts the player there and
scrolls to that segment of the transcript with or without JavaScript.
"""

from __future__ import annotations

import logging
from itertools import groupby
from typing import Any

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext
from sqlite_utils import Database

from radio.config import load_station_taxonomy
from radio.data.episodes import Page
from radio.data.facets import topics_listed
from radio.data.feeds import FeedKind, FeedSpec
from radio.data.tags import TagKind, TopicNotFound, episodes_for_topic, get_topic
from radio.db import get_db
from radio.jobs.topics import Moment, moments_for_topic
from radio.web.archive import page_number
from radio.web.auth import sees_hidden
from radio.web.subscribe import page_feeds
from transcription.taxonomy import Taxonomy, TaxonomyError

bp = Blueprint("topics", __name__)
logger = logging.getLogger(__name__)

PER_PAGE = 10
MOMENTS_SHOWN = 5  # per episode; a long show can mention a word every minute
OTHER_TAGS_SHOWN = 300


def station_taxonomy() -> Taxonomy:
    """The station's taxonomy; an empty one (with a warning in the log) if the file is broken,
    so a typo in taxonomy.toml costs the topic pages their moments, not their episodes."""
    try:
        return load_station_taxonomy(current_app.config["HOME"])
    except TaxonomyError as e:
        logger.warning("topic pages show no taxonomy moments: %s", e)
        return Taxonomy(())


@bp.get("/topics")
def index() -> str:
    rows = topics_listed(get_db(), sees_hidden())
    return render_template(
        "topics.html",
        station=[t for t in rows if t.kind == TagKind.TAXONOMY],
        others=[t for t in rows if t.kind != TagKind.TAXONOMY][:OTHER_TAGS_SHOWN],
        others_total=sum(t.kind != TagKind.TAXONOMY for t in rows),
    )


def _no_topic(slug: str) -> str:
    return gettext(
        "Topic %(slug)s doesn't exist. The topics page (/topics) lists every topic.", slug=slug
    )


@bp.get("/topics/<slug>")
def topic(slug: str) -> str:
    db = get_db()
    public_only = not sees_hidden()
    try:
        found = get_topic(db, slug)
    except TopicNotFound:
        abort(404, _no_topic(slug))
    listed = topics_listed(db, not public_only)
    counts = {t.slug: t.episodes for t in listed}
    total = counts.get(slug, 0)
    if total == 0 and public_only:  # the same 404 as a missing topic: hidden stays hidden
        abort(404, _no_topic(slug))
    page = page_number()
    window: dict[str, Any] = {
        "public_only": public_only,
        "limit": PER_PAGE,
        "offset": (page - 1) * PER_PAGE,
    }
    episodes = episodes_for_topic(db, slug, **window)
    moments = group_moments(_moments(db, slug, window))
    return render_template(
        "topic.html",
        topic=found,
        episodes=Page(episodes, page, PER_PAGE, total),
        moments=moments,
        shown=MOMENTS_SHOWN,
        page_feeds=page_feeds((FeedSpec(FeedKind.TOPIC, found.slug), found.label)),
    )


def _moments(db: Database, slug: str, window: dict[str, Any]) -> list[Moment]:
    """Where the page's episodes talk about the topic: stored when they were tagged
    (``radio.data.topic_moments``), computed here only for those without (#17)."""
    return moments_for_topic(db, slug, station_taxonomy(), **window)


def group_moments(moments: list[Moment]) -> dict[int, list[Moment]]:
    """Episode id -> its moments in the order they are said."""
    return {
        episode_id: sorted(group, key=lambda m: m.start)
        for episode_id, group in groupby(moments, key=lambda m: m.episode_id)
    }
