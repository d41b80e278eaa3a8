"""Reading audio as 16 kHz PCM in a stream, and telling two-party call recordings apart.

A two-party recording (a phone or studio call recorder) has one person on each channel.
Whisper on the mixed-down audio hears two people at once and garbles both, so such files
are transcribed one channel at a time. Ordinary stereo (music, a studio show, a mono
source copied or panned to both sides) must never be split: it is one mix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from transcription.errors import TranscriptionError

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000

# Two-party detection, measured on tests/data/stereo_diarization.wav against copies, pans,
# delays and synthetic stereo music of the test clips (see tests/test_channels.py).
ANALYSE_SECONDS = 300.0  # the first minutes tell; a call doesn't change shape halfway
MAX_LAG_SECONDS = 0.04  # a copy delayed by up to this much still counts as the same content
SIMILAR_ABOVE = 0.7  # normalised cross-correlation above this: one mix (copies score 1.0)
SPEECH_PROB = 0.5  # Silero VAD probability that counts as speech
BLEED_DB = 12.0  # a channel this much quieter than the other is bleed, not a second voice
MIN_SPEECH_SECONDS = 1.0  # each party must say something
MIN_EXCLUSIVE_SHARE = 0.3  # share of speech frames where only one party talks
MIN_PARTY_SHARE = 0.1  # each party has at least this share of the speech frames


class UnreadableAudio(TranscriptionError):
    """The file can't be read as audio; the message says which file and why."""


@dataclass(frozen=True)
class ChannelLayout:
    duration: float
    channels: int
    sample_rate: int


def channel_layout(path: Path) -> ChannelLayout:
    """Duration, channel count and rate from the container, decoding only when it won't say."""
    duration, channels, rate = _stream_info(path)
    if duration is None:
        # Some streams (raw ADTS, a few Ogg files) carry no duration: count the samples once.
        duration = sum(chunk.shape[1] for chunk in iter_pcm(path)) / SAMPLE_RATE
    return ChannelLayout(duration=duration, channels=channels, sample_rate=rate)


def _stream_info(path: Path) -> tuple[float | None, int, int]:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise UnreadableAudio(f"{path} has no audio stream. Upload an audio or video file.")
            stream = container.streams.audio[0]
            ctx = stream.codec_context
            return _container_duration(container, stream), ctx.channels, ctx.sample_rate
    except av.error.FFmpegError as e:
        raise UnreadableAudio(f"{path} can't be read as audio ({e}). Is it a sound file?") from e


