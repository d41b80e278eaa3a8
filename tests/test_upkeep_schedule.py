"""Scheduled backups (``radio.upkeep.schedule``): the thread ``radio serve`` starts when
``BACKUP_DIR`` is set, timed from the last backup recorded in the data folder."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import pytest

from radio import create_app
from radio.config import ConfigError
from radio.upkeep import state
from radio.upkeep.layout import snapshots
from radio.upkeep.schedule import (
    RETRY_SECONDS,
    BackupSchedule,
    schedule_settings,
    start_scheduled_backups,
)
from radio.upkeep.verify import verify_backup
from tests.conftest import clip, settings


def test_no_backup_dir_no_thread(app):
    assert start_scheduled_backups(app) is None


def test_the_thread_backs_up_at_once_when_there_was_never_a_backup(seed, home, tmp_path):
    seed.recording(clip("LJ001-0002.wav"))
    dest = tmp_path / "backup"
    app = create_app(settings(home, BACKUP_DIR=str(dest), BACKUP_EVERY_HOURS=24))
    thread = start_scheduled_backups(app)
    assert thread is not None and thread.daemon
    try:
        deadline = time.monotonic() + 60
        while state.last_backup(home) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop(timeout=60)
    assert not thread.is_alive()
    last = state.last_backup(home)
    assert last and last.ok and snapshots(dest) == [last.snapshot]
    assert verify_backup(dest).ok
    # the next one is a day after this one
    assert thread.seconds_to_next(now=ended(last)) == 24 * 3600


def test_the_next_backup_is_timed_from_the_last_one(home: Path, tmp_path: Path):
    schedule = BackupSchedule(home, tmp_path / "backup", every=6 * 3600)
    home.mkdir()
    assert schedule.seconds_to_next() == 0  # never backed up: at once
    done = state.record_success(home, tmp_path / "backup", "20261102T000000Z")
    assert schedule.seconds_to_next(ended(done)) == 6 * 3600
    assert schedule.seconds_to_next(ended(done) + 3600) == 5 * 3600
    failed = state.record_failure(home, tmp_path / "backup", "the disk was unplugged")
    assert schedule.seconds_to_next(ended(failed)) == RETRY_SECONDS  # tried again sooner
    assert schedule.seconds_to_next(ended(failed) + 10 * 3600) == 0  # overdue: at once


def ended(last: state.LastBackup) -> float:
    return calendar.timegm(time.strptime(last.at, "%Y-%m-%dT%H:%M:%SZ"))


def test_settings_are_checked_and_a_relative_folder_is_in_the_data_folder(home: Path):
    assert schedule_settings({"HOME": str(home), "BACKUP_DIR": None}) is None
    dest, every = schedule_settings(
        {"HOME": str(home), "BACKUP_DIR": "backups", "BACKUP_EVERY_HOURS": "12"}
    )
    assert dest == home / "backups" and every == 12 * 3600
    for bad in ("often", 0, -1):
        with pytest.raises(ConfigError, match="BACKUP_EVERY_HOURS"):
            schedule_settings({"HOME": str(home), "BACKUP_DIR": "/b", "BACKUP_EVERY_HOURS": bad})
