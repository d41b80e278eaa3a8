"""What ``/health``, the admin page and ``radio status --health`` report.

- the database is writable: a real row written and rolled back (``radio.db.write_problem``);
- free disk space on the data folder's disk, against ``MIN_FREE_MB``;
- the queue: episodes queued or being processed, and retranscriptions;
- a worker is alive: it beats (``beat``, from the queue's start and its minute-by-minute
  ``recover``) or it holds an episode's lease it keeps renewing (a long transcription);
- the last backup: when, which snapshot, and whether it worked (``radio.upkeep.state``).

Healthy (HTTP 200) unless the database can't be written or the disk is nearly full (503);
a missing worker or an overdue backup is a warning, since ``radio serve --no-worker`` and
an archive without scheduled backups are fine.
"""

from __future__ import annotations

import calendar
import logging
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radio.data.processing import lease_candidates
from radio.data.transcripts import retranscription_candidates
from radio.db import connect, write_problem
from radio.upkeep.folder import HEARTBEAT_FILE, MAIN_DATABASE
from radio.upkeep.state import LastBackup, last_backup

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
HEARTBEAT_SECONDS = 180  # a worker beats every minute: three missed beats and it is gone


@dataclass(frozen=True)
class Health:
    database_problem: str | None
    disk_free_mb: int
    min_free_mb: int
    queue_depth: int | None
    worker_alive: bool
    last_backup: LastBackup | None
    problems: list[str] = field(default_factory=list)  # why it is unhealthy (503)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def public(self) -> dict[str, Any]:
        """For anyone on the network: states and numbers, no names, paths or error texts
        that could say more than whether it works."""
        return {
            "status": "ok" if self.ok else "unhealthy",
            "database": {"writable": self.database_problem is None},
            "disk_free_mb": self.disk_free_mb,
            "disk_min_free_mb": self.min_free_mb,
            "queue_depth": self.queue_depth,
            "worker_alive": self.worker_alive,
            "last_backup": self.last_backup.public() if self.last_backup else None,
            "problems": self.problems,
        }

    def full(self) -> dict[str, Any]:
        """For admins and the terminal: the backup's folder and error too."""
        data = self.public()
        data["database"]["problem"] = self.database_problem
        if self.last_backup:
            data["last_backup"] = {**self.last_backup.public(), **_details(self.last_backup)}
        data["warnings"] = self.warnings
        return data


def check(config: dict[str, Any]) -> Health:
    home = Path(config["HOME"])
    db_problem = write_problem(home / MAIN_DATABASE)
    free_mb, min_mb = _free_mb(home), int(float(config.get("MIN_FREE_MB") or 0))
    depth, leased = _queue(home)
    alive = leased or heartbeat_fresh(home)
    last = last_backup(home)
    problems, warnings = [], []
    if db_problem:
        problems.append(f"The database can't be written: {db_problem}.")
    if free_mb < min_mb:
        problems.append(f"The disk is nearly full: {free_mb} MB free, under {min_mb} MB.")
    if not alive:
        warnings.append("No worker is running: uploads wait until one starts (radio worker).")
    overdue = _backup_overdue(config, last)
    if overdue:
        warnings.append(overdue)
    return Health(db_problem, free_mb, min_mb, depth, alive, last, problems, warnings)


def beat(home: str | Path) -> None:
    """Say this worker is alive (call at start and every minute); never fails the caller."""
    path = Path(home) / HEARTBEAT_FILE
    try:
        path.touch()
    except OSError as e:
        logger.warning("could not write the worker's heartbeat %s: %s", path, e)


def heartbeat_fresh(home: str | Path, now: float | None = None) -> bool:
    try:
        beaten = (Path(home) / HEARTBEAT_FILE).stat().st_mtime
    except OSError:
        return False
    return (now or time.time()) - beaten < HEARTBEAT_SECONDS


def _free_mb(home: Path) -> int:
    try:
        return shutil.disk_usage(home).free // MIB
    except OSError:
        return 0


def _queue(home: Path) -> tuple[int | None, bool]:
    """(episodes and retranscriptions waiting or under way, whether a live lease holds one)."""
    try:
        db = connect(home / MAIN_DATABASE)
        try:
            rows = lease_candidates(db, True) + retranscription_candidates(db, True)
        finally:
            db.conn.close()
    except sqlite3.Error as e:
        logger.warning("health: the queue can't be read: %s", e)
        return None, False
    now = time.time()
    return len(rows), any(owner and (until or 0) > now for _, owner, until in rows)


def _backup_overdue(config: dict[str, Any], last: LastBackup | None) -> str | None:
    if not config.get("BACKUP_DIR"):
        return None
    every = float(config.get("BACKUP_EVERY_HOURS") or 24)
    if last is None or last.last_ok_at is None:
        return "No backup has worked yet."
    age_hours = (time.time() - _epoch(last.last_ok_at)) / 3600
    if age_hours > 2 * every:
        return f"The last backup that worked is {age_hours:.0f} hours old."
    return None


def _epoch(stamp: str) -> float:
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


def _details(last: LastBackup) -> dict[str, Any]:
    return {
        "dest": last.dest,
        "error": last.error,
        "files": last.files,
        "copied_files": last.copied_files,
        "copied_bytes": last.copied_bytes,
        "missing": list(last.missing),
        "last_ok_snapshot": last.last_ok_snapshot,
    }
