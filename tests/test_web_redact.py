"""The editors' form to remove a passage (#16 item 4): who may, the confirm step that shows
the words, the removal itself, and the errors it explains. A real recording (jfk.flac),
transcribed by the real pipeline (Whisper tiny.en)."""

from __future__ import annotations

import pytest
from flask import Flask

from radio import create_app
from radio.data import processing
from radio.data.transcripts import load_segments
from radio.db import connect, database_path
from tests.conftest import AuthActions, clip, settings
from tests.webserver import add_account, csrf_token, log_in


@pytest.fixture
def app(home) -> Flask:  # noqa: ANN001 - a transcribing archive for this module
    return create_app(settings(home, TRANSCRIBE=True, SECRET_KEY="w"))


@pytest.fixture
def episode(app, seed):  # noqa: ANN001, ANN201
    """The speech, and where "Americans" is said in it, widened a little (m:ss.ss)."""
    ep = seed.recording(clip("jfk.flac"), title="Inaugural")
    words = [w for s in load_segments(seed.db, ep.id) for w in s.words]
    word = next(w for w in words if "americans" in w.word.lower())
    return ep, f"0:{word.start - 0.05:05.2f}", f"0:{word.end + 0.05:05.2f}"


def _post(client, guid: str, **fields: str):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/episodes/{guid}/redact").get_data(as_text=True))
    return client.post(f"/episodes/{guid}/redact", data={"csrf_token": token, **fields})


def test_only_editors_may_remove_a_passage(app, client, episode) -> None:  # noqa: ANN001
    ep, start, end = episode
    page = client.get(f"/episodes/{ep.guid}/redact")
    assert page.status_code in (302, 303) and "/login" in page.headers["Location"]
    assert client.post(f"/episodes/{ep.guid}/redact", data={"from": start}).status_code in (
        302,
        303,
        400,
        401,
    )
    add_account(app, "juma", "uploader")
    log_in(client, "juma")
    assert client.get(f"/episodes/{ep.guid}/redact").status_code == 403
    login = AuthActions(app, client)
    login.logout()
    login.login("amina", "editor")
    no_token = client.post(
        f"/episodes/{ep.guid}/redact",
        data={"from": start, "to": end, "reason": "x", "confirm": "1"},
    )
    assert no_token.status_code == 400  # the CSRF check
    txt = client.get(f"/episodes/{ep.guid}/transcript.txt").get_data(as_text=True)
    assert "americans" in txt.lower()  # nothing was removed


def test_an_editor_sees_the_words_then_removes_them(app, client, auth, episode) -> None:  # noqa: ANN001
    ep, start, end = episode
    auth.login("amina", "editor")
    edit = client.get(f"/episodes/{ep.guid}/edit").get_data(as_text=True)
    assert f"/episodes/{ep.guid}/redact" in edit  # linked from the edit page
    form = client.get(f"/episodes/{ep.guid}/redact?from={start}&to={end}").get_data(as_text=True)
    assert f'value="{start}"' in form and 'name="reason"' in form
    confirm = _post(client, ep.guid, **{"from": start, "to": end, "reason": "A name"})
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Americans" in page and 'name="confirm"' in page
    txt = client.get(f"/episodes/{ep.guid}/transcript.txt").get_data(as_text=True)
    assert "americans" in txt.lower()  # only shown so far
    done = _post(client, ep.guid, **{"from": start, "to": end, "reason": "A name", "confirm": "1"})
    assert done.status_code == 303 and done.headers["Location"].endswith(
        f"/episodes/{ep.guid}/edit"
    )
    assert "Removed" in client.get(done.headers["Location"]).get_data(as_text=True)
    txt = client.get(f"/episodes/{ep.guid}/transcript.txt").get_data(as_text=True)
    assert "americans" not in txt.lower() and "country" in txt.lower()
    history = client.get(f"/episodes/{ep.guid}/edit").get_data(as_text=True)
    assert "americans" not in history.lower()


@pytest.mark.parametrize(
    ("start", "end", "reason", "message"),
    [
        ("0:05", "0:04", "x", "must come after"),
        ("0:05", "0:40", "x", "outside the episode"),
        ("later", "0:06", "x", "not a time"),
        ("0:05", "0:06", "", "Say why"),
    ],
)
def test_errors_say_what_to_fix(client, auth, episode, start, end, reason, message) -> None:  # noqa: ANN001
    ep, _start, _end = episode
    auth.login("amina", "editor")
    answer = _post(client, ep.guid, **{"from": start, "to": end, "reason": reason, "confirm": "1"})
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True).replace("&#39;", "'")


def test_a_passage_waits_while_the_episode_is_processed(app, client, auth, episode) -> None:  # noqa: ANN001
    ep, start, end = episode
    auth.login("amina", "editor")
    db = connect(database_path(app))
    try:
        processing.claim_lease(db, ep.id, "elsewhere:1:abc", 4e9, 0)
        answer = _post(client, ep.guid, **{"from": start, "to": end, "reason": "x", "confirm": "1"})
        assert answer.status_code == 400 and "being processed" in answer.get_data(as_text=True)
    finally:
        db.conn.close()
