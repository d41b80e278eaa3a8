"""Speaker turns in one mix (#12): a group call built from real clips of four people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.audiofiles import decode_mono, write_pcm
from tests.conftest import DATA, TINY_EN
from transcription.diarize import Diarization, Turn, Voice, assign_speakers, diarize
from transcription.segments import Segment, Word
from transcription.voices import mel_frames, similarity, window_prints

RATE = 16_000
CALL = (  # turns in order: voice, clip
    ("lj", "LJ001-0001.wav"),
    ("austen", "sense_and_sensibility_01_austen_64kb-0870.wav"),
    ("asterisk", "agent-alreadyon.wav"),
    ("jfk", "jfk.flac"),
    ("lj", "LJ001-0003.wav"),
    ("austen", "sense_and_sensibility_01_austen_64kb-0920.wav"),
    ("asterisk", "conf-adminmenu.wav"),
    ("austen", "sense_and_sensibility_01_austen_64kb-0890.wav"),
)


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float, str]]]:
    """The turns one after the other, 0.6 s apart, at levels 6 dB apart."""
    parts, truth, pos = [], [], 0.0
    for i, (voice, name) in enumerate(CALL):
        audio = decode_mono(DATA / name) * np.float32(10 ** (-6 * (i % 2) / 20))
        parts += [audio, np.zeros(int(0.6 * RATE), dtype=np.float32)]
        truth.append((pos, pos + len(audio) / RATE, voice))
        pos += len(audio) / RATE + 0.6
    path = write_pcm(tmp_path_factory.mktemp("call") / "call.wav", np.concatenate(parts))
    return path, truth


@pytest.fixture(scope="module")
def found(call) -> Diarization:  # noqa: ANN001
    return diarize(call[0])


def voice_by_turn(found: Diarization, truth) -> list[int]:  # noqa: ANN001
    """The voice found for most of each true turn."""
    out = []
    for start, end, _ in truth:
        talk = np.zeros(len(found.voices))
        for t in found.turns:
            talk[t.speaker] += max(0.0, min(t.end, end) - max(t.start, start))
        out.append(int(np.argmax(talk)))
    return out


def test_the_four_people_of_a_call_are_found(call, found: Diarization) -> None:  # noqa: ANN001
    _, truth = call
    assert len(found.voices) == 4
    by_turn = voice_by_turn(found, truth)
    names = [voice for _, _, voice in truth]
    # One voice per person, the same in every turn of theirs, and each person a voice.
    assert {n: {v for v, m in zip(by_turn, names, strict=True) if m == n} for n in names} == {
        "lj": {by_turn[0]},
        "austen": {by_turn[1]},
        "asterisk": {by_turn[2]},
        "jfk": {by_turn[3]},
    }
    assert len(set(by_turn)) == 4
    assert [v.index for v in found.voices] == [0, 1, 2, 3]  # in order of first appearance
    assert by_turn[:4] == [0, 1, 2, 3]


def test_nearly_all_speech_goes_to_the_right_person(call, found: Diarization) -> None:  # noqa: ANN001
    _, truth = call
    by_turn = voice_by_turn(found, truth)
    right = total = 0.0
    for (start, end, _), voice in zip(truth, by_turn, strict=True):
        total += end - start
        for t in found.turns:
            if t.speaker == voice:
                right += max(0.0, min(t.end, end) - max(t.start, start))
    assert right / total > 0.85


def test_a_hint_of_how_many_is_followed(call) -> None:  # noqa: ANN001
    assert len(diarize(call[0], speakers=3).voices) == 3


def test_each_word_goes_to_who_said_it(call, found: Diarization) -> None:  # noqa: ANN001
    from transcription.models import describe
    from transcription.transcribe import Transcriber

    path, truth = call
    segments, _ = Transcriber(describe(TINY_EN, "bundled", "tiny.en")).transcribe(path)
    labels = ["A", "B", "C", "D"]
    named = assign_speakers(list(segments), found, labels)
    by_turn = voice_by_turn(found, truth)
    for segment in named:
        middle = (segment.start + segment.end) / 2
        turn = min(range(len(truth)), key=lambda i: _gap(truth[i], middle))
        assert segment.speaker == labels[by_turn[turn]], (segment, truth[turn])
    jfk = next(s for s in named if "ask not" in s.text.lower())
    assert jfk.speaker == labels[by_turn[3]]


def _gap(turn: tuple[float, float, str], t: float) -> float:
    start, end, _ = turn
    return 0.0 if start <= t <= end else min(abs(start - t), abs(end - t))


def test_a_segment_across_a_change_of_speaker_is_split_there() -> None:
    words = [Word(i * 0.5, i * 0.5 + 0.4, f" w{i}", 0.9) for i in range(8)]
    segment = Segment(0.0, 4.0, "w0 w1 w2 w3 w4 w5 w6 w7", tuple(words))
    print_ = np.ones(256, dtype=np.float32) / 16
    turns = Diarization(
        (Turn(0.0, 2.0, 0), Turn(2.0, 4.0, 1)),
        (Voice(0, 2.0, print_), Voice(1, 2.0, print_)),
    )
    first, second = assign_speakers([segment], turns, ["Amina", "Joseph"])
    assert (first.speaker, first.text, first.start) == ("Amina", "w0 w1 w2 w3", 0.0)
    assert (second.speaker, second.text, second.end) == ("Joseph", "w4 w5 w6 w7", 4.0)


def test_a_single_word_between_anothers_words_is_not_split_off() -> None:
    words = [Word(i * 0.5, i * 0.5 + 0.4, f" w{i}", 0.9) for i in range(6)]
    segment = Segment(0.0, 3.0, "w0 w1 w2 w3 w4 w5", tuple(words))
    print_ = np.ones(256, dtype=np.float32) / 16
    turns = Diarization(
        (Turn(0.0, 1.4, 0), Turn(1.4, 1.9, 1), Turn(1.9, 3.0, 0)),
        (Voice(0, 2.5, print_), Voice(1, 0.5, print_)),
    )
    (only,) = assign_speakers([segment], turns, ["Amina", "Joseph"])
    assert only.speaker == "Amina" and only.text == segment.text


def test_silence_has_no_speakers(tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "quiet.wav", np.zeros(5 * RATE, dtype=np.float32))
    assert diarize(path) == Diarization((), ())


def test_one_persons_prints_are_closer_than_two_peoples() -> None:
    def voice_print(name: str) -> np.ndarray:
        audio = decode_mono(DATA / name)[: int(1.6 * RATE)]
        mels = mel_frames(audio)[:160]
        return window_prints(mels[None], np.array([np.sqrt(np.mean(audio**2))]))[0]

    lj1, lj5, austen = (
        voice_print(n)
        for n in (
            "LJ001-0001.wav",
            "LJ001-0005.wav",
            "sense_and_sensibility_01_austen_64kb-0870.wav",
        )
    )
    assert similarity(lj1, lj5) > similarity(lj1, austen) + 0.1
