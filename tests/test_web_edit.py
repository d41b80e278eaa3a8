"""The edit page (#15): show, title, description, recorded date, language and chapters,
through the real forms (no JavaScript), the feeds, the chapters file and the audio files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from mutagen.id3 import ID3

from feeds.podlove import PSC_NS
from radio.data import tags
from radio.data.episodes import get_episode
from tests.conftest import clip
from tests.webserver import csrf_token

NS = {"podcast": "https://podcastindex.org/namespace/1.0", "psc": PSC_NS}
DETAILS = {"part": "details", "visibility": "public", "description": ""}
# Three subjects, each said over and over, so the archive's own chapters split them.
SUBJECTS = (
    "the water committee met about the borehole pump and the water tank and clean water",
    "the football team won the match and the football fans sang after the match",
    "the market prices of maize and beans rose at the market this week for traders",
)


def drain(app) -> list:  # noqa: ANN001
    """Run what the queue holds, as Huey's consumer would (the file re-tags)."""
    huey = app.extensions["radio.huey"]
    results = []
    while (task := huey.dequeue()) is not None:
        results.append(huey.execute(task))
    return results


def page(client, url: str):  # noqa: ANN001, ANN201
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return lxml_html.fromstring(r.get_data(as_text=True))


def post(client, guid: str, **data: str):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/episodes/{guid}/edit").get_data(as_text=True))
    return client.post(f"/episodes/{guid}/edit", data={"csrf_token": token, **data})


def details(client, guid: str, **data: str):  # noqa: ANN001, ANN201
    """The details form sent with these fields (and the rest as a browser would leave them)."""
    return post(client, guid, **{**DETAILS, **data})


def chapter_form(client, guid: str) -> dict[str, str]:  # noqa: ANN001
    """The chapters form's fields as the page fills them in (what a browser would send)."""
    doc = page(client, f"/episodes/{guid}/edit")
    (form,) = doc.xpath("//form[@id='chapters-form']")
    return {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]")}


def send_chapters(client, guid: str, form: dict[str, str], **press: str):  # noqa: ANN001, ANN201
    return client.post(f"/episodes/{guid}/edit", data={**form, **press})


def json_chapters(client, guid: str) -> list[tuple[float, str]]:  # noqa: ANN001
    r = client.get(f"/feeds/chapters/{guid}.json")
    assert r.status_code == 200
    return [(c["startTime"], c["title"]) for c in json.loads(r.data)["chapters"]]


def feed_item(client, guid: str):  # noqa: ANN001, ANN201
    rss = etree.fromstring(client.get("/feeds/all.xml").data)
    (item,) = [i for i in rss.xpath("//item") if guid in i.findtext("guid")]
    return item


@pytest.fixture
def recording(seed):  # noqa: ANN001, ANN201
    """A real 11-second recording, processed into MP3 and Opus, in the show Morning Talk."""
    seed.episode("Other show's episode", show="Evening News")
    return seed.recording(
        clip("jfk.flac"), title="Ask not", show="Morning Talk", recorded_at="2026-11-02"
    )


