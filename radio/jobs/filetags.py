"""Tags and chapters inside an episode's listening files (issue #14): the pipeline step, and
writing them again when what they say changes (a new title, new chapters, a licence).

What goes in comes from the archive's database (``gather``); how it goes into each kind of
file is ``radio.media.filetags``. Order matters for listeners: every file is renamed into
place first, then the renditions table gets the new sizes and the TAGS step is marked done
in one transaction. That commit is what tells the feed cache (it keys on the database) and
the media layer (``PRAGMA data_version``) that the files changed, so a feed's enclosure
``length`` and a file's ETag are never left describing the old bytes.

Outside the pipeline (the queued ``tag_files`` task, ``radio tagfiles``, a retranscription)
an episode is tagged only when its processing reached the TAGS step or finished before
that step existed; under its lease, as every other writer of its files.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.config import MAX_COVER_BYTES
from radio.data import processing
from radio.data import renditions as rendition_rows
from radio.data.artwork import artwork_of_episode
from radio.data.episodes import Episode, EpisodeStatus, get_episode
from radio.data.errors import DataError
from radio.data.processing import StepName, StepStatus
from radio.data.tags import chapters as stored_chapters
from radio.db import transaction
from radio.jobs import leases
from radio.jobs.context import Context, StepError
from radio.media import store
from radio.media.artwork import artwork_path
from radio.media.errors import MediaError
from radio.media.filetags import Cover, FileTags, chapter_marks, has_tags, write_tags
from radio.upkeep.logs import episode_context

logger = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 30  # a queued re-tag waits this long for the episode's lease
# The episode page's path under BASE_URL, as radio.web.archive routes it (jobs can't import
# web; tests/test_jobs_filetags.py checks the two agree).
EPISODE_PAGE = "episodes/{guid}"

_locks: dict[int, threading.Lock] = {}
_locks_lock = threading.Lock()


class Outcome(StrEnum):
    TAGGED = "tagged"  # at least one file written again
    UNCHANGED = "unchanged"  # every file already said this
    WAITING = "waiting"  # processing hasn't reached the TAGS step; it will tag them
    BUSY = "busy"  # another worker holds the episode
    FAILED = "failed"


def gather(db: sqlite_utils.Database, config: dict[str, Any], episode: Episode) -> FileTags:
    """What the files of ``episode`` should say, from the database and the station's config."""
    licence = episode.licence_info
    chapters = stored_chapters(db, episode.id)
    return FileTags(
        title=episode.title,
        station=str(config.get("STATION_NAME") or "Community Radio Archive"),
        show=episode.show_title,
        date=_date(episode.recorded_at or episode.created_at),
        description=episode.description or "",
        licence=licence.label if licence else None,
        licence_url=licence.url if licence else None,
        language=episode.spoken_language,
        url=episode_page_url(config, episode.guid),
        cover=episode_cover(db, config, episode) or cover(config),
        chapters=chapter_marks([(c.start, c.end, c.title) for c in chapters], episode.duration),
    )


def _date(value: str | None) -> str | None:
    return value[:10] if value and len(value) >= 10 else None


def episode_page_url(config: dict[str, Any], guid: str) -> str | None:
    """The episode's page when the archive knows its own address (BASE_URL); files carry no
    address a phone off the station's network could not open."""
    base = config.get("BASE_URL")
    return f"{base.rstrip('/')}/{EPISODE_PAGE.format(guid=guid)}" if base else None


def episode_cover(
    db: sqlite_utils.Database, config: dict[str, Any], episode: Episode
) -> Cover | None:
    """The episode's artwork, else its show's (#15), when small enough to go into every
    file (``MAX_COVER_BYTES``, as COVER_IMAGE); None: use the station's COVER_IMAGE."""
    found = artwork_of_episode(db, episode.id)
    if found is None or found.bytes > MAX_COVER_BYTES:
        return None
    path = artwork_path(config["HOME"], found.name)
    try:
        return Cover.read(path) if path else None
    except MediaError as e:  # a file gone from the disk: the station's cover will do
        logger.warning("[episode %s] artwork %s not used: %s", episode.id, found.name, e)
        return None


def cover(config: dict[str, Any]) -> Cover | None:
    """COVER_IMAGE (checked when the app starts), relative to the data folder."""
    name = config.get("COVER_IMAGE")
    if not name:
        return None
    try:
        return Cover.read(Path(config["HOME"]) / Path(name).expanduser())
    except MediaError as e:
        raise StepError(f"{e} Fix COVER_IMAGE in config.toml.") from e


