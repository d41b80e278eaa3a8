"""Build a podcast feed: ``FeedInfo`` and ``FeedItem`` dataclasses in, RSS 2.0 bytes out.

Pure: no Flask, no database, no clock. The same input gives the same bytes, so a
hash of the output is a strong ETag. Every URL given here must already be absolute.

The RSS carries the iTunes tags (feedgen's ``podcast`` extension), the Podcasting
2.0 namespace (``feeds.podcast``) and, for a feed split into pages, RFC 5005 paging
links (``atom:link rel="first|previous|next|last"``), which podcastparser (gPodder)
and AntennaPod follow to reach older episodes. A feed with a twin (the same episodes
with another main enclosure, such as a data saver's) names it in an ``atom:link
rel="alternate" type="application/rss+xml"`` with a title, as an HTML page would.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator

from feeds import FeedError
from feeds.categories import itunes as itunes_category
from feeds.chapters import ChapterMark
from feeds.podcast import (
    AlternateEnclosureTag,
    PodcastEntryExtension,
    PodcastExtension,
    SoundbiteTag,
    SourceTag,
    podcast_guid,
    xml_elem,
)
from feeds.podcast import LicenseTag as License
from feeds.podcast import PersonTag as Person  # noqa: F401 - part of this module's API
from feeds.podlove import PodloveEntryExtension, PodloveExtension

logger = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 cannot carry at all; a transcript or a pasted title may hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Enclosure:
    """A media file: the main ``enclosure`` or a ``podcast:alternateEnclosure``."""

    url: str
    length: int  # exact size in bytes
    mime: str
    bitrate: int | None = None  # bits per second
    codecs: str | None = None  # RFC 6381: "opus", "mp4a.40.2"
    title: str | None = None
    default: bool = False  # as an alternate: the one the enclosure also names


@dataclass(frozen=True)
class RelatedFeed:
    """Another feed of the same episodes (its data-saver or standard twin)."""

    url: str
    title: str
    mime: str = "application/rss+xml"


@dataclass(frozen=True)
class Transcript:
    url: str
    mime: str
    language: str | None = None
    captions: bool = False  # rel="captions": timed text a player can show as subtitles


@dataclass(frozen=True)
class Soundbite:
    start: float  # seconds into the enclosure
    duration: float  # seconds
    title: str = ""


@dataclass(frozen=True)
class FeedItem:
    guid: str  # never changes once published
    title: str
    link: str  # the episode page
    published: datetime
    duration: float  # seconds
    enclosure: Enclosure
    alternates: tuple[Enclosure, ...] = ()
    transcripts: tuple[Transcript, ...] = ()
    chapters_url: str | None = None
    chapters: tuple[ChapterMark, ...] = ()  # written inline too (psc:chapters)
    summary: str = ""  # the editor's description, plain text
    opening: str = ""  # the opening lines of the transcript, plain text
    language: str | None = None
    persons: tuple[Person, ...] = ()
    topics: tuple[str, ...] = ()
    license: License | None = None  # podcast:license
    soundbites: tuple[Soundbite, ...] = ()  # podcast:soundbite, moments an editor marked
    image_url: str | None = None  # itunes:image of the item (a .jpg or .png URL)


@dataclass(frozen=True)
class Paging:
    """RFC 5005 paged-feed links; ``None`` where there is no such page."""

    first: str | None = None
    previous: str | None = None
    next: str | None = None
    last: str | None = None


@dataclass(frozen=True)
class FeedInfo:
    title: str
    link: str  # the web page of the same episodes (the full archive, a show, a topic)
    self_url: str  # this document's URL (this page)
    guid_url: str  # the feed's stable URL (page 1) that podcast:guid is made from
    description: str
    author: str
    language: str | None = None
    owner_email: str | None = None
    image_url: str | None = None
    category: str | None = "Society & Culture"
    locked: bool = True
    hosts: tuple[Person, ...] = ()
    paging: Paging | None = None
    updated: datetime | None = None  # lastBuildDate; defaults to the newest item
    related: tuple[RelatedFeed, ...] = ()  # atom:link rel="alternate" to its twins


def clean(text: str | None) -> str:
    """Text XML can carry: drops control characters lxml would refuse."""
    return _NOT_XML.sub("", text or "")


def format_duration(seconds: float) -> str:
    """``itunes:duration`` as H:MM:SS, rounded to the second."""
    total = max(0, int(round(seconds or 0)))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def describe(item: FeedItem) -> str:
    """The item's HTML description: the editor's words, the opening lines, a link."""
    parts = [f"<p>{html.escape(p.strip())}</p>" for p in item.summary.split("\n\n") if p.strip()]
    if item.opening.strip():
        parts.append(f"<blockquote><p>{html.escape(item.opening.strip())}</p></blockquote>")
    link = html.escape(item.link, quote=True)
    parts.append(f'<p><a href="{link}">Listen and read the whole transcript</a></p>')
    return "\n".join(parts)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise FeedError(f"{moment.isoformat()} has no time zone; give feed dates in UTC.")
    return moment.astimezone(UTC)


class _AtomLinksExtension(BaseExtension):
    """feedgen writes only ``atom:link rel="self"`` in RSS; this adds the RFC 5005 links
    and the links to the feed's twins."""

    def __init__(self) -> None:
        self.paging: Paging | None = None
        self.related: tuple[RelatedFeed, ...] = ()

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self.paging:
            for rel in ("first", "previous", "next", "last"):
                href = getattr(self.paging, rel)
                if href:
                    xml_elem(f"{{{ATOM_NS}}}link", channel, rel=rel, href=href)
        for feed in self.related:
            attrs = {"rel": "alternate", "type": feed.mime, "title": clean(feed.title)}
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=feed.url, **attrs)
        return rss_feed


