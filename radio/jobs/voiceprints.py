"""Voice prints and diarizations as a worker on another machine sends them (#17): base64
of little-endian float32, checked on the archive; and the diarization a worker made of an
episode's original, which the archive's speakers step uses instead of diarizing again
(after a retranscription, or for a transcript the archive already had). Kept apart from
``remote_transcript`` so that ``speakers`` can read it without an import cycle."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlite_utils

from radio.data import worker_tokens
from radio.data.episodes import Episode
from radio.data.speakers import is_name

if TYPE_CHECKING:  # loaded only where turns are labelled: diarization brings audio code
    from transcription.diarize import Diarization

PRINT = np.dtype("<f4")


def sent_print(voice: np.ndarray | None) -> str | None:
    """A voice print as it is sent (None stays None)."""
    if voice is None:
        return None
    return base64.b64encode(np.asarray(voice, dtype=PRINT).tobytes()).decode()


def voice_print(text: str | None) -> np.ndarray | None:
    """A voice print as sent (None stays None); ValueError when it is not one."""
    if text is None:
        return None
    raw = base64.b64decode(text, validate=True)
    if len(raw) % PRINT.itemsize:
        raise ValueError("a voice print is not a whole number of float32 values")
    return np.frombuffer(raw, dtype=PRINT).astype(np.float32)


def sent_diarization_of(sent: dict[str, Any]) -> Diarization:
    """A diarization as a worker sends it (ValueError, KeyError, TypeError: out of shape)."""
    from transcription.diarize import Diarization, Turn, Voice

    turns = tuple(Turn(float(a), float(b), int(who)) for a, b, who in sent["turns"])
    voices = tuple(Voice(int(i), float(s), voice_print(p)) for i, s, p in sent["voices"])
    if any(v.print is None for v in voices):
        raise ValueError("a voice came without its print")
    if any(t.speaker not in range(len(voices)) for t in turns):
        raise ValueError("a turn names a voice that was not sent")
    return Diarization(turns, voices)


def sent_diarization(db: sqlite_utils.Database, episode: Episode) -> Diarization | None:
    """The diarization a worker sent of this very original for this many names, if any
    (the speakers step then only labels the transcript's words with its turns)."""
    names = len([n for n in episode.speaker_names if is_name(n)])
    body = worker_tokens.diarization(db, episode.id, episode.source_sha256, names)
    return None if body is None else sent_diarization_of(json.loads(body))
