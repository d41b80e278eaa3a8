"""Topic pages, tags and chapters on the episode page, the search topic filter, tag editing.

The module's archive is real: clips from tests/data joined into one recording (printing,
then telephone prompts), transcribed on the device (Whisper tiny.en) and tagged with a
station taxonomy. Tag editing uses a real recording whose transcript an editor typed.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree
from lxml import html as lxml_html

from radio import create_app
from radio.data.tags import chapters as stored_chapters
from radio.data.tags import episode_tags, tag_episode
from radio.db import connect, database_path
from radio.jobs.topics import retag
from radio.web.templating import seconds_text
from tests.audiofiles import convert, join_clips
from tests.conftest import DATA, clip, settings
from tests.test_jobs_topics import STATION_TAXONOMY
from tests.test_web_archive import transfer_size
from tests.webserver import add_account, add_episode, csrf_token, log_in, write_transcript

PRINTING = [f"LJ001-000{i}.wav" for i in range(1, 9)]
PHONE = ["basic-pbx-ivr-main.wav", "agent-alreadyon.wav", "conf-adminmenu.wav"]
PHONE += ["check-number-dial-again.wav", "privacy-prompt.wav", "ss-noservice.wav"]


def make_app(home: Path, **config: object) -> Flask:
    home.mkdir(parents=True, exist_ok=True)
    (home / "taxonomy.toml").write_text(STATION_TAXONOMY, encoding="utf-8")
    return create_app(settings(home, SECRET_KEY="t", CHAPTER_MIN_SECONDS=40, **config))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):  # noqa: ANN201
    """A public recording about printing then telephones, a private one about printing and,
    added last, a public one about Gutenberg's book."""
    base = tmp_path_factory.mktemp("topics")
    app = make_app(base / "home", TRANSCRIBE=True)
    starts = join_clips([clip(n) for n in PRINTING + PHONE], base / "joined.wav")
    eps = {
        "joined": add_episode(
            app, base / "joined.wav", title="Books and phones", show="Readings", language="en"
        ),
        "private": add_episode(
            app, clip("LJ001-0004.wav"), title="Block books", visibility="private", language="en"
        ),
        "gutenberg": add_episode(app, clip("LJ001-0007.wav"), title="Gutenberg", language="en"),
    }
    db = connect(database_path(app))
    try:
        tag_episode(db, eps["private"]["id"], add=["Board meeting"])
    finally:
        db.conn.close()
    phone_starts_at = starts[len(PRINTING)]
    return app, eps, phone_starts_at


def get(app: Flask, url: str, status: int = 200, client=None):  # noqa: ANN001, ANN201
    response = (client or app.test_client()).get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return lxml_html.fromstring(response.get_data(as_text=True))


def editor_client(app: Flask, name: str = "amina"):  # noqa: ANN201
    client = app.test_client()
    add_account(app, name, "editor")
    log_in(client, name)
    return client


def topic_titles(doc) -> list[str]:  # noqa: ANN001
    return doc.xpath("//ol[@class='results']/li/h2/a/text()")


def test_every_episode_has_the_topics_it_is_about(archive):
    app, eps, _ = archive
    db = connect(database_path(app))
    try:
        tags = {ep: {r.slug for r in episode_tags(db, e["id"])} for ep, e in eps.items()}
    finally:
        db.conn.close()
    assert {"printing", "telephone-service"} <= tags["joined"]
    assert "printing" in tags["private"] and "printing" in tags["gutenberg"]
    assert "telephone-service" not in tags["gutenberg"]