def _channel(info: FeedInfo, items: Sequence[FeedItem]) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("podcast", atom=False)  # feedgen's iTunes tags
    fg.register_extension("podcastindex", PodcastExtension, PodcastEntryExtension, atom=False)
    fg.register_extension("atomlinks", _AtomLinksExtension, None, atom=False)
    fg.register_extension("psc", PodloveExtension, PodloveEntryExtension, atom=False)
    fg.title(clean(info.title))
    # feedgen writes the last link given as the RSS <link>: self first, the web page last.
    fg.link(href=info.self_url, rel="self", type="application/rss+xml")
    fg.link(href=info.link, rel="alternate")
    # Podcast apps show a channel's description and summary as HTML, as they do an item's
    # (``describe``): a show's name or description is text, so it is escaped like one.
    summary = html.escape(clean(info.description) or clean(info.title), quote=False)
    fg.description(summary)
    fg.id(info.guid_url)
    fg.generator("radio-archive (python-feedgen)")
    if info.language:
        fg.language(info.language)
    newest = max((_utc(i.published) for i in items), default=EPOCH)
    fg.lastBuildDate(_utc(info.updated) if info.updated else newest)
    it = fg.podcast
    it.itunes_author(clean(info.author))
    it.itunes_explicit("no")
    it.itunes_type("episodic")
    it.itunes_summary(summary)
    if info.category:
        it.itunes_category(itunes_category(info.category))  # "Parent" or "Parent > Sub"
    if info.owner_email:
        it.itunes_owner(name=clean(info.author), email=info.owner_email)
    if info.image_url:
        fg.image(url=info.image_url, title=clean(info.title), link=info.link)
        it.itunes_image(info.image_url)
    pc = fg.podcastindex
    pc.guid(podcast_guid(info.guid_url))
    if info.owner_email:
        # Only an owner's address lets a platform verify a move; without one, say nothing.
        pc.locked(info.locked, owner=info.owner_email)
    pc.medium("podcast")
    for host in info.hosts:
        pc.person(clean(host.name), role=host.role, group=host.group, href=host.href)
    fg.atomlinks.paging = info.paging
    fg.atomlinks.related = info.related
    return fg


def _entry(fe: FeedEntry, item: FeedItem) -> None:
    if item.enclosure.length < 0:
        raise FeedError(f"Episode {item.guid}: enclosure length {item.enclosure.length} is < 0.")
    fe.guid(item.guid, permalink=False)
    fe.title(clean(item.title))
    fe.link(href=item.link)
    fe.description(clean(describe(item)))
    fe.pubDate(_utc(item.published))
    fe.enclosure(item.enclosure.url, str(item.enclosure.length), item.enclosure.mime)
    for topic in item.topics:
        fe.category(term=clean(topic))
    it = fe.podcast
    it.itunes_duration(format_duration(item.duration))
    it.itunes_explicit("no")
    it.itunes_episode_type("full")
    if item.image_url:
        it.itunes_image(item.image_url)
    pc = fe.podcastindex
    for t in item.transcripts:
        pc.transcript(t.url, t.mime, language=t.language, rel="captions" if t.captions else None)
    if item.chapters_url:
        pc.chapters(item.chapters_url)
    fe.psc.chapters([ChapterMark(c.start, clean(c.title), c.end) for c in item.chapters])
    for alt in item.alternates:
        content_type = f'{alt.mime}; codecs="{alt.codecs}"' if alt.codecs else alt.mime
        pc.alternate_enclosure(
            AlternateEnclosureTag(
                mime=alt.mime,
                length=alt.length,
                sources=(SourceTag(alt.url, content_type),),
                bitrate=alt.bitrate,
                title=alt.title,
                codecs=alt.codecs,
                lang=item.language,
                default=alt.default,
            )
        )
    for person in item.persons:
        pc.person(clean(person.name), role=person.role, group=person.group, href=person.href)
    if item.license:
        pc.license(item.license)
    for bite in item.soundbites:
        pc.soundbite(SoundbiteTag(bite.start, bite.duration, clean(bite.title)))


def build_rss(info: FeedInfo, items: Iterable[FeedItem]) -> bytes:
    """The feed as UTF-8 RSS 2.0 bytes, items in the order given (newest first, by custom)."""
    items = list(items)
    fg = _channel(info, items)
    for item in items:
        _entry(fg.add_entry(order="append"), item)
    logger.debug("built feed %s with %d items", info.self_url, len(items))
    return fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)
