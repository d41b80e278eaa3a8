"""Take one recording into the archive: the one way in, for the CLI and the web upload.

The steps, in an order that leaves nothing behind on refusal:
check the fields (``radio.data.fields``: the same checks as the forms) -> stream into
``incoming/`` while hashing -> same bytes already here? give back that episode -> sniff,
probe and decode it with PyAV (to its end or just past the length limit, whatever the
header says) -> keep the original under its hash -> create the episode (``queued``) ->
hand its id to ``enqueue``. The file's name is only shown and kept, never a path.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import sqlite_utils

from radio.data import consent, fields, receipts
from radio.data.episodes import (
    VISIBILITIES,
    Episode,
    EpisodeStatus,
    add_episode,
    find_by_source,
    get_episode,
)
from radio.data.shows import get_or_create_show, show_licence
from radio.db import transaction, utcnow
from radio.i18n import _
from radio.jobs.errors import IngestError
from radio.media import store
from radio.media.formats import clock
from transcription.languages import installed_languages

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
    uploaded_by: int | None = None  # the account that sent it (the web form), if any
    # A licence's code or label ("cc-by", "CC BY"); None: its show's, else the station's.
    licence: str | None = None
    publish_at: str | None = None  # UTC, as utcnow writes it: public from then on (#15)
    # Who is heard and whether each agreed (#16); any but yes keeps it from listeners.
    participants: Sequence[consent.Participant] = field(default_factory=tuple)


@dataclass(frozen=True)
class IngestResult:
    episode_id: int
    guid: str
    filename: str
    created: bool  # False when these exact bytes were already in the archive
    status: str
    duration: float
    # The receipt's token (#16), only for a new episode and only here: the archive keeps
    # its hash. None when the bytes were already in the archive (that receipt is another's).
    receipt_token: str | None = None


@dataclass(frozen=True)
class Limits:
    min_seconds: float = 1.0
    max_seconds: float = 6 * 3600.0
    max_bytes: int | None = None
    languages: tuple[str, ...] | None = None  # hints the models take; None: any Whisper knows
    min_free_bytes: int = 0  # kept free on the data folder's disk beyond a new file
    licence: str | None = None  # the station's code (LICENCE), after the show's

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Limits:
        return cls(
            min_seconds=float(config["MIN_DURATION_SECONDS"]),
            max_seconds=float(config["MAX_DURATION_HOURS"]) * 3600.0,
            max_bytes=int(config["MAX_CONTENT_LENGTH"]),
            languages=installed_languages(config.get("WHISPER_MODEL")),
            min_free_bytes=int(float(config.get("MIN_FREE_MB") or 0) * 1024 * 1024),
            licence=config.get("LICENCE") or None,
        )


def parse_recorded_at(value: str | None) -> str:
    """Accept a date or an ISO date-time; default to today. ValueError says what to type."""
    return fields.recorded_at(value)


def default_title(filename: str) -> str:
    stem = Path(fields.filename(filename)).stem.replace("_", " ").replace("-", " ")
    return fields.made_up_title(stem) or "Untitled recording"


def title_in_batch(title: str | None, index: int, count: int) -> str | None:
    """The title of recording ``index`` (from 1) of ``count`` given one title together:
    "Water committee (2 of 3)", so a batch doesn't fill the archive with one title. None
    (no title given) stays None: each recording is then named after its file."""
    if not title or count < 2:
        return title
    suffix = f" ({index} of {count})"
    head = fields.made_up_title(title)
    if len(head) + len(suffix) > fields.MAX_TITLE_CHARS:  # keep the number, cut the title
        head = fields.made_up_title(head[: fields.MAX_TITLE_CHARS - len(suffix)] + " …")
    return head + suffix


def checked_metadata(filename: str, meta: Metadata, limits: Limits) -> Metadata:
    """``meta`` with every field cleaned and checked as the forms check them; IngestError
    names the field and its limit (a 400 KB title, a path given as the language...)."""
    if meta.visibility not in VISIBILITIES:
        raise IngestError(
            filename,
            _("visibility must be one of {choices}.").format(choices=", ".join(VISIBILITIES)),
        )
    try:
        return dataclasses.replace(
            meta,
            title=fields.title(meta.title) or None,
            show=fields.show(meta.show) or None,
            description=fields.description(meta.description),
            recorded_at=fields.recorded_at(meta.recorded_at),
            language=fields.language(meta.language, limits.languages),
            speakers=fields.names(meta.speakers),
            licence=fields.licence(meta.licence),
            participants=consent.checked_list(meta.participants),
        )
    except (fields.FieldError, consent.ConsentError) as e:
        raise IngestError(filename, str(e)) from None


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
        raise IngestError(path.name, str(_("no such file. Check the path and try again.")))
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
    filename = fields.filename(filename)
    meta = checked_metadata(filename, meta, limits)
    try:
        received = store.receive(
            home,
            stream,
            filename,
            max_bytes=limits.max_bytes,
            progress=progress,
            min_free=limits.min_free_bytes,
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
        row = _create_episode(db, meta, filename, received, probe, rel, limits.licence)
    except sqlite3.IntegrityError:
        # The same bytes arrived twice at once; the other request made the episode.
        existing = find_by_source(db, received.sha256)
        if existing is None:
            raise
        return _result(existing, filename, created=False)
    except BaseException:
        store.discard(home, rel)
        raise
    token = _record_contribution(db, row.id, meta.participants)
    if enqueue:
        enqueue(row.id)
    logger.info("ingested %s as episode %s (%s)", filename, row.id, row.guid)
    return dataclasses.replace(_result(row, filename, created=True), receipt_token=token)


def _record_contribution(
    db: sqlite_utils.Database, episode_id: int, listed: Sequence[consent.Participant]
) -> str:
    """Its participants and its receipt (#16), before it is queued: a queued episode is
    never public, so consent is in place before listeners could hear it."""
    token, now = receipts.new_token(), utcnow()
    with transaction(db) as conn:
        consent.add_participants(conn, episode_id, listed, now)
        receipts.add_receipt(conn, episode_id, token, now)
    return token


def _checked_probe(received: store.Received, filename: str, limits: Limits) -> Probe:
    """What the recording is, with its length as decoded: refused when it isn't a recording
    the archive takes, is cut off, or holds too little or (whatever its header says) too
    much audio. Decoding stops just past the limit, so a small file holding days of audio
    costs no more than one at the limit."""
    # PyAV is loaded by the first recording, not at start: the web process stays light.
    from radio.media import audio, formats, integrity

    if received.size == 0:
        raise IngestError(
            filename, str(_("the file is empty (0 bytes). Upload the recording again."))
        )
    what = formats.sniff(received.path)
    if what:
        raise IngestError(
            filename,
            _("this is {what}, not a recording. Upload the recording itself.").format(what=what),
        )
    try:
        stated = audio.probe(received.path)
        seconds = audio.decoded_seconds(received.path, limits.max_seconds, stated.duration)
        if seconds < limits.min_seconds:
            raise IngestError(
                filename,
                _(
                    "the recording is {seconds:.1f} s long; the archive takes recordings of at "
                    "least {minimum:g} s."
                ).format(seconds=seconds, minimum=limits.min_seconds),
            )
        integrity.check_decodes(received.path, stated)
    except audio.TooLongError as e:
        if e.stated and e.stated < e.limit:
            message = _(
                "the recording holds more than {seconds} of audio (its header says {stated}), "
                "over the limit of {limit}. Split it, or raise MAX_DURATION_HOURS in config.toml."
            )
        else:
            message = _(
                "the recording holds more than {seconds} of audio, over the limit of {limit}. "
                "Split it, or raise MAX_DURATION_HOURS in config.toml."
            )
        said = {"seconds": clock(e.seconds), "limit": clock(e.limit)}
        stated = clock(e.stated) if e.stated else ""
        raise IngestError(filename, message.format(**said, stated=stated)) from None
    except audio.AudioError as e:
        raise IngestError(filename, _reason(e, received.path)) from None
    return dataclasses.replace(stated, duration=seconds)


def _reason(error: Exception, path: Path) -> str:
    """The audio module names its temporary file; the user knows the upload's name."""
    the_file = str(_("the file"))
    return str(error).replace(str(path), the_file).replace(path.name, the_file)


def _create_episode(
    db: sqlite_utils.Database,
    meta: Metadata,
    filename: str,
    received: store.Received,
    probe: Probe,
    rel: str,
    station_licence: str | None = None,
) -> Episode:
    show_id = get_or_create_show(db, meta.show, meta.language) if meta.show else None
    licence = meta.licence or show_licence(db, show_id) or station_licence
    episode_id = add_episode(
        db,
        guid=str(uuid.uuid4()),
        show_id=show_id,
        title=meta.title or default_title(filename),
        description=meta.description or "",
        recorded_at=meta.recorded_at,
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
        uploaded_by=meta.uploaded_by,
        licence=licence,
        publish_at=meta.publish_at,
        published_at=meta.publish_at,  # the date listeners will see: its moment
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
