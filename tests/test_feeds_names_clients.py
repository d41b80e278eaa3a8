"""gPodder saves episodes under the names the feed gives them (#15), not ``audio (2).mp3``.

A real ``gpo`` (Debian package ``gpodder``) subscribes to the real server (waitress, as
``radio serve`` runs it) and downloads two episodes of one show: each file is named
``<show>-<day>-<title>.mp3`` and holds that episode's MP3, byte for byte.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import clip, require
from tests.test_feeds_clients import Gpo
from tests.webserver import add_episode, live_server

pytestmark = pytest.mark.slow


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_gpodder_saves_each_episode_under_its_meaningful_name(app, tmp_path):
    require(bool(shutil.which("gpo")), "gPodder's gpo (apt-get install gpodder; .ci/run does)")
    recorded = {
        "morning-talk-2026-11-02-water-committee.mp3": add_episode(
            app, clip("jfk.flac"), title="Water committee", show="Morning Talk",
            recorded_at="2026-11-02",
        ),
        "morning-talk-2026-11-09-agua-and-cafe-en-el-barrio.mp3": add_episode(
            app, clip("LJ001-0001.wav"), title="Água & café en el barrio 🎙️",
            show="Morning Talk", recorded_at="2026-11-09",
        ),
    }  # fmt: skip
    home = Path(app.config["HOME"]) / "media" / "episodes"
    wanted = {
        name: sha256(home / episode["guid"] / "audio.mp3") for name, episode in recorded.items()
    }
    gpo = Gpo(tmp_path)
    with live_server(app) as server:
        feed = f"{server.url}/feeds/shows/morning-talk.xml"
        assert "Successfully added" in gpo("subscribe", feed)
        gpo("update", feed)
        gpo("download", feed)
    saved = {path.name: sha256(path) for path in gpo.downloads.rglob("*") if path.is_file()}
    assert saved == wanted  # the names, and under each name its own episode's file
    assert not any(name.startswith("audio") for name in saved)
