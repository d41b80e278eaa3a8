"""The Speakers fieldset of the edit page and its POST route (radio.web.speakers): editors
name speakers, merge two labels, confirm or dismiss a suggested name; listeners and
uploaders can't; a form without its CSRF token is refused."""

from __future__ import annotations

import html

import numpy as np
import pytest

from radio.data import speakers as sp
from radio.data.speakers import Speaker
from radio.data.transcripts import load_segments
from tests.webserver import csrf_token
from transcription.segments import Segment


def unit(i: int) -> np.ndarray:
    v = np.zeros(256, dtype=np.float32)
    v[i] = 1.0
    return v


@pytest.fixture
def call(seed, db):  # noqa: ANN001, ANN201
    said = [(0.0, 4.0, "Welcome everyone"), (4.0, 9.0, "The borehole is dry"), (9.0, 12.0, "Why")]
    segments = [Segment(a, b, text, (), f"Speaker {i + 1}") for i, (a, b, text) in enumerate(said)]
    episode = seed.episode("Water committee", segments, show="Morning Talk")
    sp.save_voices(
        db,
        episode,
        [
            Speaker("Speaker 1", 64.0, unit(0), "Amina", 0.83),
            Speaker("Speaker 2", 5.0, unit(1)),
            Speaker("Speaker 3", 3.0, unit(2), "Joseph", 0.81),
        ],
    )
    return db["episodes"].get(episode)


def labels(db, episode) -> list[str | None]:  # noqa: ANN001
    return [s.speaker for s in load_segments(db, episode["id"])]


def test_the_edit_page_lists_speakers_with_their_suggestions(auth, client, call):
    auth.login()
    page = client.get(f"/episodes/{call['guid']}/edit").get_data(as_text=True)
    assert '<h2 id="speakers">Speakers</h2>' in page
    assert 'name="name-0" value="Speaker 1"' in page and "1:04 talking" in page
    assert "Suggested: Amina (0.83)" in page and "Suggested: Joseph (0.81)" in page
    assert 'form="speaker-suggestions" name="confirm" value="Speaker 1"' in page


def test_editors_name_and_merge_speakers(auth, client, db, call):
    auth.login()
    url = f"/episodes/{call['guid']}/speakers"
    token = csrf_token(client.get(f"/episodes/{call['guid']}/edit").get_data(as_text=True))
    form = {
        "csrf_token": token,
        "label-0": "Speaker 1",
        "name-0": "Speaker 1",
        "label-1": "Speaker 2",
        "name-1": " Kofi ",
        "label-2": "Speaker 3",
        "name-2": "Kofi",
    }
    done = client.post(url, data=form)
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/edit#speakers")
    assert labels(db, call) == ["Speaker 1", "Kofi", "Kofi"]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Speaker 2 is now Kofi (1 segment)." in page
    assert "one speaker with the Kofi already there" in page
    too_long = dict(form, **{"name-0": "A" * 81})
    client.post(url, data=too_long)
    page = client.get(f"/episodes/{call['guid']}/edit").get_data(as_text=True)
    assert "at most 80 characters" in page
    assert labels(db, call) == ["Speaker 1", "Kofi", "Kofi"]


def test_editors_confirm_or_dismiss_a_suggestion(auth, client, db, call):
    auth.login()
    url = f"/episodes/{call['guid']}/speakers"
    token = csrf_token(client.get(f"/episodes/{call['guid']}/edit").get_data(as_text=True))
    client.post(url, data={"csrf_token": token, "confirm": "Speaker 1"})
    client.post(url, data={"csrf_token": token, "dismiss": "Speaker 3"})
    assert labels(db, call) == ["Amina", "Speaker 2", "Speaker 3"]
    page = client.get(f"/episodes/{call['guid']}/edit").get_data(as_text=True)
    assert "Speaker 1 is now Amina" in page and "Speaker 3 keeps its label" in page
    assert "Suggested:" not in page
    stale = client.post(
        url, data={"csrf_token": token, "confirm": "Speaker 1"}, follow_redirects=True
    )
    assert "has no speaker 'Speaker 1'" in html.unescape(stale.get_data(as_text=True))


def test_only_editors_may_name_speakers(auth, client, db, call):
    url = f"/episodes/{call['guid']}/speakers"
    token = csrf_token(client.get("/login").get_data(as_text=True))
    listener = client.post(url, data={"csrf_token": token, "confirm": "Speaker 1"})
    assert listener.status_code == 302 and "/login" in listener.headers["Location"]
    auth.login("joseph", "uploader")
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token, "confirm": "Speaker 1"}).status_code == 403
    auth.logout()
    auth.login()
    assert client.post(url, data={"confirm": "Speaker 1"}).status_code == 400  # no CSRF token
    assert labels(db, call) == ["Speaker 1", "Speaker 2", "Speaker 3"]
