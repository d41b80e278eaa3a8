"""radio.media.audio and radio.media.clips on real speech: probing, damage checks, loudness, clips.

Inputs of every accepted format are made here from the clips in tests/data with PyAV;
loudness is checked against pyloudnorm, true peak against scipy's oversampling.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
import soundfile

from radio.media import audio, clips, integrity
from tests.audiofiles import JFK, LJ, true_peak_dbtp

# name: (suffix, muxer, encoder, sample rate, PyAV's format name, canonical codec name)
FORMATS = {
    "wav": (".wav", "wav", "pcm_s16le", 44_100, "wav", "pcm_s16le"),
    "mp3": (".mp3", "mp3", "libmp3lame", 44_100, "mp3", "mp3"),
    "flac": (".flac", "flac", "flac", 44_100, "flac", "flac"),
    "ogg-opus": (".opus", "ogg", "libopus", 48_000, "ogg", "opus"),
    "m4a-aac": (".m4a", "ipod", "aac", 44_100, "mov,mp4,m4a,3gp,3g2,mj2", "aac"),
    "webm-opus": (".webm", "webm", "libopus", 48_000, "matroska,webm", "opus"),
    "aiff": (".aiff", "aiff", "pcm_s16be", 44_100, "aiff", "pcm_s16be"),
}


def decode(path: Path, rate: int | None = None, layout: str = "stereo") -> np.ndarray:
    """A whole short clip as float32 (channels, samples), resampled with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler("fltp", layout, rate or stream.rate)
        frames = [out for f in container.decode(stream) for out in resampler.resample(f)]
        frames += resampler.resample(None)
    return np.concatenate([f.to_ndarray() for f in frames], axis=1)


def encode(path: Path, x: np.ndarray, rate: int, muxer: str, codec: str) -> Path:
    """Write float (channels, samples) with PyAV; the encoder's own sample format is used."""
    layout = "stereo" if x.shape[0] == 2 else "mono"
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        for start in range(0, x.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(x[:, start : start + 4096], np.float32), "fltp", layout
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_format(tmp_path: Path, name: str, seconds: float = 6.0) -> Path:
    """The first ``seconds`` of JFK (stereo) in one of the accepted formats."""
    suffix, muxer, codec, rate, *_ = FORMATS[name]
    x = decode(JFK, rate)[:, : int(seconds * rate)]
    return encode(tmp_path / f"speech{suffix}", x, rate, muxer, codec)


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_probes_and_checks(tmp_path: Path, name: str) -> None:
    src = make_format(tmp_path, name)
    _, _, _, rate, format_name, codec = FORMATS[name]
    info = audio.probe(src)
    assert (info.format_name, info.codec) == (format_name, codec)
    assert (info.sample_rate, info.channels) == (rate, 2)
    assert info.duration == pytest.approx(6.0, abs=0.1)
    assert info.bit_rate is None or info.bit_rate > 0
    integrity.check_decodes(src, info)


def test_measure_loudness_agrees_with_pyloudnorm(tmp_path: Path) -> None:
    seen: list[float] = []
    loudness = audio.measure_loudness(LJ, progress=seen.append)
    x, rate = soundfile.read(LJ, dtype="float64")
    assert loudness.integrated_lufs == pytest.approx(
        pyloudnorm.Meter(rate).integrated_loudness(x), abs=0.3
    )
    assert loudness.true_peak_dbtp == pytest.approx(true_peak_dbtp(x), abs=0.5)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(9.655, abs=0.05)


def test_text_renamed_wav_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("Running order: news, weather, the phone-in.\n" * 20)
    with pytest.raises(audio.NotAudioError, match="notes.wav"):
        audio.probe(path)


def test_empty_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.touch()
    with pytest.raises(audio.NotAudioError, match="empty"):
        audio.probe(path)


@pytest.mark.parametrize("suffix", [".bin", ".mp3", ".flac", ".wav", ""])
def test_random_bytes_are_not_audio(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(np.random.default_rng(7).bytes(100_000))
    with pytest.raises(audio.NotAudioError):
        audio.probe(path)


def test_video_without_sound_has_no_audio_stream(tmp_path: Path) -> None:
    path = tmp_path / "silent-film.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            image = np.full((48, 64, 3), i * 20, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    with pytest.raises(audio.NoAudioStreamError, match="silent-film.mp4"):
        audio.probe(path)


def test_truncated_mp3_is_reported_as_cut_off(tmp_path: Path) -> None:
    whole = make_format(tmp_path, "mp3", seconds=11.0)
    cut = tmp_path / "cut.mp3"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.3)])
    info = audio.probe(cut)  # the header still promises the whole 11 s
    assert info.duration == pytest.approx(11.0, abs=0.1)
    with pytest.raises(audio.TruncatedAudioError, match="cut off"):
        integrity.check_decodes(cut, info)


def test_truncated_wav_is_reported_as_cut_off(tmp_path: Path) -> None:
    data = LJ.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(audio.TruncatedAudioError, match="cut off"):
        integrity.check_decodes(cut, audio.probe(cut))


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(audio.AudioError, match="doesn't exist"):
        audio.probe(tmp_path / "nowhere.wav")


