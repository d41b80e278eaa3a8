"""The files of a redaction (``radio.jobs.redact``): listening copies made again without the
passage in a staging folder, tagged there (so their sizes are final), then swapped in; and
the original written again without it, kept by its sha256 like any original."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import renditions as rendition_rows
from radio.data.episodes import Episode
from radio.i18n import _
from radio.jobs.errors import JobError
from radio.media import store
from radio.media.errors import MediaError

STAGING = "redacting"  # inside the episode's folder, beside the files it replaces
PEAKS = "peaks.json"


class RedactAudioError(JobError):
    """A file could not be written again; nothing listeners have was changed."""


@dataclass
class Staged:
    """Listening copies and peaks made again, waiting beside the ones they replace."""

    home: str
    folder: Path  # the staging folder
    final: dict[str, Path] = field(default_factory=dict)  # kind -> where it goes
    peaks: Path | None = None

    @property
    def relpaths(self) -> list[str]:
        return [store.relative(self.home, path) for path in self.final.values()]

    @property
    def peaks_relpath(self) -> str:
        return store.relative(self.home, self.folder.parent / PEAKS)

    def sizes(self) -> dict[str, int]:
        return {kind: (self.folder / path.name).stat().st_size for kind, path in self.final.items()}

    def swap_in(self) -> None:
        """Rename each staged file over the one it replaces (each rename atomic)."""
        names = [path.name for path in self.final.values()] + [PEAKS]
        for name in names:
            os.replace(self.folder / name, self.folder.parent / name)
        store.fsync_path(self.folder.parent)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class StoredOriginal:
    relpath: str
    sha256: str
    size: int

    def fields(self) -> dict[str, Any]:
        """The episode's columns that describe its original."""
        return {
            "source_path": self.relpath,
            "source_sha256": self.sha256,
            "source_bytes": self.size,
            "source_format": "flac",
        }


def stage_audio(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode: Episode,
    span: tuple[float, float],
    sound: str,
) -> Staged:
    """Every rendition of ``episode`` written again without the passage, tagged, with new
    peaks, in the staging folder."""
    from radio.jobs.filetags import gather
    from radio.media.audio import AudioError
    from radio.media.filetags import write_tags
    from radio.media.redaction import Sound, Span, redact_rendition
    from radio.media.renditions import RATE, write_peaks

    home = config["HOME"]
    staged = Staged(home, store.episode_dir(home, episode.guid) / STAGING)
    shutil.rmtree(staged.folder, ignore_errors=True)  # a killed redaction's leftovers
    staged.folder.mkdir(parents=True)
    rows = rendition_rows.renditions(db, episode.id)
    tags = gather(db, config, episode)
    duration = float(episode.duration or 0.0)
    peaks: list[float] = []
    try:
        for row in rows:
            source = store.resolve(home, row["path"])
            dest = staged.folder / source.name
            samples = round(float(row["duration"] or duration) * RATE)
            made = redact_rendition(
                source, dest, row["kind"], int(row["bitrate"]), Span(*span), Sound(sound), samples
            )
            peaks = peaks if peaks and row["kind"] != "mp3" else made
            write_tags(dest, tags)
            staged.final[row["kind"]] = source
        staged.peaks = write_peaks(staged.folder / PEAKS, peaks, duration)
    except (AudioError, MediaError) as e:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise RedactAudioError(
            _("{problem} Nothing was changed; try again.").format(problem=e)
        ) from e
    return staged


def store_original(
    config: dict[str, Any], episode: Episode, span: tuple[float, float], sound: str
) -> StoredOriginal:
    """The original without the passage, as FLAC at its own rate and channels, stored by
    its sha256 under ``media/originals`` (the episode still points at the old one)."""
    from radio.media.audio import AudioError
    from radio.media.redaction import Sound, Span, redact_original

    home = config["HOME"]
    source = store.resolve(home, episode.source_path)
    if not source.is_file():
        raise RedactAudioError(
            _(
                "The original {path} is missing from the media folder; restore it from a "
                "backup first, so no copy of the passage survives there."
            ).format(path=episode.source_path)
        )
    incoming = store.incoming_dir(home)
    incoming.mkdir(parents=True, exist_ok=True)
    written = incoming / f"{store.partial_prefix()}{uuid.uuid4().hex}.flac"
    try:
        redact_original(source, written, Span(*span), Sound(sound))
        digest, size = _hash(written)
        relpath = store.keep_original(home, store.Received(written, digest, size), ".flac")
    except (AudioError, MediaError) as e:
        raise RedactAudioError(
            _("{problem} Nothing was changed; try again.").format(problem=e)
        ) from e
    finally:
        written.unlink(missing_ok=True)
    return StoredOriginal(relpath, digest, size)


def _hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(store.CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
