"""Consent at upload and on the edit page (#16): an episode with a participant whose consent
is pending or refused stays out of pages, feeds, search and media although it is public and
ready; an editor marking yes publishes it; the page tells editors and the uploader why."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from radio.data import consent
from radio.data.consent import Participant
from radio.data.episodes import get_episode
from radio.db import transaction, utcnow
from radio.jobs import tasks
from tests.conftest import clip
from tests.webserver import add_account, csrf_token, log_in

TITLE = "Borehole meeting"


def feed_titles(body: bytes) -> list[str]:
    return etree.fromstring(body).xpath("//item/title/text()")


def listener_sees(client, guid: str) -> dict[str, object]:  # noqa: ANN001
    return {
        "page": client.get(f"/episodes/{guid}").status_code,
        "media": client.get(f"/media/{guid}/audio.mp3").status_code,
        "feed": TITLE in feed_titles(client.get("/feeds/all.xml").data),
        "show feed": client.get("/feeds/shows/water-talk.xml").status_code == 200
        and TITLE in feed_titles(client.get("/feeds/shows/water-talk.xml").data),
        "home": TITLE in client.get("/").get_data(as_text=True),
        "search": TITLE in client.get("/search?q=Borehole").get_data(as_text=True),
    }


HIDDEN = {
    "page": 404,
    "media": 404,
    "feed": False,
    "show feed": False,
    "home": False,
    "search": False,
}
SHOWN = {k: (200 if type(v) is int else True) for k, v in HIDDEN.items()}


@pytest.fixture
def uploaded(app, db):  # noqa: ANN001, ANN201
    """A recording uploaded by joseph through the form, public, with Amina agreed and
    Joseph pending, then processed for real (renditions through PyAV)."""
    add_account(app, "joseph", "uploader")
    uploader = app.test_client()
    log_in(uploader, "joseph")
    token = csrf_token(uploader.get("/upload").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "title": TITLE,
        "show": "Water Talk",
        "recorded_at": "2026-11-02",
        "visibility": "public",
        "participant_name": ["Amina", "Joseph", ""],
        "participant_consent": ["yes", "pending", "pending"],
        "files": [(clip("jfk.flac").open("rb"), "jfk.flac")],
    }
    response = uploader.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    guid = db.execute("select guid from episodes").fetchone()[0]
    episode = get_episode(db, guid)
    assert tasks.run_episode(app, episode.id) == "ready"
    return uploader, get_episode(db, guid)


def test_a_pending_participant_keeps_a_public_episode_from_listeners(app, client, db, uploaded):
    uploader, episode = uploaded
    assert episode.status == "ready" and episode.visibility == "public"
    assert [(p.name, p.consent) for p in consent.participants(db, episode.id)] == [
        ("Amina", "yes"),
        ("Joseph", "pending"),
    ]
    assert listener_sees(client, episode.guid) == HIDDEN

    # the uploader sees their own episode, with why listeners can't yet
    page = uploader.get(f"/episodes/{episode.guid}").get_data(as_text=True)
    said = "Joseph&#39;s consent is pending: when Joseph agrees, mark it yes on the edit page."
    assert said in page

    add_account(app, "amina", "editor")
    editor = app.test_client()
    log_in(editor, "amina")
    page = editor.get(f"/episodes/{episode.guid}").get_data(as_text=True)
    assert "Joseph&#39;s consent is pending" in page and "#consent" in page
    edit = editor.get(f"/episodes/{episode.guid}/edit").get_data(as_text=True)
    assert 'id="consent"' in edit and 'value="Joseph"' in edit

    # marking Joseph's yes publishes it everywhere at once
    token = csrf_token(edit)
    answer = editor.post(
        f"/episodes/{episode.guid}/consent",
        data={
            "csrf_token": token,
            "participant_name": ["Amina", "Joseph", ""],
            "participant_consent": ["yes", "yes", "pending"],
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#consent")
    assert listener_sees(client, episode.guid) == SHOWN
    assert "consent is pending" not in client.get(f"/episodes/{episode.guid}").get_data(
        as_text=True
    )

    # a refusal takes it out again, and says so
    answer = editor.post(
        f"/episodes/{episode.guid}/consent",
        data={"csrf_token": token, "participants": "Amina=yes, Joseph=no"},
    )
    assert answer.status_code == 302
    assert listener_sees(client, episode.guid) == HIDDEN
    page = editor.get(f"/episodes/{episode.guid}").get_data(as_text=True)
    assert "Joseph refused: it stays unpublished unless Joseph changes their mind" in page


def test_a_mistyped_consent_is_refused_with_the_choices(app, db, auth, client):
    auth.login("joseph", "uploader")
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    response = client.post(
        "/upload",
        data={
            "csrf_token": token,
            "participants": "Amina=maybe",
            "files": [(clip("jfk.flac").open("rb"), "jfk.flac")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Consent must be yes, pending or no, not Amina" not in response.get_data(as_text=True)
    assert "Consent must be yes, pending or no, not maybe." in response.get_data(as_text=True)
    assert db.execute("select count(*) from episodes").fetchone()[0] == 0  # nothing stored


def test_no_participants_listed_behaves_as_before(app, client, db, seed):
    episode = seed.recording(clip("jfk.flac"), title=TITLE, show="Water Talk")
    assert consent.participants(db, episode.id) == []
    assert listener_sees(client, episode.guid) == SHOWN


def test_the_json_transcript_carries_consent_next_to_the_licence(app, client, db, seed):
    episode_id = seed.episode(TITLE, [(0.0, 2.0, "The borehole is fixed.")], licence="cc-by")
    with transaction(db) as conn:
        consent.add_participants(conn, episode_id, [Participant("Amina", "yes")], utcnow())
    guid = get_episode(db, episode_id).guid
    document = json.loads(client.get(f"/episodes/{guid}/transcript.json").data)
    assert document["license"]["identifier"] == "cc-by-4.0"
    assert document["consent"] == {
        "state": "given",
        "participants": [{"name": "Amina", "consent": "yes"}],
    }
