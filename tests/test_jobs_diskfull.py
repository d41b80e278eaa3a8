"""A full disk, on a real small filesystem the test mounts (tmpfs; CI runs as root): an
ingest refused before it starts, an upload that needs its size on disk once, processing
that runs out of room ending ``failed`` with "disk full", nothing stored lost, and
``radio retry`` finishing it once there is room."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from radio import create_app
from radio.data.episodes import get_episode
from radio.db import connect, database_path
from radio.jobs import tasks
from radio.jobs.ingest import Limits, Metadata, ingest_file, ingest_stream
from radio.media import store
from tests.audiofiles import join_clips
from tests.conftest import DATA, Runner, settings
from tests.webserver import csrf_token

DISK_MB = 20
CLIPS = ["LJ001-0001.wav", "jfk.flac", "LJ001-0003.wav", "61-70968-0000.flac", "LJ001-0005.wav"]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 20 MB filesystem of the test's own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"can't mount a small tmpfs to fill (needs root, as in CI): {done.stderr}")
    try:
        yield mount
    finally:  # lazily: the app's queue keeps a connection to queue.db open until it is collected
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


@pytest.fixture
def home(disk: Path) -> Path:
    return disk / "home"


@pytest.fixture
def app(home: Path) -> Flask:
    return create_app(settings(home, MIN_FREE_MB=1))


@pytest.fixture
def cli(home: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("RADIO_HOME", str(home))
    monkeypatch.setenv("RADIO_TRANSCRIBE", "false")
    monkeypatch.setenv("RADIO_MIN_FREE_MB", "1")
    return Runner(home)


def recording(dest: Path, sets: int) -> Path:
    """Real speech (tests/data): ``sets`` times 48 s of clips and pauses, as a 16 kHz WAV
    (1.5 MB a set)."""
    join_clips([DATA / name for name in CLIPS * sets], dest, gap=1.0)
    return dest


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until only ``leave`` bytes are free; return the file that does it."""
    ballast = disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for chunk in (1024 * 1024, 4096, 1):
            while store.free_bytes(disk) - chunk >= leave:
                os.write(fd, b"\0" * chunk)
    except OSError:
        pass
    finally:
        os.close(fd)
    return ballast


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(home: Path) -> str:
    db = connect(home / "archive.db")
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.conn.close()


def partials(home: Path) -> list[Path]:
    media = home / "media"
    incoming = list((media / "incoming").iterdir())
    return incoming + list((media / "episodes").rglob("*.part"))


def test_an_ingest_that_does_not_fit_is_refused_before_it_starts(
    disk: Path, home: Path, cli: Runner, tmp_path: Path
) -> None:
    show = recording(tmp_path / "show.wav", 3)  # 4.6 MB
    assert cli("init").exit_code == 0
    fill(disk, leave=3 * store.MB)

    result = cli("ingest", str(show))

    assert result.exit_code == 1
    assert "Refused show.wav: Not enough free space: 3.0 MB free, 4.4 MB" in result.output
    assert "MB needed plus 1.0 MB kept free. Free some space" in result.output
    assert "Traceback" not in result.output
    assert partials(home) == [] and list((home / "media" / "originals").rglob("*.*")) == []


def test_the_kept_free_margin_is_held(disk: Path, home: Path, cli: Runner, tmp_path: Path):
    show = recording(tmp_path / "show.wav", 3)
    assert cli("init").exit_code == 0
    fill(disk, leave=12 * store.MB)

    refused = cli("ingest", str(show), env={"RADIO_MIN_FREE_MB": "8"})
    taken = cli("ingest", str(show))  # 12 MB free: 4.4 MB and 1 MB kept free fit

    assert "MB needed plus 8.0 MB kept free" in refused.output, refused.output
    assert taken.exit_code == 0, taken.output


def test_an_upload_takes_its_size_on_disk_once(disk: Path, home: Path, app: Flask, tmp_path):
    show = recording(tmp_path / "show.wav", 3)
    size = show.stat().st_size
    fill(disk, leave=size + 3 * store.MB)  # room for the upload, not for a second copy of it
    spool = store.spool_file(home)  # as the web server spools the form's file part
    spool.write(show.read_bytes())
    spool.flush()
    spool.seek(0)
    assert store.free_bytes(home) < size

    db = connect(database_path(app))
    try:
        result = ingest_stream(
            db, str(home), spool, "show.wav", Metadata(), Limits.from_config(app.config)
        )
    finally:
        spool.close()
        db.conn.close()

    assert result.created
    kept = store.resolve(
        home, get_episode(connect(database_path(app)), result.episode_id).source_path
    )
    assert sha256(kept) == sha256(show) and partials(home) == []


def test_a_web_upload_needs_its_size_once(disk: Path, home: Path, app: Flask, tmp_path, auth):
    show = recording(tmp_path / "show.wav", 3)
    auth.login(role="uploader")
    token = csrf_token(auth.client.get("/upload").get_data(as_text=True))
    fill(disk, leave=show.stat().st_size + 3 * store.MB)  # the 12 MB for a 5 MB file

    with show.open("rb") as f:
        answer = auth.client.post(
            "/upload",
            data={"csrf_token": token, "files": (f, "show.wav")},
            headers={"Accept": "application/json"},
        )

    (result,) = answer.get_json()["files"]
    assert (answer.status_code, result["outcome"]) == (200, "added"), result["message"]
    assert partials(home) == []


@pytest.mark.parametrize("leave_kb", [200, 0], ids=["mid-way", "no-room-at-all"])
def test_processing_out_of_room_fails_then_retry_finishes_it(
    disk: Path, home: Path, app: Flask, cli: Runner, tmp_path: Path, leave_kb: int
) -> None:
    db = connect(database_path(app))
    source = recording(tmp_path / "call.wav", 1)  # its copies take about 450 KB
    result = ingest_file(db, home, source, Metadata(), Limits.from_config(app.config))
    original = store.resolve(home, get_episode(db, result.episode_id).source_path)
    tasks.recover(app)  # as a worker starts: partial files swept, room kept in reserve
    ballast = fill(disk, leave=leave_kb * 1024)

    assert tasks.run_episode(app, result.episode_id) == "failed"

    episode = get_episode(db, result.episode_id)
    assert episode.status == "failed"
    assert "disk full: only " in episode.error
    assert f"Free some space, then `radio retry {result.episode_id}`." in episode.error
    assert sha256(original) == sha256(source)  # what was stored is still whole
    assert partials(home) == [] and integrity(home) == "ok"

    ballast.unlink()
    retried = cli("retry", str(result.episode_id), "--wait")

    assert retried.exit_code == 0, retried.output
    episode = get_episode(db, result.episode_id)
    assert (episode.status, episode.error) == ("ready", None)
    assert sha256(original) == sha256(source) and integrity(home) == "ok"
    assert sorted(p.name for p in store.episode_dir(home, episode.guid).iterdir()) == [
        "audio.m4a",
        "audio.mp3",
        "audio.opus",
        "peaks.json",
    ]
    db.conn.close()
