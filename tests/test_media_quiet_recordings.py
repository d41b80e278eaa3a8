"""Quiet, peaky recordings (a phone on a table, knocked) reach -16 LUFS too (issue #14).

The recording is made from the *checking* half of the LJ clips; the levelling's
parameters were chosen on the other half. Renditions are decoded with libsndfile
(soundfile), measured with pyloudnorm and oversampled with scipy: other tools than the
ones that made them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from radio.media import levelling, renditions
from radio.media.audio import RATE, iter_mono, measure_meter
from radio.media.limiter import Normaliser, TruePeakLimiter
from radio.media.loudness import MAX_MAKEUP_DB, RELEASE_DB_S, plan_gain
from tests.audiofiles import (
    JFK,
    LJ,
    LJ_CHECKING,
    decode_mono,
    quiet_phone_call,
    true_peak_dbtp,
)

CEILING_DB = -1.0 - renditions.CODEC_HEADROOM_DB  # what render gives the limiter
LOUD_TALKER = (0.0, -10.0, 10.0, -10.0)  # dB, clip by clip


@pytest.fixture(scope="module")
def quiet_call(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quiet_phone_call(tmp_path_factory.mktemp("quiet") / "call.wav", LJ_CHECKING)


def decode(r: renditions.Rendition) -> tuple[np.ndarray, int]:
    """A rendition as a player decodes it: libsndfile for MP3 and Opus, FFmpeg for the rest."""
    if r.kind in ("mp3", "opus"):
        return soundfile.read(r.path, dtype="float64")
    return decode_mono(r.path, r.sample_rate).astype(np.float64), r.sample_rate


def plan(path: Path) -> levelling.PlannedGain:
    return plan_gain(measure_meter(path, None), -16.0, CEILING_DB)


def test_the_recording_is_what_the_issue_describes(quiet_call: Path) -> None:
    x, rate = soundfile.read(quiet_call, dtype="float64")
    lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
    assert lufs == pytest.approx(-38.0, abs=0.5)
    assert true_peak_dbtp(x) - lufs == pytest.approx(35.0, abs=1.0)
    assert 20 <= len(x) / rate <= 40


def run_chain(src: Path, chain: Normaliser) -> float:
    """Loudness (pyloudnorm) of what ``chain`` makes of ``src``."""
    y = np.concatenate([*(chain.process(x) for x in iter_mono(src)), chain.flush()])
    return pyloudnorm.Meter(RATE).integrated_loudness(y.astype(np.float64))


def test_gain_and_limiter_alone_fall_short_and_levelling_lands(quiet_call: Path) -> None:
    meter = measure_meter(quiet_call, None)
    gain = plan_gain(meter, -16.0, CEILING_DB)
    with np.errstate(divide="ignore"):
        peak_db = 20 * np.log10(meter.limiter_levels())
    limits = levelling.Limits(-16.0, CEILING_DB, RELEASE_DB_S * levelling.BIN_S, MAX_MAKEUP_DB)
    plain_gain, _ = levelling.gain_through_limiter(
        meter.integrated, meter.energies(), peak_db, limits
    )
    assert gain.levelling is not None
    assert run_chain(quiet_call, Normaliser(RATE, plain_gain, CEILING_DB, RATE)) < -16.6
    assert run_chain(quiet_call, Normaliser(RATE, gain, CEILING_DB, RATE)) == pytest.approx(
        -16.0, abs=0.3
    )


def test_quiet_peaky_recording_renditions_land_on_target(
    tmp_path: Path, quiet_call: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="radio.media.levelling")
    result = renditions.render(quiet_call, tmp_path / "out")
    assert "levelling: gain and limiter alone would land at" in caplog.text
    assert result.after.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    for r in result.renditions:
        x, rate = decode(r)
        lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
        assert lufs == pytest.approx(-16.0, abs=1.0), f"{r.kind}: {lufs:.2f} LUFS"
        assert true_peak_dbtp(x) <= -1.0, f"{r.kind}: true peak {true_peak_dbtp(x):.2f}"


def test_the_knocks_are_taken_as_clicks_not_as_loud_words(quiet_call: Path) -> None:
    planned = plan(quiet_call).levelling
    assert planned.clicks == 4  # the four knocks the recording has, nothing else
    ducked = planned.click_cut_db < -1.0
    runs = np.diff(np.concatenate([[0], ducked.astype(np.int8), [0]]))
    lengths = np.flatnonzero(runs == -1) - np.flatnonzero(runs == 1)
    assert lengths.max() * levelling.BIN_S <= 0.05  # each knock ducks 50 ms at most
    assert np.all(planned.word_cut_db == 0.0)  # no word needed levelling for four knocks


def test_loud_words_are_levelled_without_pumping(tmp_path: Path) -> None:
    # one talker 10 dB louder than the rest: cutting clicks alone can't land this one
    src = quiet_phone_call(tmp_path / "busy.wav", LJ_CHECKING, talkers_db=LOUD_TALKER)
    planned = plan(src).levelling
    assert planned.threshold_lu is not None and planned.deepest_word_cut_db > 1.0
    step = np.diff(planned.word_cut_db.astype(np.float64)) / levelling.BIN_S  # dB/s
    assert step.max() <= levelling.LEVEL_RELEASE_DB_S * 1.01  # the release: 30 dB/s
    # the attack ramps over 50 ms at the least, ahead of the word
    assert -step.min() <= planned.deepest_word_cut_db / levelling.LEVEL_ATTACK_S * 1.01
    # held over the gaps between syllables: the cut moves no more than a few times a second
    moving = np.abs(step) > 1.0
    starts = np.count_nonzero(np.diff(moving.astype(np.int8)) == 1)
    assert starts / (len(step) * levelling.BIN_S) < 4.0
    # and the knocks don't move the detector where words are loud enough to be levelled
    # (only the recording's scale: knocks count in its loudness, so -38 LUFS sets the
    # speech lower when they are there)
    calm = quiet_phone_call(tmp_path / "calm.wav", LJ_CHECKING, clicks=0, talkers_db=LOUD_TALKER)
    calm_meter, busy_meter = measure_meter(calm, None), measure_meter(src, None)
    calm_levels = levelling.sustained_levels(calm_meter.energies())
    moved = levelling.sustained_levels(busy_meter.energies()) - calm_levels
    reach = calm_levels - calm_meter.integrated() > -levelling.LEVEL_KNEE_DB
    assert np.count_nonzero(reach) > 100
    assert np.abs(moved[reach] - np.median(moved)).max() < 0.5


def test_renditions_with_a_loud_talker_land_on_target(tmp_path: Path) -> None:
    src = quiet_phone_call(tmp_path / "busy.wav", LJ_CHECKING, talkers_db=LOUD_TALKER)
    result = renditions.render(src, tmp_path / "out")
    for r in result.renditions:
        x, rate = decode(r)
        lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
        assert lufs == pytest.approx(-16.0, abs=1.0), f"{r.kind}: {lufs:.2f} LUFS"
        assert true_peak_dbtp(x) <= -1.0, f"{r.kind}: true peak {true_peak_dbtp(x):.2f}"


@pytest.mark.parametrize("src", [JFK, LJ, *LJ_CHECKING], ids=lambda p: p.name)
def test_a_normal_recording_is_not_levelled(src: Path) -> None:
    gain = plan(src)
    assert gain.levelling is None
    # the chain is sample for sample the gain and the limiter, as before levelling existed
    chain = Normaliser(RATE, gain, CEILING_DB, RATE)
    limiter = TruePeakLimiter(RATE, CEILING_DB)
    g = np.float32(10 ** (gain / 20))
    ours, plain = [], []
    for x in iter_mono(src):
        ours.append(chain.process(x))
        plain.append(limiter.process(x * g))
    ours.append(chain.flush())
    plain.append(limiter.flush())
    assert np.array_equal(np.concatenate(ours), np.concatenate(plain))