@pytest.mark.parametrize("suffix", [".mp3", ".opus", ".m4a", ".wav"])
def test_clip_is_the_range_with_fades(tmp_path: Path, suffix: str) -> None:
    dest = clips.make_clip(JFK, tmp_path / f"clip{suffix}", 2.0, 6.0)
    assert dest == tmp_path / f"clip{suffix}" and not list(tmp_path.glob("*.part"))
    x = decode(dest, 44_100, "mono")[0]
    assert len(x) / 44_100 == pytest.approx(4.0, abs=0.1)

    def rms(a: np.ndarray) -> float:
        return float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))

    middle = rms(x[len(x) // 2 - 11_025 : len(x) // 2 + 11_025])
    assert rms(x[:441]) < middle / 10 and rms(x[-441:]) < middle / 10


def test_clip_holds_the_right_seconds(tmp_path: Path) -> None:
    clip, _ = soundfile.read(clips.make_clip(JFK, tmp_path / "clip.wav", 2.0, 6.0))
    original, rate = soundfile.read(JFK)
    inner = slice(rate, 3 * rate)  # clear of the fades
    np.testing.assert_allclose(clip[inner], original[2 * rate :][inner], atol=2e-4)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [(6.0, 2.0, "empty"), (3.0, 3.0, "empty"), (20.0, 25.0, "lasts only"), (0.0, 601.0, "at most")],
)
def test_clip_rejects_bad_ranges(tmp_path: Path, start: float, end: float, message: str) -> None:
    with pytest.raises(audio.AudioError, match=message):
        clips.make_clip(JFK, tmp_path / "clip.mp3", start, end)


def test_clip_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(audio.AudioError, match=r"\.opus \(a voice note\), \.mp3"):
        clips.make_clip(JFK, tmp_path / "clip.xyz", 1.0, 2.0)


@pytest.mark.parametrize("fraction", [0.3, 0.77])
def test_truncated_ogg_opus_is_reported_as_cut_off(tmp_path: Path, fraction: float) -> None:
    # Ogg states no length: only the unfinished last page shows the file was cut.
    data = make_format(tmp_path, "ogg-opus", seconds=11.0).read_bytes()
    cut = tmp_path / "voice-note.opus"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(audio.TruncatedAudioError, match="cut off"):
        integrity.check_decodes(cut, audio.probe(cut))


# Limits on what decodes (#13), whatever a header claims.


def lying_flac(tmp_path: Path, seconds: float, claimed: float, rate: int = 8000) -> Path:
    """``seconds`` of silence as FLAC whose STREAMINFO says it lasts ``claimed``."""
    path = encode(tmp_path / "liar.flac", np.zeros((1, int(seconds * rate))), rate, "flac", "flac")
    data = bytearray(path.read_bytes())
    packed = int.from_bytes(data[18:26], "big")  # rate, channels, bits, 36-bit sample count
    packed = (packed & ~((1 << 36) - 1)) | int(claimed * rate)
    data[18:26] = packed.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def test_decoding_stops_just_past_the_limit_whatever_the_header_says(tmp_path: Path) -> None:
    liar = lying_flac(tmp_path, seconds=120, claimed=10)
    assert audio.probe(liar).duration == pytest.approx(10)  # what the header says
    assert audio.decoded_seconds(liar, None) == pytest.approx(120)  # what it holds
    with pytest.raises(audio.TooLongError) as stopped:
        audio.decoded_seconds(liar, 30.0, stated=10.0)
    assert 30.0 < stopped.value.seconds < 32.0  # stopped at the limit and a margin
    message = r"holds more than 3[01]\.\d s of audio, though its header says 10\.0 s: over the "
    assert re.search(message + r"limit of 30\.0 s\.", str(stopped.value)), stopped.value
    with pytest.raises(audio.TooLongError):  # the renditions' decode stops there too
        sum(len(x) for x in audio.iter_mono(liar, max_seconds=30.0))
    assert sum(len(x) for x in audio.iter_mono(liar, max_seconds=200.0)) == 120 * audio.RATE


@pytest.mark.parametrize(
    ("channels", "rate", "problem"),
    [(12, 16000, "12 audio channels"), (1, 4000, "4,000 Hz"), (1, 384_000, "384,000 Hz")],
)
def test_decoded_audio_out_of_bounds_is_refused(tmp_path, channels, rate, problem) -> None:
    import struct

    pcm = np.zeros((int(rate * 1.5), channels), "<i2").tobytes()
    head = struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16)
    path = tmp_path / "odd.wav"
    path.write_bytes(
        b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + head + b"data"
        + struct.pack("<I", len(pcm)) + pcm
    )  # fmt: skip
    with pytest.raises(audio.LimitError, match=problem):
        audio.decoded_seconds(path, None)
    with pytest.raises(audio.LimitError, match=problem):
        list(audio.iter_mono(path))


def test_a_wav_with_no_channels_says_so(tmp_path: Path) -> None:
    import struct

    head = struct.pack("<IHHIIHH", 16, 1, 0, 16000, 0, 0, 16)
    path = tmp_path / "nothing.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4036) + b"WAVEfmt " + head + b"data"
                     + struct.pack("<I", 4000) + b"\x00" * 4000)  # fmt: skip
    with pytest.raises(audio.NotAudioError, match="no channels in it"):
        audio.probe(path)
