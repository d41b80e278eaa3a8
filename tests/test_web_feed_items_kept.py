"""radio.web.feed_items with the server's KeptUrls: items kept by what they are made of are
the very items a build from scratch makes, whatever changed in between (#17)."""

from __future__ import annotations

import sqlite_utils
from flask import Flask

from feeds.build import build_rss
from radio.data.feeds import FeedSpec
from radio.web.feed_items import load_feed
from radio.web.feedparts import KeptUrls
from radio.web.urls import Urls
from tests.archive import Seeder
from tests.test_data_search_feed import with_mp3

BASE = "http://localhost"


def fresh_feed(app: Flask, db: sqlite_utils.Database, spec: FeedSpec) -> bytes:
    """The feed built from nothing: plain ``Urls`` keep no item."""
    data = load_feed(db, app.config, Urls(BASE, app.url_map), spec)
    return build_rss(data.info, data.items)


def test_kept_items_are_rebuilt_exactly_when_their_facts_change(
    app: Flask, db: sqlite_utils.Database, seed: Seeder
) -> None:
    ids = [
        with_mp3(db, seed.episode(f"Talk {n}", [(0, 4, "the well", "Amina")], show="Morning"))
        for n in range(3)
    ]
    kept = KeptUrls(BASE, app.url_map)
    first = load_feed(db, app.config, kept, FeedSpec("all")).items
    again = load_feed(db, app.config, kept, FeedSpec("all")).items
    assert all(a is b for a, b in zip(first, again, strict=True))  # nothing changed: kept

    db["episodes"].update(ids[1], {"title": "Talk 1 (edited)"})
    edited = load_feed(db, app.config, kept, FeedSpec("all")).items
    by_guid = {item.guid: item for item in first}
    changed = [item for item in edited if item is not by_guid[item.guid]]
    assert [item.title for item in changed] == ["Talk 1 (edited)"]

    # what is not in the episode's row changes an item too: who is heard, its files
    db.execute("update segments set speaker = 'Joseph' where episode_id = ?", [ids[0]])
    db["renditions"].insert({"episode_id": ids[2], "kind": "aac", "path": "x.m4a",
                             "bytes": 500, "mime": "audio/mp4"})  # fmt: skip
    items = load_feed(db, app.config, kept, FeedSpec("all")).items
    persons = {item.guid: [p.name for p in item.persons] for item in items}
    assert "Joseph" in persons[db["episodes"].get(ids[0])["guid"]]
    saver = load_feed(db, app.config, kept, FeedSpec("all", saver=True)).items
    assert {i.enclosure.mime for i in saver} == {"audio/mpeg", "audio/mp4"}
    for spec in (FeedSpec("all"), FeedSpec("all", saver=True)):
        data = load_feed(db, app.config, kept, spec)
        assert build_rss(data.info, data.items) == fresh_feed(app, db, spec)


def test_the_served_feed_is_the_one_built_from_scratch_after_each_change(
    app: Flask, db: sqlite_utils.Database, seed: Seeder, client
) -> None:
    ids = [with_mp3(db, seed.episode(f"Talk {n}", [(0, 4, "the well")])) for n in range(3)]
    changes = [
        lambda: db["episodes"].update(ids[0], {"title": "A new title"}),
        lambda: db["episodes"].update(ids[1], {"description": "Now described"}),
        lambda: db["episodes"].update(ids[2], {"licence": "cc-by"}),
        lambda: db["episodes"].update(ids[1], {"visibility": "private"}),
        lambda: db["episodes"].update(ids[0], {"published_at": "2020-01-01T00:00:00+00:00"}),
    ]
    for change in [lambda: None, *changes]:
        change()
        for url, spec in (("/feeds/all.xml", FeedSpec("all")),
                          ("/feeds/saver/all.xml", FeedSpec("all", saver=True))):  # fmt: skip
            served = client.get(url, headers={"Accept-Encoding": "identity"})
            assert served.status_code == 200
            assert served.data == fresh_feed(app, db, spec)
