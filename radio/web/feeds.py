"""Podcast feeds (#5): thin over ``radio.data.feeds`` (queries) and ``feeds`` (XML).

- ``/feeds/all.xml``, ``/feeds/shows/<slug>.xml``, ``/feeds/topics/<slug>.xml``,
  ``/feeds/search.xml?q=water``; older episodes on ``?page=2`` (RFC 5005 links).
- ``/feeds/chapters/<guid>.json``: Podcasting 2.0 chapters.

Podcast apps poll feeds all day, so a feed is built once per change of the archive
(``fingerprint``) and kept, plain and gzipped; the ETag is a hash of its bytes and
a revalidation costs one small query. URLs are absolute, from ``BASE_URL``
(``RADIO_BASE_URL``) when set, else from the host the request came to, so a phone on
the LAN gets addresses it can reach.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, request

from feeds import FeedError
from feeds.build import build_rss
from feeds.chapters import CHAPTERS_MIME
from feeds.chapters import to_json as chapters_json
from radio.data.feeds import FeedNotFound, FeedSpec, Urls, load_chapters, load_feed
from radio.data.search import BadQuery
from radio.db import database_path, get_db

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

logger = logging.getLogger(__name__)

RSS_MIME = "application/rss+xml"
CACHE_ENTRIES = 64
CACHE_SECONDS = 60  # rebuild at least this often, whatever the fingerprint says
MAX_AGE = 60


@dataclass(frozen=True)
class Built:
    token: str  # the archive's fingerprint when built
    at: float
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime | None


class FeedCache:
    """The last few feeds built, by (spec, base URL); shared by the server's threads."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, Built] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple, token: str) -> Built | None:
        with self.lock:
            built = self.entries.get(key)
            if built is None or built.token != token or time.time() - built.at > CACHE_SECONDS:
                return None
            self.entries.move_to_end(key)
            return built

    def put(self, key: tuple, built: Built) -> None:
        with self.lock:
            self.entries[key] = built
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def fingerprint(path: str | os.PathLike[str]) -> str:
    """A cheap token that changes whenever anything in the database at ``path`` may change.

    It decides whether a cached feed can be reused, so it must never miss a change:
    every commit writes the WAL (or, after a checkpoint, the main file), so their sizes
    and modification times are that token, read with two ``stat`` calls and without
    opening the database. Unrelated writes (a job's progress) change it too; that only
    costs a rebuild, since the ETag is a hash of the feed's bytes, not this token.
    """
    parts = []
    for name in (os.fspath(path), os.fspath(path) + "-wal"):
        try:
            st = os.stat(name)
        except FileNotFoundError:
            parts.append("-")
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    return "/".join(parts)


def _cache() -> FeedCache:
    return current_app.extensions.setdefault("radio.feeds", FeedCache())


def _urls() -> Urls:
    return Urls(current_app.config.get("BASE_URL") or request.url_root)


def _page() -> int:
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        abort(400, f"page must be a whole number from 1, not {page!r}: ?page=2")
    return int(page)


def _build(spec: FeedSpec, urls: Urls, token: str) -> Built:
    db = get_db()
    try:
        data = load_feed(db, current_app.config, urls, spec)
        body = build_rss(data.info, data.items)
    except FeedNotFound as e:
        abort(404, str(e))
    except BadQuery as e:
        abort(400, str(e))
    except FeedError as e:
        logger.exception("feed %s could not be written", spec)
        abort(500, str(e))
    etag = hashlib.sha256(body).hexdigest()[:32]
    gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    logger.info("built feed %s (%d items, %d bytes)", spec, len(data.items), len(body))
    return Built(token, time.time(), body, gzipped, etag, data.last_modified)


def _feed_response(spec: FeedSpec) -> Response:
    urls = _urls()
    key = (spec, urls.base, current_app.config.get("FEED_LIMIT"))
    token = fingerprint(database_path())  # no database connection for a 304
    cache = _cache()
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


@bp.get("/all.xml")
def all_episodes() -> Response:
    return _feed_response(FeedSpec("all", "", _page()))


@bp.get("/shows/<slug>.xml")
def show(slug: str) -> Response:
    return _feed_response(FeedSpec("show", slug, _page()))


@bp.get("/topics/<slug>.xml")
def topic(slug: str) -> Response:
    return _feed_response(FeedSpec("topic", slug, _page()))


@bp.get("/search.xml")
def saved_search() -> Response:
    query = request.args.get("q", "").strip()
    if not query:
        abort(400, "Say what to follow: /feeds/search.xml?q=water")
    return _feed_response(FeedSpec("search", query, _page()))


@bp.get("/chapters/<guid>.json")
def chapters(guid: str) -> Response:
    try:
        title, show_title, items = load_chapters(get_db(), guid)
    except FeedNotFound as e:
        abort(404, str(e))
    body = chapters_json(items, title=title, podcast_name=show_title)
    response = Response(body, mimetype=CHAPTERS_MIME)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    _public(response)
    return response.make_conditional(request)
