"""Voice prints: 256 numbers that say who is speaking in 1.6 s of speech.

The encoder is Resemblyzer's (Resemble AI, Apache-2.0; the GE2E speaker encoder of Wan et
al., 2018: 40 mel bands, three 256-unit LSTM layers, a projection), taken from the PyPI
wheel ``Resemblyzer==0.1.4`` by ``scripts/build_voice_encoder.py`` into one ONNX graph kept
in ``voice_encoder/`` with its licence. onnxruntime runs it (faster-whisper brings it):
no torch, no download. Two prints of one person's speech are close (cosine 0.85-0.97 on
the test clips); two people's are further apart (0.5-0.8).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms windows
HOP = 160  # 10 ms steps
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s: the length the encoder was trained on
LEVEL_RMS = 10 ** (-30 / 20)  # the encoder's training level; every window is brought to it
MAX_GAIN = 1000.0  # 60 dB: a near-silent window is not lifted into noise
MODEL = Path(__file__).parent / "voice_encoder" / "voice_encoder.onnx"
BATCH = 256


@functools.cache
def _session():  # noqa: ANN202 - onnxruntime is imported only when prints are made
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])


@functools.cache
def _mel_filters() -> np.ndarray:
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor.get_mel_filters(SAMPLE_RATE, N_FFT, N_MELS).astype(np.float32)


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, one frame per 10 ms, as the encoder was fed
    (librosa.feature.melspectrogram's: centred periodic Hann windows, Slaney mel bands)."""
    if len(audio) <= N_FFT // 2:
        return np.zeros((0, N_MELS), dtype=np.float32)
    padded = np.pad(audio.astype(np.float32), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return power.astype(np.float32) @ _mel_filters().T


def window_prints(mels: np.ndarray, rms: np.ndarray) -> np.ndarray:
    """Prints of (windows, 160, 40) mel windows whose audio had RMS ``rms``: (windows, 256),
    each of unit length. Each window is heard at the training level whatever its own."""
    if len(mels) == 0:
        return np.zeros((0, 256), dtype=np.float32)
    gain = np.minimum(LEVEL_RMS / np.maximum(rms, 1e-9), MAX_GAIN) ** 2  # mels are power
    scaled = (mels * gain[:, None, None].astype(np.float32)).astype(np.float32)
    session = _session()
    return np.concatenate(
        [
            session.run(None, {"mels": scaled[i : i + BATCH]})[0]
            for i in range(0, len(scaled), BATCH)
        ]
    )


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two prints (1.0: the same direction)."""
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / denominator) if denominator else 0.0
