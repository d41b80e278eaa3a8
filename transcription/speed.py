"""How fast each model transcribes on this machine (``radio models --bench``).

Seconds of compute per minute of audio is also minutes per hour of audio: the figure a
station needs to know whether a day's recordings are transcribed by the next morning.
Timed on real speech, the way the archive transcribes (VAD, blocks, language detection on
a multilingual model), after one short warm-up per model so that loading the VAD and the
first CTranslate2 call are not counted against whichever model goes first.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from transcription.models import ModelInfo
from transcription.transcribe import Transcriber

RATE = 16_000


@dataclass(frozen=True)
class Speed:
    model: str
    multilingual: bool
    threads: int  # 0: CTranslate2's choice, every core
    audio_seconds: float
    load_seconds: float
    compute_seconds: float
    language: str
    words: int

    @property
    def per_minute(self) -> float:
        """Seconds of compute per minute of audio (= minutes per hour of audio)."""
        return self.compute_seconds / self.audio_seconds * 60 if self.audio_seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "seconds_per_minute": round(self.per_minute, 2)}


def join_speech(paths: Sequence[Path], dest: Path, gap: float = 0.5) -> float:
    """Decode ``paths`` and write them one after the other, ``gap`` seconds apart, as a 16 kHz
    mono WAV; returns its duration in seconds."""
    pieces: list[np.ndarray] = []
    silence = np.zeros(int(gap * RATE), dtype=np.int16)
    for path in paths:
        pieces += [_decode(path), silence]
    audio = np.concatenate(pieces[:-1]) if pieces else np.zeros(0, dtype=np.int16)
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.tobytes())
    return len(audio) / RATE


def _decode(path: Path) -> np.ndarray:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)


def measure(model: ModelInfo, audio: Path, warm_up: Path, threads: int = 0) -> Speed:
    """Load ``model`` and transcribe ``audio`` with it, timing each; ``warm_up`` (a few
    seconds of speech) is transcribed first, untimed."""
    started = time.perf_counter()
    transcriber = Transcriber(model, threads=threads)
    loaded = time.perf_counter()
    list(transcriber.transcribe(warm_up)[0])
    begun = time.perf_counter()
    segments, info = transcriber.transcribe(audio)
    words = sum(len(s.text.split()) for s in segments)
    done = time.perf_counter()
    with wave.open(str(audio), "rb") as wav:
        duration = wav.getnframes() / wav.getframerate()
    return Speed(
        model=model.name,
        multilingual=model.multilingual,
        threads=threads,
        audio_seconds=round(duration, 2),
        load_seconds=round(loaded - started, 2),
        compute_seconds=round(done - begun, 2),
        language=info.language,
        words=words,
    )
