"""PyAV streaming audio: probe, loudness, renditions, peaks; pydub for clips.

Everything decodes in blocks of a few seconds, so a three-hour show never sits in memory
whole, and PyAV's wheel carries FFmpeg, so no system ffmpeg is needed. The signal
maths (meter, limiter) lives in ``radio.loudness``.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

with warnings.catch_warnings():  # pydub warns when no system ffmpeg: we never let it run one
    warnings.filterwarnings("ignore", "Couldn't find ffmpeg", RuntimeWarning)

from radio.loudness import LoudnessMeter, Normaliser, plan_gain
from radio.store import fsync_path

logger = logging.getLogger(__name__)

# Processing and rendition rate. 24 kHz is LAME's own pick for 48 kbps mono, Opus at
# 24 kbps codes no more than 12 kHz of bandwidth anyway, and one resample feeds both.
RATE = 24_000
BLOCK = 65_536  # samples per decoded block (2.7 s): Python's per-block cost vanishes
# At 48/24 kbps the encoders reshape peaks: decoded renditions overshoot the limited
# signal by up to ~1.5 dB on a few samples a minute (AES TD1008 advises this margin).
CODEC_HEADROOM_DB = 1.5
MP3_MIME = "audio/mpeg"
OPUS_MIME = "audio/ogg"  # RFC 7845's type for Ogg Opus files; what feed readers match on
PEAKS_PER_SECOND = 2
MAX_PEAKS = 4000
PART_SUFFIX = ".part"
_HEAD_SECONDS = 3.0  # check_decodes decodes this much at each end
_PROBE_PACKETS = 64  # packets tried before deciding nothing in a file decodes
_MAX_BAD_PACKETS = 100
# Demuxers that accept any bytes as "text-art video": such a guess means "not media".
_TEXT_DEMUXERS = {"bin", "xbin", "adf", "idf", "tty"}
# Raw streams whose container duration is only a bitrate guess unless a header says so.
_GUESSED_DURATION = {"mp3", "aac", "ac3", "eac3", "mp2", "dts"}


class AudioError(Exception):
    """Base. Message names the file and says what to do."""


class NotAudioError(AudioError):
    """Not decodable, not a media file, or empty."""


class NoAudioStreamError(AudioError):
    """A media file with no audio stream (a silent video, an image)."""


class TruncatedAudioError(AudioError):
    """Decoding fails part-way, or the audio stops before the file says it ends."""


@dataclass(frozen=True)
class Probe:
    duration: float
    format_name: str
    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float  # of the mono downmix the renditions are made from
    true_peak_dbtp: float


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
    after: Loudness
    peaks_path: Path
    duration: float


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    if not path.is_file():
        raise AudioError(f"{path} doesn't exist or isn't a file; check the path.")
    if path.stat().st_size == 0:
        raise NotAudioError(f"{path.name} is empty (0 bytes); copy or upload it again.")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise NotAudioError(
            f"{path.name} isn't an audio file we can read ({getattr(exc, 'strerror', exc)}); "
            "export it as WAV, FLAC, MP3, Ogg/Opus or M4A and try again."
        ) from exc
    try:
        yield container
    finally:
        container.close()


def _audio_stream(container: av.container.InputContainer, path: Path) -> av.AudioStream:
    if container.format.name in _TEXT_DEMUXERS or not container.streams:
        raise NotAudioError(
            f"{path.name} isn't a media file; export the recording as WAV, FLAC, MP3 or Ogg."
        )
    if not container.streams.audio:
        kinds = ", ".join(sorted({s.type for s in container.streams}))
        raise NoAudioStreamError(
            f"{path.name} has no sound in it (only {kinds}); export the audio track and "
            "upload that instead."
        )
    return container.streams.audio[0]


def _decode(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    path: Path,
    max_bad: int = _MAX_BAD_PACKETS,
) -> Iterator[av.AudioFrame]:
    """Decode one stream, stepping over a few damaged packets as players do."""
    bad = 0
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError as exc:
            bad += 1
            logger.debug("%s: skipped a damaged packet (%s)", path.name, exc)
            if bad > max_bad:
                raise TruncatedAudioError(
                    f"{path.name} is damaged: too many packets fail to decode; "
                    "export or copy it again from the recorder."
                ) from exc
        except av.FFmpegError as exc:  # e.g. a codec this FFmpeg build can't decode
            raise NotAudioError(
                f"{path.name} can't be decoded ({exc}); export it as WAV, FLAC or MP3."
            ) from exc


def _has_vbr_header(path: Path) -> bool:
    """True when an MP3 carries a Xing/Info/VBRI frame count, so its duration is exact."""
    with path.open("rb") as f:
        head = f.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:  # syncsafe tag size
            skip = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        f.seek(skip)
        frame = f.read(4096)
    return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))


def _stream_duration(
    container: av.container.InputContainer, stream: av.AudioStream, path: Path
) -> float | None:
    """The duration the container states, or None when it is only a guess."""
    name = container.format.name
    if name in _GUESSED_DURATION and not (name == "mp3" and _has_vbr_header(path)):
        return None
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _count_duration(path: Path) -> float:
    """Duration by reading every packet (and decoding only if packets carry no durations)."""
    with _open(path) as container:
        stream = _audio_stream(container, path)
        ticks = sum(p.duration or 0 for p in container.demux(stream) if p.size)
        if ticks and stream.time_base:
            return float(ticks * stream.time_base)
    return sum(len(block) for block in iter_mono(path)) / RATE


def probe(path: Path) -> Probe:
    """Open ``path``, check it holds decodable audio, and describe it."""
    path = Path(path)
    with _open(path) as container:
        stream = _audio_stream(container, path)
        first = next(_decode(container, stream, path, max_bad=_PROBE_PACKETS), None)
        if first is None:
            raise NotAudioError(
                f"{path.name} holds no audio that decodes; it may be damaged or not a "
                "recording. Export it again as WAV, FLAC or MP3."
            )
        ctx = stream.codec_context
        duration = _stream_duration(container, stream, path)
        info = Probe(
            duration=duration if duration is not None else -1.0,
            format_name=container.format.name,
            codec=ctx.codec.canonical_name,
            sample_rate=ctx.sample_rate or first.sample_rate,
            channels=ctx.channels or first.layout.nb_channels,
            bit_rate=ctx.bit_rate or container.bit_rate or None,
        )
    if duration is None:
        info = Probe(**{**info.__dict__, "duration": _count_duration(path)})
    return info


def _end_time(frames: Iterator[av.AudioFrame], limit: float | None) -> float | None:
    """Time at which the last of ``frames`` ends (stopping after ``limit`` seconds)."""
    end = start = None
    for frame in frames:
        t = float(frame.time) if frame.time is not None else (end or 0.0)
        start = t if start is None else start
        end = t + frame.samples / frame.sample_rate
        if limit is not None and end - start >= limit:
            break
    return end


def _wav_shortfall(path: Path) -> int:
    """Bytes a WAV's data chunk claims beyond the end of the file (FFmpeg just stops early).

    A recorder that died mid-take leaves 0 or 0xFFFFFFFF there; those are not claims.
    """
    with path.open("rb") as f:
        if f.read(12)[8:] != b"WAVE":
            return 0
        while len(header := f.read(8)) == 8:
            size = int.from_bytes(header[4:], "little")
            if header[:4] == b"data":
                left = path.stat().st_size - f.tell()
                return size - left if 0 < size < 0xFFFFFFFF else 0
            f.seek(size + (size & 1), 1)
    return 0


def check_decodes(path: Path, probe: Probe) -> None:
    """Decode the first seconds and the last seconds; raise if the file is damaged or cut."""
    path = Path(path)
    if probe.format_name == "wav" and _wav_shortfall(path) > 0:
        raise TruncatedAudioError(
            f"{path.name} seems cut off: its header promises more audio than the file holds. "
            "Copy or upload the complete file again."
        )
    with _open(path) as container:
        stream = _audio_stream(container, path)
        offset = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        expected = offset + probe.duration
        long_file = probe.duration > 3 * _HEAD_SECONDS
        try:
            end = _end_time(_decode(container, stream, path), _HEAD_SECONDS if long_file else None)
            if end is None:
                raise NotAudioError(f"{path.name} holds no audio that decodes; export it again.")
            if long_file:
                target = (expected - _HEAD_SECONDS) / stream.time_base
                container.seek(int(target), stream=stream, backward=True)
                end = _end_time(_decode(container, stream, path), None)
        except av.FFmpegError as exc:
            end = None
            logger.debug("%s: decoding near the end failed: %s", path.name, exc)
    slack = 0.5 + 0.002 * probe.duration  # container durations are exact to a frame or two
    if end is None or end < expected - slack:
        stops = f"about {end - offset:.1f} s" if end is not None else "an unknown point"
        raise TruncatedAudioError(
            f"{path.name} seems cut off: it says it lasts {probe.duration:.1f} s but the "
            f"audio stops at {stops}. Copy or upload the complete file again."
        )


def iter_mono(path: Path, rate: int = RATE, block: int = BLOCK) -> Iterator[np.ndarray]:
    """Decode ``path``'s first audio stream as mono float32 blocks at ``rate``."""
    path = Path(path)
    with _open(path) as container:
        stream = _audio_stream(container, path)
        resampler, shape = None, None
        for frame in _decode(container, stream, path):
            key = (frame.format.name, frame.layout.name, frame.sample_rate)
            if key != shape:  # a stream may change rate or layout mid-way (joined MP3s)
                if resampler is not None:
                    yield from _blocks(resampler.resample(None))
                resampler = av.AudioResampler("flt", "mono", rate, frame_size=block)
                shape = key
            yield from _blocks(resampler.resample(frame))
        if resampler is not None:
            yield from _blocks(resampler.resample(None))