def test_topics_page_lists_station_topics_first_with_counts(archive):
    app, _, _ = archive
    doc = get(app, "/topics")
    station = doc.xpath("//ul[@class='shows']/li")
    assert [li.xpath("string(a)") for li in station] == ["Printing and books", "Telephone service"]
    assert station[0].xpath("a/@href") == ["/topics/printing"]
    assert station[0].xpath("string(small)") == "2 episodes"  # the private one isn't counted
    assert station[1].xpath("string(small)") == "1 episode"
    others = doc.xpath("//p[@class='topics']/a/@href")
    assert others and "/topics/printing" not in others
    assert "/topics/board-meeting" not in others  # only on a private episode
    editors = get(app, "/topics", client=editor_client(app, "topics-editor"))
    assert editors.xpath("string(//ul[@class='shows']/li[1]/small)") == "3 episodes"
    assert "/topics/board-meeting" in editors.xpath("//p[@class='topics']/a/@href")


def test_topic_page_lists_episodes_newest_first_with_a_feed(archive):
    app, eps, _ = archive
    doc = get(app, "/topics/printing")
    assert doc.xpath("//h1/text()") == ["Printing and books"]
    assert topic_titles(doc) == ["Gutenberg", "Books and phones"]
    feed = "/feeds/topics/printing.xml"
    assert doc.xpath("//a[@class='subscribe']/@href") == ["/subscribe/topics/printing"]
    links = doc.xpath("//link[@rel='alternate'][@type='application/rss+xml']/@href")
    assert links == [feed, "/feeds/saver/topics/printing.xml"]
    rss = app.test_client().get(feed)
    assert rss.status_code == 200
    items = etree.fromstring(rss.data).xpath("//item/guid/text()")
    assert sorted(items) == sorted([eps["joined"]["guid"], eps["gutenberg"]["guid"]])
    # search within the topic
    assert doc.xpath("//form[@role='search']//input[@name='topic']/@value") == ["printing"]


def test_moments_link_to_the_second_they_are_said(archive):
    app, eps, phone_starts_at = archive
    guid = eps["joined"]["guid"]
    doc = get(app, "/topics/telephone-service")
    assert topic_titles(doc) == ["Books and phones"]
    moments = doc.xpath("//ul[@class='hits']/li/a")
    assert moments
    href = moments[0].get("href")
    match = re.fullmatch(rf"/episodes/{guid}\?t=([\d.]+)#t=([\d.]+)", href)
    assert match and match.group(1) == match.group(2)
    at = float(match.group(1))
    assert at == pytest.approx(phone_starts_at, abs=2)  # where the telephone prompts begin
    said = moments[0].xpath("string(text())").strip()
    # the link starts the player there and lands on that segment, marked, without JavaScript
    episode = get(app, href.split("#")[0])
    segment = episode.xpath(f"//div[@id='transcript']//p[@id='t={match.group(2)}']")
    assert segment and segment[0].get("class") == "now"
    assert said and said in segment[0].text_content()
    assert all(src.endswith(f"#t={match.group(1)}") for src in episode.xpath("//audio/source/@src"))
    assert moments[0].xpath("span[@class='ts']/text()") == [f"{int(at) // 60}:{int(at) % 60:02d}"]
    # the printing moments of the same recording are before the telephones
    printing = get(app, "/topics/printing").xpath(
        f"//ul[@class='hits']/li/a[starts-with(@href, '/episodes/{guid}?')]/@href"
    )
    assert printing and all(float(h.split("t=")[1].split("#")[0]) < at for h in printing)


def test_private_episodes_are_only_for_editors(archive):
    app, eps, _ = archive
    private = eps["private"]
    listener = app.test_client().get("/topics/printing").get_data(as_text=True)
    assert private["guid"] not in listener and "Block books" not in listener
    assert "Board meeting" not in app.test_client().get("/topics").get_data(as_text=True)
    get(app, "/topics/board-meeting", status=404)  # no public episode: as if it didn't exist
    editor = editor_client(app, "private-editor")
    doc = get(app, "/topics/printing", client=editor)
    assert topic_titles(doc) == ["Gutenberg", "Block books", "Books and phones"]
    assert topic_titles(get(app, "/topics/board-meeting", client=editor)) == ["Block books"]


