"""Emptying the trash: a deleted episode's rows (``radio.data.trash.remove_rows``), then its
files: the episode's folder (renditions, peaks, clips), its original unless another episode
shares it, and its own artwork unless a show or another episode names it too.

Rows go first, in one transaction: a crash between the two leaves files nobody names (a
later emptying can't find them, but nothing points at a missing file either, so
``radio verify`` stays clean). ``radio serve`` empties what is older than ``TRASH_DAYS``
once a day (``TrashSchedule``); ``radio trash --empty`` and the admin page do it by hand.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.config import ConfigError
from radio.data import artwork as artworks
from radio.data import audit, trash
from radio.media.artwork import artwork_path, discard_image
from radio.media.store import episode_dir, media_root

logger = logging.getLogger(__name__)

DEFAULT_TRASH_DAYS = 30
DAY_SECONDS = 24 * 3600.0
FIRST_RUN_SECONDS = 60.0  # after start, once the server is up


@dataclass(frozen=True)
class TrashEntry:
    """A trashed episode with what emptying it would free on disk."""

    item: trash.Trashed
    bytes: int  # its folder, its original (unless shared) and its own artwork (unless shared)
    original_shared: bool


@dataclass(frozen=True)
class Emptied:
    episodes: list[int]
    bytes: int


def trash_days(config: dict[str, Any]) -> float:
    """``TRASH_DAYS``: how long deleted episodes are kept (0: removed at once)."""
    value = config.get("TRASH_DAYS", DEFAULT_TRASH_DAYS)
    try:
        days = float(DEFAULT_TRASH_DAYS if value is None else value)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"TRASH_DAYS must be a number of days, not {value!r}.") from e
    if days < 0:
        raise ConfigError(f"TRASH_DAYS must be 0 (remove at once) or more, not {days!r}.")
    return days


def entries(db: sqlite_utils.Database, home: str | Path) -> list[TrashEntry]:
    """What the trash holds, with sizes, longest there first."""
    return [_entry(db, home, item) for item in trash.trashed(db)]


def _entry(db: sqlite_utils.Database, home: str | Path, item: trash.Trashed) -> TrashEntry:
    shared = trash.shares_original(db, item)
    size = _tree_bytes(episode_dir(home, item.guid))
    if item.source_path and not shared:
        size += _file_bytes(media_root(home) / item.source_path)
    if item.artwork and artworks.unused_but(db, item.artwork, item.id):
        found = artwork_path(home, item.artwork)
        size += _file_bytes(found) if found else 0
    return TrashEntry(item, size, shared)


def empty(
    db: sqlite_utils.Database,
    home: str | Path,
    *,
    older_than_days: float | None = None,
    only: int | str | None = None,
    actor: audit.Actor = audit.SYSTEM,
) -> Emptied:
    """Remove trashed episodes for good: every one, those deleted at least
    ``older_than_days`` ago, or ``only`` that one; the audit history names ``actor``."""
    items = (
        [trash.find_trashed(db, only)]
        if only is not None
        else trash.trashed(db, older_than_days=older_than_days)
    )
    freed, done = 0, []
    for item in items:
        entry = _entry(db, home, item)
        trash.remove_rows(db, item.id, actor)
        _remove_files(db, home, entry)
        logger.info("[episode %s] removed from the trash for good (%d bytes)", item.id, entry.bytes)
        freed += entry.bytes
        done.append(item.id)
    return Emptied(done, freed)


def _remove_files(db: sqlite_utils.Database, home: str | Path, entry: TrashEntry) -> None:
    item = entry.item
    folder = episode_dir(home, item.guid)
    if folder.is_dir():
        shutil.rmtree(folder)
    if item.source_path and not entry.original_shared:
        original = media_root(home) / item.source_path
        if original.resolve().is_relative_to(media_root(home).resolve()):
            original.unlink(missing_ok=True)  # read-only, but its folder isn't
    if item.artwork and artworks.unused(db, [item.artwork]):
        discard_image(home, item.artwork)
        artworks.forget(db, [item.artwork])


def _tree_bytes(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(_file_bytes(p) for p in folder.rglob("*") if p.is_file())


def _file_bytes(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class TrashSchedule(threading.Thread):
    """Empties what is older than ``days`` from the trash, once a day, in ``radio serve``."""

    def __init__(self, database: Path, home: Path, days: float) -> None:
        super().__init__(name="radio-trash", daemon=True)
        self.database, self.home, self.days = database, home, days
        self.stopped = threading.Event()

    def run(self) -> None:
        from radio.db import connect

        wait = FIRST_RUN_SECONDS
        while not self.stopped.wait(wait):
            wait = DAY_SECONDS
            try:
                db = connect(self.database)
                try:
                    done = empty(db, self.home, older_than_days=self.days)
                finally:
                    db.conn.close()
                if done.episodes:
                    logger.info(
                        "emptied %d episode(s) older than %g days from the trash",
                        len(done.episodes),
                        self.days,
                    )
            except Exception:  # a bug or a full disk: keep the schedule, try tomorrow
                logger.exception("emptying the trash failed")

    def stop(self, timeout: float | None = None) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)


def start_trash_schedule(config: dict[str, Any], database: Path) -> TrashSchedule:
    """Start the daily emptying of the trash (``.stop()`` ends it)."""
    thread = TrashSchedule(database, Path(config["HOME"]), trash_days(config))
    thread.start()
    return thread
