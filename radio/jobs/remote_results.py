"""A remote worker's scratch archive (#17): the episode as the steps need to see it, and the
manifest of what they made, for ``radio.jobs.handoff.commit`` on the archive.

The worker's own database holds a copy of the episode with what the steps read (GUID,
original, language, the show's language, speaker names), so the archive's own steps run
unchanged; what they wrote is read back through the same ``radio.data`` modules and sent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import trash
from radio.data.episodes import EpisodeNotFound, add_episode, find_episode, get_episode
from radio.data.processing import StepName
from radio.data.renditions import renditions
from radio.data.shows import get_or_create_show
from radio.jobs.handoff import EPISODE_FIELDS
from radio.jobs.remote_http import file_sha256
from radio.jobs.remote_transcript import TRANSCRIPT_FILE, write_transcript
from radio.media import store


def prepare_local(db: sqlite_utils.Database, home: str, lent: dict[str, Any]) -> int:
    """The scratch copy of the lent episode (made on first sight); its local id."""
    found = find_episode(db, lent["guid"])
    if found is not None:
        return found.id
    language = lent.get("show_language")
    show_id = get_or_create_show(db, f"remote {language}", language) if language else None
    taken = _exists(db, int(lent["id"]))
    return add_episode(
        db,
        # the archive's id where free (always, for a worker of one archive): log lines
        # from the steps then name the episode as the archive does
        **({} if taken else {"id": lent["id"]}),
        guid=lent["guid"],
        title=lent.get("title") or lent["guid"],
        source_sha256=lent["source_sha256"],
        source_path=lent["source_path"],
        source_bytes=lent.get("source_bytes"),
        language=lent.get("language"),
        speakers=json.dumps(lent["speakers"]) if lent.get("speakers") else None,
        show_id=show_id,
        status="queued",
    )


def forget_local(db: sqlite_utils.Database, home: str, local_id: int) -> None:
    """Once the archive holds the results: the scratch copy goes, rows and files, so the
    worker's folder stays small and a later request for the episode starts afresh."""
    episode = get_episode(db, local_id)
    shutil.rmtree(store.episode_dir(home, episode.guid), ignore_errors=True)
    if episode.source_path:
        store.resolve(home, episode.source_path).unlink(missing_ok=True)
    trash.move_to_trash(db, local_id, None)
    trash.remove_rows(db, local_id)


def _exists(db: sqlite_utils.Database, episode_id: int) -> bool:
    try:
        get_episode(db, episode_id)
    except EpisodeNotFound:
        return False
    return True


def build_manifest(
    db: sqlite_utils.Database, home: str, local_id: int, steps: list[str]
) -> tuple[dict[str, Any], dict[str, Path]]:
    """What the steps made for the episode: the manifest, and each file's local path."""
    episode = db["episodes"].get(local_id)
    files: dict[str, Path] = {}
    made = []
    if StepName.AUDIO in steps:
        for row in renditions(db, local_id):
            path = store.resolve(home, row["path"])
            files[path.name] = path
            made.append({**{k: row[k] for k in _RENDITION_KEYS}, "file": path.name})
    peaks = None
    if StepName.AUDIO in steps and episode.get("peaks_path"):
        path = store.resolve(home, episode["peaks_path"])
        files[path.name], peaks = path, path.name
    if StepName.TRANSCRIBE in steps:  # as a file: a long episode's transcript is large
        files[TRANSCRIPT_FILE] = write_transcript(db, home, local_id, episode["guid"], steps)
    manifest: dict[str, Any] = {
        "guid": episode["guid"],
        "steps": list(steps),
        "files": [
            {"name": name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
            for name, path in sorted(files.items())
        ],
        "renditions": made,
        "peaks_file": peaks,
        "episode": {key: episode.get(key) for key in _fields(steps)},
    }
    if StepName.TRANSCRIBE in steps:
        manifest["review_note"] = episode.get("review_note")
    return manifest, files


_RENDITION_KEYS = ("kind", "bytes", "mime", "bitrate", "sample_rate", "duration")
_AUDIO_FIELDS = ("duration", "loudness_before", "true_peak_before", "loudness_after",
                 "true_peak_after")  # fmt: skip


def _fields(steps: list[str]) -> list[str]:
    audio = StepName.AUDIO in steps
    transcribe = StepName.TRANSCRIBE in steps
    return [
        key
        for key in EPISODE_FIELDS
        if (audio and key in _AUDIO_FIELDS) or (transcribe and key not in _AUDIO_FIELDS)
    ]
