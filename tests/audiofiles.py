"""Real speech from tests/data re-encoded with PyAV into the formats people upload."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from scipy.signal import resample_poly

DATA = Path(__file__).parent / "data"
JFK = DATA / "jfk.flac"  # 11.0 s, stereo 44.1 kHz, hot (peaks at full scale)
LJ = DATA / "LJ001-0001.wav"  # 9.66 s, mono 22.05 kHz, studio speech

# extension -> (container format, codec, sample rate or None to keep, sample format)
FORMATS: dict[str, tuple[str, str, int | None]] = {
    "wav": ("wav", "pcm_s16le", None),
    "mp3": ("mp3", "libmp3lame", None),
    "flac": ("flac", "flac", None),
    "opus": ("ogg", "libopus", 48000),  # WhatsApp voice notes
    "m4a": ("ipod", "aac", None),  # phones, Zoom
    "webm": ("webm", "libopus", 48000),  # browser and Jitsi recordings
    "aiff": ("aiff", "pcm_s16be", None),
}


def convert(src: Path, dest: Path, *, gain_db: float = 0.0, channels: int | None = None) -> Path:
    """Decode ``src`` and encode it to ``dest`` (format from its extension)."""
    container, codec, rate = FORMATS[dest.suffix.lstrip(".")]
    with av.open(str(src)) as inp:
        in_stream = inp.streams.audio[0]
        rate = rate or in_stream.codec_context.sample_rate
        layout = {1: "mono", 2: "stereo"}[channels or in_stream.codec_context.channels]
        with av.open(str(dest), "w", format=container) as out:
            stream = out.add_stream(codec, rate=rate, layout=layout)
            fmt = stream.codec_context.codec.audio_formats[0].name
            resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
            for frame in inp.decode(in_stream):
                if gain_db:
                    frame = _gain(frame, gain_db)
                for resampled in resampler.resample(frame):
                    out.mux(stream.encode(resampled))
            for resampled in resampler.resample(None):
                out.mux(stream.encode(resampled))
            out.mux(stream.encode(None))
    return dest


def _gain(frame: av.AudioFrame, gain_db: float) -> av.AudioFrame:
    """Scale a frame by ``gain_db``, clipping like a recorder driven too hot."""
    as_float = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=frame.sample_rate)
    (floats,) = as_float.resample(frame)
    pcm = np.clip(floats.to_ndarray() * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)
    out = av.AudioFrame.from_ndarray(pcm, format="fltp", layout=frame.layout.name)
    out.sample_rate = frame.sample_rate
    return out


def write_pcm(dest: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """Write float samples (channels x n, or n for mono) to a 16-bit WAV."""
    samples = np.atleast_2d(samples)
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    with av.open(str(dest), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout=layout)
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        interleaved = pcm.T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = rate
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return dest


def decode_mono(path: Path, rate: int = 16000) -> np.ndarray:
    """A whole short clip as float mono samples."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks = []
    with av.open(str(path)) as f:
        for frame in f.decode(audio=0):
            chunks.extend(r.to_ndarray().ravel() for r in resampler.resample(frame))
    chunks.extend(r.to_ndarray().ravel() for r in resampler.resample(None))
    return np.concatenate(chunks)


def join_clips(paths: list[Path], dest: Path, gap: float = 1.0, rate: int = 16000) -> list[float]:
    """Join real clips with silent gaps into one WAV; return where each clip starts (s)."""
    silence = np.zeros(int(gap * rate), dtype=np.float32)
    parts, starts, at = [], [], 0
    for path in paths:
        starts.append(at / rate)
        clip = decode_mono(path, rate)
        parts += [clip, silence]
        at += len(clip) + len(silence)
    write_pcm(dest, np.concatenate(parts), rate)
    return starts


def true_peak_dbtp(x: np.ndarray) -> float:
    """BS.1770 true peak by 4x oversampling with scipy (not the code under test)."""
    return float(20 * np.log10(np.abs(resample_poly(x, 4, 1)).max()))


# The two halves of the LJ clips: recording parameters are tuned on the first and accuracy is
# quoted (and tested) on the second, so a figure never comes from the clips it was tuned on.
LJ_TUNING = [DATA / f"LJ001-000{i}.wav" for i in (1, 2, 3, 4)]
LJ_CHECKING = [DATA / f"LJ001-000{i}.wav" for i in (5, 6, 7, 8)]


def quiet_phone_call(
    dest: Path,
    clips: list[Path],
    *,
    lufs: float = -38.0,
    click_over_lufs_db: float = 35.0,
    clicks: int = 4,
    talkers_db: tuple[float, ...] = (0.0, -14.0, -2.0, -18.0),
    seed: int = 14,
    rate: int = 16_000,
) -> Path:
    """A phone left on a table: real speech, quiet and peaky, written as a 16-bit WAV.

    Phone band (300-3400 Hz), talkers near and far (clips in turn at ``talkers_db``),
    a little line noise 40 dB under the speech, and ``clicks`` knocks (a few milliseconds
    of decaying noise and a thump) whose peaks stand ``click_over_lufs_db`` above the
    recording's loudness, which is set to ``lufs`` with pyloudnorm. Deterministic.
    """
    import pyloudnorm
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    band = butter(4, [300, 3400], "bandpass", fs=rate, output="sos")
    parts: list[np.ndarray] = []
    for i, clip in enumerate(clips):
        speech = sosfiltfilt(band, decode_mono(clip, rate).astype(np.float64))
        level = talkers_db[i % len(talkers_db)]
        parts += [speech * 10 ** (level / 20), np.zeros(int(rate * 0.6))]
    speech = np.concatenate([np.zeros(rate // 2), *parts])
    meter = pyloudnorm.Meter(rate)
    speech *= 10 ** ((lufs - meter.integrated_loudness(speech)) / 20)
    hiss = sosfiltfilt(band, rng.standard_normal(len(speech)))
    x = speech + hiss * 10 ** ((lufs - 40) / 20) / np.sqrt(np.mean(hiss**2))
    length = int(rate * 0.006)
    t = np.arange(length) / rate
    click_peak = 10 ** ((lufs + click_over_lufs_db) / 20)
    for at in np.sort(rng.choice(np.arange(rate, len(x) - rate), clicks, replace=False)):
        knock = rng.standard_normal(length) * np.exp(-t / 0.0015)
        knock += 0.7 * np.sin(2 * np.pi * 180 * t) * np.exp(-t / 0.003)
        x[at : at + length] += knock / np.abs(knock).max() * click_peak
    x *= 10 ** ((lufs - meter.integrated_loudness(x)) / 20)
    return write_pcm(dest, x, rate)
