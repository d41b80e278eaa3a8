"""Take one recording into the archive: the one way in, for the CLI and the web upload.

The steps, in an order that leaves nothing behind on refusal:
stream into ``incoming/`` while hashing -> same bytes already here? give back that
episode -> probe and check with PyAV -> keep the original under its hash -> create
the episode (``queued``) -> hand its id to ``enqueue``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import sqlite_utils

from radio.data.episodes import (
    VISIBILITIES,
    Episode,
    EpisodeStatus,
    add_episode,
    find_by_source,
    get_episode,
    get_or_create_show,
)
from radio.jobs.errors import IngestError
from radio.media import store

if TYPE_CHECKING:
    from radio.media.audio import Probe

logger = logging.getLogger(__name__)


@dataclass
class Metadata:
    title: str | None = None
    show: str | None = None
    description: str = ""
    recorded_at: str | None = None
    language: str | None = None
    speakers: Sequence[str] = field(default_factory=tuple)
    visibility: str = "public"


@dataclass(frozen=True)
class IngestResult:
    episode_id: int
    guid: str
    filename: str
    created: bool  # False when these exact bytes were already in the archive
    status: str
    duration: float


@dataclass(frozen=True)
class Limits:
    min_seconds: float = 1.0
    max_seconds: float = 6 * 3600.0
    max_bytes: int | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Limits:
        return cls(
            min_seconds=float(config["MIN_DURATION_SECONDS"]),
            max_seconds=float(config["MAX_DURATION_HOURS"]) * 3600.0,
            max_bytes=int(config["MAX_CONTENT_LENGTH"]),
        )


def parse_recorded_at(value: str | None) -> str:
    """Accept a date or an ISO date-time; default to today (UTC)."""
    if not value:
        return date.today().isoformat()
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2026-11-02."
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="minutes")


def default_title(filename: str) -> str:
    stem = Path(filename).stem.replace("_", " ").replace("-", " ").strip()
    return " ".join(stem.split()) or "Untitled recording"


def ingest_file(
    db: sqlite_utils.Database,
    home: str | Path,
    path: str | Path,
    meta: Metadata,
    limits: Limits,
    *,
    enqueue: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Ingest a file on disk (CLI, drop folder). The file itself is left as it was."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(path.name, "no such file. Check the path and try again.")
    with path.open("rb") as stream:
        return ingest_stream(
            db, home, stream, path.name, meta, limits, enqueue=enqueue, progress=progress
        )


def ingest_stream(
    db: sqlite_utils.Database,
    home: str | Path,
    stream: BinaryIO,
    filename: str,
    meta: Metadata,
    limits: Limits,
    *,
    enqueue: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Ingest an open binary stream (web upload). See the module docstring for the steps."""
    if meta.visibility not in VISIBILITIES:
        raise IngestError(filename, f"visibility must be one of {', '.join(VISIBILITIES)}.")
    recorded_at = _checked_date(filename, meta.recorded_at)
    try:
        received = store.receive(
            home, stream, filename, max_bytes=limits.max_bytes, progress=progress
        )
    except store.StoreError as e:
        raise IngestError(filename, str(e).removeprefix(f"{filename} ")) from e
    try:
        existing = find_by_source(db, received.sha256)
        if existing:
            received.path.unlink(missing_ok=True)
            logger.info("%s is already episode %s", filename, existing.id)
            return _result(existing, filename, created=False)
        probe = _checked_probe(received, filename, limits)
        rel = store.keep_original(home, received, store.safe_suffix(filename))
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    try:
        row = _create_episode(db, meta, filename, received, probe, rel, recorded_at)
    except sqlite3.IntegrityError:
        # The same bytes arrived twice at once; the other request made the episode.
        existing = find_by_source(db, received.sha256)
        if existing is None:
            raise
        return _result(existing, filename, created=False)
    except BaseException:
        store.discard(home, rel)
        raise
    if enqueue:
        enqueue(row.id)
    logger.info("ingested %s as episode %s (%s)", filename, row.id, row.guid)
    return _result(row, filename, created=True)


def _checked_date(filename: str, value: str | None) -> str:
    try:
        return parse_recorded_at(value)
    except ValueError as e:
        raise IngestError(filename, str(e)) from None


def _checked_probe(received: store.Received, filename: str, limits: Limits) -> Probe:
    # PyAV is loaded by the first recording, not at start: the web process stays light.
    from radio.media import audio

    if received.size == 0:
        raise IngestError(filename, "the file is empty (0 bytes). Upload the recording again.")
    try:
        probe = audio.probe(received.path)
    except audio.AudioError as e:
        raise IngestError(filename, _reason(e, received.path)) from None
    if probe.duration < limits.min_seconds:
        raise IngestError(
            filename,
            f"the recording is {probe.duration:.1f} s long; the archive takes recordings of at "
            f"least {limits.min_seconds:g} s.",
        )
    if probe.duration > limits.max_seconds:
        raise IngestError(
            filename,
            f"the recording is {_hours(probe.duration)} long, over the limit of "
            f"{_hours(limits.max_seconds)}. Split it, or raise MAX_DURATION_HOURS in config.toml.",
        )
    try:
        audio.check_decodes(received.path, probe)
    except audio.AudioError as e:
        raise IngestError(filename, _reason(e, received.path)) from None
    return probe


def _reason(error: Exception, path: Path) -> str:
    """The audio module names its temporary file; the user knows the upload's name."""
    return str(error).replace(str(path), "the file").replace(path.name, "the file")


def _hours(seconds: float) -> str:
    h, rest = divmod(int(round(seconds)), 3600)
    return f"{h} h {rest // 60:02d} min"


def _create_episode(
    db: sqlite_utils.Database,
    meta: Metadata,
    filename: str,
    received: store.Received,
    probe: Probe,
    rel: str,
    recorded_at: str,
) -> Episode:
    show_id = get_or_create_show(db, meta.show, meta.language) if meta.show else None
    episode_id = add_episode(
        db,
        guid=str(uuid.uuid4()),
        show_id=show_id,
        title=(meta.title or "").strip() or default_title(filename),
        description=meta.description or "",
        recorded_at=recorded_at,
        language=meta.language or None,
        speakers=json.dumps(list(meta.speakers)) if meta.speakers else None,
        duration=probe.duration,
        status=EpisodeStatus.QUEUED,
        progress=0.0,
        visibility=meta.visibility,
        source_sha256=received.sha256,
        source_path=rel,
        source_name=filename,
        source_bytes=received.size,
        source_format=f"{probe.format_name}/{probe.codec}",
        source_channels=probe.channels,
        source_sample_rate=probe.sample_rate,
    )
    return get_episode(db, episode_id)


def _result(row: Episode, filename: str, *, created: bool) -> IngestResult:
    return IngestResult(
        episode_id=row.id,
        guid=row.guid,
        filename=filename,
        created=created,
        status=row.status,
        duration=row.duration or 0.0,
    )