def _container_duration(container: av.container.InputContainer, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def iter_pcm(
    path: Path,
    *,
    stereo: bool = False,
    start_at: float = 0.0,
    max_seconds: float | None = None,
    chunk_seconds: float = 10.0,
) -> Iterator[np.ndarray]:
    """Yield float32 chunks shaped (channels, samples) at 16 kHz: 2 channels if `stereo`, else
    a mono mix. Starts `start_at` seconds in, stops after `max_seconds`; never holds the file."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as e:
        raise UnreadableAudio(f"{path} can't be read as audio ({e}). Is it a sound file?") from e
    with container:
        if not container.streams.audio:
            raise UnreadableAudio(f"{path} has no audio stream. Upload an audio or video file.")
        stream = container.streams.audio[0]
        skip = _seek(container, stream, start_at)
        limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
        # 16-bit like faster-whisper's decode_audio: the model then hears exactly what it
        # hears there (float output differs by 1e-5, enough to flip a word now and then).
        resampler = av.AudioResampler(
            format="s16p", layout="stereo" if stereo else "mono", rate=SAMPLE_RATE
        )
        pending: list[np.ndarray] = []
        have = 0
        sent = 0
        for array in _resampled(container, stream, resampler):
            if skip:
                drop = min(skip, array.shape[1])
                array, skip = array[:, drop:], skip - drop
            if limit is not None:
                array = array[:, : limit - sent - have]
            pending.append(array)
            have += array.shape[1]
            if have >= chunk_seconds * SAMPLE_RATE:
                yield np.concatenate(pending, axis=1)
                sent, pending, have = sent + have, [], 0
            if limit is not None and sent + have >= limit:
                break
        if have:
            yield np.concatenate(pending, axis=1)


def _seek(container: av.container.InputContainer, stream, start_at: float) -> int:
    """Seek near start_at and return how many 16 kHz samples to drop to land on it exactly."""
    if start_at <= 0:
        return 0
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    try:
        container.seek(int((start_at + origin) / stream.time_base), stream=stream)
        first = next(container.decode(stream))
    except (av.error.FFmpegError, StopIteration, ZeroDivisionError, TypeError):
        first = None
    landed = None if first is None or first.time is None else first.time - origin
    if landed is None or landed > start_at + 0.01 or landed < 0:
        # The container can't seek precisely (or at all): decode from the top and count.
        container.seek(0)
        landed = 0.0
    else:
        # The frame we peeked at is decoded again after this second seek, so nothing is lost.
        container.seek(int((landed + origin) / stream.time_base), stream=stream)
    return max(0, round((start_at - landed) * SAMPLE_RATE))


def _resampled(container, stream, resampler: av.AudioResampler) -> Iterator[np.ndarray]:
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except av.error.InvalidDataError:
            continue  # one damaged packet shouldn't cost the rest of a recording
        frame.pts = None  # decoder timestamps may jump (damaged files); the resampler refuses that
        for out in resampler.resample(frame):
            yield out.to_ndarray().astype(np.float32) / 32768.0
    for out in resampler.resample(None):
        yield out.to_ndarray().astype(np.float32) / 32768.0


def detect_two_party(path: Path, max_seconds: float = ANALYSE_SECONDS) -> bool:
    """True when a stereo file holds a different speaker on each channel (a call recording).

    Looks at the first `max_seconds`: the channels must not be copies of each other (even
    panned or delayed a little), each must carry speech of its own, and in a good share of
    the speech only one side talks.
    """
    if _stream_info(path)[1] != 2:
        return False
    audio = np.concatenate(list(iter_pcm(path, stereo=True, max_seconds=max_seconds)), axis=1)
    left, right = audio[0], audio[1]
    similarity = channel_similarity(left, right)
    if similarity > SIMILAR_ABOVE:
        logger.debug("%s: channels alike (%.2f), one mix", path, similarity)
        return False
    stats = speech_turns(left, right)
    logger.debug("%s: similarity %.2f, turns %s", path, similarity, stats)
    return (
        min(stats["left_seconds"], stats["right_seconds"]) >= MIN_SPEECH_SECONDS
        and stats["exclusive_share"] >= MIN_EXCLUSIVE_SHARE
        and min(stats["left_share"], stats["right_share"]) >= MIN_PARTY_SHARE
    )


def channel_similarity(left: np.ndarray, right: np.ndarray, block_seconds: float = 2.0) -> float:
    """Peak normalised cross-correlation within +-MAX_LAG_SECONDS, over the whole signal.

    Summed block by block so memory stays small; 1.0 for copies, pans and short delays,
    near 0 for two independent voices.
    """
    n = int(block_seconds * SAMPLE_RATE)
    lag = int(MAX_LAG_SECONDS * SAMPLE_RATE)
    size = 1 << int(np.ceil(np.log2(n + lag)))
    acc = np.zeros(2 * lag + 1)
    energy_l = energy_r = 0.0
    for start in range(0, len(left), n):
        a = left[start : start + n].astype(np.float64)
        b = right[start : start + n].astype(np.float64)
        energy_l += float(a @ a)
        energy_r += float(b @ b)
        xc = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
        acc += np.concatenate([xc[-lag:], xc[: lag + 1]])
    if energy_l <= 0 or energy_r <= 0:
        return 0.0
    return float(np.max(np.abs(acc)) / np.sqrt(energy_l * energy_r))


def speech_turns(left: np.ndarray, right: np.ndarray) -> dict[str, float]:
    """Who speaks when, per 32 ms VAD frame: a side counts only if it isn't mere bleed."""
    from faster_whisper.vad import get_vad_model

    window = 512
    n = min(len(left), len(right)) // window * window
    if n == 0:
        return dict.fromkeys(
            ("left_seconds", "right_seconds", "exclusive_share", "left_share", "right_share"), 0.0
        )
    model = get_vad_model()
    prob_l, prob_r = model(left[:n]), model(right[:n])
    prob_l, prob_r = prob_l.reshape(-1), prob_r.reshape(-1)
    db_l = _frame_db(left[:n], window)
    db_r = _frame_db(right[:n], window)
    speak_l = (prob_l >= SPEECH_PROB) & (db_l >= db_r - BLEED_DB)
    speak_r = (prob_r >= SPEECH_PROB) & (db_r >= db_l - BLEED_DB)
    active = speak_l | speak_r
    frames = max(int(active.sum()), 1)
    seconds = window / SAMPLE_RATE
    return {
        "left_seconds": float(speak_l.sum() * seconds),
        "right_seconds": float(speak_r.sum() * seconds),
        "exclusive_share": float((speak_l ^ speak_r).sum() / frames),
        "left_share": float(speak_l.sum() / frames),
        "right_share": float(speak_r.sum() / frames),
    }


def _frame_db(x: np.ndarray, window: int) -> np.ndarray:
    power = np.mean(x.reshape(-1, window).astype(np.float64) ** 2, axis=1)
    return 10 * np.log10(power + 1e-10)
