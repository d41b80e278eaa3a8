"""Podcast feeds (#5): thin over ``radio.web.feed_items`` (rows to items) and ``feeds`` (XML).

- ``/feeds/all.xml``, ``/feeds/shows/<slug>.xml``, ``/feeds/topics/<slug>.xml``,
  ``/feeds/search.xml?q=water``; older episodes on ``?page=2`` (RFC 5005 links).
- Their data-saver twins (#14) under ``/feeds/saver/``: the same episodes enclosing the
  small rendition (AAC, else Opus), for apps that ignore ``podcast:alternateEnclosure``.
- ``/feeds/chapters/<guid>.json``: Podcasting 2.0 chapters.

A feed is built once per change of the archive and kept, plain and gzipped
(``radio.web.http.feedcache``); the ETag is a hash of its bytes. URLs are absolute, from
``radio.web.urls`` (``BASE_URL`` when set, else the host the request came to). A show,
topic or page that doesn't exist raises ``FeedNotFound``, a 404 at the edge
(``radio.web.errors``), as does a search that can't be read (400).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time

from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import gettext

from feeds.chapters import CHAPTERS_MIME, ChapterMark
from feeds.chapters import to_json as chapters_json
from radio.data import fields
from radio.data.feeds import FeedKind, FeedSpec, public_chapters
from radio.db import database_path, get_db
from radio.web.feed_items import load_feed
from radio.web.feedparts import assemble_rss, kept_urls
from radio.web.http.feedcache import Built, FeedCache
from radio.web.urls import Urls, for_request

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

logger = logging.getLogger(__name__)

RSS_MIME = "application/rss+xml"
MAX_AGE = 60


def _cache() -> FeedCache:
    return current_app.extensions.setdefault("radio.feeds", FeedCache())


def _page() -> int:
    return fields.page(request.args.get("page"))  # ² or -1: 400; 2**63: 404


def _build(spec: FeedSpec, urls: Urls, token: str) -> Built:
    kept = current_app.extensions.setdefault("radio.feed_urls", {})
    urls = kept_urls(kept, urls, current_app.url_map)  # each URL built once (#17)
    data = load_feed(get_db(), current_app.config, urls, spec)
    body = assemble_rss(data.info, data.items)  # the same bytes as build_rss
    etag = hashlib.sha256(body).hexdigest()[:32]
    gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    logger.info("built feed %s (%d items, %d bytes)", spec, len(data.items), len(body))
    return Built(token, time.time(), body, gzipped, etag, data.last_modified)


def _feed_response(spec: FeedSpec) -> Response:
    urls = for_request()
    key = (spec, urls.base, current_app.config.get("FEED_LIMIT"))
    cache = _cache()
    token = cache.token(database_path())  # no database connection for a 304
    built = cache.get(key, token)
    if built is None:
        built = _build(spec, urls, token)
        cache.put(key, built)
    zipped = request.accept_encodings["gzip"] > 0  # honours "gzip;q=0"
    response = Response(built.gzipped if zipped else built.body, mimetype=RSS_MIME)
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    # Each encoding is its own representation with its own strong validator.
    response.set_etag(built.etag + ("-gz" if zipped else ""))
    if built.last_modified:
        response.last_modified = built.last_modified
    _public(response)
    return response.make_conditional(request)


def _public(response: Response) -> None:
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"  # web players read feeds and chapters


# Each feed answers at two addresses; the twin's endpoint is its name with "saver_".
@bp.get("/all.xml", defaults={"saver": False})
@bp.get("/saver/all.xml", endpoint="saver_all", defaults={"saver": True})
def all_episodes(saver: bool) -> Response:
    return _feed_response(FeedSpec(FeedKind.ALL, "", _page(), saver))


@bp.get("/shows/<slug>.xml", defaults={"saver": False})
@bp.get("/saver/shows/<slug>.xml", endpoint="saver_show", defaults={"saver": True})
def show(slug: str, saver: bool) -> Response:
    return _feed_response(FeedSpec(FeedKind.SHOW, slug, _page(), saver))


@bp.get("/topics/<slug>.xml", defaults={"saver": False})
@bp.get("/saver/topics/<slug>.xml", endpoint="saver_topic", defaults={"saver": True})
def topic(slug: str, saver: bool) -> Response:
    return _feed_response(FeedSpec(FeedKind.TOPIC, slug, _page(), saver))


@bp.get("/search.xml", defaults={"saver": False})
@bp.get("/saver/search.xml", endpoint="saver_search", defaults={"saver": True})
def saved_search(saver: bool) -> Response:
    query = request.args.get("q", "").strip()
    if not query:
        example = url_for("feeds.saver_search" if saver else "feeds.saved_search", q="water")
        abort(400, gettext("Say what to follow: %(example)s", example=example))
    return _feed_response(FeedSpec(FeedKind.SEARCH, query, _page(), saver))


@bp.get("/chapters/<guid>.json")
def chapters(guid: str) -> Response:
    title, show_title, stored = public_chapters(get_db(), guid)
    items = [ChapterMark(start=c.start, title=c.title, end=c.end) for c in stored]
    body = chapters_json(items, title=title, podcast_name=show_title)
    response = Response(body, mimetype=CHAPTERS_MIME)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    _public(response)
    return response.make_conditional(request)
