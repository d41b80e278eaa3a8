"""Short clips to share on a messaging app: ``radio clip EPISODE --from 12:30 --to 13:45``.

Only the range is decoded (PyAV seeks), pydub fades its two ends, and PyAV encodes the
result, so a long recording is never loaded whole and no system ffmpeg is needed.
"""

from __future__ import annotations

import itertools
import logging
import math
from contextlib import suppress
from pathlib import Path

import av
import numpy as np
from pydub import AudioSegment

from radio.media.audio import (
    PART_SUFFIX,
    AudioError,
    Encoder,
    _audio_stream,
    _decode,
    _open,
    commit_part,
    probe,
)

logger = logging.getLogger(__name__)

MAX_CLIP_SECONDS = 600.0
_CLIP_FORMATS = {  # suffix: (encoder, muxer, bit rate per channel)
    ".mp3": ("libmp3lame", "mp3", 64_000),
    ".opus": ("libopus", "ogg", 32_000),
    ".ogg": ("libopus", "ogg", 32_000),
    ".m4a": ("aac", "ipod", 64_000),
    ".wav": ("pcm_s16le", "wav", 0),
}


def _clip_range(src: Path, duration: float, start: float, end: float) -> tuple[float, float]:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise AudioError(
            f"the clip range {start:g}-{end:g} s is empty; give a start before the end, "
            "e.g. --from 12:30 --to 13:45."
        )
    if end - start > MAX_CLIP_SECONDS:
        raise AudioError(
            f"a clip can be at most {MAX_CLIP_SECONDS / 60:g} minutes; "
            f"{start:g}-{end:g} s is {(end - start) / 60:.1f}. Choose a shorter range."
        )
    if start >= duration:
        raise AudioError(
            f"the clip starts at {start:g} s but {src.name} lasts only {duration:.1f} s; "
            "choose a range inside the recording."
        )
    return start, min(end, duration)  # a range running past the end stops at the end


def _decode_range(src: Path, start: float, end: float, rate: int) -> np.ndarray:
    """Decode only [start, end) of ``src`` (seeking) as s16 PCM, shape (samples, channels)."""
    with _open(src) as container:
        stream = _audio_stream(container, src)
        channels = min(stream.codec_context.channels or 2, 2)
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


def _fade(pcm: np.ndarray, rate: int, fade_ms: int) -> np.ndarray:
    """Fade the ends in place with pydub, which only ever sees the two short ends."""
    n = min(len(pcm) // 2, rate * fade_ms // 1000)
    if n == 0:
        return pcm
    for ends, shape in ((slice(0, n), "fade_in"), (slice(len(pcm) - n, len(pcm)), "fade_out")):
        part = AudioSegment(
            data=np.ascontiguousarray(pcm[ends]).tobytes(),
            sample_width=2,
            frame_rate=rate,
            channels=pcm.shape[1],
        )
        faded = getattr(part, shape)(len(part))
        pcm[ends] = np.frombuffer(faded.raw_data, np.int16).reshape(-1, pcm.shape[1])
    return pcm


def _encode_pcm(
    pcm: np.ndarray, rate: int, dest: Path, codec: str, muxer: str, bitrate: int
) -> None:
    part = dest.with_name(dest.name + PART_SUFFIX)
    layout = "stereo" if pcm.shape[1] == 2 else "mono"
    encoder = Encoder(part, codec, muxer, bitrate * pcm.shape[1], rate, layout)
    try:
        for i in range(0, len(pcm), rate):  # a second at a time
            encoder.add(pcm[i : i + rate])
        encoder.finish()
        commit_part(part)
    finally:  # after a failure
        encoder.close()
        part.unlink(missing_ok=True)


def make_clip(src: Path, dest: Path, start: float, end: float, fade: float = 0.5) -> Path:
    """Cut [start, end) seconds of ``src`` to ``dest`` with fades; the format follows its suffix.

    Only that range is decoded (PyAV seeks), pydub fades its ends, PyAV encodes it
    (pydub's own export would need a system ffmpeg). At most ``MAX_CLIP_SECONDS`` long.
    """
    src, dest = Path(src), Path(dest)
    if dest.suffix.lower() not in _CLIP_FORMATS:
        raise AudioError(
            f"can't write a clip as {dest.name}; name it .mp3, .opus, .ogg, .m4a or .wav."
        )
    codec, muxer, bitrate = _CLIP_FORMATS[dest.suffix.lower()]
    info = probe(src)
    start, end = _clip_range(src, info.duration, start, end)
    rate, rates = info.sample_rate, av.Codec(codec, "w").audio_rates
    if rates and rate not in rates:  # e.g. Opus takes 48 kHz, not 44.1
        rate = 48_000 if 48_000 in rates else max(rates)
    pcm = _fade(_decode_range(src, start, end, rate), rate, int(fade * 1000))
    dest.parent.mkdir(parents=True, exist_ok=True)
    _encode_pcm(pcm, rate, dest, codec, muxer, bitrate)
    logger.info("clipped %s %.2f-%.2f s to %s", src.name, start, end, dest)
    return dest