def test_an_unknown_topic_is_404_with_a_way_on(archive):
    app, _, _ = archive
    doc = get(app, "/topics/no-such-topic", status=404)
    assert "Topic no-such-topic doesn't exist" in doc.xpath("string(//main)")
    assert "/topics" in doc.xpath("string(//main)")
    as_json = app.test_client().get("/topics/nothing", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and "/topics" in as_json.json["error"]["detail"]


def test_home_page_links_the_station_topics(archive):
    app, _, _ = archive
    doc = get(app, "/")
    assert doc.xpath("//p[@class='topics']/a/@href") == [
        "/topics/printing",
        "/topics/telephone-service",
    ]
    assert doc.xpath("//a[@href='/topics']")


def test_episode_page_links_its_topics_and_lists_chapters_that_seek(archive):
    app, eps, phone_starts_at = archive
    ep = eps["joined"]
    doc = get(app, f"/episodes/{ep['guid']}")
    topics = doc.xpath("//p[@class='topics']/a/@href")
    assert {"/topics/printing", "/topics/telephone-service"} <= set(topics)
    db = connect(database_path(app))
    try:
        stored = stored_chapters(db, ep["id"])
    finally:
        db.conn.close()
    assert len(stored) == 2  # printing, then the telephone prompts
    assert stored[1].start == pytest.approx(phone_starts_at, abs=3)
    items = doc.xpath("//ol[@class='chapters']/li")
    assert [li.xpath("string(a)") for li in items] == ["0:00", f"0:{int(stored[1].start):02d}"]
    segment_ids = set(doc.xpath("//div[@id='transcript']//p/@id"))
    for li, chapter in zip(items, stored, strict=True):
        t = seconds_text(chapter.start)
        assert li.xpath("a/@href") == [f"?t={t}#t={t}"]  # seeks: in place with JavaScript
        assert f"t={t}" in segment_ids  # without it, the page reloads there
        assert chapter.title in li.text_content()
    later = get(app, f"/episodes/{ep['guid']}?t={stored[1].start + 1}")
    assert later.xpath("//ol[@class='chapters']/li/@class") == ["now"]
    assert later.xpath("//ol[@class='chapters']/li[2]/@class") == ["now"]
    chapters_json = doc.xpath("//details[@class='downloads']//a[contains(@href, 'chapters')]/@href")
    assert chapters_json == [f"/feeds/chapters/{ep['guid']}.json"]
    exported = json.loads(app.test_client().get(chapters_json[0]).data)
    assert [c["title"] for c in exported["chapters"]] == [c.title for c in stored]


def test_search_filters_by_topic(archive):
    app, _, _ = archive
    assert sorted(topic_titles(get(app, "/search?q=book"))) == ["Books and phones", "Gutenberg"]
    doc = get(app, "/search?q=book&topic=telephone-service")
    assert topic_titles(doc) == ["Books and phones"]
    options = doc.xpath("//select[@name='topic']/option/@value")
    assert options == ["", "printing", "telephone-service"]
    assert doc.xpath("//select[@name='topic']/option[@selected]/@value") == ["telephone-service"]
    assert doc.xpath("//details[@class='filters'][@open]")
    # private episodes only for editors, with or without the filter
    both = ["Books and phones", "Gutenberg"]
    assert sorted(topic_titles(get(app, "/search?q=book&topic=printing"))) == both
    editor = editor_client(app, "search-editor")
    found = topic_titles(get(app, "/search?q=book&topic=printing", client=editor))
    assert sorted(found) == ["Block books", *both]
    # a tag that isn't a station topic, as a topic page's "search within" sends it
    keyphrase = next(
        h.removeprefix("/topics/")
        for h in get(app, "/topics").xpath("//p[@class='topics']/a/@href")
    )
    doc = get(app, f"/search?q=book&topic={keyphrase}")
    assert doc.xpath("//select[@name='topic']/option[@selected]/@value") == [keyphrase]
    assert topic_titles(get(app, "/search?q=book&topic=no-such-topic")) == []


# -- editors' tags ---------------------------------------------------------------------------


def reference_text(name: str) -> str:
    with (DATA / "manifest.tsv").open(encoding="utf-8") as f:
        return next(r["reference"] for r in csv.DictReader(f, delimiter="\t") if r["path"] == name)


def type_transcript(db, episode_id: int, text: str, duration: float) -> None:  # noqa: ANN001
    """A transcript as an editor types it: one segment a sentence, timed by its length."""
    sentences = re.split(r"(?<=\.)\s+", text.strip())
    total = sum(len(s) for s in sentences)
    at, rows = 0.0, []
    for idx, sentence in enumerate(sentences):
        end = at + duration * len(sentence) / total
        rows.append({"episode_id": episode_id, "idx": idx, "text": sentence})
        rows[-1] |= {"start": round(at, 2), "end": round(end, 2)}
        at = end
    db["segments"].insert_all(rows)


@pytest.fixture
def phone_line(app, db, home):  # noqa: ANN001, ANN201
    """A real recording of a phone menu, its transcript typed by an editor, then tagged."""
    (home / "taxonomy.toml").write_text(STATION_TAXONOMY, encoding="utf-8")
    ep = add_episode(app, clip("basic-pbx-ivr-main.wav"), title="Phone menu", show="Prompts")
    text = reference_text("basic-pbx-ivr-main.wav")
    type_transcript(db, ep["id"], text, ep["duration"])
    retag(db, {**app.config, "CHAPTER_MIN_SECONDS": 10}, [ep["id"]])
    return ep


def tags_of(db, episode_id: int) -> dict[str, tuple]:  # noqa: ANN001
    rows = episode_tags(db, episode_id, include_removed=True)
    return {r.slug: (r.source, r.removed) for r in rows}


def test_editors_add_and_remove_tags_on_the_edit_page(app, db, phone_line, runner):
    guid = phone_line["guid"]
    assert tags_of(db, phone_line["id"])["telephone-service"] == ("taxonomy", 0)
    client = editor_client(app)
    edit_url = f"/episodes/{guid}/edit"
    doc = get(app, edit_url, client=client)
    row = doc.xpath("//ul[@class='tags']/li[a='Telephone service']")[0]
    assert row.xpath("string(small)").startswith("station topic · 0.")  # source and score
    assert row.xpath("button/@name") == ["remove"] and row.xpath("button/@value")
    token = csrf_token(lxml_html.tostring(doc, encoding="unicode"))

    r = client.post(
        edit_url, data={"csrf_token": token, "part": "tags", "add": "customer advocate"}
    )
    assert r.status_code == 302 and r.headers["Location"] == f"{edit_url}#tags"
    added = get(app, edit_url, client=client)
    assert "Added customer advocate." in added.xpath("string(//p[@role='status'])")
    r = client.post(
        edit_url, data={"csrf_token": token, "part": "tags", "remove": "telephone-service"}
    )
    assert r.status_code == 302
    tags = tags_of(db, phone_line["id"])
    assert tags["customer-advocate"] == ("manual", 0)
    assert tags["telephone-service"] == ("manual", 1)
    removed = get(app, edit_url, client=client).xpath("//ul[@class='tags']/li[del]")
    assert removed[0].xpath("string(del)") == "Telephone service"
    assert removed[0].xpath("button/@name") == ["add"]  # put back

    # a retag (say after editing taxonomy.toml) never undoes an editor's decision
    result = runner("retag", "--all")
    assert result.exit_code == 0, result.output
    tags = tags_of(db, phone_line["id"])
    assert tags["customer-advocate"] == ("manual", 0)
    assert tags["telephone-service"] == ("manual", 1)

    listener = app.test_client()
    episode = get(app, f"/episodes/{guid}", client=listener)
    links = episode.xpath("//p[@class='topics']/a/@href")
    assert "/topics/customer-advocate" in links and "/topics/telephone-service" not in links
    get(app, "/topics/telephone-service", client=listener, status=404)
    # the editor's free tag has its moment: where the words are said
    topic = get(app, "/topics/customer-advocate", client=listener)
    assert topic_titles(topic) == ["Phone menu"]
    assert "tagged by an editor" in topic.xpath("string(//ol[@class='results']/li/small)")
    said = next(
        db.query(
            "select start from segments where episode_id = ? and text like '%customer advocate%'",
            [phone_line["id"]],
        )
    )["start"]
    t = seconds_text(said)
    assert topic.xpath("//ul[@class='hits']/li/a/@href") == [f"/episodes/{guid}?t={t}#t={t}"]

    r = client.post(
        edit_url, data={"csrf_token": token, "part": "tags", "add": "telephone-service"}
    )
    assert r.status_code == 302
    assert tags_of(db, phone_line["id"])["telephone-service"] == ("manual", 0)


def test_tag_editing_needs_an_editor_and_the_forms_token(app, db, phone_line):
    edit_url = f"/episodes/{phone_line['guid']}/edit"
    before = tags_of(db, phone_line["id"])
    form = {"part": "tags", "add": "water"}

    anonymous = app.test_client()
    token = csrf_token(anonymous.get("/login").get_data(as_text=True))
    r = anonymous.post(edit_url, data={**form, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")

    uploader = app.test_client()
    add_account(app, "joseph", "uploader")
    log_in(uploader, "joseph")
    token = csrf_token(uploader.get("/").get_data(as_text=True))
    assert uploader.post(edit_url, data={**form, "csrf_token": token}).status_code == 403

    editor = editor_client(app)
    assert editor.post(edit_url, data=form).status_code == 400
    token = csrf_token(editor.get(edit_url).get_data(as_text=True))
    assert editor.post(edit_url, data={**form, "csrf_token": "forged"}).status_code == 400
    assert tags_of(db, phone_line["id"]) == before

    empty = editor.post(edit_url, data={"csrf_token": token, "part": "tags", "add": " "})
    assert empty.status_code == 422 and "Type a tag" in empty.get_data(as_text=True)
    nonsense = editor.post(edit_url, data={"csrf_token": token, "part": "tags", "add": "+++"})
    assert nonsense.status_code == 422 and "not a tag name" in nonsense.get_data(as_text=True)
    assert tags_of(db, phone_line["id"]) == before


def test_topic_pages_come_in_pages(app, db, tmp_path):
    for i in range(12):
        recording = convert(clip("LJ001-0002.wav"), tmp_path / f"take{i}.wav", gain_db=-i)
        ep = add_episode(app, recording, title=f"Take {i}")
        tag_episode(db, ep["id"], add=["Harvest festival"])
    client = app.test_client()
    first = get(app, "/topics/harvest-festival", client=client)
    assert topic_titles(first) == [f"Take {i}" for i in range(11, 1, -1)]  # newest first
    assert "12 episodes" in first.xpath("string(//p[@class='meta'][2])")
    assert "Page 1 of 2" in first.xpath("string(//nav[@class='pager'])")
    next_href = first.xpath("//nav[@class='pager']/a[@rel='next']/@href")[0]
    assert next_href == "/topics/harvest-festival?page=2"
    second = get(app, next_href, client=client)
    assert topic_titles(second) == ["Take 1", "Take 0"]
    assert second.xpath("//nav[@class='pager']/a[@rel='prev']/@href") == [
        "/topics/harvest-festival?page=1"
    ]


def test_an_episode_page_with_topics_and_chapters_stays_under_40_kb(app, client, db):
    ep = add_episode(app, clip("jfk.flac"), title="Half an hour of talk", show="Morning Talk")
    write_transcript(db, ep["id"], minutes=30)
    retag(db, {**app.config, "CHAPTER_MIN_SECONDS": 120}, [ep["id"]])
    tag_episode(db, ep["id"], add=["water", "market day"])
    doc = get(app, f"/episodes/{ep['guid']}", client=client)
    assert len(doc.xpath("//ol[@class='chapters']/li")) >= 2
    assert len(doc.xpath("//p[@class='topics']/a")) >= 3
    total, sizes = transfer_size(client, f"/episodes/{ep['guid']}")
    assert total <= 40 * 1024, sizes
