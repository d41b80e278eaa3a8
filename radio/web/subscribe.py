"""Following the archive in a podcast app (#14): the feeds a page is about, the subscribe
pages with each feed's address and QR code, and an OPML file of every feed.

- ``page_feeds``: every page's ``<link rel="alternate" type="application/rss+xml">``
  (base.html writes them; a view names the feeds its page is about, the whole archive's
  are the default). A podcast app given the site's address finds the feeds there: gPodder
  takes the last one on a page, AntennaPod lists them all by title.
- ``/subscribe``: every feed (the whole archive, each show, each station topic and
  editors' tag) in its two qualities, addresses written to be copied;
  ``/subscribe/shows/<slug>``, ``/subscribe/topics/<slug>`` and ``/subscribe/search?q=``:
  one subject's two feeds with a QR code each, for a phone to scan from a laptop's screen.
- ``/feeds.opml``: every feed for an app's import (``?quality=standard`` or ``saver`` for
  one of the two).

QR codes are inline SVG made by segno (no script, no outside asset). They carry the
address a phone can reach: ``BASE_URL``, else the host the page was asked for, except
that a page opened on the station's laptop as ``localhost`` shows its Wi-Fi address.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup

from feeds.opml import OPML_MIME, OpmlFeed, OpmlGroup, OpmlHead, build_opml
from radio.data import fields
from radio.data.feeds import FeedKind, FeedSpec, FeedSubject, feed_subject, feed_subjects
from radio.data.tags import TagKind
from radio.db import get_db
from radio.web.feed_items import feed_title, feed_url, twin
from radio.web.lan import lan_addresses
from radio.web.urls import Urls, for_request

bp = Blueprint("subscribe", __name__)

# Listed on the subscribe page and in the OPML file: the station's topics and editors'
# tags. Keyphrases are many and change with every retag; their topic pages offer their feeds.
LISTED_TOPICS = (TagKind.TAXONOMY, TagKind.MANUAL)
QUALITIES = ("standard", "saver")
MAX_AGE = 60


@dataclass(frozen=True)
class FeedLink:
    """One feed as a page names it: its title and address (absolute on the subscribe
    pages, a path on this host in ``<link rel="alternate">``, as every page link is)."""

    spec: FeedSpec
    title: str
    url: str

    @property
    def saver(self) -> bool:
        return self.spec.saver


@dataclass(frozen=True)
class Entry:
    """A subject on a subscribe page: its name, its two feeds and where its QR codes are."""

    name: str
    episodes: int
    standard: FeedLink
    saver: FeedLink
    page: str | None  # its own subscribe page (with QR codes); None: shown here


SECTIONS = {FeedKind.ALL: "The whole archive", FeedKind.SHOW: "Shows", FeedKind.TOPIC: "Topics"}
DETAIL_ENDPOINTS = {FeedKind.SHOW: "subscribe.show", FeedKind.TOPIC: "subscribe.topic"}


def station() -> str:
    return current_app.config.get("STATION_NAME") or "Community Radio Archive"


def feed_pair(urls: Urls, spec: FeedSpec, subject: str) -> tuple[FeedLink, FeedLink]:
    """A feed and its data-saver twin."""
    standard = FeedSpec(spec.kind, spec.key)
    saver = twin(standard)
    return (
        FeedLink(standard, feed_title(station(), standard, subject), feed_url(urls, standard)),
        FeedLink(saver, feed_title(station(), saver, subject), feed_url(urls, saver)),
    )


def page_feeds(*subjects: tuple[FeedSpec, str]) -> list[FeedLink]:
    """The feeds a page is about, most particular first, each followed by its twin:
    ``page_feeds((FeedSpec(FeedKind.SHOW, slug), show.title), (FeedSpec(FeedKind.ALL), ""))``.
    """
    # Paths as url_for writes them (under the app's script root); the host is a stand-in,
    # so a page's links never depend on what a visitor put in the Host header.
    here = Urls("http://localhost" + request.script_root, current_app.url_map)
    return [
        replace(link, url=_path(link.url))
        for spec, subject in subjects
        for link in feed_pair(here, spec, subject)
    ]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))


@bp.app_context_processor
def default_page_feeds() -> dict[str, Any]:
    """Every page links the whole archive's feeds unless its view names others (a view's
    own ``page_feeds`` wins over this)."""
    return {"page_feeds": page_feeds((FeedSpec(FeedKind.ALL), ""))}


def phone_urls() -> Urls:
    """Addresses a phone on the station's network can open (see the module's docstring)."""
    urls = for_request()
    if current_app.config.get("BASE_URL"):
        return urls
    parts = urlsplit(urls.base)
    if not _is_loopback(parts.hostname or ""):
        return urls
    lan = lan_addresses()
    if not lan:
        return urls
    netloc = lan[0] + (f":{parts.port}" if parts.port else "")
    return Urls(urlunsplit(parts._replace(netloc=netloc)), current_app.url_map)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=512)
def qr_svg(url: str, label: str) -> Markup:
    """The URL as a QR code, inline SVG that scales with the page (no fixed size), black on
    white whatever the page's colours, so a phone's camera reads it in dark mode too."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=1, border=2, dark="#000", light="#fff", omitsize=True, title=label, svgclass="qr"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def _entry(urls: Urls, subject: FeedSubject, here: bool) -> Entry:
    spec = subject.spec
    standard, saver = feed_pair(urls, spec, subject.title)
    page = None
    if not here and spec.kind in DETAIL_ENDPOINTS:
        page = url_for(DETAIL_ENDPOINTS[spec.kind], slug=spec.key)
    name = subject.title if spec.kind != FeedKind.ALL else station()
    return Entry(name, subject.episodes, standard, saver, page)


