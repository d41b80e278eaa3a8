"""A feed's XML assembled from items built once each (#17).

feedgen builds a feed of 300 items in about 80 ms: every change to the archive (a title
edited anywhere) made the next listener wait for it again. An item's XML depends only on
its ``FeedItem`` (a frozen dataclass: equal items, equal XML), so each is kept by its value,
and a feed is its channel (built with one item, which fixes what the channel takes from
its items) with the kept items put in that one's place. The bytes are those
``feeds.build.build_rss`` makes for the whole feed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

from werkzeug.routing import Map

from feeds.build import FeedInfo, FeedItem, build_rss
from radio.web.urls import Urls

ITEMS_KEPT = 4_000  # a few KB each: every feed's page of every kind, for the server's life

_items: OrderedDict[FeedItem, bytes] = OrderedDict()
_lock = threading.Lock()


def _cut(xml: bytes) -> tuple[bytes, bytes, bytes]:
    """(before the items, the items, after them) of a built feed."""
    start, end = xml.find(b"<item>"), xml.rfind(b"</item>") + len(b"</item>")
    return xml[:start], xml[start:end], xml[end:]


def _item_xml(info: FeedInfo, item: FeedItem) -> bytes:
    with _lock:
        xml = _items.get(item)
        if xml is not None:
            _items.move_to_end(item)
            return xml
    xml = _cut(build_rss(info, [item]))[1]
    with _lock:
        _items[item] = xml
        while len(_items) > ITEMS_KEPT:
            _items.popitem(last=False)
    return xml


def assemble_rss(info: FeedInfo, items: list[FeedItem]) -> bytes:
    """``build_rss(info, items)``, from the items already built."""
    if not items:
        return build_rss(info, items)
    # the channel's lastBuildDate is its newest item's date unless it has its own
    newest = max(i.published for i in items)
    channel = replace(info, updated=info.updated or newest)
    head, first, tail = _cut(build_rss(channel, [items[0]]))
    with _lock:
        _items.setdefault(items[0], first)
    return head + b"".join(_item_xml(info, item) for item in items) + tail


def forget() -> None:
    with _lock:
        _items.clear()


class KeptUrls(Urls):
    """``Urls`` that builds each URL once: a feed of 300 items asks for 2,000 (werkzeug
    takes 20 us each, half of a feed's build); a route map never changes while serving."""

    KEPT = 50_000
    ITEMS_KEPT = ITEMS_KEPT

    def __init__(self, base: str, url_map: Map) -> None:
        super().__init__(base, url_map)
        self._built: dict[tuple, str] = {}
        # feed items by what they are made of (``radio.web.feed_items``): their URLs are
        # this root's, so they are kept with it
        self._items: OrderedDict[Hashable, FeedItem] = OrderedDict()
        self._items_lock = threading.Lock()

    def item(self, facts: Hashable, make: Callable[[], FeedItem]) -> FeedItem:
        """The item made of ``facts``: the one ``make()`` gave for them before, if kept."""
        with self._items_lock:
            found = self._items.get(facts)
            if found is not None:
                self._items.move_to_end(facts)
                return found
        made = make()
        with self._items_lock:
            self._items[facts] = made
            while len(self._items) > self.ITEMS_KEPT:
                self._items.popitem(last=False)
        return made

    def build(self, endpoint: str, **values: Any) -> str:
        key = (endpoint, *sorted(values.items()))
        url = self._built.get(key)
        if url is None:
            url = super().build(endpoint, **values)
            if len(self._built) >= self.KEPT:
                self._built.clear()
            self._built[key] = url
        return url


def kept_urls(kept: dict[str, KeptUrls], urls: Urls, url_map: Map) -> KeptUrls:
    """The URL builder for ``urls``'s root, kept in ``kept`` (the app's, one per root)."""
    found = kept.get(urls.base)
    if found is None:
        found = kept[urls.base] = KeptUrls(urls.base, url_map)
    return found
