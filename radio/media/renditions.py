"""The listener's audio: loudness-normalised MP3, Ogg Opus and AAC (M4A) renditions, and peaks.

MP3 plays everywhere (the feeds' main enclosure); Opus and AAC are the small "data saver"
copies: Opus is the better codec at 24 kbps, AAC in M4A is what iPhones and Apple's apps
play and every podcast app can take as an ordinary enclosure (#14).

Pass 1 measures the mono downmix; pass 2 applies the gain and a true-peak limiter and
feeds every encoder from one decode. Then each rendition is decoded as a listener's
player would and its true peak measured: a 48/24 kbps encoder reshapes the waveform,
and on a long show a few loud sibilants can come back above the ceiling even with the
limiter's headroom. A rendition that overshoots is encoded again with a short gain dip
at each such moment (a whole re-encode: MP3's and AAC's bit reservoirs and Opus's
inter-frame prediction rule out patching the stream in place). The same decode measures
its loudness: a rendition that lost level in its codec (AAC at 22 kbps does, a little) is
encoded again with that much made up after the limiter.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
from radio.media.loudness import LoudnessMeter, TruePeak, db_to_gain, gain_to_db, plan_gain
from radio.media.store import free_bytes, fsync_path, megabytes

logger = logging.getLogger(__name__)

# The limiter aims this far under the ceiling: at 48/24 kbps decoded renditions pass the
# limited signal by about 1 dB on a few samples a minute (AES TD1008 advises 1-2 dB).
CODEC_HEADROOM_DB = 1.5
REPAIR_MARGIN_DB = 0.5  # a dip goes this far past the measured excess
# A rendition whose first encode decodes further than this from the limited signal's
# loudness is encoded again trimmed by the difference (at most MAX_TRIM_DB): the AAC
# encoder at 22 kbps loses a little level on speech, more on harsh, clipped recordings
# (bench/renditions.py).
LOUDNESS_TOLERANCE_LU = 0.5
MAX_TRIM_DB = 3.0
MAX_REPAIRS = 3
_OVERSHOOT_GAP_S = 0.1  # overs closer than this are one moment
MP3_MIME = "audio/mpeg"
OPUS_MIME = "audio/ogg"  # RFC 7845's type for Ogg Opus files; what feed readers match on
AAC_MIME = "audio/mp4"  # RFC 4337; Apple's apps and browsers take it for .m4a
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
    sample_rate: int  # as a player decodes it: Opus always decodes at 48 kHz, AAC at 24 kHz
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


@dataclass(frozen=True, eq=False)  # compared and hashed as the constants below
class _Kind:
    name: str  # renditions.kind
    file: str  # its name in the episode's folder
    codec: str
    muxer: str
    mime: str
    decoded_rate: int
    options: dict[str, str]
    muxer_options: dict[str, str] = field(default_factory=dict)
    trim_db: float = 0.0  # first guess at the level the codec loses (see _hold_levels)


_KINDS = (
    # LAME -q 2 ("-h"): finer noise shaping, and its decoded peaks overshoot the limiter
    # far less than at the default -q 3 (about 1.6x the encoding time)
    _Kind("mp3", "audio.mp3", "libmp3lame", "mp3", MP3_MIME, RATE, {"compression_level": "2"}),
    _Kind("opus", "audio.opus", "libopus", "ogg", OPUS_MIME, 48_000, {}),
    # FFmpeg's own AAC-LC encoder (PyAV carries no other), mono at the processing rate.
    # Measured on speech at the same size (bench/renditions.py): 24 kHz beats 16, 22.05
    # and 48 kHz on PESQ and the "fast" coder beats the default "twoloop" on STOI and
    # PESQ. "ipod" is the M4A muxer; faststart puts the index (moov) before the audio,
    # so a player starts at once instead of fetching the file's end first.
    _Kind(
        "aac",
        "audio.m4a",
        "aac",
        "ipod",
        AAC_MIME,
        RATE,
        {"aac_coder": "fast"},
        {"movflags": "+faststart"},
        0.5,  # it decodes about 0.5 LU quieter than it was given on the bench's speech
    ),
)
# The kinds render makes, in the order it makes them.
KINDS = tuple(k.name for k in _KINDS)


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
    return inspect_rendition(path, ceiling_db)[0]


def inspect_rendition(path: Path, ceiling_db: float) -> tuple[list[Overshoot], float]:
    """``path`` decoded at its own rate, once: where its true peak passes ``ceiling_db``
    (``find_overshoots``) and its integrated loudness (LUFS)."""
    rate = probe(path).sample_rate
    detector, ceiling = TruePeak(), 10.0 ** (ceiling_db / 20.0)
    meter = LoudnessMeter(rate)
    found: list[Overshoot] = []
    start = 0
    for x in iter_mono(path, rate=rate):
        meter.add(x)
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
    return found, meter.integrated()


@dataclass
class _Target:
    """One rendition being made: where, how many bits, and what is done after the limiter."""

    part: Path
    bitrate: int
    dips: GainDips
    trim_db: float  # level made up after the limiter for what the codec loses


def _encode(
    src: Path,
    targets: dict[_Kind, _Target],
    chain: Normaliser,
    on_block: Callable[[Normaliser], None] | None = None,
) -> None:
    """One pass over ``src``: ``chain`` (gain and limiter), then each target's trim, dips
    and encoder."""
    encoders: dict[_Kind, Encoder] = {}
    trims = {k: np.float32(db_to_gain(t.trim_db)) for k, t in targets.items()}
    written = 0
    try:
        for kind, t in targets.items():
            encoders[kind] = Encoder(
                t.part,
                kind.codec,
                kind.muxer,
                t.bitrate,
                muxer_options=kind.muxer_options,
                **kind.options,
            )
        for x in itertools.chain(iter_mono(src), [None]):  # None: drain the look-ahead
            y = chain.process(x) if x is not None else chain.flush()
            for kind, encoder in encoders.items():
                trimmed = y * trims[kind] if trims[kind] != 1 else y
                encoder.add(targets[kind].dips.apply(trimmed, written))
            written += len(y)
            if on_block and x is not None:
                on_block(chain)
        for encoder in encoders.values():
            encoder.finish()
    finally:
        for encoder in encoders.values():
            encoder.close()
    _require_room(next(iter(targets.values())).part)


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
    aac_bitrate: int = 22000,
    codec_headroom_db: float = CODEC_HEADROOM_DB,
    progress: Callable[[float, float], None] | None = None,
    max_seconds: float | None = None,
) -> RenderResult:
    """Make the loudness-normalised MP3, Ogg Opus and AAC renditions and the peaks of ``src``.

    ``max_seconds`` holds on what is decoded in the first pass, whatever the header says
    (an AudioError past it), so nothing longer is ever encoded.

    ``progress(done, total)`` counts seconds of audio processed, so ``total`` is twice
    the duration (two passes); a repair encode, when one is needed, is not counted.
    """
    src, out_dir = Path(src), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out_dir)
    ceiling_db = max_true_peak - codec_headroom_db
    before, samples, gain_db = _first_pass(src, target_lufs, ceiling_db, progress, max_seconds)
    duration = samples / RATE
    bucket = max(RATE // PEAKS_PER_SECOND, math.ceil(samples / MAX_PEAKS))
    bitrates = {"mp3": mp3_bitrate, "opus": opus_bitrate, "aac": aac_bitrate}
    targets = {
        k: _Target(out_dir / f"{k.file}{PART_SUFFIX}", bitrates[k.name], GainDips(RATE), k.trim_db)
        for k in _KINDS
    }
    try:
        chain = Normaliser(RATE, gain_db, ceiling_db, bucket)
        _encode(
            src,
            targets,
            chain,
            progress and (lambda c: progress(duration + c.samples_in / RATE, 2 * duration)),
        )
        level = chain.meter.integrated()
        repairs = _hold_levels(src, targets, gain_db, ceiling_db, max_true_peak, level)
        peaks_path = write_peaks(out_dir / "peaks.json", chain.peaks(), duration)
        made = {k: commit_part(t.part) for k, t in targets.items()}
    finally:  # after a failure: drop the partial files
        for t in targets.values():
            t.part.unlink(missing_ok=True)
    after = Loudness(level, chain.meter.true_peak_dbtp)
    _log_levels(src, before, after, gain_db, chain.limited_share, target_lufs)
    renditions = [
        Rendition(
            k.name, path, path.stat().st_size, k.mime, bitrates[k.name], k.decoded_rate, duration
        )
        for k, path in made.items()
    ]
    return RenderResult(renditions, before, after, peaks_path, duration, repairs)


def _first_pass(
    src: Path,
    target_lufs: float,
    ceiling_db: float,
    progress: Callable[[float, float], None] | None,
    max_seconds: float | None,
) -> tuple[Loudness, int, float]:
    """Measure ``src`` and plan its gain: (loudness before, samples, planned gain)."""
    estimate = 2 * max(probe(src).duration, 0.0)
    meter = measure_meter(
        src, progress and (lambda done: progress(done, estimate)), max_seconds=max_seconds
    )
    before = Loudness(meter.integrated(), meter.true_peak_dbtp)
    # 0 dB for digital silence; the meter's 10 ms bins go with it once planned
    return before, meter.samples, plan_gain(meter, target_lufs, ceiling_db)


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


def _hold_levels(
    src: Path,
    targets: dict[_Kind, _Target],
    gain_db: float,
    ceiling_db: float,
    max_true_peak: float,
    level_lufs: float,
) -> int:
    """Decode each rendition; encode again those whose true peak is too high (with dips
    there) or, the first time, whose loudness strays from ``level_lufs``, the limited
    signal's (trimmed: a trim makes up what the codec lost, never what dips took).

    Returns how many repair encodes ran. Dips only lower the gain, so a repair cannot
    make a new over in the limited signal; the codec's own behaviour elsewhere barely
    changes, so one round nearly always suffices. A trim can make new overs, which the
    next round dips.
    """
    repairs = 0
    while True:
        level = level_lufs if repairs == 0 else None  # later, dips have taken some away
        redo = [k for k, t in targets.items() if _plan_repair(src, k, t, max_true_peak, level)]
        if not redo:
            return repairs
        if repairs == MAX_REPAIRS:
            for kind in redo:
                logger.warning("%s: %s still off after %d repairs", src.name, kind.name, repairs)
            return repairs
        _encode(src, {k: targets[k] for k in redo}, Normaliser(RATE, gain_db, ceiling_db, RATE))
        repairs += 1


def _plan_repair(
    src: Path, kind: _Kind, target: _Target, max_true_peak: float, level_lufs: float | None
) -> bool:
    """Whether ``target`` needs encoding again, with the dips and trim that will fix it
    (a trim only when ``level_lufs``, the loudness it should have, is given)."""
    found, lufs = inspect_rendition(target.part, max_true_peak)
    known = level_lufs is not None and math.isfinite(level_lufs) and math.isfinite(lufs)
    off = level_lufs - lufs if known else 0.0
    retrim = abs(off) > LOUDNESS_TOLERANCE_LU
    if retrim:
        target.trim_db = min(max(target.trim_db + off, -MAX_TRIM_DB), MAX_TRIM_DB)
        logger.info(
            "%s: %s decodes at %.1f LUFS, %+.1f LU from the signal; trim %+.1f dB, encoding "
            "it again",
            *(src.name, kind.name, lufs, -off, target.trim_db),
        )
    if found:
        worst = max(o.true_peak_dbtp for o in found)
        logger.info(
            "%s: %s passes %.1f dBTP at %d moments (worst %.2f dBTP); encoding it again",
            *(src.name, kind.name, max_true_peak, len(found), worst),
        )
        for over in found:
            excess = over.true_peak_dbtp - max_true_peak
            target.dips.add(over.start, over.end, excess + REPAIR_MARGIN_DB)
    return bool(found) or retrim
