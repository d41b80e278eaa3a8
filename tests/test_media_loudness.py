"""radio.media.loudness: the limiter and the gain dips, on real speech and plain signals."""

from __future__ import annotations

import numpy as np
import pytest

from radio.media.limiter import GainDips, TruePeakLimiter
from radio.media.loudness import LoudnessMeter, plan_gain
from tests.audiofiles import JFK, decode_mono, true_peak_dbtp

RATE = 24_000


def limit(x: np.ndarray, ceiling_db: float) -> np.ndarray:
    limiter = TruePeakLimiter(RATE, ceiling_db)
    y = [limiter.process(x[i : i + 5000]) for i in range(0, len(x), 5000)]
    return np.concatenate([*y, limiter.flush()])


def test_limiter_holds_the_true_peak_ceiling() -> None:
    x = decode_mono(JFK, RATE) * 10  # +20 dB: peaks near +20 dBTP
    y = limit(x, -3.0)
    assert len(y) == len(x)
    assert true_peak_dbtp(y.astype(np.float64)) <= -3.0 + 0.1
    assert np.all(np.abs(y) <= np.abs(x) + 1e-6)  # aligned with the input, only ever cuts


def test_limiter_takes_more_off_a_sibilant_than_a_vowel_of_the_same_peak() -> None:
    t = np.arange(RATE // 2) / RATE
    vowel = 0.9 * np.sin(2 * np.pi * 220 * t).astype(np.float32)
    hiss = np.random.default_rng(3).standard_normal(len(t))
    sibilant = (0.9 * hiss / np.abs(hiss).max()).astype(np.float32)  # white: mostly > 3 kHz
    quiet = np.zeros(RATE // 4, np.float32)
    y = limit(np.concatenate([vowel, quiet, sibilant, quiet]), -1.0)
    middle = slice(RATE // 8, RATE // 2 - RATE // 8)
    kept_vowel = np.abs(y[: len(t)][middle]).max() / 0.9
    s0 = len(t) + len(quiet)
    kept_sibilant = np.abs(y[s0 : s0 + len(t)][middle]).max() / 0.9
    assert kept_sibilant < kept_vowel - 0.1


def test_plan_gain_foresees_the_limiter() -> None:
    x = decode_mono(JFK, RATE)
    meter = LoudnessMeter(RATE, for_planning=True)
    meter.add(x)
    gain = plan_gain(meter, -16.0, -2.5)
    after = LoudnessMeter(RATE)
    after.add(limit(x * np.float32(10 ** (gain / 20)), -2.5))
    assert after.integrated() == pytest.approx(-16.0, abs=0.3)


def test_gain_dips_lower_only_their_span_and_add_up() -> None:
    dips = GainDips(1000, hold_s=0.01, ramp_s=0.01)
    dips.add(0.5, 0.6, 6.0)
    dips.add(0.55, 0.55, 6.0)
    x = np.ones(1000, np.float32)
    # applied block by block, as a render does
    y = np.concatenate([dips.apply(x[i : i + 128], i) for i in range(0, 1000, 128)])
    assert np.all(y[:470] == 1.0) and np.all(y[630:] == 1.0)  # outside span, hold and ramp
    assert y[500] == pytest.approx(10 ** (-6 / 20), rel=1e-3)
    assert y[550] == pytest.approx(10 ** (-12 / 20), rel=1e-3)  # two dips here: they add
    assert np.all(np.diff(y[470:500]) <= 0) and np.all(np.diff(y[600:630]) >= 0)  # ramps
    assert len(dips) == 2
