"""feeds.build, feeds.podcast and feeds.chapters on their own: dataclasses in, XML/JSON out.

Checked with XPath (as feedgen's own tests do), never by comparing strings.
"""

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lxml import etree, html

from feeds import FeedError
from feeds.build import (
    Enclosure,
    FeedInfo,
    FeedItem,
    License,
    Paging,
    Person,
    RelatedFeed,
    Transcript,
    build_rss,
    format_duration,
)
from feeds.chapters import ChapterMark, chapters_document, to_json
from feeds.podcast import podcast_guid

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
TRICKY = "Café ñandú 中文 🎙️ <b>bold</b> & “quotes” a<b"
BASE = "http://radio.local:5000"


def info(**changes) -> FeedInfo:
    fields = dict(
        title="Community Radio Archive",
        link=f"{BASE}/",
        self_url=f"{BASE}/feeds/all.xml",
        guid_url=f"{BASE}/feeds/all.xml",
        description="Everything, newest first.",
        author="Community Radio",
        language="en",
        owner_email="studio@radio.example",
        hosts=(Person("Ana Núñez"),),
    )
    fields.update(changes)
    return FeedInfo(**fields)


def item(guid: str = "6f1c2a9e-0000-4000-8000-000000000001", **changes) -> FeedItem:
    fields = dict(
        guid=guid,
        title="Morning show",
        link=f"{BASE}/episodes/{guid}",
        published=datetime(2026, 11, 2, 10, 30, tzinfo=UTC),
        duration=3725.4,
        enclosure=Enclosure(f"{BASE}/media/{guid}/audio.mp3", 22_351_234, "audio/mpeg", 48_000),
        alternates=(
            Enclosure(
                f"{BASE}/media/{guid}/audio.opus",
                11_175_617,
                "audio/ogg",
                24_000,
                "opus",
                "Data saver",
            ),
        ),
        transcripts=(
            Transcript(f"{BASE}/episodes/{guid}/transcript.vtt", "text/vtt", "en", True),
            Transcript(f"{BASE}/episodes/{guid}/transcript.srt", "application/x-subrip", "en"),
            Transcript(f"{BASE}/episodes/{guid}/transcript.json", "application/json", "en"),
        ),
        chapters_url=f"{BASE}/feeds/chapters/{guid}.json",
        summary="The news, then the weather.",
        opening="Good morning, this is the morning show.",
        language="en",
        persons=(Person("Ana Núñez"), Person("Bo Li", role="guest")),
        topics=("Water",),
    )
    fields.update(changes)
    return FeedItem(**fields)


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def one(node: etree._Element, path: str):
    found = node.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {found!r}"
    return found[0]


def test_channel_has_itunes_and_podcasting20_tags():
    rss = parse(build_rss(info(), [item()]))
    assert rss.get("version") == "2.0"
    channel = one(rss, "/rss/channel")
    assert one(channel, "title/text()") == "Community Radio Archive"
    assert one(channel, "link/text()") == f"{BASE}/"
    assert one(channel, "atom:link[@rel='self']/@href") == f"{BASE}/feeds/all.xml"
    assert one(channel, "language/text()") == "en"
    assert one(channel, "itunes:author/text()") == "Community Radio"
    assert one(channel, "itunes:category/@text") == "Society & Culture"
    assert one(channel, "itunes:explicit/text()") == "no"
    assert one(channel, "podcast:guid/text()") == podcast_guid(f"{BASE}/feeds/all.xml")
    assert one(channel, "podcast:locked/text()") == "yes"
    assert one(channel, "podcast:locked/@owner") == "studio@radio.example"
    person = one(channel, "podcast:person")
    assert person.text == "Ana Núñez" and person.get("role") == "host"
    assert one(channel, "lastBuildDate/text()") == "Mon, 02 Nov 2026 10:30:00 +0000"


def test_podcast_guid_follows_the_namespace_example():
    # The namespace's documented example: podnews.net/rss.
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("http://podnews.net/rss/") == podcast_guid("https://podnews.net/rss")