def test_an_editor_changes_show_title_description_date_and_language(
    auth, app, client, db, recording
):
    guid = recording.guid
    auth.login("amina", "editor")
    doc = page(client, f"/episodes/{guid}/edit")
    shows = doc.xpath("//select[@name='show']/option/@value")
    assert shows == ["", "evening-news", "morning-talk"]
    languages = doc.xpath("//select[@name='language']/option/@value")
    assert {"en", "fr", "sw", "es", "pt"} <= set(languages)  # the installed models' languages
    assert doc.xpath("//input[@name='recorded_at']/@value") == ["2026-11-02"]
    drain(app)

    r = details(
        client,
        guid,
        show="evening-news",
        title="Ask not, 1961",
        description="The inaugural address.",
        recorded_at="1961-01-20",
        language="fr",
    )
    assert r.status_code == 302
    ep = get_episode(db, recording.id)
    assert (ep.show_title, ep.title, ep.description, ep.recorded_at) == (
        "Evening News",
        "Ask not, 1961",
        "The inaugural address.",
        "1961-01-20",
    )
    assert (ep.spoken_language, ep.language_hint) == ("fr", "fr")
    shown = page(client, f"/episodes/{guid}")
    meta = shown.xpath("string(//p[@class='meta'])")
    assert "Evening News" in meta and "French" in meta and "1961" in meta
    assert shown.xpath("string(//h1)") == "Ask not, 1961"
    # every change is in the history, named as people say it
    history = {(r["field"], r["before"], r["after"]) for r in db["episode_edits"].rows}
    assert ("show", "Morning Talk", "Evening News") in history
    assert ("recorded date", "2026-11-02", "1961-01-20") in history
    assert ("language", None, "fr") in history  # not transcribed here: no language yet
    listed = page(client, f"/episodes/{guid}/edit").xpath("string(//ul[@class='edits'])")
    assert "recorded date" in listed and "Evening News" in listed
    # the files follow: the queued re-tag writes the new title, show, date and language
    assert drain(app) == ["tagged"]
    mp3 = (
        Path(app.config["HOME"])
        / "media"
        / db.execute(
            "select path from renditions where episode_id = ? and kind = 'mp3'", [recording.id]
        ).fetchone()[0]
    )
    id3 = ID3(mp3)
    assert id3["TIT2"].text == ["Ask not, 1961"] and id3["TALB"].text == ["Evening News"]
    assert str(id3["TDRC"].text[0]) == "1961-01-20" and id3["TLAN"].text == ["fre"]
    # the feed says so too
    item = feed_item(client, guid)
    assert item.findtext("title") == "Ask not, 1961"
    # a new show, typed, wins over the list and is made
    assert details(client, guid, title="Ask not", new_show="Night Shift").status_code == 302
    assert get_episode(db, recording.id).show_title == "Night Shift"
    assert "Night Shift" in client.get("/shows/night-shift").get_data(as_text=True)
    # and "No show" takes it out of any show
    assert details(client, guid, title="Ask not", show="").status_code == 302
    assert get_episode(db, recording.id).show_id is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recorded_at": "2026-13-40"}, "is not a date"),
        ({"recorded_at": "20 Jan 1961"}, "is not a date"),
        ({"recorded_at": "2099-01-01"}, "can&#39;t be in the future"),
        ({"recorded_at": "1850-01-01"}, "use a year from 1900"),
        ({"language": "klingon"}, "not a language the archive"),
        ({"show": "no-such-show"}, "There is no show"),
        ({"new_show": "x" * 200}, "show name is too long"),
    ],
)
def test_bad_details_are_refused_with_a_clear_400(auth, client, db, seed, fields, message):
    episode_id = seed.episode("Ask not", [(0, 5, "Hello.")], show="Morning Talk", duration=60)
    guid = get_episode(db, episode_id).guid
    auth.login("amina", "editor")
    r = details(client, guid, title="Changed", **fields)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    ep = get_episode(db, episode_id)
    assert (ep.title, ep.show_title) == ("Ask not", "Morning Talk")  # nothing saved
    assert db["episode_edits"].count == 0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"start-0": "0:00", "title-0": "A", "start-1": "1:75", "title-1": "B"}, "59"),
        ({"start-0": "0:00", "title-0": "A", "start-1": "noon", "title-1": "B"}, "m:ss"),
        ({"start-0": "0:00", "title-0": "A", "start-1": "11:00", "title-1": "B"}, "outside"),
        ({"start-0": "0:30", "title-0": "A", "start-1": "0:30.4", "title-1": "B"}, "both start"),
        ({"start-0": "0:00", "title-0": "A", "start-1": "0:30", "title-1": " "}, "needs a title"),
        ({"start-0": "0:00", "title-0": "y" * 121}, "at most 120"),
        ({"start-0": "0:00", "title-0": "A", "new-start": "1:00"}, "both a start"),
        ({"start-0": "0:00", "title-0": "A", "action": "add"}, "new chapter"),
        ({f"start-{n}": f"{n // 60}:{n % 60:02d}" for n in range(101)}, "at most 100"),
    ],
)
def test_bad_chapters_are_refused_with_a_clear_400(auth, client, db, seed, rows, message):
    episode_id = seed.episode("Ask not", [(0, 5, "Hello.")], duration=600)
    guid = get_episode(db, episode_id).guid
    rows = {**{f"title-{k[6:]}": "T" for k in rows if k.startswith("start-")}, **rows}
    auth.login("amina", "editor")
    r = post(client, guid, part="chapters", **rows)
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert message in body
    assert tags.chapters(db, episode_id) == [] and db["episode_edits"].count == 0
    # the editor's rows come back as typed, to fix rather than type again
    doc = lxml_html.fromstring(body)
    assert doc.xpath("//input[@name='start-0']/@value") == [rows["start-0"]]