def _subject_page(spec: FeedSpec) -> str:
    subject = feed_subject(get_db(), spec)  # FeedNotFound: the feed's own 404
    urls = phone_urls()
    entry = _entry(urls, subject, here=True)
    return render_template(
        "subscribe.html",
        entry=entry,
        sections=[],
        qr=qr_svg,
        lan=urls.base != for_request().base,
        page_feeds=page_feeds((spec, subject.title)),
    )


@bp.get("/subscribe")
def index() -> str:
    """Every feed; QR codes for the whole archive's here, for the others on their pages
    (a code per feed on one page would make it heavy for a phone)."""
    urls = phone_urls()
    sections: dict[str, list[Entry]] = {}
    for subject in feed_subjects(get_db(), LISTED_TOPICS):
        here = subject.spec.kind == FeedKind.ALL
        sections.setdefault(SECTIONS[subject.spec.kind], []).append(_entry(urls, subject, here))
    return render_template(
        "subscribe.html",
        entry=None,
        sections=list(sections.items()),
        qr=qr_svg,
        lan=urls.base != for_request().base,
    )


@bp.get("/subscribe/shows/<slug>")
def show(slug: str) -> str:
    return _subject_page(FeedSpec(FeedKind.SHOW, slug))


@bp.get("/subscribe/topics/<slug>")
def topic(slug: str) -> str:
    return _subject_page(FeedSpec(FeedKind.TOPIC, slug))


@bp.get("/subscribe/search")
def search() -> str:
    query = fields.query(request.args.get("q"), "q").strip()
    if not query:
        abort(400, gettext("Say what to follow: %(example)s", example="/subscribe/search?q=water"))
    return _subject_page(FeedSpec(FeedKind.SEARCH, query))


def opml_outlines(urls: Urls, subjects: list[FeedSubject], qualities: tuple[str, ...]) -> list:
    """One group of feeds per quality asked for, each feed with its web page."""
    groups = []
    for quality in qualities:
        saver = quality == "saver"
        feeds = []
        for subject in subjects:
            spec = FeedSpec(subject.spec.kind, subject.spec.key, saver=saver)
            title = feed_title(station(), spec, subject.title)
            feeds.append(OpmlFeed(title, feed_url(urls, spec), html_url=urls.page(spec)))
        name = "Data saver (AAC or Opus, small downloads)" if saver else "Standard (MP3)"
        groups.append(OpmlGroup(name, tuple(feeds)))
    return groups


@bp.get("/feeds.opml")
def opml() -> Response:
    quality = request.args.get("quality", "")
    if quality and quality not in QUALITIES:
        abort(400, gettext("quality is standard or saver (or leave it out for both)."))
    urls = for_request()
    subjects = feed_subjects(get_db(), LISTED_TOPICS)
    outlines = opml_outlines(urls, subjects, (quality,) if quality else QUALITIES)
    owner = current_app.config.get("FEED_OWNER_EMAIL") or None
    body = build_opml(OpmlHead(f"{station()} podcast feeds", station(), owner), outlines)
    response = Response(body, mimetype=OPML_MIME)
    response.headers["Content-Disposition"] = 'inline; filename="podcast-feeds.opml"'
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response.make_conditional(request)