def test_item_has_enclosure_guid_duration_transcripts_chapters_and_alternate():
    entry = one(parse(build_rss(info(), [item()])), "/rss/channel/item")
    guid = one(entry, "guid")
    assert guid.text == "6f1c2a9e-0000-4000-8000-000000000001"
    assert guid.get("isPermaLink") == "false"
    enclosure = one(entry, "enclosure")
    assert enclosure.get("length") == "22351234" and enclosure.get("type") == "audio/mpeg"
    assert enclosure.get("url").endswith("/audio.mp3")
    assert one(entry, "itunes:duration/text()") == "1:02:05"
    assert one(entry, "pubDate/text()") == "Mon, 02 Nov 2026 10:30:00 +0000"
    transcripts = entry.xpath("podcast:transcript", namespaces=NS)
    assert [t.get("type") for t in transcripts] == [
        "text/vtt",
        "application/x-subrip",
        "application/json",
    ]
    assert all(t.get("language") == "en" for t in transcripts)
    assert [t.get("rel") for t in transcripts] == ["captions", None, None]
    chapters = one(entry, "podcast:chapters")
    assert chapters.get("type") == "application/json+chapters"
    alt = one(entry, "podcast:alternateEnclosure")
    assert alt.get("type") == "audio/ogg" and alt.get("codecs") == "opus"
    assert alt.get("length") == "11175617" and alt.get("bitrate") == "24000"
    assert alt.get("title") == "Data saver"
    assert one(alt, "podcast:source/@uri").endswith("/audio.opus")
    assert [p.text for p in entry.xpath("podcast:person", namespaces=NS)] == ["Ana Núñez", "Bo Li"]
    assert one(entry, "category/text()") == "Water"


def test_an_item_names_its_licence_as_podcast_license():
    cc = License("cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/")
    own = License("all-rights-reserved", f"{BASE}/episodes/b")
    rss = parse(build_rss(info(), [item("a", license=cc), item("b", license=own), item("c")]))
    licensed = rss.xpath("/rss/channel/item/podcast:license", namespaces=NS)
    assert [(tag.text, tag.get("url")) for tag in licensed] == [
        ("cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/"),
        ("all-rights-reserved", f"{BASE}/episodes/b"),
    ]
    assert [tag.getparent().findtext("guid") for tag in licensed] == ["a", "b"]
    spdx = parse(build_rss(info(), [item(license=License("cc0-1.0"))]))
    assert one(spdx, "//podcast:license").attrib == {}  # an SPDX name needs no URL
    with pytest.raises(FeedError, match="licence's name"):
        build_rss(info(), [item(license=License(" "))])


def test_description_has_opening_lines_and_a_link_to_the_episode_page():
    entry = one(parse(build_rss(info(), [item()])), "/rss/channel/item")
    page = html.fromstring(one(entry, "description/text()"))
    assert "Good morning, this is the morning show." in page.text_content()
    assert "The news, then the weather." in page.text_content()
    assert page.xpath("//a/@href") == [f"{BASE}/episodes/6f1c2a9e-0000-4000-8000-000000000001"]


def test_unicode_and_markup_characters_come_through_intact():
    tricky = item(title=TRICKY, summary=TRICKY, opening=f"{TRICKY} said the caller.")
    rss = parse(build_rss(info(title=TRICKY, description=TRICKY), [tricky]))
    assert one(rss, "/rss/channel/title/text()") == TRICKY
    entry = one(rss, "/rss/channel/item")
    assert one(entry, "title/text()") == TRICKY
    text = html.fromstring(one(entry, "description/text()")).text_content()
    assert TRICKY in text and f"{TRICKY} said the caller." in text


def test_the_channel_description_is_text_shown_as_html():
    # Podcast apps render a channel's description and summary as HTML (#13): a show named
    # "<script>..." is text there, escaped like an item's description.
    named = '<script>alert("show")</script> & <b>Talk</b>'
    rss = parse(build_rss(info(title=named, description=""), [item()]))
    for path in ("/rss/channel/description/text()", "/rss/channel/itunes:summary/text()"):
        shown = one(rss, path)
        assert "<script>" not in shown and "<b>" not in shown, path
        assert html.fromstring(f"<p>{shown}</p>").text_content() == named, path
    plain = parse(build_rss(info(description=TRICKY), [item()]))
    shown = one(plain, "/rss/channel/description/text()")
    assert html.fromstring(f"<p>{shown}</p>").text_content() == TRICKY


def test_control_characters_that_xml_cannot_carry_are_dropped():
    rss = parse(build_rss(info(), [item(title="Bell\x07 and\x0b tab\tend")]))
    assert one(rss, "/rss/channel/item/title/text()") == "Bell and tab\tend"


