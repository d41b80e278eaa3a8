"""Scheduled backups: ``radio serve`` backs up into ``BACKUP_DIR`` every
``BACKUP_EVERY_HOURS`` in a background thread (``start_scheduled_backups``).

With ``BACKUP_KEEP`` (a number) only that many newest backups are kept. The schedule
follows the last backup recorded in the data folder, so a restart does not
back up again at once: the first backup comes when one is due (at once if there has never
been one), a failed one is tried again within the hour. Each outcome is recorded for
``/health`` by ``run_backup``; another backup already running into the folder is no error.
"""

from __future__ import annotations

import calendar
import logging
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask

from radio.config import ConfigError
from radio.upkeep.errors import BackupBusy, UpkeepError
from radio.upkeep.state import last_backup

logger = logging.getLogger(__name__)

RETRY_SECONDS = 3600.0


class BackupSchedule(threading.Thread):
    """The thread that backs up ``home`` into ``dest`` every ``every`` seconds."""

    def __init__(self, home: Path, dest: Path, every: float, keep: int | None = None) -> None:
        super().__init__(name="radio-backups", daemon=True)
        self.home, self.dest, self.every, self.keep = home, dest, every, keep
        self.stopped = threading.Event()

    def run(self) -> None:
        from radio.upkeep.backup import run_backup  # the web process imports it only here

        while not self.stopped.wait(self.seconds_to_next()):
            try:
                done = run_backup(self.home, self.dest, self.keep)
                logger.info("scheduled backup %s done", done.snapshot)
            except BackupBusy as e:
                logger.info("scheduled backup skipped: %s", e)
                self.stopped.wait(60)
            except UpkeepError as e:
                logger.error("scheduled backup failed: %s", e)
            except Exception:  # a bug: keep the schedule alive, the error is recorded
                logger.exception("scheduled backup failed")

    def seconds_to_next(self, now: float | None = None) -> float:
        last = last_backup(self.home)
        if last is None:
            return 0.0
        wait = self.every if last.ok else min(self.every, RETRY_SECONDS)
        ended = calendar.timegm(time.strptime(last.at, "%Y-%m-%dT%H:%M:%SZ"))
        return max(0.0, ended + wait - (now or time.time()))

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the backup under way, if any."""
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)


def schedule_settings(config: dict[str, Any]) -> tuple[Path, float] | None:
    """(backup folder, seconds between backups), or None when no backup is scheduled."""
    dest = config.get("BACKUP_DIR")
    if not dest:
        return None
    hours = config.get("BACKUP_EVERY_HOURS")
    try:
        hours = float(24 if hours is None else hours)
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"BACKUP_EVERY_HOURS must be a number of hours, not {config['BACKUP_EVERY_HOURS']!r}."
        ) from e
    if hours <= 0:
        raise ConfigError(f"BACKUP_EVERY_HOURS must be above zero, not {hours!r}.")
    folder = Path(str(dest)).expanduser()
    if not folder.is_absolute():  # relative to the data folder, like everything in config.toml
        folder = Path(config["HOME"]) / folder
    return folder, hours * 3600


def start_scheduled_backups(app: Flask) -> BackupSchedule | None:
    """Start the backup thread if ``BACKUP_DIR`` is set; return it (``.stop()`` ends it)."""
    settings = schedule_settings(app.config)
    if settings is None:
        return None
    dest, every = settings
    keep = int(app.config.get("BACKUP_KEEP") or 0) or None  # None: keep every backup
    thread = BackupSchedule(Path(app.config["HOME"]), dest, every, keep)
    thread.start()
    logger.info("backing up into %s every %.1f hours", dest, every / 3600)
    return thread
