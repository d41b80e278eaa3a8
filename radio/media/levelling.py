"""Levelling for quiet, peaky recordings: planned on pass 1's 10 ms bins, applied in pass 2.

A phone on a table records quiet speech and a few knocks 35 dB above it. The gain that
brings the speech to -16 LUFS drives those knocks (and the loudest words) far into the
true-peak limiter, which may take at most ``MAX_MAKEUP_DB`` off the loudness, so the
rendition came out short (-18 LUFS). Two gentle stages go before the limiter, each only
as far as the plan needs to land (none at all for a recording that lands without them):

1. clicks: a bin whose peak stands far above the speech around it (a knock, a click, a
   dropped phone: a few milliseconds) is brought down to ``margin`` dB over it, for about
   30 ms. The limiter alone would duck the next 300 ms of speech after each one (four
   knocks in half a minute cost 0.8 LU).
2. words: a slow speech compressor (3:1, soft knee) on the sustained level (a median of
   70 ms, which a click doesn't move), with a 50 ms look-ahead attack, 100 ms hold and
   a 30 dB/s release: loud words come down, quiet ones are never raised, nothing pumps.
3. and only if that can't land it: the limiter may take up to 3 dB more off the loudness.

The cuts are one value per 10 ms bin (a three-hour show is 1M bins, 4 MB), interpolated
sample by sample in pass 2 (``Leveller``), which decodes the very samples pass 1 did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

logger = logging.getLogger(__name__)

BIN_S = 0.01  # the meter's bins
# A plan landing this close under the target needs no levelling. The bins' simulation of
# the limiter is pessimistic (a bin's reduction is held over all of it): on speech the
# rendition lands 0.2-0.35 LU above what it predicts.
LANDING_TOLERANCE_LU = 0.3
# The speech around a bin: the 90th percentile of the peaks of 310 ms, which words fill
# and a click (a bin or two) doesn't move.
CLICK_AROUND_S = 0.31
CLICK_PERCENTILE = 90
CLICK_MARGINS_DB = (12.0, 9.0, 6.0, 3.0)  # how far a click may stay over it, tried in turn
LEVEL_MEDIAN_S = 0.07
LEVEL_SMOOTH_S = 0.03
LEVEL_RATIO = 3.0
LEVEL_KNEE_DB = 6.0
LEVEL_ATTACK_S = 0.05
LEVEL_HOLD_S = 0.1  # bridges the gaps between syllables, so words are levelled whole
LEVEL_RELEASE_DB_S = 30.0  # a 6 dB cut comes back over 200 ms: a speech compressor's release
# thresholds (LU over the recording's loudness) tried in turn: at 0 every word above the
# average is levelled, as far as a gentle compressor should go
LEVEL_THRESHOLDS_LU = (12.0, 10.0, 8.0, 6.0, 4.0, 2.0, 0.0)
# Levelling can't lower the peaks *within* a syllable (on phone-band speech they stand
# 15-18 dB over its level, against 13.5 between -16 LUFS and the limiter's ceiling), so
# the last resort lets the limiter take more than ``max_makeup_db`` off, a dB at a time.
EXTRA_LIMITING_DB = (1.0, 2.0, 3.0)

Integrated = Callable[[np.ndarray], float]  # LUFS of a recording's 10 ms energy bins


@dataclass(frozen=True)
class Limits:
    target_lufs: float
    ceiling_db: float
    release_db_per_bin: float  # the limiter's
    max_makeup_db: float


@dataclass(frozen=True, eq=False)
class Levelling:
    """What the plan decided: the cut in dB (<= 0) for every bin, and why."""

    click_cut_db: np.ndarray  # float32, one per ``bin_samples``
    word_cut_db: np.ndarray  # float32, one per ``bin_samples``
    bin_samples: int
    click_margin_db: float
    clicks: int  # how many were brought down
    threshold_lu: float | None  # None: no word needed levelling
    extra_limiting_db: float  # allowed over ``max_makeup_db``
    plain_landing_lufs: float  # where gain and limiter alone would have landed
    landing_lufs: float  # where the plan lands with the levelling

    @property
    def deepest_word_cut_db(self) -> float:
        return float(-self.word_cut_db.min()) if len(self.word_cut_db) else 0.0

    def cut_db(self, first: int = 0, last: int | None = None) -> np.ndarray:
        """The whole cut (dB, <= 0) of bins ``first`` to ``last``."""
        return self.click_cut_db[first:last] + self.word_cut_db[first:last]

    def describe(self) -> str:
        words = (
            f"words over {self.threshold_lu:+.0f} LU compressed {LEVEL_RATIO:g}:1 "
            f"(up to {self.deepest_word_cut_db:.1f} dB)"
            if self.threshold_lu is not None
            else "no word levelled"
        )
        extra = (
            f"; the limiter may take {self.extra_limiting_db:g} dB more"
            if self.extra_limiting_db
            else ""
        )
        return (
            f"gain and limiter alone would land at {self.plain_landing_lufs:.1f} LUFS; "
            f"{self.clicks} clicks brought down to {self.click_margin_db:g} dB over the "
            f"speech around them; {words}{extra} -> {self.landing_lufs:.1f} LUFS"
        )


class PlannedGain(float):
    """The gain in dB, carrying the ``Levelling`` planned with it (None: none needed).

    A float, so what only needs the number keeps working, and whatever builds a chain
    from it (the render, and each repair encode) levels exactly as planned.
    """

    levelling: Levelling | None

    def __new__(cls, gain_db: float, levelling: Levelling | None = None) -> PlannedGain:
        planned = super().__new__(cls, gain_db)
        planned.levelling = levelling
        return planned


def gain_through_limiter(
    integrated: Integrated, energies: np.ndarray, peak_db: np.ndarray, limits: Limits
) -> tuple[float, float]:
    """The gain for the target through the limiter (simulated on the bins, capped at
    ``max_makeup_db`` over the plain gain), and the loudness it lands on."""
    linear = limits.target_lufs - integrated(energies)
    peak_db = np.maximum(peak_db, np.append(peak_db[1:], -np.inf))  # the look-ahead
    ramp = np.arange(len(peak_db)) * limits.release_db_per_bin

    def through_limiter(gain: float) -> float:
        need = np.maximum(peak_db + gain - limits.ceiling_db, 0.0)
        held = np.maximum(np.maximum.accumulate(need + ramp) - ramp, 0.0)
        return integrated(energies * np.power(10.0, (gain - held) / 10.0))

    gain = linear
    for _ in range(4):
        gain = min(gain + limits.target_lufs - through_limiter(gain), linear + limits.max_makeup_db)
    return gain, through_limiter(gain)


def _odd_bins(seconds: float) -> int:
    return 2 * round(seconds / BIN_S / 2) + 1


def click_cut(peak_db: np.ndarray, margin_db: float) -> np.ndarray:
    """Cut (dB, <= 0) bringing each bin's peak to ``margin_db`` over the speech around it.

    The cut covers the bin either side too, so the interpolated gain is flat over the
    click and ramps in the 10 ms before and after it.
    """
    floor = np.maximum(peak_db, -200.0)
    around = ndimage.percentile_filter(
        floor, CLICK_PERCENTILE, _odd_bins(CLICK_AROUND_S), mode="nearest"
    )
    cut = np.maximum(floor - around - margin_db, 0.0)
    return -ndimage.maximum_filter1d(cut, 3, mode="nearest")


def sustained_levels(energies: np.ndarray) -> np.ndarray:
    """Each bin's level in LUFS, ignoring anything shorter than half the median window."""
    sustained = ndimage.median_filter(energies, _odd_bins(LEVEL_MEDIAN_S), mode="nearest")
    smooth = ndimage.uniform_filter1d(sustained, round(LEVEL_SMOOTH_S / BIN_S), mode="nearest")
    return -0.691 + 10.0 * np.log10(np.maximum(smooth, 1e-12))


