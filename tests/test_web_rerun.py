"""Re-running a published episode's audio from the web without a moment of 404 (#15).

The real app behind waitress; a listener polls the episode page, the feed and the MP3 in a
loop from a thread while a real re-run of the audio step (real PyAV encoding of a real
minute of speech) runs and swaps the new files in. Every poll is a 200, the feed always
lists the episode, and at the end the feed's enclosure length is the new file's size.
"""

from __future__ import annotations

import threading

import pytest
from lxml import etree

from radio import create_app
from radio.data import reruns
from radio.data.episodes import get_episode
from radio.db import connect, database_path
from radio.jobs import tasks
from tests.audiofiles import join_clips
from tests.conftest import clip, settings
from tests.webserver import add_account, add_episode, csrf_token, live_server, log_in


@pytest.fixture
def app(home):  # noqa: ANN001, ANN201
    return create_app(settings(home))


@pytest.fixture
def minute(tmp_path):  # noqa: ANN001, ANN201
    """About a minute of real speech: re-rendering it takes a while, so the polls overlap."""
    names = [f"LJ001-000{i}.wav" for i in range(1, 9)]
    dest = tmp_path / "minute.wav"
    join_clips([clip(n) for n in names], dest)
    return dest


def enclosure(body: bytes, guid: str) -> tuple[str, int] | None:
    items = etree.fromstring(body).xpath("//item[guid=$g]", g=guid)
    if not items:
        return None
    enc = items[0].find("enclosure")
    return enc.get("url"), int(enc.get("length"))


class Listener(threading.Thread):
    """Polls the page, the feed and the MP3 (no cookie: the WSGI media layer answers) until
    stopped, recording every answer."""

    def __init__(self, live, guid: str) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.live, self.guid = live, guid
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.rounds = 0
        self.etags: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            status, _, _ = self.live.request("GET", f"/episodes/{self.guid}")
            if status != 200:
                self.failures.append(f"page {status}")
            status, _, body = self.live.request("GET", "/feeds/all.xml")
            if status != 200 or enclosure(body, self.guid) is None:
                self.failures.append(f"feed {status} without the episode")
            status, headers, body = self.live.request("GET", f"/media/{self.guid}/audio.mp3")
            if status != 200 or len(body) != int(headers["content-length"]):
                self.failures.append(f"media {status}")
            elif not self.etags or self.etags[-1] != headers["etag"]:
                self.etags.append(headers["etag"])
            self.rounds += 1


def test_a_published_episode_is_re_rendered_without_a_moment_of_404(app, home, minute):
    episode = add_episode(app, minute, title="Printing history")
    assert episode["status"] == "ready"
    guid = episode["guid"]
    add_account(app, "amina", "editor")
    add_account(app, "joseph", "uploader")
    app.config["TARGET_LUFS"] = -19.0  # the station's new level: the new copies differ
    db = connect(database_path(app))
    with live_server(app) as live:
        before = enclosure(live.request("GET", "/feeds/all.xml")[2], guid)
        listener = Listener(live, guid)
        listener.start()
        try:
            # Asked for from the edit page, as an editor does (CSRF and all).
            editor = app.test_client()
            log_in(editor, "amina")
            page = editor.get(f"/episodes/{guid}/edit").get_data(as_text=True)
            assert "Make the audio again" in page and "Find topics and chapters again" in page
            form = {
                "step": "audio",
                "csrf_token": csrf_token(page),
                "next": f"/episodes/{guid}/edit",
            }
            done = editor.post(f"/episodes/{guid}/rerun", data=form, follow_redirects=True)
            assert "Listeners keep the episode" in done.get_data(as_text=True)
            asked = reruns.get_rerun(db, episode["id"])
            assert (asked.step, asked.status) == ("audio", "queued")
            # What the queued task does, run here so the test knows when it ends.
            result = tasks.run_rerun(app, episode["id"])
        finally:
            while listener.rounds < 3 and listener.is_alive():
                listener.stop.wait(0.05)  # a few polls after the swap, too
            listener.stop.set()
            listener.join(30)
        assert result.outcome == "done", result.error
        assert listener.failures == []
        assert listener.rounds >= 3
        assert 1 <= len(listener.etags) <= 2  # the old file, then the new one, never a gap
        after = enclosure(live.request("GET", "/feeds/all.xml")[2], guid)
        status, headers, body = live.request("GET", f"/media/{guid}/audio.mp3")
        assert after[0] == before[0]  # the same URL
        assert after[1] == len(body) == int(headers["content-length"])  # the exact length
        assert headers["etag"] != listener.etags[0]  # and it is the new file
    row = get_episode(db, episode["id"])
    assert row.is_public and abs(row.loudness_after - -19.0) <= 1.0
    progress = editor.get(f"/episodes/{guid}/progress").get_data(as_text=True)
    assert "The audio: Done" in progress  # editors see how the re-run went
    db.conn.close()


def test_only_editors_may_re_run(app, home):
    episode = add_episode(app, clip("jfk.flac"), title="Ask not")
    guid = episode["guid"]
    add_account(app, "joseph", "uploader")
    listener = app.test_client()
    assert listener.post(f"/episodes/{guid}/rerun", data={"step": "audio"}).status_code == 400
    assert "Make the audio again" not in listener.get(f"/episodes/{guid}").get_data(as_text=True)
    uploader = app.test_client()
    log_in(uploader, "joseph")
    token = csrf_token(uploader.get("/upload").get_data(as_text=True))
    refused = uploader.post(f"/episodes/{guid}/rerun", data={"step": "audio", "csrf_token": token})
    assert refused.status_code == 403
    db = connect(database_path(app))
    assert reruns.get_rerun(db, episode["id"]) is None
    db.conn.close()
