"""``radio backup``, ``radio restore``, ``radio verify`` and ``radio status --health``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner, clip


@pytest.fixture
def archive(seed, home: Path) -> Path:
    seed.recording(clip("LJ001-0002.wav"), title="Printing")
    seed.episode("Water committee", [(0, 2, "the water committee meets")])
    return home


def test_backup_restore_verify_round_trip(runner, archive: Path, tmp_path: Path):
    dest, restored = tmp_path / "backup", tmp_path / "restored"
    made = runner("backup", str(dest))
    assert made.exit_code == 0, made.output
    # an original, its MP3, Opus, AAC and peaks, and the secret key the command made
    assert "Backup " in made.output and "6 files, 6 new" in made.output
    again = runner("backup", str(dest))
    assert "6 files, 0 new (0.0 MB copied)" in again.output
    kept = runner("backup", str(dest), "--keep", "1")
    assert kept.exit_code == 0 and len(list((dest / "snapshots").iterdir())) == 1
    checked = runner("verify", "--backup", str(dest))
    assert checked.exit_code == 0 and "all is well" in checked.output, checked.output
    back = Runner(restored)("restore", str(dest))
    assert back.exit_code == 0, back.output
    assert f"into {restored}" in back.output and "every hash checked" in back.output
    verified = Runner(restored)("verify")
    assert verified.exit_code == 0 and "all is well" in verified.output, verified.output
    listed = Runner(restored)("status", "--json")
    assert {e["title"] for e in json.loads(listed.output)} == {"Printing", "Water committee"}


def test_verify_names_the_damaged_file_and_exits_1(runner, archive: Path, tmp_path: Path):
    runner("backup", str(tmp_path / "backup"))
    restored = tmp_path / "restored"
    Runner(restored)("restore", str(tmp_path / "backup"))
    original = next((restored / "media" / "originals").rglob("*.wav"))
    original.chmod(0o644)
    with original.open("r+b") as f:
        f.seek(5000)
        byte = f.read(1)
        f.seek(5000)
        f.write(bytes([byte[0] ^ 0xFF]))
    result = Runner(restored)("verify")
    assert result.exit_code == 1
    assert f"{original}: damaged" in result.output and "1 problems in" in result.output


def test_restore_refuses_a_folder_in_use_with_a_clear_message(runner, archive, tmp_path):
    runner("backup", str(tmp_path / "backup"))
    result = runner("restore", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert f"Error: {archive} is not empty" in result.output
    assert "restore only into an empty data folder" in result.output
    assert "Traceback" not in result.output


def test_restore_names_a_snapshot_that_does_not_exist(runner, archive, tmp_path):
    runner("backup", str(tmp_path / "backup"))
    result = Runner(tmp_path / "restored")(
        "restore", str(tmp_path / "backup"), "--snapshot", "yesterday"
    )
    assert result.exit_code == 1 and "no complete snapshot 'yesterday'" in result.output


def test_backup_without_a_folder_uses_backup_dir_or_asks(runner, archive, tmp_path, monkeypatch):
    asked = runner("backup")
    assert asked.exit_code == 2 and "Say where to back up to" in asked.output
    monkeypatch.setenv("RADIO_BACKUP_DIR", str(tmp_path / "usb"))
    made = runner("backup")
    assert made.exit_code == 0, made.output
    assert str(tmp_path / "usb" / "snapshots") in made.output


def test_verify_of_a_folder_that_is_no_archive(tmp_path: Path):
    result = Runner(tmp_path / "empty")("verify")
    assert result.exit_code == 1 and "holds no archive" in result.output
    assert not (tmp_path / "empty").exists()  # checking made nothing


def test_status_health_shows_what_health_shows(runner, archive: Path, tmp_path, monkeypatch):
    runner("backup", str(tmp_path / "backup"))
    shown = runner("status", "--health")
    assert shown.exit_code == 0, shown.output
    words = " ".join(shown.output.split())
    for line in ("status: ok", "database: writable", "queue: 0", "worker: not running"):
        assert line in words
    assert "ok, snapshot " in shown.output and str(tmp_path / "backup") in shown.output
    data = json.loads(runner("status", "--health", "--json").output)
    assert data["status"] == "ok" and data["last_backup"]["result"] == "ok"
    monkeypatch.setenv("RADIO_MIN_FREE_MB", str(10**12))
    unhealthy = runner("status", "--health")
    assert unhealthy.exit_code == 1 and "The disk is nearly full" in unhealthy.output


def test_status_health_reports_a_data_folder_that_cannot_be_written(seed, home, tmp_path):
    from tests.test_web_health import folder_made_read_only_later

    with folder_made_read_only_later(tmp_path / "disk") as make_read_only:
        folder = tmp_path / "disk" / "home"
        Runner(folder)("init")
        make_read_only()
        result = Runner(folder)("status", "--health")
    assert result.exit_code == 1, result.output
    assert "The database can't be written" in result.output
    assert "Traceback" not in result.output
