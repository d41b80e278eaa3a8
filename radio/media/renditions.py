"""The listener's audio: loudness-normalised MP3 and Ogg Opus renditions, and peaks.

Pass 1 measures the mono downmix; pass 2 applies the gain and a true-peak limiter and
feeds both encoders from one decode. Then each rendition is decoded as a listener's
player would and its true peak measured: a 48/24 kbps encoder reshapes the waveform,
and on a long show a few loud sibilants can come back above the ceiling even with the
limiter's headroom. A rendition that overshoots is encoded again with a short gain dip
at each such moment (a whole re-encode: MP3's bit reservoir and Opus's inter-frame
prediction rule out patching the stream in place).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radio.media.audio import (
    PART_SUFFIX,
    RATE,
    Encoder,
    Loudness,
    commit_part,
    iter_mono,
    measure_meter,
    probe,
)
from radio.media.errors import DiskFull
from radio.media.limiter import GainDips, Normaliser
from radio.media.loudness import TruePeak, gain_to_db, plan_gain
from radio.media.store import free_bytes, fsync_path, megabytes

logger = logging.getLogger(__name__)

# The limiter aims this far under the ceiling: at 48/24 kbps decoded renditions pass the
# limited signal by about 1 dB on a few samples a minute (AES TD1008 advises 1-2 dB).
CODEC_HEADROOM_DB = 1.5
REPAIR_MARGIN_DB = 0.5  # a dip goes this far past the measured excess
MAX_REPAIRS = 3
_OVERSHOOT_GAP_S = 0.1  # overs closer than this are one moment
MP3_MIME = "audio/mpeg"
OPUS_MIME = "audio/ogg"  # RFC 7845's type for Ogg Opus files; what feed readers match on
PEAKS_PER_SECOND = 2
MAX_PEAKS = 4000
# PyAV reports a write error at an encoder's last flush only on close, which
# ``Encoder.finish`` passes over: all that shows is a disk with no room left. With less
# than this free after encoding, a copy may be cut short: the disk is (nearly) full.
MIN_ROOM_AFTER_ENCODING = 1024 * 1024


@dataclass(frozen=True)
class Rendition:
    kind: str
    path: Path
    bytes: int
    mime: str
    bitrate: int
    sample_rate: int  # as a player decodes it: Opus always decodes at 48 kHz
    duration: float


@dataclass(frozen=True)
class RenderResult:
    renditions: list[Rendition]
    before: Loudness
    after: Loudness  # of the limited signal the encoders were given
    peaks_path: Path
    duration: float
    repairs: int = 0  # extra encodes needed to hold the true peak of a rendition


@dataclass(frozen=True)
class Overshoot:
    start: float  # seconds into the decoded rendition
    end: float
    true_peak_dbtp: float


@dataclass(frozen=True, eq=False)  # compared and hashed as the two constants below
class _Kind:
    name: str
    codec: str
    muxer: str
    mime: str
    decoded_rate: int
    options: dict[str, str]


_KINDS = (
    # LAME -q 2 ("-h"): finer noise shaping, and its decoded peaks overshoot the limiter
    # far less than at the default -q 3 (about 1.6x the encoding time)
    _Kind("mp3", "libmp3lame", "mp3", MP3_MIME, RATE, {"compression_level": "2"}),
    _Kind("opus", "libopus", "ogg", OPUS_MIME, 48_000, {}),
)


def remove_stale_parts(out_dir: Path) -> None:
    """Delete ``*.part`` files a crashed render left behind."""
    for part in Path(out_dir).glob(f"*{PART_SUFFIX}"):
        logger.info("removing unfinished %s", part)
        part.unlink(missing_ok=True)


def write_peaks(path: Path, peaks: Sequence[float], duration: float) -> Path:
    """Write the waveform overview ``{"duration", "seconds_per_peak", "peaks"}`` atomically."""
    path = Path(path)
    part = path.with_name(path.name + PART_SUFFIX)
    doc = {
        "duration": round(duration, 3),
        "seconds_per_peak": round(duration / len(peaks), 6) if peaks else 0.0,
        "peaks": [round(min(max(float(p), 0.0), 1.0), 3) for p in peaks],
    }
    part.write_text(json.dumps(doc, separators=(",", ":")))
    fsync_path(part)
    return commit_part(part)


def find_overshoots(path: Path, ceiling_db: float) -> list[Overshoot]:
    """Moments where ``path``, decoded at its own rate, has a true peak above ``ceiling_db``."""
    rate = probe(path).sample_rate
    detector, ceiling = TruePeak(), 10.0 ** (ceiling_db / 20.0)
    found: list[Overshoot] = []
    start = 0
    for x in iter_mono(path, rate=rate):
        env = detector.envelope(x, ceiling)
        overs = np.flatnonzero(env > ceiling)
        if len(overs):
            # interpolated values lag their samples by the detector's delay
            times = (start + overs - detector.delay) / rate
            runs = np.split(
                np.arange(len(overs)), np.flatnonzero(np.diff(times) >= _OVERSHOOT_GAP_S) + 1
            )
            for run in runs:
                first, last = float(times[run[0]]), float(times[run[-1]])
                peak = gain_to_db(float(env[overs[run]].max()))
                if found and first - found[-1].end < _OVERSHOOT_GAP_S:  # across blocks
                    prev = found[-1]
                    found[-1] = Overshoot(prev.start, last, max(prev.true_peak_dbtp, peak))
                else:
                    found.append(Overshoot(first, last, peak))
        start += len(x)
    return found


def _encode(
    src: Path,
    targets: dict[_Kind, tuple[Path, int, GainDips]],
    chain: Normaliser,
    on_block: Callable[[Normaliser], None] | None = None,
) -> None:
    """One pass over ``src``: ``chain`` (gain and limiter), then each target's dips and encoder."""
    encoders: dict[_Kind, Encoder] = {}
    written = 0
    try:
        for kind, (path, bitrate, _) in targets.items():
            encoders[kind] = Encoder(path, kind.codec, kind.muxer, bitrate, **kind.options)
        for x in itertools.chain(iter_mono(src), [None]):  # None: drain the look-ahead
            y = chain.process(x) if x is not None else chain.flush()
            for kind, encoder in encoders.items():
                encoder.add(targets[kind][2].apply(y, written))
            written += len(y)
            if on_block and x is not None:
                on_block(chain)
        for encoder in encoders.values():
            encoder.finish()
    finally:
        for encoder in encoders.values():
            encoder.close()
    _require_room(next(iter(targets.values()))[0])