def test_items_keep_their_order_and_an_item_without_extras_is_plain():
    bare = item(
        "b",
        alternates=(),
        transcripts=(),
        chapters_url=None,
        persons=(),
        summary="",
        opening="",
        topics=(),
    )
    rss = parse(build_rss(info(), [item("a"), bare, item("c")]))
    assert rss.xpath("/rss/channel/item/guid/text()") == ["a", "b", "c"]
    entry = rss.xpath("/rss/channel/item[guid='b']")[0]
    assert entry.xpath("podcast:*", namespaces=NS) == []
    assert one(entry, "enclosure/@length") == "22351234"


def test_paging_links_follow_rfc5005():
    paging = Paging(
        first=f"{BASE}/feeds/all.xml",
        previous=f"{BASE}/feeds/all.xml",
        next=f"{BASE}/feeds/all.xml?page=3",
        last=f"{BASE}/feeds/all.xml?page=9",
    )
    page2 = info(self_url=f"{BASE}/feeds/all.xml?page=2", paging=paging)
    channel = one(parse(build_rss(page2, [item()])), "/rss/channel")
    links = {a.get("rel"): a.get("href") for a in channel.xpath("atom:link", namespaces=NS)}
    assert links == {
        "self": f"{BASE}/feeds/all.xml?page=2",
        "first": f"{BASE}/feeds/all.xml",
        "previous": f"{BASE}/feeds/all.xml",
        "next": f"{BASE}/feeds/all.xml?page=3",
        "last": f"{BASE}/feeds/all.xml?page=9",
    }
    # The feed keeps one identity across its pages.
    assert one(channel, "podcast:guid/text()") == podcast_guid(f"{BASE}/feeds/all.xml")


def test_same_input_gives_the_same_bytes():
    assert build_rss(info(), [item()]) == build_rss(info(), [item()])


def test_an_empty_feed_is_valid():
    channel = one(parse(build_rss(info(hosts=()), [])), "/rss/channel")
    assert channel.xpath("item") == []
    assert one(channel, "lastBuildDate/text()") == "Thu, 01 Jan 1970 00:00:00 +0000"


def test_bad_input_raises_feed_error_with_the_fix():
    with pytest.raises(FeedError, match="time zone"):
        build_rss(info(), [item(published=datetime(2026, 1, 1))])
    with pytest.raises(FeedError, match="length"):
        build_rss(info(), [item(enclosure=replace(item().enclosure, length=-1))])
    with pytest.raises(FeedError, match="name"):
        build_rss(info(hosts=(Person("  "),)), [])


def test_duration_format():
    assert format_duration(0) == "0:00:00"
    assert format_duration(59.6) == "0:01:00"
    assert format_duration(3 * 3600 + 5) == "3:00:05"


def test_chapters_json():
    doc = json.loads(
        to_json(
            [ChapterMark(60.5, "Weather ☀️", 120), ChapterMark(0, "Intro & news <1>", 60.5)],
            title="Morning",
            podcast_name="Café ñ",
        )
    )
    assert doc["version"] == "1.2.0" and doc["podcastName"] == "Café ñ"
    assert doc["chapters"] == [
        {"startTime": 0, "title": "Intro & news <1>", "endTime": 60.5},
        {"startTime": 60.5, "title": "Weather ☀️", "endTime": 120},
    ]
    with pytest.raises(FeedError):
        chapters_document([])


def test_a_feed_names_its_twin_and_an_alternate_may_be_marked_default():
    twin = RelatedFeed(f"{BASE}/feeds/saver/all.xml", "Community Radio Archive (data saver) ñ")
    small = replace(item().alternates[0], default=True)
    rss = parse(build_rss(info(related=(twin,)), [item(alternates=(small,))]))
    link = one(rss, "/rss/channel/atom:link[@rel='alternate']")
    assert (link.get("href"), link.get("title")) == (twin.url, twin.title)
    assert link.get("type") == "application/rss+xml"
    assert one(rss, "/rss/channel/link/text()") == f"{BASE}/"  # the web page stays the link
    assert one(rss, "//podcast:alternateEnclosure/@default") == "true"
    plain = parse(build_rss(info(), [item()]))
    assert plain.xpath("//atom:link[@rel='alternate']", namespaces=NS) == []
    assert plain.xpath("//podcast:alternateEnclosure/@default", namespaces=NS) == []
