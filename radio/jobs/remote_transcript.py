"""A remote worker's transcript and speakers (#17), sent as one uploaded file.

The worker transcribes and diarizes (voice prints and their clustering are the heavy part
of the speakers step); the transcript file carries what that made, in the rows the archive
stores: the segments (already split where the speaker changes), the speakers rows (label,
talk time, voice print) and every voice found with its label. It travels like the
listening copies (chunked, checksummed, resumable), so a six-hour episode has no size
limit. The archive does the cheap part itself, as its own speakers step would: it matches
the voices against the named voices of the show's other episodes, which only it has, and
stores the best as suggestions (``radio.jobs.speakers.suggest``).

Voice prints travel as base64 of little-endian float32, the bytes the archive stores.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from radio.data import speakers as speaker_data
from radio.data import swaps, transcripts
from radio.data.episodes import get_episode
from radio.data.processing import StepName
from radio.data.speakers import Speaker
from radio.jobs.context import Context
from radio.jobs.speakers import speakers_step, suggest
from radio.jobs.voiceprints import sent_print, voice_print
from radio.media import store

TRANSCRIPT_FILE = "transcript.json"
VOICES_FILE = "voices.json"  # in the worker's scratch folder, between its steps


@dataclass(frozen=True)
class SentVoice:
    """A voice the worker found: what ``suggest`` reads of ``transcription.diarize.Voice``."""

    index: int
    label: str
    seconds: float
    print: np.ndarray


@dataclass(frozen=True)
class Transcript:
    segments: list[tuple[Any, ...]]
    speakers: list[Speaker] | None  # None: the speakers step did not run on the worker
    voices: list[SentVoice]


# -- on the worker ---------------------------------------------------------------------


def speakers_keeping_voices(ctx: Context) -> None:
    """The archive's speakers step, keeping every voice found and its label for the
    transcript file (a run again first forgets the voices of the run before)."""
    path = store.episode_dir(ctx.home, ctx.episode.guid) / VOICES_FILE
    path.unlink(missing_ok=True)

    def keep(voices: Sequence[Any], labels: Sequence[str]) -> None:
        rows = [[v.index, labels[v.index], v.seconds, sent_print(v.print)] for v in voices]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows))

    speakers_step(ctx, keep)


def write_transcript(
    db: sqlite_utils.Database, home: str, local_id: int, guid: str, steps: Sequence[str]
) -> Path:
    """The transcript file of the scratch episode, in its folder."""
    folder = store.episode_dir(home, guid)
    body: dict[str, Any] = {
        "segments": [
            transcripts.segment_values(local_id, idx, segment)[1:]
            for idx, segment in enumerate(transcripts.load_segments(db, local_id))
        ]
    }
    if StepName.SPEAKERS in steps:
        rows = speaker_data.of_episode(db, local_id)
        body["speakers"] = [[r.label, r.seconds, sent_print(r.voice)] for r in rows]
        kept = folder / VOICES_FILE
        body["voices"] = json.loads(kept.read_text()) if kept.exists() else []
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TRANSCRIPT_FILE
    path.write_text(json.dumps(body, ensure_ascii=False))
    return path


# -- on the archive --------------------------------------------------------------------


def read_transcript(path: Path, steps: Sequence[str]) -> Transcript:
    """The transcript file, checked; ValueError (or KeyError, TypeError) when not in shape."""
    body = json.loads(path.read_text(encoding="utf-8"))
    segments = []
    for row in body["segments"]:
        idx, start, end, text, speaker, words = row
        int(idx), float(start), float(end), str(text), json.loads(words or "[]")
        if speaker is not None and not isinstance(speaker, str):
            raise ValueError(f"segment {idx}: the speaker is not a label")
        segments.append(tuple(row))
    if StepName.SPEAKERS not in steps:
        return Transcript(segments, None, [])
    rows = [Speaker(str(label), float(seconds), voice_print(voice))
            for label, seconds, voice in body["speakers"]]  # fmt: skip
    voices = [SentVoice(int(i), str(label), float(seconds), voice_print(p))
              for i, label, seconds, p in body.get("voices") or []]  # fmt: skip
    if any(v.print is None for v in voices):
        raise ValueError("a voice came without its print")
    return Transcript(segments, rows, voices)


def apply_transcript(
    db: sqlite_utils.Database, conn: sqlite3.Connection, episode_id: int, sent: Transcript
) -> None:
    """The segments, and the speakers rows with the show's suggestions (inside the
    caller's transaction)."""
    swaps.replace_segments(conn, episode_id, sent.segments, [str(r[3]) for r in sent.segments], {})
    if sent.speakers is None:
        return
    suggested = _suggestions(db, episode_id, sent.voices)
    first_voice = {}
    for v in sent.voices:  # a label's row takes the suggestion of its first voice
        first_voice.setdefault(v.label, v.index)
    rows = [
        Speaker(r.label, r.seconds, r.voice, *suggested.get(first_voice.get(r.label, -1), ()))
        for r in sent.speakers
    ]
    speaker_data.write_rows(conn, episode_id, rows)


def _suggestions(
    db: sqlite_utils.Database, episode_id: int, voices: list[SentVoice]
) -> dict[int, tuple[str, float]]:
    """Voice index -> (name, score), exactly as the archive's own speakers step finds them."""
    if not voices:
        return {}
    show_id = get_episode(db, episode_id).show_id
    show = speaker_data.named_voices_of_show(db, show_id, exclude_episode=episode_id)
    if not show:
        return {}
    from transcription.diarize import MATCH_THRESHOLD, similarity  # PyAV: only when matching

    labels = [""] * (max(v.index for v in voices) + 1)
    for v in voices:
        labels[v.index] = v.label
    return suggest(voices, labels, show, similarity, MATCH_THRESHOLD)  # type: ignore[arg-type]
