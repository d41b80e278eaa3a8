"""Removing a passage from the audio itself (#16 item 4): a tone or digital silence in its place.

Two kinds of file are rewritten, each streamed block by block:

- a listening copy (MP3, Opus, AAC): decoded as the renditions are made (mono at
  ``audio.RATE``), the span replaced, encoded again with the very settings the renditions
  use (``radio.media.renditions``). Outside the span it is a second generation of the same
  codec at the same rate: not bit-identical, but close (tests/test_jobs_redact.py measures).
  Patching the stream in place is no option: MP3's bit reservoir and AAC's and Opus's
  overlapping frames carry the passage into the packets around it.
- the original: decoded at its own rate and channels, the span replaced, written as FLAC
  (lossless), 16-bit for 16-bit (and lossy) sources, 24-bit in 32 for deeper ones.

The tone is 1 kHz at -20 dBFS (a broadcaster's "bleep", so listeners hear that something
was cut, not a pause), faded in and out over 10 ms so it starts and stops without a click.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from radio.i18n import _
from radio.media.audio import PART_SUFFIX, RATE, Encoder, commit_part, iter_mono, probe
from radio.media.errors import MediaError
from radio.media.limiter import PeakBuckets
from radio.media.renditions import _KINDS, MAX_PEAKS, PEAKS_PER_SECOND
from radio.media.store import fsync_path

logger = logging.getLogger(__name__)

TONE_HZ = 1000.0
TONE_DBFS = -20.0
RAMP_SECONDS = 0.010
_BLOCK = 65_536


class Sound(StrEnum):
    TONE = "tone"
    SILENCE = "silence"


class RedactionAudioError(MediaError):
    """A file could not be rewritten without the passage."""


@dataclass(frozen=True)
class Span:
    """The passage in seconds, [start, end)."""

    start: float
    end: float

    def samples(self, rate: int) -> tuple[int, int]:
        return round(self.start * rate), round(self.end * rate)


def replacement(n: int, first: int, rate: int, sound: Sound, length: int) -> np.ndarray:
    """``n`` samples (float32) of what stands in for the passage, from sample ``first`` of
    it, the passage being ``length`` samples long: the faded tone, or zeros."""
    if sound == Sound.SILENCE:
        return np.zeros(n, np.float32)
    index = np.arange(first, first + n, dtype=np.float64)
    tone = 10.0 ** (TONE_DBFS / 20.0) * np.sin(2.0 * np.pi * TONE_HZ * index / rate)
    ramp = max(int(RAMP_SECONDS * rate), 1)
    fade = np.clip(np.minimum(index + 0.5, length - index - 0.5) / ramp, 0.0, 1.0)
    fade = 0.5 - 0.5 * np.cos(np.pi * fade)  # raised cosine
    return (tone * fade).astype(np.float32)


def replace_span(
    x: np.ndarray, offset: int, bounds: tuple[int, int], rate: int, sound: Sound
) -> np.ndarray:
    """Block ``x`` (samples first; mono, or samples x channels), starting at sample
    ``offset`` of the file, with the samples inside ``bounds`` replaced."""
    a, b = max(bounds[0] - offset, 0), min(bounds[1] - offset, len(x))
    if a >= b:
        return x
    y = np.array(x, copy=True)
    fill = replacement(b - a, offset + a - bounds[0], rate, sound, bounds[1] - bounds[0])
    if y.dtype.kind in "iu":  # integer PCM: scale to its full range
        fill = np.round(fill * np.iinfo(y.dtype).max).astype(y.dtype)
    y[a:b] = fill[:, None] if y.ndim == 2 else fill
    return y


def redact_rendition(
    path: Path, dest: Path, kind: str, bitrate: int, span: Span, sound: Sound, samples: int
) -> list[float]:
    """Write ``dest`` (its final name; written as ``dest.part`` then renamed): the ``kind``
    copy at ``path`` without the passage, at most ``samples`` long (a second generation
    must not grow by the codec's padding). Returns the waveform peaks of what was encoded
    (as ``render`` makes them)."""
    settings = next((k for k in _KINDS if k.name == kind), None)
    if settings is None:
        raise RedactionAudioError(
            _("{name} is a kind of copy the archive doesn't make ({kind}).").format(
                name=path.name, kind=kind
            )
        )
    part = dest.with_name(dest.name + PART_SUFFIX)
    bounds = span.samples(RATE)
    peaks = PeakBuckets(max(RATE // PEAKS_PER_SECOND, -(-samples // MAX_PEAKS)))
    encoder = Encoder(
        part,
        settings.codec,
        settings.muxer,
        bitrate,
        muxer_options=settings.muxer_options,
        **settings.options,
    )
    try:
        offset = 0
        for x in iter_mono(path, rate=RATE):
            x = replace_span(x[: max(samples - offset, 0)], offset, bounds, RATE, Sound(sound))
            encoder.add(x)
            peaks.add(x)
            offset += len(x)
        encoder.finish()
    except (av.FFmpegError, OSError) as e:
        part.unlink(missing_ok=True)
        raise RedactionAudioError(
            _("Could not write {name} again: {problem}").format(name=dest.name, problem=e)
        ) from e
    finally:
        encoder.close()
    commit_part(part)
    return peaks.finish()


def redact_original(src: Path, dest: Path, span: Span, sound: Sound) -> None:
    """Write ``dest`` (FLAC, atomically by way of ``dest.part``): the original at ``src``,
    at its own rate and channels, without the passage."""
    part = dest.with_name(dest.name + PART_SUFFIX)
    info = probe(src)
    fmt = "s16" if _bits(src) <= 16 else "s32"
    try:
        with av.open(str(part), "w", format="flac") as out:
            stream = out.add_stream("flac", rate=info.sample_rate)
            stream.layout = _layout(info.channels)
            stream.format = fmt
            pts = 0
            for block in _decode_pcm(src, fmt, info.sample_rate, info.channels):
                block = replace_span(
                    block, pts, span.samples(info.sample_rate), info.sample_rate, sound
                )
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(block).reshape(1, -1), format=fmt, layout=stream.layout
                )
                frame.sample_rate, frame.pts = info.sample_rate, pts
                frame.time_base = Fraction(1, info.sample_rate)
                pts += len(block)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        fsync_path(part)
    except (av.FFmpegError, OSError) as e:
        part.unlink(missing_ok=True)
        raise RedactionAudioError(
            _("Could not write the original again without the passage: {problem}").format(problem=e)
        ) from e
    commit_part(part)


def _bits(src: Path) -> int:
    """Bits per sample the original carries (lossy and float sources count as 16)."""
    with av.open(str(src), metadata_errors="ignore") as container:
        ctx = container.streams.audio[0].codec_context
        name = ctx.format.name if ctx.format else ""
        raw = getattr(ctx, "bits_per_raw_sample", 0) or 0
        return 24 if name.startswith("s32") and raw != 16 else 16


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def _decode_pcm(src: Path, fmt: str, rate: int, channels: int) -> Iterator[np.ndarray]:
    """``src`` decoded as packed integer PCM, (samples, channels) blocks."""
    with av.open(str(src), metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(fmt, _layout(channels), rate, frame_size=_BLOCK)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1, channels)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1, channels)