def _blocks(frames: list[av.AudioFrame]) -> Iterator[np.ndarray]:
    for frame in frames:
        yield frame.to_ndarray().reshape(-1)


def _measure(path: Path, progress: Callable[[float], None] | None) -> LoudnessMeter:
    meter = LoudnessMeter(RATE)
    for x in iter_mono(path):
        meter.add(x)
        if progress:
            progress(meter.samples / RATE)
    return meter


def _loudness(meter: LoudnessMeter) -> Loudness:
    return Loudness(meter.integrated(), meter.true_peak_dbtp)


def measure_loudness(path: Path, progress: Callable[[float], None] | None = None) -> Loudness:
    """EBU R128 integrated loudness and true peak of the mono downmix, streaming."""
    return _loudness(_measure(Path(path), progress))


class _Encoder:
    """PCM blocks in (mono float32, or int16 shaped (samples, channels)), a file out.

    render's two encoders run on the calling thread: PyAV drops the GIL only for one
    codec frame at a time, so threads spent more time handing the GIL over than encoding.
    """

    def __init__(
        self,
        path: Path,
        codec: str,
        muxer: str,
        bitrate: int,
        rate: int = RATE,
        layout: str = "mono",
        **options: str,
    ) -> None:
        self.path, self._rate, self._layout, self._pts = path, rate, layout, 0
        self._out = av.open(str(path), "w", format=muxer)
        self._stream = self._out.add_stream(codec, rate=rate, layout=layout, options=options)
        if bitrate:
            self._stream.codec_context.bit_rate = bitrate

    def add(self, x: np.ndarray) -> None:
        if not len(x):
            return
        fmt = "flt" if x.dtype == np.float32 else "s16"
        data = np.ascontiguousarray(x).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout=self._layout)
        frame.sample_rate, frame.pts = self._rate, self._pts
        frame.time_base = Fraction(1, self._rate)
        self._pts += len(x)
        self._out.mux(self._stream.encode(frame))

    def finish(self) -> None:
        self._out.mux(self._stream.encode(None))
        self.close()
        fsync_path(self.path)

    def close(self) -> None:
        with suppress(av.FFmpegError, OSError):
            self._out.close()


