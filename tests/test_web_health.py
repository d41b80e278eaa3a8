"""``/health`` (JSON for monitors: 200, or 503 when the database can't be written or the disk
is nearly full) and ``/admin/health`` for admins; what they check is ``radio.upkeep.health``."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from radio import create_app
from radio.data.processing import claim_lease
from radio.upkeep.backup import run_backup
from radio.upkeep.health import HEARTBEAT_SECONDS, beat
from tests.conftest import clip, settings


def test_health_says_what_a_monitor_needs(client, seed, home: Path, tmp_path: Path):
    seed.recording(clip("LJ001-0008.wav"), title="Secret meeting", visibility="private")
    seed.recording(clip("LJ001-0002.wav"), process=False)  # waiting for a worker
    r = client.get("/health")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    data = r.get_json()
    assert data["status"] == "ok" and data["problems"] == []
    assert data["database"] == {"writable": True}
    assert data["disk_free_mb"] > 0 and data["disk_min_free_mb"] == 200
    assert data["queue_depth"] == 1
    assert data["worker_alive"] is False
    assert data["last_backup"] is None
    run_backup(home, tmp_path / "backup")
    backup = client.get("/health").get_json()["last_backup"]
    assert backup["result"] == "ok" and backup["snapshot"] and backup["at"]
    body = client.get("/health").get_data(as_text=True)
    for private in ("Secret meeting", str(home), str(tmp_path), "LJ001"):
        assert private not in body


def test_a_worker_is_alive_while_it_beats_or_holds_a_lease(client, seed, home: Path, db):
    assert client.get("/health").get_json()["worker_alive"] is False
    beat(home)
    assert client.get("/health").get_json()["worker_alive"] is True
    long_ago = time.time() - HEARTBEAT_SECONDS - 1
    os.utime(home / "worker.alive", (long_ago, long_ago))
    assert client.get("/health").get_json()["worker_alive"] is False
    # a worker deep in a long transcription beats no more, but keeps renewing its lease
    episode = seed.recording(clip("LJ001-0002.wav"), process=False)
    assert claim_lease(db, episode.id, "host:1:abc", time.time() + 120, time.time())
    assert client.get("/health").get_json()["worker_alive"] is True


def test_a_nearly_full_disk_is_unhealthy(home: Path):
    app = create_app(settings(home, MIN_FREE_MB=10**12))  # more than any disk has free
    r = app.test_client().get("/health")
    assert r.status_code == 503
    data = r.get_json()
    assert data["status"] == "unhealthy" and data["database"]["writable"] is True
    assert data["problems"] == [
        f"The disk is nearly full: {data['disk_free_mb']} MB free, under {10**12} MB."
    ]


@contextmanager
def folder_made_read_only_later(path: Path) -> Iterator[Callable[[], None]]:
    """A folder, and a way to make it read-only for everyone, root included: a small tmpfs
    remounted read-only (what a failing SD card or disk does) as root, chmod otherwise."""
    path.mkdir(parents=True)
    if os.geteuid() != 0:

        def chmod_all(mode_dirs: int, mode_files: int) -> None:
            for p in [path, *path.rglob("*")]:
                p.chmod(mode_dirs if p.is_dir() else mode_files)

        try:
            yield lambda: chmod_all(0o555, 0o444)
        finally:
            chmod_all(0o755, 0o644)
        return
    mount = ["mount", "-t", "tmpfs", "-o", "size=32m", "radio-health-test", str(path)]
    done = subprocess.run(mount, capture_output=True, text=True)
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here as root: {done.stderr.strip()}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    try:
        yield lambda: subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_database_that_cannot_be_written_is_unhealthy(tmp_path: Path):
    with folder_made_read_only_later(tmp_path / "disk") as make_read_only:
        app = create_app(settings(tmp_path / "disk" / "home", MIN_FREE_MB=1))
        client = app.test_client()
        assert client.get("/health").status_code == 200
        make_read_only()
        r = client.get("/health")
        assert r.status_code == 503
        data = r.get_json()
        assert data["database"] == {"writable": False}
        assert data["problems"][0].startswith("The database can't be written: ")
        assert data["queue_depth"] is None  # unknown, rather than a guess


def test_admins_see_the_health_page_with_the_last_backups_error(app, auth, client, home):
    assert client.get("/admin/health").status_code == 302  # listeners: log in first
    auth.login("joseph", "editor")
    assert client.get("/admin/health").status_code == 403
    auth.logout()
    blocked = home.parent / "not-a-folder"
    blocked.write_text("a file where the backup folder should be")
    with pytest.raises(Exception, match="failed"):
        run_backup(home, blocked)
    auth.login("amina", "admin")
    page = client.get("/admin/health")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "failed" in html and str(blocked) in html and "Is that disk full" in html
    assert "writable" in html and "Worker" in html