# --- the pipeline step ---------------------------------------------------------------------


def tags_step(ctx: Context) -> None:
    """Pipeline step: the episode's tags and chapters into each of its listening files."""
    write_episode_files(ctx.db, ctx.config, ctx.episode, ctx.report)


def write_episode_files(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode: Episode,
    report: Callable[[float], None] | None = None,
    *,
    mark_done: bool = False,
) -> int:
    """Tag every rendition of ``episode``; return how many files were written again.

    The caller holds the episode's lease. The sizes of the files renamed into place are
    recorded even when a later file fails, so the table never names bytes a file lacks.
    """
    tags = gather(db, config, episode)
    rows = rendition_rows.renditions(db, episode.id)
    sizes: dict[str, int] = {}
    written = 0
    try:
        with _episode_lock(episode.id):
            for done, row in enumerate(rows, start=1):
                path = _file(config, episode, row)
                written += write_tags(path, tags)
                sizes[row["kind"]] = path.stat().st_size
                if report:
                    report(done / len(rows))
    except MediaError as e:
        raise StepError(str(e)) from e
    finally:
        with transaction(db):  # after the renames: the commit listeners' caches watch
            rendition_rows.record_sizes(db, episode.id, sizes)
            if mark_done and len(sizes) == len(rows):
                processing.mark_step(db, episode.id, StepName.TAGS, StepStatus.DONE)
    return written


def _file(config: dict[str, Any], episode: Episode, row: dict[str, Any]) -> Path:
    path = store.resolve(config["HOME"], row["path"])
    if not path.is_file():
        raise StepError(
            f"the {row['kind']} copy {row['path']} is missing from the media folder; "
            f"restore it from a backup, or make it again with `radio retry {episode.id}`."
        )
    return path


@contextmanager
def _episode_lock(episode_id: int) -> Iterator[None]:
    """One writer of an episode's files per process (a lease's owner is the whole process)."""
    with _locks_lock:
        lock = _locks.setdefault(episode_id, threading.Lock())
    with lock:
        yield


# --- writing them again ----------------------------------------------------------------------


def up_to_date(db: sqlite_utils.Database, config: dict[str, Any], episode: Episode) -> bool:
    """Whether every file already says what it should and its recorded size is its size."""
    tags = gather(db, config, episode)
    for row in rendition_rows.renditions(db, episode.id):
        path = store.resolve(config["HOME"], row["path"])
        if not path.is_file() or path.stat().st_size != row["bytes"] or not has_tags(path, tags):
            return False
    return True


def refresh(db: sqlite_utils.Database, config: dict[str, Any], episode_id: int) -> Outcome:
    """Tag the files again if their processing is through the TAGS step (or finished before
    it existed) and they say something else; the caller holds the episode's lease."""
    episode = get_episode(db, episode_id)
    done = processing.finished_steps(db, episode_id)
    if StepName.TAGS not in done and episode.status != EpisodeStatus.READY:
        return Outcome.WAITING
    if StepName.TAGS in done and up_to_date(db, config, episode):
        return Outcome.UNCHANGED
    # Running, then done with the sizes: the second commit always changes a row, even when
    # no size did (a same-length title), so cached files are let go of.
    processing.mark_step(db, episode_id, StepName.TAGS, StepStatus.RUNNING)
    try:
        written = write_episode_files(db, config, episode, mark_done=True)
    except StepError as e:
        processing.mark_step(db, episode_id, StepName.TAGS, StepStatus.FAILED, error=str(e))
        raise
    return Outcome.TAGGED if written else Outcome.UNCHANGED


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None  # what went wrong, for a person to read


def retag_episode(db: sqlite_utils.Database, config: dict[str, Any], episode_id: int) -> Result:
    """``refresh`` under the episode's lease: BUSY when another worker holds it."""
    if processing.lease_owner(db, episode_id) == leases.WORKER_ID:
        return Result(Outcome.BUSY)  # another thread of this process is at work on it
    if not leases.take_lease(db, episode_id, float(config.get("LEASE_SECONDS", 120))):
        return Result(Outcome.BUSY)
    try:
        with episode_context(episode_id):
            try:
                return Result(refresh(db, config, episode_id))
            except (StepError, DataError) as e:
                logger.warning("episode %s: tagging its files failed: %s", episode_id, e)
                return Result(Outcome.FAILED, str(e))
    finally:
        processing.release_lease(db, episode_id, leases.WORKER_ID)
