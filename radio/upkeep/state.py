"""The last backup's time, snapshot and result, kept in ``backups.json`` in the data folder
(``/health``, the admin page and ``radio status --health`` show it). Light to import."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from radio.db import utcnow
from radio.upkeep.folder import STATE_FILE, read_json, write_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LastBackup:
    at: str  # when it ended, UTC
    ok: bool
    dest: str
    snapshot: str | None = None
    error: str | None = None
    files: int = 0
    copied_files: int = 0
    copied_bytes: int = 0
    missing: tuple[str, ...] = ()
    last_ok_at: str | None = None  # the last backup that worked, even after a failure
    last_ok_snapshot: str | None = None

    def public(self) -> dict[str, Any]:
        """What anyone may read on /health: when, which snapshot, whether it worked."""
        return {
            "at": self.at,
            "snapshot": self.snapshot,
            "result": "ok" if self.ok else "failed",
            "last_ok_at": self.last_ok_at,
        }


def last_backup(home: str | Path) -> LastBackup | None:
    data = read_json(Path(home) / STATE_FILE)
    if not isinstance(data, dict):
        return None
    try:
        return LastBackup(**{**data, "missing": tuple(data.get("missing", ()))})
    except TypeError:
        return None


def record_success(home: str | Path, dest: str | Path, snapshot: str, **counts: Any) -> LastBackup:
    now = utcnow()
    done = LastBackup(
        at=now, ok=True, dest=str(dest), snapshot=snapshot, last_ok_at=now,
        last_ok_snapshot=snapshot, **counts,
    )  # fmt: skip
    _write(home, done)
    return done


def record_failure(home: str | Path, dest: str | Path, error: str) -> LastBackup:
    before = last_backup(home)
    failed = LastBackup(
        at=utcnow(),
        ok=False,
        dest=str(dest),
        error=error,
        last_ok_at=before.last_ok_at if before else None,
        last_ok_snapshot=before.last_ok_snapshot if before else None,
    )
    _write(home, failed)
    return failed


def _write(home: str | Path, last: LastBackup) -> None:
    data = asdict(last)
    data["missing"] = list(last.missing)
    try:
        write_json(Path(home) / STATE_FILE, data)
    except OSError as e:  # a data folder that is gone or read-only: the log has it
        logger.warning("could not record the backup's outcome in %s: %s", home, e)
