"""Short clips to share: ``radio clip EPISODE --from 12:30 --to 13:45`` and the episode page's
voice notes (``/episodes/<guid>/clip.opus``).

Only the range is decoded (PyAV seeks), numpy fades its two ends, and PyAV encodes the
result, so a long recording is never loaded whole and no system ffmpeg is needed (pydub,
which looked for one and warned on import, is no longer used).

A voice note (``VOICE_NOTE``, any ``.opus`` clip) is what messaging apps play inline as a
voice message: Ogg Opus, mono, 48 kHz, 11 kbps in Opus's speech (VoIP) mode, under
100 KB a minute, with short fades so it neither clicks in nor stops dead.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from radio.media.audio import (
    PART_SUFFIX,
    AudioError,
    Encoder,
    _audio_stream,
    _decode,
    _open,
    probe,
)
from radio.media.store import fsync_path

logger = logging.getLogger(__name__)

MAX_CLIP_SECONDS = 600.0  # the command line's limit
MAX_VOICE_NOTE_SECONDS = 120.0  # the web's: a moment, not a programme


@dataclass(frozen=True)
class ClipFormat:
    codec: str
    muxer: str
    bitrate: int  # per channel; 0 for PCM
    fade: float  # seconds faded in at the start and out at the end
    channels: int | None = None  # None: the source's, at most two
    rate: int | None = None  # None: the source's, where the codec takes it
    options: Mapping[str, str] = field(default_factory=dict)


# Opus's VoIP mode tunes the encoder for speech. 11 kbps, not 12: Ogg's pages and Opus's
# VBR add 5-8% (12 kbps made 95 KB a minute of the test speech, 11 kbps makes 87).
VOICE_NOTE = ClipFormat(
    "libopus", "ogg", 11_000, fade=0.2, channels=1, rate=48_000, options={"application": "voip"}
)
_CLIP_FORMATS = {
    ".mp3": ClipFormat("libmp3lame", "mp3", 64_000, fade=0.5),
    ".opus": VOICE_NOTE,
    ".ogg": ClipFormat("libopus", "ogg", 32_000, fade=0.5),  # Opus at music quality
    ".m4a": ClipFormat("aac", "ipod", 64_000, fade=0.5),
    ".wav": ClipFormat("pcm_s16le", "wav", 0, fade=0.5),
}
SUFFIXES = tuple(_CLIP_FORMATS)


def check_range(start: float, end: float, max_seconds: float = MAX_CLIP_SECONDS) -> None:
    """Refuse a range that is empty, backwards, negative or longer than ``max_seconds``."""
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise AudioError(
            f"the clip range {start:g}-{end:g} s is empty; give a start before the end, "
            "e.g. --from 12:30 --to 13:45."
        )
    if end - start > max_seconds + 1e-6:
        limit = f"{max_seconds / 60:g} minutes" if max_seconds >= 60 else f"{max_seconds:g} s"
        raise AudioError(
            f"a clip can be at most {limit}; {start:g}-{end:g} s is "
            f"{(end - start) / 60:.1f} minutes. Choose a shorter range."
        )


def _clip_range(
    src: Path, duration: float, start: float, end: float, max_seconds: float
) -> tuple[float, float]:
    check_range(start, end, max_seconds)
    if start >= duration:
        raise AudioError(
            f"the clip starts at {start:g} s but {src.name} lasts only {duration:.1f} s; "
            "choose a range inside the recording."
        )
    return start, min(end, duration)  # a range running past the end stops at the end


def _decode_range(src: Path, start: float, end: float, rate: int, channels: int) -> np.ndarray:
    """Decode only [start, end) of ``src`` (seeking) as s16 PCM, shape (samples, channels)."""
    with _open(src) as container:
        stream = _audio_stream(container, src)
        resampler = av.AudioResampler("s16", "stereo" if channels == 2 else "mono", rate)
        offset = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        with suppress(av.FFmpegError):  # unseekable: decode from the top instead
            container.seek(int((offset + start) / stream.time_base), stream=stream)
        pcm = np.zeros((round((end - start) * rate), channels), np.int16)
        at = None  # where the next decoded sample goes in ``pcm`` (negative: before start)
        for frame in itertools.chain(_decode(container, stream, src), [None]):
            if at is None and frame is not None:  # the seek lands at or before ``start``
                first = float(frame.time) - offset if frame.time is not None else 0.0
                at = -max(0, round((start - first) * rate))
            for out in resampler.resample(frame):
                got = out.to_ndarray().reshape(-1, channels)
                lo, hi = max(at, 0), min(at + len(got), len(pcm))
                if hi > lo:
                    pcm[lo:hi] = got[lo - at : hi - at]
                at += len(got)
            if at is not None and at >= len(pcm):
                break
    return pcm[: max(at or 0, 0)]


def fade_ends(pcm: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    """Fade both ends of int16 ``pcm`` (samples, channels) in place with raised-cosine
    ramps, which start and end without a corner, so neither end clicks."""
    n = min(len(pcm) // 2, int(rate * seconds))
    if n == 0:
        return pcm
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n))[:, None]
    pcm[:n] = np.round(pcm[:n] * ramp).astype(np.int16)
    pcm[len(pcm) - n :] = np.round(pcm[len(pcm) - n :] * ramp[::-1]).astype(np.int16)
    return pcm


def _encode_pcm(pcm: np.ndarray, rate: int, dest: Path, fmt: ClipFormat) -> None:
    """Encode to a name of its own beside ``dest``, then rename it into place: two requests
    making the same clip at once each write their own file, and the last rename wins."""
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}{PART_SUFFIX}")
    layout = "stereo" if pcm.shape[1] == 2 else "mono"
    bitrate = fmt.bitrate * pcm.shape[1]
    encoder = Encoder(part, fmt.codec, fmt.muxer, bitrate, rate, layout, **fmt.options)
    try:
        for i in range(0, len(pcm), rate):  # a second at a time
            encoder.add(pcm[i : i + rate])
        encoder.finish()
        os.replace(part, dest)
        with suppress(OSError):  # some filesystems can't fsync a directory
            fsync_path(dest.parent)
    finally:  # after a failure
        encoder.close()
        part.unlink(missing_ok=True)


def _output_rate(source_rate: int, fmt: ClipFormat) -> int:
    rate = fmt.rate or source_rate
    rates = av.Codec(fmt.codec, "w").audio_rates
    if rates and rate not in rates:  # e.g. Opus takes 48 kHz, not 44.1
        rate = 48_000 if 48_000 in rates else max(rates)
    return rate


def _make(
    src: Path, dest: Path, start: float, end: float, fmt: ClipFormat, max_seconds: float
) -> Path:
    info = probe(src)
    start, end = _clip_range(src, info.duration, start, end, max_seconds)
    rate = _output_rate(info.sample_rate, fmt)
    channels = fmt.channels or min(info.channels or 2, 2)
    pcm = fade_ends(_decode_range(src, start, end, rate, channels), rate, fmt.fade)
    if not len(pcm):
        raise AudioError(f"nothing in {src.name} decodes at {start:g}-{end:g} s.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    _encode_pcm(pcm, rate, dest, fmt)
    logger.info("clipped %s %.2f-%.2f s to %s", src.name, start, end, dest)
    return dest


def make_clip(
    src: Path, dest: Path, start: float, end: float, *, max_seconds: float = MAX_CLIP_SECONDS
) -> Path:
    """Cut [start, end) seconds of ``src`` to ``dest`` with fades; the format follows its
    suffix, and ``.opus`` makes a voice note. At most ``max_seconds`` long."""
    src, dest = Path(src), Path(dest)
    fmt = _CLIP_FORMATS.get(dest.suffix.lower())
    if fmt is None:
        raise AudioError(
            f"can't write a clip as {dest.name}; name it .opus (a voice note), .mp3, .ogg, "
            ".m4a or .wav."
        )
    return _make(src, dest, start, end, fmt, max_seconds)


def make_voice_note(
    src: Path, dest: Path, start: float, end: float, *, max_seconds: float = MAX_VOICE_NOTE_SECONDS
) -> Path:
    """A voice note (``VOICE_NOTE``) of [start, end) seconds of ``src``, whatever ``dest``
    is called; at most ``max_seconds`` (two minutes unless told)."""
    return _make(Path(src), Path(dest), start, end, VOICE_NOTE, max_seconds)
