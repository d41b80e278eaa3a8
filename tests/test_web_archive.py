"""Home, show, episode and progress pages; visibility; editing; the page-weight budget."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from radio.data.transcripts import update_retranscription
from radio.web.archive import VOICES
from radio.web.templating import seconds_text
from tests.conftest import clip
from tests.webserver import add_episode, csrf_token, write_transcript

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def episode(app, db):
    ep = add_episode(
        app,
        clip("jfk.flac"),
        title="Ask not",
        show="Morning Talk",
        recorded_at="2026-11-02",
        description="An inaugural address.\nSecond line.",
    )
    write_transcript(db, ep["id"], minutes=1)
    return ep


def page(client, url: str):  # noqa: ANN201
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return lxml_html.fromstring(response.get_data(as_text=True))


def test_home_lists_latest_episodes_and_shows(client, episode):
    doc = page(client, "/")
    links = doc.xpath("//ul[@class='episodes']/li/a")
    assert [a.text for a in links] == ["Ask not"]
    assert links[0].get("href") == f"/episodes/{episode['guid']}"
    assert doc.xpath("//ul[@class='shows']//a/@href") == ["/shows/morning-talk"]
    assert doc.xpath("//form[@role='search']/@action") == ["/search"]


def test_show_page(client, episode):
    doc = page(client, "/shows/morning-talk")
    assert doc.xpath("//h1/text()") == ["Morning Talk"]
    assert doc.xpath("//ul[@class='episodes']/li/a/text()") == ["Ask not"]
    assert client.get("/shows/no-such-show").status_code == 404


def test_episode_page(client, episode, db):
    guid = episode["guid"]
    doc = page(client, f"/episodes/{guid}")
    assert doc.xpath("//h1/text()") == ["Ask not"]
    sources = doc.xpath("//audio[@id='player']//source")  # lxml nests <source>
    assert [s.get("src") for s in sources] == [
        f"/media/{guid}/morning-talk-2026-11-02-ask-not.opus",  # named for saving (#15)
        f"/media/{guid}/morning-talk-2026-11-02-ask-not.mp3",
    ]
    assert sources[0].get("type").startswith("audio/ogg") and sources[1].get("type") == "audio/mpeg"
    meta = doc.xpath("string(//p[@class='meta'])")
    assert "Morning Talk" in meta and "Nov 2, 2026" in meta and "0:11" in meta
    assert doc.xpath("//p[@class='meta']/time/@datetime")[0].startswith("2026-11-02")
    downloads = doc.xpath("//details[@class='downloads']//li")
    mp3_bytes = db.execute("select bytes from renditions where kind = 'mp3'").fetchone()[0]
    assert f"{mp3_bytes / 1000:.0f} KB" in downloads[0].text_content()
    transcript_links = doc.xpath("//details[@class='downloads']//a[@download]/@href")
    for fmt in ("vtt", "srt", "json", "txt"):
        assert f"/episodes/{guid}/transcript.{fmt}" in transcript_links
    # every segment: a timestamp that seeks without JavaScript, and the id its link targets
    segs = doc.xpath("//div[@id='transcript']/p")
    assert len(segs) == db.execute("select count(*) from segments").fetchone()[0]
    for p in segs:
        href = p.xpath("a/@href")[0]
        t = p.get("id").removeprefix("t=")
        assert href == f"?t={t}#t={t}"
    assert "Second line." in doc.xpath("string(//p[@class='text'])")
    assert not doc.xpath("//a[contains(@href, '/original')]")  # listeners get renditions


def test_a_time_in_the_url_starts_the_player_there_without_javascript(client, episode):
    doc = page(client, f"/episodes/{episode['guid']}?t=25")
    assert all(src.endswith("#t=25") for src in doc.xpath("//audio/source/@src"))
    now = doc.xpath("//div[@id='transcript']/p[@class='now']/@id")
    assert now == ["t=24"]  # the segment being said at 25 s


def test_progress_page_and_json(auth, client, app, db):
    queued = add_episode(app, clip("LJ001-0002.wav"), process=False)
    auth.login("amina", "editor")
    guid = queued["guid"]
    assert client.get(f"/episodes/{guid}").headers["Location"] == f"/episodes/{guid}/progress"
    doc = page(client, f"/episodes/{guid}/progress")
    assert doc.xpath("//progress/@value") == ["0.0"]
    assert doc.xpath("//meta[@http-equiv='refresh']")  # inside <noscript>: reloads without JS
    as_json = client.get(f"/episodes/{guid}/progress", headers={"Accept": "application/json"})
    api = client.get(f"/api/episodes/{guid}/progress")
    assert as_json.json == api.json
    assert api.json["status"] == "queued" and api.json["progress"] == 0.0
    from radio.jobs import tasks

    tasks.run_episode(app, queued["id"])
    done = client.get(f"/api/episodes/{guid}/progress").json
    assert done["status"] == "ready" and done["progress"] == 1.0
    assert done["url"] == f"/episodes/{guid}"


def test_transcript_downloads(client, episode):
    guid = episode["guid"]
    expected = {
        "vtt": ("text/vtt", "WEBVTT"),
        "srt": (None, "1\n"),
        "json": ("application/json", "{"),
        "txt": ("text/plain", None),
    }
    for fmt, (mime, start) in expected.items():
        r = client.get(f"/episodes/{guid}/transcript.{fmt}")
        assert r.status_code == 200, fmt
        if mime:
            assert r.mimetype == mime
        if start:
            assert r.get_data(as_text=True).lstrip("\ufeff").startswith(start)
    assert client.get(f"/episodes/{guid}/transcript.doc").status_code == 404


@pytest.mark.parametrize("visibility", ["private", "draft"])
def test_a_hidden_episode_is_404_everywhere(auth, app, client, db, visibility):
    ep = add_episode(
        app, clip("jfk.flac"), title="Secret meeting", show="Closed Door", visibility=visibility
    )
    write_transcript(db, ep["id"], minutes=1)
    db.execute("update segments set text = 'zanzibarquorum' where idx = 0")
    guid = ep["guid"]
    urls = [
        f"/episodes/{guid}",
        f"/episodes/{guid}?t=3",
        f"/episodes/{guid}/progress",
        f"/api/episodes/{guid}/progress",
        f"/episodes/{guid}/edit",
        "/shows/closed-door",
        *(f"/episodes/{guid}/transcript.{f}" for f in ("vtt", "srt", "json", "txt")),
        *(f"/media/{guid}/{k}" for k in ("audio.mp3", "audio.opus", "peaks.json", "original")),
    ]
    for url in urls:
        r = client.get(url)
        assert r.status_code in (404, 302), url
        if r.status_code == 302:  # the edit page asks for a login first
            assert r.headers["Location"].startswith("/login")
        assert client.head(url).status_code in (404, 302), url
    assert client.get(f"/feeds/chapters/{guid}.json").status_code == 404
    feeds = ("/feeds/all.xml", "/feeds/shows/closed-door.xml")
    for url in ("/", "/search?q=zanzibarquorum", "/search?q=secret", *feeds):
        body = client.get(url).get_data(as_text=True)
        assert guid not in body and "Secret meeting" not in body, url
    # an editor sees it, marked as hidden
    auth.login("amina", "editor")
    doc = page(client, f"/episodes/{guid}")
    assert visibility in doc.xpath("string(//p[@class='meta'])")
    assert client.get(f"/media/{guid}/audio.mp3").status_code == 200
    assert "Secret meeting" in client.get("/").get_data(as_text=True)
    assert guid in client.get("/search?q=zanzibarquorum").get_data(as_text=True)


def test_editors_edit_details_and_transcript(auth, app, client, db, episode):
    auth.login("amina", "editor")
    guid = episode["guid"]
    edit_page = client.get(f"/episodes/{guid}/edit").get_data(as_text=True)
    token = csrf_token(edit_page)
    r = client.post(
        f"/episodes/{guid}/edit",
        data={
            "csrf_token": token,
            "part": "details",
            "title": "Ask not, 1961",
            "description": "Fixed.",
            "visibility": "draft",
        },
    )
    assert r.status_code == 302
    ep = db["episodes"].get(episode["id"])
    assert (ep["title"], ep["description"], ep["visibility"]) == (
        "Ask not, 1961",
        "Fixed.",
        "draft",
    )
    seg = next(db.query("select id, start, text from segments where idx = 2"))
    r = client.post(
        f"/episodes/{guid}/edit",
        data={"csrf_token": token, "part": "transcript", f"seg-{seg['id']}": "Quixotic harbour."},
    )
    assert r.status_code == 302
    edits = list(db.query("select * from transcript_edits"))
    assert len(edits) == 1
    assert edits[0]["before"] == seg["text"] and edits[0]["after"] == "Quixotic harbour."
    assert edits[0]["user_id"] == next(db.query("select id from users"))["id"]
    # the search index follows the edit
    found = client.get("/search?q=quixotic").get_data(as_text=True)
    assert guid in found
    old_word = seg["text"].split()[0].strip(".").lower()
    old_hits = client.get(f"/search?q={old_word}").get_data(as_text=True)
    assert f'#t={seconds_text(seg["start"])}"' not in old_hits  # the fixed segment is gone
    bad = client.post(f"/episodes/{guid}/edit", data={"csrf_token": token, "title": " "})
    assert bad.status_code == 400 and "can&#39;t be empty" in bad.get_data(as_text=True)


def transfer_size(client, url: str) -> tuple[int, dict[str, int]]:
    """Compressed bytes a browser fetches for a page before any audio: HTML, CSS, JS."""
    r = client.get(url, headers=GZIP)
    assert r.headers["Content-Encoding"] == "gzip"
    sizes = {url: len(r.data)}
    html = gzip.decompress(r.data).decode()
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        a = client.get(asset, headers=GZIP)
        assert a.status_code == 200 and a.headers["Content-Encoding"] == "gzip", asset
        assert "max-age=31536000" in a.headers["Cache-Control"]
        sizes[asset] = len(a.data)
    assert not re.search(r'(?:href|src)="(?:https?:)?//', html), "every asset is local"
    return sum(sizes.values()), sizes


def test_a_30_minute_episode_page_is_under_40_kb(app, client, db, record_property):
    ep = add_episode(app, clip("jfk.flac"), title="Half an hour of talk", show="Morning Talk")
    count = write_transcript(db, ep["id"], minutes=30)
    assert count > 300
    total, sizes = transfer_size(client, f"/episodes/{ep['guid']}")
    record_property("episode_page_bytes", sizes)
    print(f"30-minute episode page: {total} bytes compressed: {sizes}")
    assert total <= 40 * 1024, sizes


def test_editors_transcribe_again_from_the_edit_page(auth, app, client, db, episode):
    guid, url = episode["guid"], f"/episodes/{episode['guid']}/retranscribe"
    huey = app.extensions["radio.huey"]
    old = client.get(f"/episodes/{guid}/transcript.txt").get_data(as_text=True)
    # A listener is sent to log in, an uploader is refused, a form without its token too.
    token = csrf_token(client.get("/login").get_data(as_text=True))
    listener = client.post(url, data={"csrf_token": token})
    assert listener.status_code == 302 and "/login" in listener.headers["Location"]
    auth.login("joseph", "uploader")
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token}).status_code == 403
    auth.logout()
    auth.login("amina", "editor")
    edit_page = client.get(f"/episodes/{guid}/edit").get_data(as_text=True)
    assert f'action="{url}"' in edit_page and "Transcribe again" in edit_page
    assert client.post(url, data={"language": "es"}).status_code == 400
    token = csrf_token(edit_page)
    bad = client.post(url, data={"csrf_token": token, "language": "klingon"})
    assert bad.status_code == 422 and "isn&#39;t a language code" in bad.get_data(as_text=True)
    assert huey.pending_count() == 0

    queued = client.post(url, data={"csrf_token": token})
    assert queued.status_code == 302
    assert queued.headers["Location"] == f"/episodes/{guid}/edit#transcribe-again"
    shown = client.get(f"/episodes/{guid}/edit").get_data(as_text=True)
    assert "Queued to be transcribed again" in shown and "Waiting for a worker" in shown
    assert huey.pending_count() == 1
    assert client.get(f"/episodes/{guid}/transcript.txt").get_data(as_text=True) == old
    update_retranscription(db, episode["id"], error="The disk is full.")
    stopped = client.get(f"/episodes/{guid}/edit").get_data(as_text=True)
    assert "The last try stopped: The disk is full." in stopped
    update_retranscription(db, episode["id"], error=None)

    huey.execute(huey.dequeue())  # a worker
    new = client.get(f"/episodes/{guid}/transcript.txt").get_data(as_text=True)
    assert new != old and "ask not what your country can do for you" in new
    assert db["episodes"].get(episode["id"])["transcript_language"] == "en"
    done = client.get(f"/episodes/{guid}/edit").get_data(as_text=True)
    assert "This transcript came from" in done and "Waiting for a worker" not in done


# --- speaker turns -------------------------------------------------------------------------

STYLE = Path(__file__).resolve().parent.parent / "static" / "style.css"
CALL = [
    (0.0, 2.0, "Welcome to the water committee.", "Amina"),
    (2.0, 4.5, "We start with the borehole.", "Amina"),
    (4.5, 6.0, "It works again & <b>well</b>.", "Speaker 2"),
    (6.0, 8.0, "Good news.", "Amina"),
    (8.0, 9.0, "Music plays.", None),
    (9.0, 11.0, "Thanks, everyone.", "Joseph"),
]


def turns(doc) -> list[tuple[str, str, list[str]]]:  # noqa: ANN001
    """(name, colour class, segment ids) of each turn, in order."""
    return [
        (
            div.xpath("string(p[@class='who'])"),
            div.get("class"),
            div.xpath("p[starts-with(@id, 't=')]/@id"),
        )
        for div in doc.xpath("//div[@id='transcript']/div")
    ]


def test_turns_name_the_speaker_once_each_in_one_colour(client, db, seed):
    episode_id = seed.episode("Water committee", CALL)
    guid = db["episodes"].get(episode_id)["guid"]
    doc = page(client, f"/episodes/{guid}?t=5")
    assert turns(doc) == [
        ("Amina", "turn v1", ["t=0", "t=2"]),
        ("Speaker 2", "turn v2", ["t=4.5"]),
        ("Amina", "turn v1", ["t=6"]),  # her colour again
        ("Joseph", "turn v3", ["t=9"]),
    ]
    # a segment nobody is named for stands alone, as in a transcript without speakers
    assert doc.xpath("//div[@id='transcript']/p/@id") == ["t=8"]
    # every segment keeps its link, its id and the player's mark, turn or not
    segs = doc.xpath("//div[@id='transcript']//p[starts-with(@id, 't=')]")
    assert [p.get("id") for p in segs] == ["t=0", "t=2", "t=4.5", "t=6", "t=8", "t=9"]
    for p in segs:
        t = p.get("id").removeprefix("t=")
        assert p.xpath("a/@href") == [f"?t={t}#t={t}"]
    assert doc.xpath("//div[@id='transcript']//p[@class='now']/@id") == ["t=4.5"]
    assert "It works again & <b>well</b>." in doc.xpath("string(//p[@id='t=4.5'])")
    # the names are written, not only coloured: the text reads without colour or CSS
    text = doc.xpath("string(//div[@id='transcript'])")
    assert text.index("Amina") < text.index("Welcome") < text.index("Speaker 2")


def test_a_transcript_without_speakers_has_no_turns(client, episode):
    doc = page(client, f"/episodes/{episode['guid']}")
    assert doc.xpath("//div[@id='transcript']/p") and not doc.xpath("//div[@class='turn']")
    assert not doc.xpath("//*[@class='who']")


def luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_each_speaker_colour_is_distinct_and_readable_light_and_dark():
    css = STYLE.read_text(encoding="utf-8")
    dark_at = re.search(r"prefers-color-scheme: dark\)\s*\{\s*\.v1 ", css).start()
    voice = re.compile(r"\.v(\d) \{ --voice: (#[0-9a-f]{6}); \}")
    light = dict(voice.findall(css[:dark_at]))
    dark = dict(voice.findall(css[dark_at:]))
    assert sorted(light) == sorted(dark) == [str(n) for n in range(1, VOICES + 1)]
    for palette, page_colour in ((light, "#ffffff"), (dark, "#121212")):
        assert len(set(palette.values())) == VOICES
        for n, colour in palette.items():  # WCAG AA for text, as the name is written in it
            assert contrast(colour, page_colour) >= 4.5, (n, colour, page_colour)


def test_more_speakers_than_colours_take_them_again_in_turn(client, db, seed):
    many = [(float(i), i + 1.0, f"Line {i}.", f"Person {i}") for i in range(VOICES + 2)]
    guid = db["episodes"].get(seed.episode("Big call", many))["guid"]
    classes = [c for _, c, _ in turns(page(client, f"/episodes/{guid}"))]
    assert classes == [f"turn v{n % VOICES + 1}" for n in range(VOICES + 2)]


def test_a_30_minute_group_call_page_is_under_40_kb(app, client, db, record_property):
    ep = add_episode(app, clip("jfk.flac"), title="Half an hour of a call", show="Morning Talk")
    write_transcript(db, ep["id"], minutes=30)
    # four people taking turns of one to three segments
    db.execute(
        "update segments set speaker = 'Participant ' || ((idx / (1 + idx % 3)) % 4) "
        "where episode_id = ?",
        [ep["id"]],
    )
    doc = page(client, f"/episodes/{ep['guid']}")
    assert len(turns(doc)) > 100
    total, sizes = transfer_size(client, f"/episodes/{ep['guid']}")
    record_property("group_call_page_bytes", sizes)
    print(f"30-minute group call page: {total} bytes compressed: {sizes}")
    assert total <= 40 * 1024, sizes


def test_the_licence_is_on_the_page_and_in_the_json_transcript(app, client, db):
    ep = add_episode(app, clip("jfk.flac"), title="Ask not", licence="cc-by")
    write_transcript(db, ep["id"], minutes=0.2)
    doc = page(client, f"/episodes/{ep['guid']}")
    (line,) = doc.xpath("//p[@class='licence']")
    assert line.text_content() == "Licence: CC BY 4.0"
    assert line.xpath("a/@href") == ["https://creativecommons.org/licenses/by/4.0/"]
    assert line.xpath("a/@rel") == ["license"]
    transcript = client.get(f"/episodes/{ep['guid']}/transcript.json").json
    assert transcript["license"] == {
        "identifier": "cc-by-4.0",
        "name": "CC BY 4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert transcript["version"] == "1.0.0" and transcript["segments"]


def test_no_licence_stated_shows_none(client, episode):
    doc = page(client, f"/episodes/{episode['guid']}")
    assert doc.xpath("//p[@class='licence']") == []
    transcript = client.get(f"/episodes/{episode['guid']}/transcript.json").json
    assert "license" not in transcript


def test_editors_change_the_licence_on_the_edit_page(auth, client, db, episode):
    guid = episode["guid"]
    auth.login("joseph", "uploader")
    assert client.get(f"/episodes/{guid}/edit").status_code == 403  # editors only
    auth.logout()
    auth.login("amina", "editor")
    doc = page(client, f"/episodes/{guid}/edit")
    (select,) = doc.xpath("//form[input[@value='details']]//select[@name='licence']")
    assert select.xpath("option/@value") == [
        "",  # None stated
        "cc-by",
        "cc-by-sa",
        "cc-by-nc",
        "cc0",
        "all-rights-reserved",
    ]
    assert select.value == ""
    details = {
        "csrf_token": csrf_token(lxml_html.tostring(doc, encoding="unicode")),
        "part": "details",
        "title": "Ask not",
        "visibility": "public",
    }
    r = client.post(f"/episodes/{guid}/edit", data={**details, "licence": "cc-by-nc"})
    assert r.status_code == 302
    assert db["episodes"].get(episode["id"])["licence"] == "cc-by-nc"
    edit = page(client, f"/episodes/{guid}/edit")
    assert edit.xpath("//select[@name='licence']")[0].value == "cc-by-nc"
    shown = page(client, f"/episodes/{guid}").xpath("string(//p[@class='licence'])")
    assert shown == "Licence: CC BY-NC 4.0"
    # a form without the field leaves the licence; an unknown one is refused, naming choices
    assert client.post(f"/episodes/{guid}/edit", data=details).status_code == 302
    assert db["episodes"].get(episode["id"])["licence"] == "cc-by-nc"
    bad = client.post(f"/episodes/{guid}/edit", data={**details, "licence": "GPL"})
    assert bad.status_code == 400 and "cc-by-sa" in bad.get_data(as_text=True)
    assert db["episodes"].get(episode["id"])["licence"] == "cc-by-nc"
    # and "None stated" takes it off
    assert client.post(f"/episodes/{guid}/edit", data={**details, "licence": ""}).status_code == 302
    assert db["episodes"].get(episode["id"])["licence"] is None
