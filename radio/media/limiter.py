"""The true-peak limiter and the chain a rendition's samples go through after the meter.

Streaming like ``radio.media.loudness``: each class keeps the little state it needs
between blocks. ``Normaliser`` is the whole chain: the planned levelling of the loudest
words (only for recordings that need it), planned gain, a look-ahead true-peak
limiter (which sees sibilants as louder, see ``loudness.SIBILANCE_WEIGHT``), the peaks
for the waveform, and a meter of what comes out.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radio.media.levelling import Leveller, Levelling
from radio.media.loudness import (
    RELEASE_DB_S,
    SIBILANCE_WEIGHT,
    LoudnessMeter,
    Sibilance,
    TruePeak,
    db_to_gain,
)


class TruePeakLimiter:
    """Look-ahead limiter that keeps the *true* peak of a mono stream under ``ceiling_db``.

    The gain reduction each sample needs (from the oversampled envelope, in dB) is spread
    with a look-ahead maximum, released at a fixed dB/s, then averaged over the attack
    window. Every sample inside an averaging window already carries the reduction its
    peak needs, so the average never falls short of it: a brickwall without overshoot and
    without per-sample Python. Output lags input by ``latency`` samples; call ``flush``.
    """

    def __init__(
        self,
        rate: int,
        ceiling_db: float,
        attack_s: float = 0.005,
        release_db_s: float = RELEASE_DB_S,
    ) -> None:
        self._ceiling = db_to_gain(ceiling_db)
        self._detector = TruePeak()
        self._sibilance = Sibilance(rate)
        self._attack = max(1, round(rate * attack_s))
        # odd window: attack plus the detector's lag plus slack for the interpolated phases
        self._window = (self._attack + self._detector.delay + 4) | 1
        self._release = release_db_s / rate
        self._pending_x = np.zeros(0, np.float32)
        self._pending_need = np.zeros(0)
        self._held: np.ndarray | None = None  # reductions of the samples before the block
        self._last = 0.0
        self.reduced = 0  # samples that needed any reduction, for the log

    @property
    def latency(self) -> int:
        return self._window - 1

    def process(self, x: np.ndarray) -> np.ndarray:
        # the sibilance term can lift a sample by up to half again: oversample those too
        env = self._detector.envelope(x, self._ceiling / (1.0 + SIBILANCE_WEIGHT))
        env += SIBILANCE_WEIGHT * self._sibilance.envelope(x)
        need = np.zeros(len(x))
        over = env > self._ceiling
        need[over] = 20.0 * np.log10(env[over] / self._ceiling)
        buf_x = np.concatenate([self._pending_x, x])
        buf_need = np.concatenate([self._pending_need, need])
        n_out = len(buf_x) - self.latency
        if n_out <= 0:
            self._pending_x, self._pending_need = buf_x, buf_need
            return np.zeros(0, np.float32)
        self._pending_x, self._pending_need = buf_x[n_out:], buf_need[n_out:]
        if (
            not buf_need.any()
            and self._last <= 0.0
            and (self._held is None or not self._held.any())
        ):
            return buf_x[:n_out]  # the common case: nothing near the ceiling
        ahead = ndimage.maximum_filter1d(
            buf_need, self._window, origin=-(self._window // 2), mode="constant"
        )[:n_out]
        released = self._apply_release(ahead)
        smoothed = self._average(released)
        self.reduced += int(np.count_nonzero(smoothed))
        return (buf_x[:n_out] * np.power(10.0, -smoothed / 20.0)).astype(np.float32)

    def flush(self) -> np.ndarray:
        tail = self.process(np.zeros(self.latency, np.float32))
        return tail

    def _apply_release(self, ahead: np.ndarray) -> np.ndarray:
        # r[n] = max(a[n], r[n-1] - d) unrolls to a running maximum of a[k] + k*d.
        ramp = np.arange(len(ahead)) * self._release
        run = np.maximum.accumulate(np.maximum(ahead + ramp, self._last - self._release))
        released = np.maximum(run - ramp, 0.0)
        self._last = float(released[-1])
        return released

    def _average(self, released: np.ndarray) -> np.ndarray:
        if self._held is None:  # before the start, assume the first reduction already held
            self._held = np.full(self._attack - 1, released[0])
        ext = np.concatenate([self._held, released])
        sums = np.concatenate([[0.0], np.cumsum(ext)])
        self._held = ext[len(ext) - (self._attack - 1) :] if self._attack > 1 else self._held
        return np.maximum((sums[self._attack :] - sums[: -self._attack]) / self._attack, 0.0)


class GainDips:
    """Short extra gain reductions at given moments, for a rendition whose codec overshot.

    Each dip holds its full depth over its span and ``hold_s`` either side (wider than a
    codec frame and than the few milliseconds decoders and encoders disagree on timing)
    and fades in and out over ``ramp_s``. Dips at the same place add up: a second round
    measures output the first dip already lowered.
    """

    def __init__(self, rate: int, hold_s: float = 0.06, ramp_s: float = 0.03) -> None:
        self._hold, self._ramp = round(rate * hold_s), round(rate * ramp_s)
        self._rate = rate
        self._dips: list[tuple[int, int, float]] = []  # (first, last sample, depth in dB)

    def __len__(self) -> int:
        return len(self._dips)

    def add(self, start_s: float, end_s: float, depth_db: float) -> None:
        """Dip by ``depth_db`` from ``start_s`` to ``end_s`` (and ``hold_s`` either side)."""
        self._dips.append((round(start_s * self._rate), round(end_s * self._rate), depth_db))

    def apply(self, x: np.ndarray, start: int) -> np.ndarray:
        """``x`` (whose first sample is sample ``start`` of the stream) with the dips in it."""
        reach = self._hold + self._ramp
        stop = start + len(x)
        near = [d for d in self._dips if d[0] - reach < stop and d[1] + reach > start]
        if not near or not len(x):
            return x
        n = np.arange(start, stop)
        depth = np.zeros(len(x))
        for first, last, db in near:
            outside = np.maximum(np.maximum(first - n, n - last), 0)  # samples beyond the span
            depth += db * np.clip((reach - outside) / self._ramp, 0.0, 1.0)
        return (x * np.power(10.0, -depth / 20.0)).astype(x.dtype)


class PeakBuckets:
    """Largest magnitude in each run of ``per_bucket`` samples: a waveform overview."""

    def __init__(self, per_bucket: int) -> None:
        self.per_bucket = per_bucket
        self.values: list[float] = []
        self._carry = np.zeros(0, np.float32)

    def add(self, x: np.ndarray) -> None:
        mags = np.concatenate([self._carry, np.abs(x)])
        full = len(mags) // self.per_bucket * self.per_bucket
        self.values.extend(mags[:full].reshape(-1, self.per_bucket).max(axis=1).tolist())
        self._carry = mags[full:]

    def finish(self) -> list[float]:
        if len(self._carry):
            self.values.append(float(self._carry.max()))
            self._carry = self._carry[:0]
        return self.values


class Normaliser:
    """Pass 2 on mono blocks: levelling (when planned), gain, true-peak limiter, then the
    meter and peaks of the result.

    ``levelling`` defaults to what ``plan_gain`` attached to ``gain_db`` (a
    ``PlannedGain``), so a chain built from the planned gain always levels as planned.
    """

    def __init__(
        self,
        rate: int,
        gain_db: float,
        ceiling_db: float,
        per_peak: int,
        *,
        levelling: Levelling | None = None,
    ) -> None:
        self._gain = np.float32(db_to_gain(gain_db))
        levelling = levelling or getattr(gain_db, "levelling", None)
        self.levelling = levelling  # for the record
        self._leveller = Leveller(levelling) if levelling is not None else None
        self._limiter = TruePeakLimiter(rate, ceiling_db)
        self._peaks = PeakBuckets(per_peak)
        self.meter = LoudnessMeter(rate)
        self.samples_in = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        self.samples_in += len(x)
        if self._leveller is not None:
            x = self._leveller.process(x)
        return self._measure(self._limiter.process(x * self._gain))

    def flush(self) -> np.ndarray:
        return self._measure(self._limiter.flush())

    def _measure(self, y: np.ndarray) -> np.ndarray:
        if len(y):
            self.meter.add(y)
            self._peaks.add(y)
        return y

    def peaks(self) -> list[float]:
        return self._peaks.finish()

    @property
    def limited_share(self) -> float:
        return self._limiter.reduced / max(self.samples_in, 1)
