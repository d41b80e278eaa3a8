"""The leveller lifts a quiet voice to the speaking level, but never a pause or cross-talk."""

from __future__ import annotations

import numpy as np

from tests.audiofiles import decode_mono
from tests.conftest import DATA
from transcription.leveller import TARGET_DB, level_channels

RATE = 16_000


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12))


def test_a_quiet_voice_comes_up_and_the_pause_around_it_stays_quiet() -> None:
    voice = decode_mono(DATA / "jfk.flac") * np.float32(10 ** (-20 / 20))
    pause = np.random.default_rng(1).normal(0, 10 ** (-65 / 20), 3 * RATE).astype(np.float32)
    x = np.concatenate([pause, voice, pause])
    (y,) = level_channels(x[None, :], RATE)
    speech = y[len(pause) + RATE : len(pause) + len(voice) - RATE]
    assert abs(rms_db(speech) - TARGET_DB) < 6  # lifted by about 20 dB to the target
    after = rms_db(y[len(pause) + len(voice) + RATE :])
    assert after < rms_db(speech) - 15  # the pause stays a pause, well under the voice
    assert np.abs(y).max() <= 1.0


def test_the_other_partys_cross_talk_is_not_lifted_into_this_channel() -> None:
    voice = decode_mono(DATA / "jfk.flac")
    silence = np.zeros_like(voice)
    left = np.concatenate([voice, silence])
    right = np.concatenate([silence, voice]) + 10 ** (-25 / 20) * left  # leaks of the left
    levelled = level_channels(np.stack([left, right]), RATE)
    leak_before = rms_db(right[: len(voice)])
    leak_after = rms_db(levelled[1, : len(voice)])
    own_gain = rms_db(levelled[1, len(voice) :]) - rms_db(right[len(voice) :])
    assert leak_after - leak_before <= own_gain + 1  # the leak gets this channel's gain only
    assert leak_after < rms_db(levelled[1, len(voice) :]) - 15  # and stays far under its voice