def _commit(part: Path) -> Path:
    """Move a finished, fsync'ed ``x.part`` into place as ``x`` and make the rename durable."""
    final = part.with_name(part.name.removesuffix(PART_SUFFIX))
    os.replace(part, final)
    with suppress(OSError):  # some filesystems can't fsync a directory; the data is safe
        fsync_path(part.parent)
    return final


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
    return _commit(part)


def render(
    src: Path,
    out_dir: Path,
    *,
    target_lufs: float = -16.0,
    max_true_peak: float = -1.0,
    mp3_bitrate: int = 48000,
    opus_bitrate: int = 24000,
    progress: Callable[[float, float], None] | None = None,
) -> RenderResult:
    """Make the loudness-normalised MP3 and Ogg Opus renditions and the peaks of ``src``.

    Pass 1 measures the mono downmix; pass 2 applies the gain and a true-peak limiter and
    feeds both encoders from one decode. ``progress(done, total)`` counts seconds of audio
    processed, so ``total`` is twice the duration (two passes).
    """
    src, out_dir = Path(src), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out_dir)
    estimate = 2 * max(probe(src).duration, 0.0)
    meter = _measure(src, progress and (lambda done: progress(done, estimate)))
    before, samples, duration = _loudness(meter), meter.samples, meter.samples / RATE
    ceiling_db = max_true_peak - CODEC_HEADROOM_DB
    gain_db = plan_gain(meter, target_lufs, ceiling_db)  # 0 dB for digital silence
    del meter  # its 10 ms bins are no longer needed
    paths = [out_dir / f"audio.{kind}{PART_SUFFIX}" for kind in ("mp3", "opus")]
    encoders: list[_Encoder] = []
    try:
        encoders = [
            # LAME -q 2 ("-h"): finer noise shaping, and its decoded peaks overshoot the
            # limiter far less than at the default -q 3 (about 1.6x the encoding time)
            _Encoder(paths[0], "libmp3lame", "mp3", mp3_bitrate, compression_level="2"),
            _Encoder(paths[1], "libopus", "ogg", opus_bitrate),
        ]
        bucket = max(RATE // PEAKS_PER_SECOND, math.ceil(samples / MAX_PEAKS))
        chain = Normaliser(RATE, gain_db, ceiling_db, bucket)
        for x in itertools.chain(iter_mono(src), [None]):  # None: drain the look-ahead
            y = chain.process(x) if x is not None else chain.flush()
            for encoder in encoders:
                encoder.add(y)
            if progress and x is not None:
                progress(duration + chain.samples_in / RATE, 2 * duration)
        for encoder in encoders:
            encoder.finish()
        peaks_path = write_peaks(out_dir / "peaks.json", chain.peaks(), duration)
        mp3, opus = (_commit(p) for p in paths[:2])
    finally:  # after a failure: close and drop the partial files
        for encoder in encoders:
            encoder.close()
        for path in paths:
            path.unlink(missing_ok=True)
    after = Loudness(chain.meter.integrated(), chain.meter.true_peak_dbtp)
    logger.info(
        "%s: %.1f LUFS %.1f dBTP, gain %+.1f dB -> %.1f LUFS %.1f dBTP (limited %.1f%%)",
        *(src.name, before.integrated_lufs, before.true_peak_dbtp, gain_db),
        *(after.integrated_lufs, after.true_peak_dbtp, 100 * chain.limited_share),
    )
    if math.isfinite(before.integrated_lufs) and abs(after.integrated_lufs - target_lufs) > 1:
        logger.warning("%s: peaks far above its average level kept it off target", src.name)
    renditions = [
        Rendition("mp3", mp3, mp3.stat().st_size, MP3_MIME, mp3_bitrate, RATE, duration),
        Rendition("opus", opus, opus.stat().st_size, OPUS_MIME, opus_bitrate, 48_000, duration),
    ]
    return RenderResult(renditions, before, after, peaks_path, duration)
