"""PyAV streaming audio: probe, integrity checks, mono decode, loudness, encoder.

Everything decodes in blocks of a few seconds, so a three-hour show never sits in memory
whole, and PyAV's wheel carries FFmpeg, so no system ffmpeg is needed. The signal
maths (meter, limiter) lives in ``radio.media.loudness``, the renditions in
``radio.media.renditions`` and clips in ``radio.media.clips``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from radio.i18n import _
from radio.media import formats
from radio.media.errors import MediaError
from radio.media.loudness import LoudnessMeter
from radio.media.store import fsync_path

logger = logging.getLogger(__name__)

# Processing and rendition rate. 24 kHz is LAME's own pick for 48 kbps mono, Opus at
# 24 kbps codes no more than 12 kHz of bandwidth anyway, and one resample feeds both.
RATE = 24_000
BLOCK = 65_536  # samples per decoded block (2.7 s): Python's per-block cost vanishes
PART_SUFFIX = ".part"
_PROBE_PACKETS = 64  # packets tried before deciding nothing in a file decodes
_MAX_BAD_PACKETS = 100
# Raw streams whose container duration is only a bitrate guess unless a header says so.
_GUESSED_DURATION = {"mp3", "aac", "ac3", "eac3", "mp2", "dts"}


class AudioError(MediaError):
    """Base. Message names the file and says what to do."""


class NotAudioError(AudioError):
    """Not decodable, not a media file, or empty."""


class NoAudioStreamError(AudioError):
    """A media file with no audio stream (a silent video, an image)."""


class TruncatedAudioError(AudioError):
    """Decoding fails part-way, or the audio stops before the file says it ends."""


class LimitError(AudioError):
    """Decoded audio beyond what the archive takes: channels, rate (``formats``) or length."""


class TooLongError(LimitError):
    """Decoding ran past the length limit and stopped there: ``seconds`` decoded so far."""

    def __init__(self, name: str, seconds: float, limit: float, stated: float | None) -> None:
        super().__init__(formats.too_long(name, seconds, limit, stated))
        self.seconds, self.limit, self.stated = seconds, limit, stated


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


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    if not path.is_file():
        raise AudioError(
            _("{path} doesn't exist or isn't a file; check the path.").format(path=path)
        )
    if path.stat().st_size == 0:
        raise NotAudioError(
            _("{name} is empty (0 bytes); copy or upload it again.").format(name=path.name)
        )
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise NotAudioError(
            _(
                "{name} isn't an audio file we can read ({problem}); "
                "export it as WAV, FLAC, MP3, Ogg/Opus or M4A and try again."
            ).format(name=path.name, problem=getattr(exc, "strerror", exc))
        ) from exc
    try:
        yield container
    finally:
        container.close()


def _audio_stream(container: av.container.InputContainer, path: Path) -> av.AudioStream:
    """The first audio stream of a container the archive takes (``formats``), with sound."""
    if container.format.name not in formats.ACCEPTED_FORMATS or not container.streams:
        raise NotAudioError(
            _("{name} isn't a media file; export the recording as WAV, FLAC, MP3 or Ogg.").format(
                name=path.name
            )
        )
    if not container.streams.audio:
        kinds = ", ".join(sorted({s.type for s in container.streams}))
        raise NoAudioStreamError(
            _(
                "{name} has no sound in it (only {kinds}); export the audio track and "
                "upload that instead."
            ).format(name=path.name, kinds=kinds)
        )
    stream = container.streams.audio[0]
    if stream.codec_context.channels < 1:  # FFmpeg itself would only say "Invalid argument"
        raise NotAudioError(formats.frame_problem(path.name, 0, stream.codec_context.sample_rate))
    return stream


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
                    _(
                        "{name} is damaged: too many packets fail to decode; "
                        "export or copy it again from the recorder."
                    ).format(name=path.name)
                ) from exc
        except av.FFmpegError as exc:  # e.g. a codec this FFmpeg build can't decode
            raise NotAudioError(
                _("{name} can't be decoded ({problem}); export it as WAV, FLAC or MP3.").format(
                    name=path.name, problem=exc
                )
            ) from exc


def _stream_duration(
    container: av.container.InputContainer, stream: av.AudioStream, path: Path
) -> float | None:
    """The duration the container states, or None when it is only a guess."""
    name = container.format.name
    if name in _GUESSED_DURATION and not (name == "mp3" and formats.has_vbr_header(path)):
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
                _(
                    "{name} holds no audio that decodes; it may be damaged or not a "
                    "recording. Export it again as WAV, FLAC or MP3."
                ).format(name=path.name)
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


def _within_limits(
    frames: Iterator[av.AudioFrame], path: Path, max_seconds: float | None, stated: float | None
) -> Iterator[av.AudioFrame]:
    """``frames`` as decoded, each checked for its channels and rate (``formats``), stopping
    with ``TooLongError`` as soon as they add up to more than ``max_seconds`` and a margin."""
    seconds, limit = 0.0, None if max_seconds is None else max_seconds + formats.LENGTH_MARGIN_S
    for frame in frames:
        problem = formats.frame_problem(path.name, frame.layout.nb_channels, frame.sample_rate)
        if problem:
            raise LimitError(problem)
        seconds += frame.samples / frame.sample_rate
        if limit is not None and seconds > limit:
            raise TooLongError(path.name, seconds, limit - formats.LENGTH_MARGIN_S, stated)
        yield frame


def decoded_seconds(path: Path, max_seconds: float | None, stated: float | None = None) -> float:
    """How long ``path``'s audio is, decoded to its end or to ``max_seconds`` (plus a margin
    for encoder padding) and no further, whatever the header claims (``stated``)."""
    path = Path(path)
    with _open(path) as container:
        stream = _audio_stream(container, path)
        frames = _within_limits(_decode(container, stream, path), path, max_seconds, stated)
        return sum(frame.samples / frame.sample_rate for frame in frames)


def iter_mono(
    path: Path, rate: int = RATE, block: int = BLOCK, *, max_seconds: float | None = None
) -> Iterator[np.ndarray]:
    """Decode ``path``'s first audio stream as mono float32 blocks at ``rate``; every frame
    within the limits on channels and rate, and no more than ``max_seconds`` of it."""
    path = Path(path)
    with _open(path) as container:
        stream = _audio_stream(container, path)
        resampler, shape = None, None
        for frame in _within_limits(_decode(container, stream, path), path, max_seconds, None):
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


def measure_meter(
    path: Path, progress: Callable[[float], None] | None, *, max_seconds: float | None = None
) -> LoudnessMeter:
    """Pass 1 of a render: the meter, with the bins ``plan_gain`` needs, of the mono downmix
    (``TooLongError`` past ``max_seconds``, as ``iter_mono``)."""
    meter = LoudnessMeter(RATE, for_planning=True)
    for x in iter_mono(path, max_seconds=max_seconds):
        meter.add(x)
        if progress:
            progress(meter.samples / RATE)
    return meter


def _loudness(meter: LoudnessMeter) -> Loudness:
    return Loudness(meter.integrated(), meter.true_peak_dbtp)


def measure_loudness(path: Path, progress: Callable[[float], None] | None = None) -> Loudness:
    """EBU R128 integrated loudness and true peak of the mono downmix, streaming."""
    return _loudness(measure_meter(Path(path), progress))


class Encoder:
    """PCM blocks in (mono float32, or int16 shaped (samples, channels)), a file out.

    ``options`` go to the codec, ``muxer_options`` to the container (``movflags``).

    The renditions' encoders run on the calling thread: PyAV drops the GIL only for one
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
        muxer_options: dict[str, str] | None = None,
        **options: str,
    ) -> None:
        self.path, self._rate, self._layout, self._pts = path, rate, layout, 0
        self._out = av.open(str(path), "w", format=muxer, options=muxer_options or {})
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
        self._out.close()  # a failed last write (a full disk) must fail the rendition
        self._closed = True
        fsync_path(self.path)

    def close(self) -> None:
        """Let go of the output after a failure (what it says then is not news)."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        with suppress(av.FFmpegError, OSError):
            self._out.close()


def commit_part(part: Path) -> Path:
    """Move a finished, fsync'ed ``x.part`` into place as ``x`` and make the rename durable."""
    final = part.with_name(part.name.removesuffix(PART_SUFFIX))
    os.replace(part, final)
    with suppress(OSError):  # some filesystems can't fsync a directory; the data is safe
        fsync_path(part.parent)
    return final
