"""The one URL builder: every URL the archive hands out is built from Flask's url map.

Pages link with ``url_for`` (paths on the host the browser came to). Feeds need absolute
URLs, and those come from ``Urls``: the same endpoints, built against ``BASE_URL`` when
the admin set one (a proxy, a path prefix) or else the root the request came to, so a
phone on the LAN gets addresses it can reach. A renamed route changes both at once, and
a route that is gone fails the build instead of leaving a dead link in every feed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.routing import Map

from radio.data.episodes import Episode
from radio.data.feeds import FeedKind, FeedSpec
from radio.web.http.mediafiles import RENDITION_KINDS, MediaFile, download_stem, file_name

FEED_ENDPOINTS = {
    FeedKind.ALL: "feeds.all_episodes",
    FeedKind.SHOW: "feeds.show",
    FeedKind.TOPIC: "feeds.topic",
    FeedKind.SEARCH: "feeds.saved_search",
}
PAGE_ENDPOINTS = {  # the web page listing the same episodes as a feed
    FeedKind.ALL: "archive.index",
    FeedKind.SHOW: "archive.show",
    FeedKind.TOPIC: "topics.topic",
    FeedKind.SEARCH: "search.search_page",
}


class Urls:
    """Absolute URLs on the archive whose root is ``base`` (``http://host:port/prefix/``)."""

    def __init__(self, base: str, url_map: Map) -> None:
        self.base = base.rstrip("/")
        parts = urlsplit(self.base)
        self._adapter = url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
        )

    def build(self, endpoint: str, **values: Any) -> str:
        return self._adapter.build(endpoint, values, force_external=True)

    def path(self, path: str) -> str:
        """A path the admin configured (FEED_IMAGE_URL = "/static/cover.png"), on this root."""
        return self.base + "/" + path.lstrip("/")

    def episode(self, guid: str) -> str:
        return self.build("archive.episode", guid=guid)

    def media(self, guid: str, file: MediaFile, stem: str | None = None) -> str:
        """A file of the episode's; a listening copy under ``stem`` (``download_stem``)
        when given, the name podcast apps save it as, else under its fixed name."""
        return self.build(
            "media.media", guid=guid, name=file_name(stem, file) if stem else file.value
        )

    def transcript(self, guid: str, fmt: str) -> str:
        return self.build("archive.transcript", guid=guid, fmt=fmt)

    def chapters(self, guid: str) -> str:
        return self.build("feeds.chapters", guid=guid)

    def feed(self, spec: FeedSpec, page: int = 1) -> str:
        return self.build(FEED_ENDPOINTS[spec.kind], **_key(spec), page=page if page > 1 else None)

    def page(self, spec: FeedSpec) -> str:
        """The web page listing the same episodes as the feed."""
        return self.build(PAGE_ENDPOINTS[spec.kind], **_key(spec))


def _key(spec: FeedSpec) -> dict[str, str]:
    if spec.kind == FeedKind.SEARCH:
        return {"q": spec.key}
    if spec.kind in (FeedKind.SHOW, FeedKind.TOPIC):
        return {"slug": spec.key}
    return {}


def episode_stem(episode: Episode) -> str:
    """The stem of an episode's download names, from the facts its feed items use too
    (``radio.data.episodes.naming_facts``), so the page and the feed name a file alike."""
    day = episode.recorded_at or episode.published_at or episode.created_at
    return download_stem(episode.show_slug, day, episode.title)


def media_names(episode: Episode) -> dict[str, str]:
    """The URL names of an episode's listening copies by ``renditions.kind``, for pages:
    ``url_for('media.media', guid=episode.guid, name=names.mp3)``."""
    stem = episode_stem(episode)
    return {kind: file_name(stem, file) for file, kind in RENDITION_KINDS.items()}


def for_request() -> Urls:
    """The builder for this request: ``BASE_URL`` if set, else the request's own root."""
    return Urls(current_app.config.get("BASE_URL") or request.url_root, current_app.url_map)
