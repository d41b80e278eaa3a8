"""Group calls built from the test clips, with every turn known, and a diarization error rate.

A call takes turns between several people (one voice per source of ../shared/testaudio:
the Austen reader, the LJ Speech reader, the Asterisk prompts' voice, ...), each turn
3-40 s of that person's clips, with short pauses and now and then an overlap under 1 s.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from _clips import SAMPLE_RATE, Clip, decode_mono, load_clips
from scipy.optimize import linear_sum_assignment

COLLAR_S = 0.25
FRAME_S = 0.01


def voice_of(clip: Clip) -> str | None:
    """Who speaks in a clip: one name per person in the test audio."""
    name = clip.path.name
    if clip.speakers != "1":
        return None
    for prefix, voice in (
        ("sense_and_sensibility", "austen"),
        ("LJ0", "ljspeech"),
        ("librispeech-1995", "librispeech-1995"),
        ("61-70968", "librispeech-61"),
        ("acoustic_corpus", "mfa-corpus"),
        ("se10x016", "swedish"),
        ("13697_", "spanish"),
        ("common_voice_ja", "japanese"),
        ("jfk", "jfk"),
    ):
        if name.startswith(prefix):
            return voice
    return "asterisk" if clip.path.parent.name == "en" else None


def half(clip: Clip) -> str:
    digest = hashlib.sha1(clip.path.name.encode()).hexdigest()
    return "tune" if int(digest, 16) % 2 == 0 else "check"


@dataclass(frozen=True)
class Call:
    audio: np.ndarray  # mono float32 at 16 kHz
    truth: list[tuple[float, float, str]]  # speech of each voice: start, end, voice
    voices: tuple[str, ...]


def voices_of_half(which: str, min_seconds: float = 6.0) -> dict[str, list[Clip]]:
    by_voice: dict[str, list[Clip]] = {}
    for clip in load_clips(lang=None):
        voice = voice_of(clip)
        if voice and half(clip) == which:
            by_voice.setdefault(voice, []).append(clip)
    return {v: c for v, c in by_voice.items() if sum(x.duration for x in c) >= min_seconds}


def build_call(clips: dict[str, list[Clip]], minutes: float = 10.0, seed: int = 5) -> Call:
    """Turns of 3-40 s in random order (never the same voice twice running), pauses of
    0.2-1.0 s, and one change in eight an overlap of 0.3-0.9 s."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    rng = np.random.default_rng(seed)
    audio_of = {c.path: decode_mono(c.path) for cs in clips.values() for c in cs}
    speech_of = {
        p: [(s["start"], s["end"]) for s in get_speech_timestamps(a, VadOptions())]
        for p, a in audio_of.items()
    }
    total = int(minutes * 60 * SAMPLE_RATE)
    out = np.zeros(total + 60 * SAMPLE_RATE, dtype=np.float32)
    truth: list[tuple[float, float, str]] = []
    pos, last = 0, None
    names = sorted(clips)
    while pos < total:
        voice = rng.choice([v for v in names if v != last])
        last = voice
        turn_end = pos + int(rng.uniform(3, 40) * SAMPLE_RATE)
        gain = np.float32(10 ** (rng.uniform(-8, 0) / 20))
        while pos < turn_end:
            clip = clips[voice][rng.integers(len(clips[voice]))]
            a = audio_of[clip.path][: turn_end - pos + SAMPLE_RATE]
            out[pos : pos + len(a)] += a * gain
            truth += [
                ((pos + s) / SAMPLE_RATE, (pos + min(e, len(a))) / SAMPLE_RATE, voice)
                for s, e in speech_of[clip.path]
                if s < len(a)
            ]
            pos += len(a) + int(rng.uniform(0.1, 0.4) * SAMPLE_RATE)
        if rng.random() < 1 / 8:
            pos -= int(rng.uniform(0.3, 0.9) * SAMPLE_RATE)  # the next one starts too soon
        else:
            pos += int(rng.uniform(0.2, 1.0) * SAMPLE_RATE)
    end = max(e for _, e, _ in truth)
    out = out[: int(end * SAMPLE_RATE) + SAMPLE_RATE // 2]
    out += np.random.default_rng(seed).normal(0, 10 ** (-60 / 20), len(out)).astype(np.float32)
    return Call(np.clip(out, -1, 1), truth, tuple(names))


def der(
    truth: list[tuple[float, float, str]], found: list[tuple[float, float, str]]
) -> dict[str, float]:
    """Diarization error rate with a collar of 0.25 s around each true turn's edges, the
    labels matched one to one to make it smallest (as pyannote.metrics does)."""
    end = max([e for _, e, _ in truth] + [e for _, e, _ in found])
    n = int(end / FRAME_S) + 1
    ref_names = sorted({v for _, _, v in truth})
    hyp_names = sorted({v for _, _, v in found})
    ref = np.zeros((len(ref_names), n), dtype=bool)
    hyp = np.zeros((max(len(hyp_names), 1), n), dtype=bool)
    scored = np.ones(n, dtype=bool)
    collar = int(COLLAR_S / FRAME_S)
    for s, e, v in truth:
        a, b = int(s / FRAME_S), int(e / FRAME_S)
        ref[ref_names.index(v), a:b] = True
        scored[max(0, a - collar) : a + collar] = False
        scored[max(0, b - collar) : b + collar] = False
    for s, e, v in found:
        hyp[hyp_names.index(v), int(s / FRAME_S) : int(e / FRAME_S)] = True
    ref, hyp = ref[:, scored], hyp[:, scored]
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)
    rows, cols = linear_sum_assignment(-overlap)
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = float(n_ref.sum())
    correct = float(overlap[rows, cols].sum())
    missed = float(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = float(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = float(np.minimum(n_ref, n_hyp).sum()) - correct
    return {
        "der": round(100 * (missed + false_alarm + confusion) / total, 2),
        "missed": round(100 * missed / total, 2),
        "false_alarm": round(100 * false_alarm / total, 2),
        "confusion": round(100 * confusion / total, 2),
    }
