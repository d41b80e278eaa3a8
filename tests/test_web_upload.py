"""Uploading from a browser form: several files, each with its own answer; limits; CSRF."""

from __future__ import annotations

import io
import re

import pytest
from lxml import html as lxml_html

from radio import create_app
from radio.db import connect, database_path
from tests.conftest import clip, settings
from tests.webserver import add_account, csrf_token, log_in


@pytest.fixture
def uploader(auth, client):
    auth.login("joseph", "uploader")
    return client


def form(client, **fields):
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    return {"csrf_token": token, "recorded_at": "2026-11-02", **fields}


def result_items(html: str) -> dict[str, str]:
    """File name -> its result line, as shown next to the name."""
    items = re.findall(r'<li class="(\w+)"><strong>([^<]+)</strong>: ([^<\n]+)', html)
    return {name: f"{outcome}: {message}" for outcome, name, message in items}


def test_several_files_each_get_their_own_answer(app, uploader, db, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not a recording")
    data = form(
        uploader,
        title="Water committee",
        show="Morning Talk",
        language="en",
        description="The committee meets.",
        visibility="public",
    )
    data["files"] = [
        (clip("jfk.flac").open("rb"), "jfk.flac"),
        (bad.open("rb"), "notes.wav"),
        (io.BytesIO(b""), "empty.mp3"),
    ]
    response = uploader.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    results = result_items(response.get_data(as_text=True))
    assert results["jfk.flac"].startswith("added")
    assert results["notes.wav"].startswith("refused")
    assert "empty (0 bytes)" in results["empty.mp3"]
    episodes = list(db.query("select * from episodes"))
    assert len(episodes) == 1
    ep = episodes[0]
    assert ep["title"] == "Water committee (1 of 3)" and ep["status"] == "queued"
    assert ep["language"] == "en" and ep["recorded_at"] == "2026-11-02"
    assert ep["description"] == "The committee meets."
    # the uploader can follow what they uploaded, though it isn't public yet
    assert uploader.get(f"/episodes/{ep['guid']}/progress").status_code == 200


def test_the_same_messages_as_radio_ingest(app, uploader, runner, tmp_path):
    bad = tmp_path / "readme.wav"
    bad.write_text("not audio")
    cli = runner("ingest", str(bad))
    cli_reason = cli.output.strip().splitlines()[-1].removeprefix("Refused readme.wav: ")
    data = form(uploader)
    data["files"] = [(bad.open("rb"), "readme.wav")]
    response = uploader.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 422  # every file refused
    html = response.get_data(as_text=True)
    from markupsafe import escape

    assert str(escape(cli_reason)) in html


def test_a_duplicate_points_to_the_episode_already_here(uploader, db):
    for expected in ("added", "duplicate"):
        data = form(uploader)
        data["files"] = [(clip("LJ001-0002.wav").open("rb"), "LJ001-0002.wav")]
        html = uploader.post("/upload", data=data, content_type="multipart/form-data").get_data(
            as_text=True
        )
        assert result_items(html)["LJ001-0002.wav"].startswith(expected)
    assert db.execute("select count(*) from episodes").fetchone()[0] == 1


def test_a_bad_date_is_refused_with_the_form(uploader, db):
    # The fields are checked once for the whole form (radio.data.fields), before any file.
    data = form(uploader, recorded_at="2nd of November")
    data["files"] = [(clip("LJ001-0002.wav").open("rb"), "LJ001-0002.wav")]
    response = uploader.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "is not a date" in response.get_data(as_text=True)
    assert db["episodes"].count == 0


def test_no_file_chosen(uploader):
    response = uploader.post("/upload", data=form(uploader), content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose at least one recording" in response.get_data(as_text=True)


def test_an_upload_over_the_limit_gets_a_clear_413(home):
    app = create_app(settings(home, MAX_UPLOAD_MB=0.05))
    client = app.test_client()
    add_account(app, "joseph", "uploader")
    log_in(client, "joseph")
    data = form(client)
    data["files"] = [(clip("jfk.flac").open("rb"), "jfk.flac")]  # 350 KB > 51 KB
    response = client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "limit of 0 MB" not in text and "MAX_UPLOAD_MB" in text
    assert "nothing was stored" in text
    assert list((home / "media" / "originals").rglob("*.*")) == []
    data["files"] = [(clip("jfk.flac").open("rb"), "jfk.flac")]
    api = client.post(
        "/upload",
        data=data,
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 413 and "MAX_UPLOAD_MB" in api.json["error"]["detail"]


def test_upload_form_works_without_javascript(uploader):
    html = uploader.get("/upload").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file" name="files" multiple' in html
    names = ("title", "show", "recorded_at", "language", "licence", "description", "csrf_token")
    for name in names:
        assert f'name="{name}"' in html


def test_the_language_choices_are_every_language_the_models_know(uploader):
    from transcription.languages import installed_languages

    html = uploader.get("/upload").get_data(as_text=True)
    select = re.search(r'<select name="language">(.*?)</select>', html, re.S).group(1)
    offered = re.findall(r'<option value="(\w*)"', select)
    assert offered[0] == ""  # "Detect" comes first and is the default
    assert sorted(offered[1:]) == sorted(installed_languages())
    if len(offered) > 2:  # Whisper base installed: its 99 languages, by name
        assert len(offered) == 100 and '<option value="sw">Swahili (sw)</option>' in select
        assert '<option value="es">Spanish (es)</option>' in select


def test_the_licence_select_defaults_to_the_stations_and_each_upload_keeps_its_own(home):
    app = create_app(settings(home, LICENCE="CC BY"))
    client = app.test_client()
    add_account(app, "joseph", "uploader")
    log_in(client, "joseph")
    doc = lxml_html.fromstring(client.get("/upload").get_data(as_text=True))
    (select,) = doc.xpath("//form[@id='upload']//select[@name='licence']")
    options = [(o.get("value"), o.text_content()) for o in select.xpath("option")]
    assert options == [
        ("", "Default: CC BY 4.0"),  # the show's licence when it has one, else the station's
        ("cc-by", "CC BY 4.0"),
        ("cc-by-sa", "CC BY-SA 4.0"),
        ("cc-by-nc", "CC BY-NC 4.0"),
        ("cc0", "CC0 1.0"),
        ("all-rights-reserved", "All rights reserved"),
    ]
    assert select.value == ""  # the default is what is chosen until someone picks another

    for name, licence in (("jfk.flac", ""), ("LJ001-0002.wav", "cc-by-nc")):
        data = form(client, licence=licence)
        data["files"] = [(clip(name).open("rb"), name)]
        response = client.post("/upload", data=data, content_type="multipart/form-data")
        assert result_items(response.get_data(as_text=True))[name].startswith("added")
    stored = dict(db_rows(app, "select source_name, licence from episodes"))
    assert stored == {"jfk.flac": "cc-by", "LJ001-0002.wav": "cc-by-nc"}


def test_an_unknown_licence_is_refused_with_the_form(uploader, db):
    data = form(uploader, licence="GPL")
    data["files"] = [(clip("LJ001-0002.wav").open("rb"), "LJ001-0002.wav")]
    response = uploader.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "is not a licence the archive knows" in response.get_data(as_text=True)
    assert db["episodes"].count == 0


def db_rows(app, sql: str) -> list[tuple]:
    db = connect(database_path(app))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.conn.close()