def _require_room(written: Path) -> None:
    free = free_bytes(written.parent)
    if free < MIN_ROOM_AFTER_ENCODING:
        raise DiskFull(
            f"the disk is full: {megabytes(free)} free after writing {written.name}, so it may "
            "be cut short."
        )


def render(
    src: Path,
    out_dir: Path,
    *,
    target_lufs: float = -16.0,
    max_true_peak: float = -1.0,
    mp3_bitrate: int = 48000,
    opus_bitrate: int = 24000,
    codec_headroom_db: float = CODEC_HEADROOM_DB,
    progress: Callable[[float, float], None] | None = None,
    max_seconds: float | None = None,
) -> RenderResult:
    """Make the loudness-normalised MP3 and Ogg Opus renditions and the peaks of ``src``.

    ``max_seconds`` holds on what is decoded in the first pass, whatever the header says
    (an AudioError past it), so nothing longer is ever encoded.

    ``progress(done, total)`` counts seconds of audio processed, so ``total`` is twice
    the duration (two passes); a repair encode, when one is needed, is not counted.
    """
    src, out_dir = Path(src), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out_dir)
    estimate = 2 * max(probe(src).duration, 0.0)
    meter = measure_meter(
        src, progress and (lambda done: progress(done, estimate)), max_seconds=max_seconds
    )
    before = Loudness(meter.integrated(), meter.true_peak_dbtp)
    samples, duration = meter.samples, meter.samples / RATE
    ceiling_db = max_true_peak - codec_headroom_db
    gain_db = plan_gain(meter, target_lufs, ceiling_db)  # 0 dB for digital silence
    del meter  # its 10 ms bins are no longer needed
    bucket = max(RATE // PEAKS_PER_SECOND, math.ceil(samples / MAX_PEAKS))
    bitrates = {"mp3": mp3_bitrate, "opus": opus_bitrate}
    parts = {k: out_dir / f"audio.{k.name}{PART_SUFFIX}" for k in _KINDS}
    dips = {k: GainDips(RATE) for k in _KINDS}
    try:
        chain = Normaliser(RATE, gain_db, ceiling_db, bucket)
        _encode(
            src,
            {k: (parts[k], bitrates[k.name], dips[k]) for k in _KINDS},
            chain,
            progress and (lambda c: progress(duration + c.samples_in / RATE, 2 * duration)),
        )
        repairs = _hold_true_peak(src, parts, bitrates, dips, gain_db, ceiling_db, max_true_peak)
        peaks_path = write_peaks(out_dir / "peaks.json", chain.peaks(), duration)
        made = {k: commit_part(parts[k]) for k in _KINDS}
    finally:  # after a failure: drop the partial files
        for path in parts.values():
            path.unlink(missing_ok=True)
    after = Loudness(chain.meter.integrated(), chain.meter.true_peak_dbtp)
    _log_levels(src, before, after, gain_db, chain.limited_share, target_lufs)
    renditions = [
        Rendition(
            k.name, path, path.stat().st_size, k.mime, bitrates[k.name], k.decoded_rate, duration
        )
        for k, path in made.items()
    ]
    return RenderResult(renditions, before, after, peaks_path, duration, repairs)


def _log_levels(
    src: Path,
    before: Loudness,
    after: Loudness,
    gain_db: float,
    limited_share: float,
    target_lufs: float,
) -> None:
    logger.info(
        "%s: %.1f LUFS %.1f dBTP, gain %+.1f dB -> %.1f LUFS %.1f dBTP (limited %.1f%%)",
        *(src.name, before.integrated_lufs, before.true_peak_dbtp, gain_db),
        *(after.integrated_lufs, after.true_peak_dbtp, 100 * limited_share),
    )
    if math.isfinite(before.integrated_lufs) and abs(after.integrated_lufs - target_lufs) > 1:
        logger.warning("%s: peaks far above its average level kept it off target", src.name)


def _hold_true_peak(
    src: Path,
    parts: dict[_Kind, Path],
    bitrates: dict[str, int],
    dips: dict[_Kind, GainDips],
    gain_db: float,
    ceiling_db: float,
    max_true_peak: float,
) -> int:
    """Decode each rendition; encode again, with dips, those whose true peak is too high.

    Returns how many repair encodes ran. Dips only lower the gain, so a repair cannot
    make a new over in the limited signal; the codec's own behaviour elsewhere barely
    changes, so one round nearly always suffices.
    """
    repairs = 0
    while True:
        overs = {k: find_overshoots(parts[k], max_true_peak) for k in parts}
        overs = {k: found for k, found in overs.items() if found}
        if not overs:
            return repairs
        for kind, found in overs.items():
            worst = max(o.true_peak_dbtp for o in found)
            if repairs == MAX_REPAIRS:
                logger.warning(
                    "%s: %s true peak still %.2f dBTP after %d repairs",
                    src.name,
                    kind.name,
                    worst,
                    repairs,
                )
                continue
            logger.info(
                "%s: %s passes %.1f dBTP at %d moments (worst %.2f dBTP); encoding it again",
                src.name,
                kind.name,
                max_true_peak,
                len(found),
                worst,
            )
            for over in found:
                excess = over.true_peak_dbtp - max_true_peak
                dips[kind].add(over.start, over.end, excess + REPAIR_MARGIN_DB)
        if repairs == MAX_REPAIRS:
            return repairs
        targets = {k: (parts[k], bitrates[k.name], dips[k]) for k in overs}
        _encode(src, targets, Normaliser(RATE, gain_db, ceiling_db, RATE))
        repairs += 1
