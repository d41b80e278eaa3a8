"""Clips and voice notes (radio.media.clips, #14): real speech from tests/data, cut, faded and
encoded by PyAV, then decoded again by PyAV and measured."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import pytest

from radio.media.audio import AudioError
from radio.media.clips import MAX_VOICE_NOTE_SECONDS, make_clip, make_voice_note
from tests.audiofiles import DATA, LJ_CHECKING, LJ_TUNING, convert, decode_mono, join_clips

RATE = 48_000
WINDOW = 0.05  # the fades are judged on each end's first and last 50 ms


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:  # noqa: ANN001
    """About 70 s of real read speech (the eight LJ clips with short pauses) as a 48 kbps MP3,
    like the renditions clips are cut from."""
    folder = tmp_path_factory.mktemp("speech")
    wav = folder / "speech.wav"
    join_clips(LJ_TUNING + LJ_CHECKING, wav, gap=0.4, rate=24_000)
    return convert(wav, folder / "speech.mp3")


def decoded(path: Path) -> tuple[av.AudioCodecContext, np.ndarray]:
    with av.open(str(path)) as f:
        stream = f.streams.audio[0]
        codec = stream.codec_context
        frames = [frame.to_ndarray().reshape(-1) for frame in f.decode(stream)]
        return codec, np.concatenate(frames).astype(np.float64)


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12))


def loud_moments(source: np.ndarray, rate: int) -> np.ndarray:
    """Starts (s) of 50 ms windows of the source within 10 dB of its loudest: the test cuts
    there, so an end that is quiet can only be quiet because of the fade."""
    n = int(WINDOW * rate)
    windows = source[: len(source) // n * n].reshape(-1, n)
    levels = 10 * np.log10(np.mean(windows**2, axis=1) + 1e-12)
    return np.flatnonzero(levels > levels.max() - 10) * WINDOW


def test_a_voice_note_is_small_mono_48k_opus_with_fades(speech, tmp_path):
    source = decode_mono(speech, RATE).astype(np.float64)
    loud = loud_moments(source, RATE)
    start = float(loud[loud > 2.0][0])  # a loud 50 ms starts here...
    end = float(loud[loud < start + 62.0][-1] + WINDOW)  # ...and another ends near the end
    note = make_voice_note(speech, tmp_path / "moment.opus", start, end)

    codec, pcm = decoded(note)
    assert codec.name == "opus"
    assert codec.channels == 1
    assert codec.sample_rate == RATE
    minutes = (end - start) / 60
    size_per_minute = note.stat().st_size / minutes
    assert size_per_minute < 100_000, size_per_minute  # about 90 KB a minute
    assert abs(len(pcm) / RATE - (end - start)) < 0.03, (len(pcm) / RATE, end - start)

    n = int(WINDOW * RATE)
    head, tail = pcm[:n], pcm[-n:]
    same_head = source[round(start * RATE) : round(start * RATE) + n]
    same_tail = source[round(end * RATE) - n : round(end * RATE)]
    # the ends are much quieter than the same moments of the source, and than the middle
    assert rms_db(head) < rms_db(same_head) - 12, (rms_db(head), rms_db(same_head))
    assert rms_db(tail) < rms_db(same_tail) - 12, (rms_db(tail), rms_db(same_tail))
    middle = pcm[len(pcm) // 2 - 5 * RATE : len(pcm) // 2 + 5 * RATE]
    assert rms_db(head) < rms_db(middle) - 12 and rms_db(tail) < rms_db(middle) - 12
    # and the middle is the source, as loud as it was (a voice note is not a quieter copy)
    same_middle = source[round(start * RATE) + len(pcm) // 2 - 5 * RATE :][: len(middle)]
    assert abs(rms_db(middle) - rms_db(same_middle)) < 1.5


def test_a_voice_note_is_at_most_two_minutes_unless_told(speech, tmp_path):
    with pytest.raises(AudioError, match="at most 2 minutes"):
        make_voice_note(speech, tmp_path / "long.opus", 0, MAX_VOICE_NOTE_SECONDS + 1)
    # the command line allows longer clips; this recording is shorter, so it stops at its end
    note = make_voice_note(speech, tmp_path / "all.opus", 0, 600, max_seconds=600)
    _, pcm = decoded(note)
    with av.open(str(speech)) as f:
        assert abs(len(pcm) / RATE - f.duration / 1e6) < 0.1


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (5.0, 5.0, "empty"),
        (8.0, 2.0, "empty"),
        (-1.0, 2.0, "empty"),
        (float("nan"), 2.0, "empty"),
        (500.0, 510.0, "lasts only"),
    ],
)
def test_a_range_that_cannot_be_a_clip_says_why(speech, tmp_path, start, end, message):
    with pytest.raises(AudioError, match=message):
        make_voice_note(speech, tmp_path / "x.opus", start, end)
    assert not list(tmp_path.glob("*.opus")) and not list(tmp_path.glob(".*"))


def test_an_opus_clip_from_the_command_line_is_a_voice_note(tmp_path):
    """``radio clip ... -o moment.opus`` shares the code: a stereo FLAC comes out mono 48k."""
    out = make_clip(DATA / "jfk.flac", tmp_path / "moment.opus", 1.0, 9.0)
    codec, pcm = decoded(out)
    assert (codec.name, codec.channels, codec.sample_rate) == ("opus", 1, RATE)
    assert abs(len(pcm) / RATE - 8.0) < 0.03
    assert out.stat().st_size / (8.0 / 60) < 100_000


def test_other_formats_keep_their_channels_and_fade_too(tmp_path):
    out = make_clip(DATA / "jfk.flac", tmp_path / "moment.wav", 2.0, 6.0)
    codec, _ = decoded(out)
    assert codec.channels == 2  # jfk.flac is stereo
    with av.open(str(out)) as f:
        pcm = np.concatenate([fr.to_ndarray() for fr in f.decode(audio=0)], axis=1)
    pcm = pcm.reshape(-1, 2).astype(np.float64)
    assert abs(len(pcm) / codec.sample_rate - 4.0) < 0.01
    assert pcm[0].tolist() == [0.0, 0.0]  # a raised cosine starts at (almost) nothing
    with pytest.raises(AudioError, match="name it .opus"):
        make_clip(DATA / "jfk.flac", tmp_path / "moment.txt", 2.0, 6.0)


def test_making_a_clip_loads_no_pydub():
    """pydub looked for an ffmpeg binary on import and warned on every command (#14, 6)."""
    code = (
        "import sys; from radio.media import clips; "
        f"clips.make_clip({str(DATA / 'LJ001-0002.wav')!r}, sys.argv[1], 0.2, 1.2); "
        "print('pydub' in sys.modules)"
    )
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [sys.executable, "-c", code, str(Path(folder) / "x.opus")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert "ffmpeg" not in done.stderr.lower(), done.stderr
