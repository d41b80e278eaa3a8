"""An OPML 2.0 subscription list: ``OpmlHead`` and ``OpmlFeed``/``OpmlGroup`` in, bytes out.

Podcast apps (AntennaPod, gPodder, Pocket Casts, Apple Podcasts on a Mac) import such a
file to follow many feeds at once. Each feed is an ``outline`` with ``type="rss"``,
``text`` (required by OPML 2.0 on every outline), ``title`` and ``xmlUrl``; a group is an
outline holding others, which importers show as a folder or flatten.

Pure: no Flask, no database, no clock (``date_created`` is given, or left out), so the
same input gives the same bytes and a hash of them is a strong ETag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree

from feeds import FeedError
from feeds.build import clean

OPML_MIME = "text/x-opml"
OPML_DOCS = "http://opml.org/spec2.opml"


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    xml_url: str  # the feed, absolute
    html_url: str | None = None  # the web page of the same episodes
    description: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class OpmlGroup:
    """A folder of feeds (or of further groups)."""

    title: str
    outlines: tuple[OpmlFeed | OpmlGroup, ...]


@dataclass(frozen=True)
class OpmlHead:
    title: str
    owner_name: str | None = None
    owner_email: str | None = None
    date_created: datetime | None = None


def _outline(parent: Any, node: OpmlFeed | OpmlGroup) -> None:
    title = clean(node.title).strip()
    if not title:
        raise FeedError("Every OPML outline needs a title (its text); name the feed or group.")
    if isinstance(node, OpmlGroup):
        group = etree.SubElement(parent, "outline", text=title, title=title)
        for child in node.outlines:
            _outline(group, child)
        return
    if "://" not in node.xml_url:
        raise FeedError(f"{node.xml_url!r} is not an absolute URL; OPML readers need the host.")
    attrs = {"type": "rss", "version": "RSS2", "text": title, "title": title}
    attrs["xmlUrl"] = node.xml_url
    if node.html_url:
        attrs["htmlUrl"] = node.html_url
    if node.description:
        attrs["description"] = clean(node.description)
    if node.language:
        attrs["language"] = node.language
    etree.SubElement(parent, "outline", **attrs)


def build_opml(head: OpmlHead, outlines: Iterable[OpmlFeed | OpmlGroup]) -> bytes:
    """The subscription list as UTF-8 OPML 2.0, outlines in the order given."""
    root = etree.Element("opml", version="2.0")
    top = etree.SubElement(root, "head")
    etree.SubElement(top, "title").text = clean(head.title)
    if head.date_created:
        if head.date_created.tzinfo is None:
            raise FeedError("date_created has no time zone; give it in UTC.")
        created = format_datetime(head.date_created.astimezone(UTC))
        etree.SubElement(top, "dateCreated").text = created
    if head.owner_name:
        etree.SubElement(top, "ownerName").text = clean(head.owner_name)
    if head.owner_email:
        etree.SubElement(top, "ownerEmail").text = head.owner_email
    etree.SubElement(top, "docs").text = OPML_DOCS
    body = etree.SubElement(root, "body")
    for node in outlines:
        _outline(body, node)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def feed_urls(outlines: Iterable[OpmlFeed | OpmlGroup]) -> list[str]:
    """Every feed URL in the outlines, depth first (what an importer subscribes to)."""
    found: list[str] = []
    for node in outlines:
        if isinstance(node, OpmlGroup):
            found += feed_urls(node.outlines)
        else:
            found.append(node.xml_url)
    return found
