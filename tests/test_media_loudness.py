"""radio.media.loudness, limiter and levelling: limiter, gain dips, click cuts and the
leveller, on real speech and plain signals."""

from __future__ import annotations

import numpy as np
import pytest

from radio.media import levelling
from radio.media.limiter import GainDips, Normaliser, TruePeakLimiter
from radio.media.loudness import LoudnessMeter, plan_gain
from tests.audiofiles import JFK, LJ, decode_mono, true_peak_dbtp

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


def test_click_cut_finds_knocks_in_speech_and_nothing_else() -> None:
    x = decode_mono(LJ, RATE) * np.float32(0.1)  # knocks 20 dB over the loudest syllables
    knocks = [int(RATE * t) for t in (1.3, 4.1, 7.7)]
    for at in knocks:
        x[at : at + 100] += np.float32(0.9) * np.exp(-np.arange(100) / 30).astype(np.float32)
    meter = LoudnessMeter(RATE, for_planning=True)
    meter.add(x)
    cut = levelling.click_cut(20 * np.log10(meter.limiter_levels() + 1e-12), 6.0)
    ducked = np.flatnonzero(cut < -1.0) * levelling.BIN_S
    # every knock's bin, each ducked for 40 ms at most, and no syllable
    assert sorted({round(t, 1) for t in ducked}) == [1.3, 4.1, 7.7]
    assert len(ducked) <= 3 * 4


def test_leveller_applies_the_cut_the_same_whatever_the_blocks() -> None:
    bins = 300
    cut = np.zeros(bins, np.float32)
    cut[100:150] = -6.0
    planned = levelling.Levelling(cut, np.zeros(bins, np.float32), 240, 6.0, 1, None, 0.0, -18, -16)
    x = np.ones(bins * 240, np.float32)
    whole = levelling.Leveller(planned).process(x)
    leveller = levelling.Leveller(planned)
    pieces = np.concatenate([leveller.process(x[i : i + 777]) for i in range(0, len(x), 777)])
    np.testing.assert_allclose(pieces, whole, rtol=1e-6)
    assert whole[125 * 240] == pytest.approx(10 ** (-6 / 20), rel=1e-4)  # inside the cut
    assert whole[50 * 240] == 1.0 and whole[200 * 240] == 1.0  # outside it
    assert np.all(np.abs(np.diff(20 * np.log10(whole))) <= 6.0 / 240 + 1e-4)  # ramps


def test_planned_gain_is_a_float_that_carries_its_levelling() -> None:
    planned = levelling.PlannedGain(12.5)
    assert planned == 12.5 and f"{planned:+.1f}" == "+12.5" and planned.levelling is None
    cut = np.full(10, -3.0, np.float32)
    made = levelling.Levelling(cut, cut * 0, 240, 6.0, 0, None, 0.0, -18, -16)
    chain = Normaliser(RATE, levelling.PlannedGain(0.0, made), 0.0, RATE)
    assert chain.levelling is made  # and so every chain built from the gain levels alike
    y = np.concatenate([chain.process(np.full(2400, 0.1, np.float32)), chain.flush()])
    assert np.abs(y[500:2000]).max() == pytest.approx(0.1 * 10 ** (-3 / 20), rel=1e-3)