def word_cut(levels_lu: np.ndarray, threshold_lu: float) -> np.ndarray:
    """The compressor's cut (dB, <= 0) per bin for ``levels_lu`` (over the loudness)."""
    over = levels_lu - threshold_lu
    slope, knee = 1.0 - 1.0 / LEVEL_RATIO, LEVEL_KNEE_DB
    cut = np.where(
        over >= knee / 2,
        slope * over,
        np.where(over > -knee / 2, slope * (over + knee / 2) ** 2 / (2 * knee), 0.0),
    )
    attack, hold = round(LEVEL_ATTACK_S / BIN_S), round(LEVEL_HOLD_S / BIN_S)
    size = attack + hold + 1  # each bin takes the deepest cut from hold back to attack ahead
    cut = ndimage.maximum_filter1d(cut, size, origin=hold - size // 2, mode="nearest")
    ramp = np.arange(len(cut)) * (LEVEL_RELEASE_DB_S * BIN_S)
    cut = np.maximum(np.maximum.accumulate(cut + ramp) - ramp, 0.0)  # a steady release
    return -ndimage.uniform_filter1d(cut, attack, mode="nearest")  # ramps, not steps


def plan_levelling(
    integrated: Integrated,
    energies: np.ndarray,
    peak_db: np.ndarray,
    limits: Limits,
    plain_landing: float,
    rate: int,
) -> PlannedGain:
    """The least levelling that lands on target: click margins first, then thresholds,
    then a little more limiting.

    Each step is simulated on the bins (levelling, gain, limiter) as ``gain_through_limiter``
    does; the first that lands is taken, else the one that lands highest.
    """
    levels = sustained_levels(energies) - integrated(energies)
    steps: list[tuple[float, float | None, float]] = [(m, None, 0.0) for m in CLICK_MARGINS_DB]
    steps += [(CLICK_MARGINS_DB[-1], t, 0.0) for t in LEVEL_THRESHOLDS_LU]
    steps += [(CLICK_MARGINS_DB[-1], LEVEL_THRESHOLDS_LU[-1], e) for e in EXTRA_LIMITING_DB]
    best = None
    for margin, threshold, extra in steps:
        clicks = click_cut(peak_db, margin)
        cut = clicks + (word_cut(levels, threshold) if threshold is not None else 0.0)
        gain, landed = gain_through_limiter(
            integrated,
            energies * np.power(10.0, cut / 10.0),
            peak_db + cut,
            replace(limits, max_makeup_db=limits.max_makeup_db + extra),
        )
        if best is None or landed > best[1] + 0.01:
            best = (gain, landed, margin, threshold, extra, clicks, cut)
        if landed >= limits.target_lufs - LANDING_TOLERANCE_LU:
            best = (gain, landed, margin, threshold, extra, clicks, cut)
            break
    assert best is not None
    gain, landed, margin, threshold, extra, clicks, cut = best
    levelling = Levelling(
        clicks.astype(np.float32),
        (cut - clicks).astype(np.float32),
        round(rate * BIN_S),
        margin,
        _count_runs(clicks < -1.0),
        threshold,
        extra,
        plain_landing,
        landed,
    )
    logger.info("levelling: %s", levelling.describe())
    return PlannedGain(gain, levelling)


def _count_runs(mask: np.ndarray) -> int:
    return int(np.count_nonzero(np.diff(mask.astype(np.int8), prepend=0) == 1))


class Leveller:
    """Applies a ``Levelling`` in pass 2: its per-bin cuts, interpolated sample by sample.

    Pass 2 decodes the same samples as pass 1, so counting samples keeps each cut on the
    moment it was planned for; no look-ahead (and no latency) is needed here.
    """

    def __init__(self, levelling: Levelling) -> None:
        self._levelling = levelling
        self._bins = len(levelling.click_cut_db)
        self._bin = levelling.bin_samples
        self._at = 0  # samples seen

    def process(self, x: np.ndarray) -> np.ndarray:
        if not len(x) or not self._bins:
            return x
        first = max(self._at // self._bin - 1, 0)
        last = min((self._at + len(x)) // self._bin + 2, self._bins)
        centres = np.arange(first, last) * self._bin + (self._bin - 1) / 2
        where = np.arange(self._at, self._at + len(x))
        self._at += len(x)
        cut = np.interp(where, centres, self._levelling.cut_db(first, last))
        return (x * np.power(10.0, cut / 20.0)).astype(np.float32)
