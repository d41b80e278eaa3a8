"""radio.web.feedparts: a feed assembled from items built once is the very feed
feeds.build makes, byte for byte, however its items change between builds."""

from dataclasses import replace
from datetime import UTC, datetime

from feeds.build import Paging, build_rss
from radio.web import feedparts
from tests.test_feeds_build import TRICKY, info, item


def items(n: int) -> list:
    return [
        item(f"6f1c2a9e-0000-4000-8000-{i:012d}", title=f"Show {i} {TRICKY}",
             published=datetime(2026, 11, 1 + i % 28, 10, i % 60, tzinfo=UTC))
        for i in range(n)
    ]  # fmt: skip


def test_an_assembled_feed_is_byte_for_byte_the_built_one() -> None:
    feedparts.forget()
    channel = info(paging=Paging(first="http://r/1", next="http://r/2"))
    listed = items(12)
    assert feedparts.assemble_rss(channel, listed) == build_rss(channel, listed)
    # again from kept items, after one item changed and one went, in another channel
    listed[3] = replace(listed[3], title="Edited title", topics=("Water", "Health"))
    del listed[0]
    other = info(title="Another feed", language="fr", updated=datetime(2027, 1, 1, tzinfo=UTC))
    for feed_info in (channel, other):
        assert feedparts.assemble_rss(feed_info, listed) == build_rss(feed_info, listed)
    assert feedparts.assemble_rss(channel, []) == build_rss(channel, [])