def test_chapter_edits_reach_the_chapters_json_the_feed_and_the_files(
    auth, app, client, db, recording
):
    guid = recording.guid
    auth.login("amina", "editor")
    drain(app)
    assert client.get(f"/feeds/chapters/{guid}.json").status_code == 404  # none yet
    # add, one at a time, as the page's "Add chapter" button does
    for start, title in (("0:00", "Opening"), ("0:04", "Ask not"), ("0:08", "Ask what")):
        form = chapter_form(client, guid)
        r = send_chapters(
            client, guid, form, **{"new-start": start, "new-title": title, "action": "add"}
        )
        assert r.status_code == 302 and r.headers["Location"].endswith("#chapters")
    assert json_chapters(client, guid) == [(0, "Opening"), (4, "Ask not"), (8, "Ask what")]
    # rename one, move another (a later start), remove the first: each a whole-list save
    form = chapter_form(client, guid)
    assert [form[f"start-{n}"] for n in range(3)] == ["0:00", "0:04", "0:08"]
    form["title-1"] = "Ask not what your country"
    form["start-2"] = "0:09.5"
    assert send_chapters(client, guid, form, action="save").status_code == 302
    assert send_chapters(client, guid, chapter_form(client, guid), remove="0").status_code == 302
    stored = tags.chapters(db, recording.id)
    assert [(c.start, c.end, c.title) for c in stored] == [
        (4, 9.5, "Ask not what your country"),
        (9.5, recording.duration, "Ask what"),  # the last runs to the end
    ]
    assert json_chapters(client, guid) == [(4, "Ask not what your country"), (9.5, "Ask what")]
    # the feed links the chapters file and carries them inline
    item = feed_item(client, guid)
    (link,) = item.xpath("podcast:chapters/@url", namespaces=NS)
    assert link.endswith(f"/feeds/chapters/{guid}.json")
    inline = item.xpath("psc:chapters/psc:chapter", namespaces=NS)
    assert [(c.get("start"), c.get("title")) for c in inline] == [
        ("00:00:04.000", "Ask not what your country"),
        ("00:00:09.500", "Ask what"),
    ]
    # the files follow: their ID3 chapters say the same
    assert "tagged" in drain(app)  # one task per save; the first writes the last chapters
    mp3 = (
        Path(app.config["HOME"])
        / "media"
        / db.execute(
            "select path from renditions where episode_id = ? and kind = 'mp3'", [recording.id]
        ).fetchone()[0]
    )
    chaps = sorted(ID3(mp3).getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.start_time, c.sub_frames["TIT2"].text[0]) for c in chaps] == [
        (4000, "Ask not what your country"),
        (9500, "Ask what"),
    ]
    # a title change is in the chapters file too
    assert details(client, guid, title="Ask not, 1961").status_code == 302
    assert json.loads(client.get(f"/feeds/chapters/{guid}.json").data)["title"] == "Ask not, 1961"
    # and the history keeps each chapters change
    changes = [r["after"] for r in db["episode_edits"].rows_where("field = 'chapters'")]
    assert len(changes) == 5 and changes[-1] == "0:04 Ask not what your country\n0:09.5 Ask what"


def test_retag_keeps_hand_edited_chapters_until_handed_back(auth, client, db, seed, runner):
    segments = [
        (i * 10.0, i * 10.0 + 9.5, SUBJECTS[i // 12] + ".") for i in range(36)
    ]  # six minutes, two of each subject
    episode_id = seed.episode("Three subjects", segments, duration=360)
    guid = get_episode(db, episode_id).guid
    assert runner("retag", str(episode_id)).exit_code == 0
    computed = tags.chapters(db, episode_id)
    assert len(computed) >= 2
    auth.login("amina", "editor")
    form = chapter_form(client, guid)
    kept = {k: v for k, v in form.items() if not k.startswith(("start-", "title-"))}
    mine = {"start-0": "0:00", "title-0": "Welcome", "start-1": "5:00", "title-1": "News"}
    assert send_chapters(client, guid, {**kept, **mine}, action="save").status_code == 302
    assert runner("retag", str(episode_id)).exit_code == 0
    assert [c.title for c in tags.chapters(db, episode_id)] == ["Welcome", "News"]
    # removing every chapter is an edit too: a retag doesn't bring them back
    for _ in range(2):
        assert (
            send_chapters(client, guid, chapter_form(client, guid), remove="0").status_code == 302
        )
    assert runner("retag", "--all").exit_code == 0
    assert tags.chapters(db, episode_id) == []
    # handed back, the archive finds them again
    form = chapter_form(client, guid)
    assert send_chapters(client, guid, form, action="auto").status_code == 302
    assert tags.chapters(db, episode_id) == computed
    assert runner("retag", str(episode_id)).exit_code == 0
    assert tags.chapters(db, episode_id) == computed


def test_the_edit_page_works_without_javascript_and_labels_every_field(auth, client, db, seed):
    episode_id = seed.episode("Ask not", [(0, 5, "Hello.")], duration=600)
    guid = get_episode(db, episode_id).guid
    auth.login("amina", "editor")
    send_chapters(
        client,
        guid,
        chapter_form(client, guid),
        **{"new-start": "0:00", "new-title": "Start", "action": "add"},
    )
    doc = page(client, f"/episodes/{guid}/edit")
    for field in doc.xpath(
        "//form[@id='details' or @id='chapters-form']//input[@name]"
        "[not(@type='hidden')] | //form[@id='details']//select"
    ):
        assert field.xpath("ancestor::label"), field.get("name")  # each has its label
    # Enter in a field presses the form's first button: Save, never a row's Remove
    (form,) = doc.xpath("//form[@id='chapters-form']")
    first = form.xpath(".//button")[0]
    assert (first.get("name"), first.get("value")) == ("action", "save")
    remove = form.xpath(".//button[@name='remove']")[0]
    assert remove.get("aria-label") == "Remove chapter 1: Start"
    assert doc.xpath("//script[contains(@src, 'edit.js')]")


def test_only_editors_edit(auth, client, db, seed):
    episode_id = seed.episode("Ask not", [(0, 5, "Hello.")], duration=600)
    guid = get_episode(db, episode_id).guid
    auth.login("joseph", "uploader")
    assert client.get(f"/episodes/{guid}/edit").status_code == 403
    token = csrf_token(client.get("/").get_data(as_text=True))
    r = client.post(
        f"/episodes/{guid}/edit",
        data={"csrf_token": token, "part": "chapters", "new-start": "0:00", "new-title": "X"},
    )
    assert r.status_code == 403 and tags.chapters(db, episode_id) == []
