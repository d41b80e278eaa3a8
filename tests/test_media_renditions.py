"""radio.media.renditions on real speech: loudness, true peak, bit rates, peaks, crash safety.

Renditions are checked with other tools than the ones that made them where there is one:
libsndfile (through soundfile) decodes the MP3 and Opus (libsndfile reads no M4A, so the
AAC is decoded by FFmpeg's decoder through PyAV, and mutagen reads its container),
pyloudnorm measures loudness, scipy oversamples for the true peak.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import av
import mutagen
import mutagen.mp4
import numpy as np
import pyloudnorm
import pytest
import soundfile

from radio.media import renditions
from tests.audiofiles import DATA, FORMATS, JFK, LJ, convert, decode_mono, true_peak_dbtp

# The data saver's goal (#14): at most 11 MB (10^6 bytes) an hour of speech, container included.
SAVER_BYTES_PER_HOUR = 11_000_000


def decode(r: renditions.Rendition) -> tuple[np.ndarray, int]:
    """A rendition as a player decodes it: samples (1-D if mono) and its own rate."""
    if r.kind != "aac":
        x, rate = soundfile.read(r.path, dtype="float64")  # libsndfile: mpg123 / libopus
        return x, rate
    with av.open(str(r.path)) as container:  # FFmpeg's AAC decoder; it applies the edit list
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        frames = [f.to_ndarray() for f in container.decode(stream)]  # fltp: (channels, n)
    x = np.concatenate(frames, axis=1).astype(np.float64)
    return (x[0] if len(x) == 1 else x.T), rate


def check_renditions(result: renditions.RenderResult, duration: float) -> None:
    """Loudness, peak, channels, bit rate and length of every rendition, independently."""
    kinds = {r.kind: r for r in result.renditions}
    assert set(kinds) == {"mp3", "opus", "aac"}
    for r in result.renditions:
        assert r.path.exists() and r.path.stat().st_size == r.bytes
        x, rate = decode(r)  # libsndfile decodes Opus at the rate its header records
        assert rate == r.sample_rate or r.kind == "opus"
        assert x.ndim == 1, f"{r.kind} is not mono"
        lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
        assert lufs == pytest.approx(-16.0, abs=1.0), f"{r.kind}: {lufs:.2f} LUFS"
        assert true_peak_dbtp(x) <= -1.0, f"{r.kind}: true peak {true_peak_dbtp(x):.2f}"
        assert len(x) / rate == pytest.approx(duration, abs=0.1)
        assert r.duration == pytest.approx(duration, abs=0.1)
    mp3, opus = kinds["mp3"], kinds["opus"]
    assert (mp3.path.name, mp3.mime, mp3.bitrate) == ("audio.mp3", "audio/mpeg", 48_000)
    assert (opus.path.name, opus.mime, opus.bitrate) == ("audio.opus", "audio/ogg", 24_000)
    with av.open(str(mp3.path)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.bit_rate, stream.channels) == (48_000, 1)
        # CBR: at 24 kHz every 48 kbps MPEG-2 layer III frame is exactly 144 bytes
        assert {p.size for p in container.demux(stream) if p.size} == {144}
    info = soundfile.info(opus.path)
    assert (info.format, info.subtype, info.channels) == ("OGG", "OPUS", 1)
    assert opus.bytes * 8 / opus.duration == pytest.approx(24_000, rel=0.25)
    check_aac(kinds["aac"])


def check_aac(aac: renditions.Rendition) -> None:
    """The data saver iPhones play: AAC-LC in a fast-start M4A, mono, small."""
    assert (aac.path.name, aac.mime, aac.bitrate, aac.sample_rate) == (
        "audio.m4a",
        "audio/mp4",
        22_000,
        24_000,
    )
    tags = mutagen.File(aac.path)  # another reader than the muxer that wrote it
    assert isinstance(tags, mutagen.mp4.MP4)
    assert (tags.info.codec, tags.info.codec_description) == ("mp4a.40.2", "AAC LC")
    assert (tags.info.channels, tags.info.sample_rate) == (1, 24_000)
    with av.open(str(aac.path)) as container:
        assert container.format.name.startswith("mov,mp4,m4a")
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.channels) == ("aac", 1)
    head = aac.path.read_bytes()[:4096]  # fast start: the index comes before the audio
    assert head[4:8] == b"ftyp" and b"moov" in head
    # A short clip carries the M4A's fixed headers (under 1 kB) that an hour spreads thin;
    # the index's 4 bytes a frame, which grow with the length, stay in the figure.
    per_hour = (aac.bytes - 1_000) / aac.duration * 3600
    assert per_hour <= SAVER_BYTES_PER_HOUR, f"{per_hour / 1e6:.2f} MB an hour"


@pytest.mark.parametrize("suffix", FORMATS)
def test_each_format_renders(tmp_path: Path, suffix: str) -> None:
    src = convert(JFK, tmp_path / f"speech.{suffix}")
    result = renditions.render(src, tmp_path / "out")
    check_renditions(result, 11.0)
    assert result.duration == pytest.approx(11.0, abs=0.1)
    assert result.after.integrated_lufs == pytest.approx(-16.0, abs=0.5)


@pytest.mark.parametrize("level", ["quiet", "peaks-at-full-scale", "clipped"])
def test_quiet_and_hot_speech_land_on_target(tmp_path: Path, level: str) -> None:
    x = decode_mono(LJ, 22_050)
    if level == "quiet":
        x = x * 10 ** (-30 / 20)
    elif level == "peaks-at-full-scale":  # studio speech, high crest: needs the limiter
        x = x / np.abs(x).max()
    else:  # boosted 20 dB into the rails
        x = np.clip(x * 10, -1.0, 1.0)
    src = tmp_path / "speech.wav"
    soundfile.write(src, x, 22_050, subtype="PCM_16")
    result = renditions.render(src, tmp_path / "out")
    expected = pyloudnorm.Meter(22_050).integrated_loudness(x.astype(np.float64))
    assert result.before.integrated_lufs == pytest.approx(expected, abs=0.5)
    check_renditions(result, 9.655)


def test_overshooting_rendition_is_encoded_again_until_it_holds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The limiter aimed 1 dB *above* the ceiling: both renditions come out over -1 dBTP
    # and must be measured and encoded again, with dips where they overshoot.
    x = decode_mono(LJ, 22_050)
    src = tmp_path / "speech.wav"
    soundfile.write(src, x / np.abs(x).max(), 22_050, subtype="PCM_16")
    caplog.set_level(logging.INFO, logger="radio.media.renditions")
    result = renditions.render(src, tmp_path / "out", codec_headroom_db=-1.0)
    assert result.repairs >= 1
    for kind in ("mp3", "opus", "aac"):
        assert f"{kind} passes -1.0 dBTP" in caplog.text
    check_renditions(result, 9.655)
    for r in result.renditions:
        assert renditions.find_overshoots(r.path, -1.0) == []


def test_find_overshoots_points_at_the_loud_moment(tmp_path: Path) -> None:
    rate = 24_000
    t = np.arange(4 * rate) / rate
    x = 0.3 * np.sin(2 * np.pi * 300 * t)
    x[int(2.5 * rate) : int(2.6 * rate)] *= 3.2  # 0.96: -0.35 dBFS for 0.1 s at 2.5 s
    src = tmp_path / "tone.wav"
    soundfile.write(src, x, rate, subtype="FLOAT")
    (over,) = renditions.find_overshoots(src, -1.0)
    assert over.start == pytest.approx(2.5, abs=0.01) and over.end == pytest.approx(2.6, abs=0.01)
    assert over.true_peak_dbtp == pytest.approx(-0.35, abs=0.1)


def test_silence_gets_no_gain(tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    soundfile.write(src, np.zeros(3 * 16_000), 16_000, subtype="PCM_16")
    result = renditions.render(src, tmp_path / "out")
    assert result.before.integrated_lufs == float("-inf")
    assert result.after.integrated_lufs == float("-inf")
    x, _ = soundfile.read(result.renditions[0].path)
    assert np.abs(x).max() < 1e-3
    assert max(json.loads(result.peaks_path.read_text())["peaks"]) == 0.0


def test_render_reports_progress_and_shows_only_complete_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "audio.mp3.part").write_bytes(b"left by a crash")
    (out / "peaks.json.part").write_text("{")
    calls: list[tuple[float, float]] = []

    def progress(done: float, total: float) -> None:
        calls.append((done, total))
        finals = {"audio.mp3", "audio.opus", "audio.m4a", "peaks.json"} & {
            p.name for p in out.iterdir()
        }
        assert not finals, f"{finals} visible before the render finished"

    result = renditions.render(LJ, out, progress=progress)
    assert sorted(p.name for p in out.iterdir()) == [
        "audio.m4a",
        "audio.mp3",
        "audio.opus",
        "peaks.json",
    ]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    done, total = calls[-1]
    assert total == pytest.approx(2 * 9.655, abs=0.1) and done == pytest.approx(total, abs=0.1)
    assert result.peaks_path == out / "peaks.json"


def test_peaks_are_small_and_scaled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peaks = json.loads(renditions.render(JFK, tmp_path / "a").peaks_path.read_text())
    assert peaks["duration"] == pytest.approx(11.0, abs=0.05)
    assert len(peaks["peaks"]) == pytest.approx(11.0 * renditions.PEAKS_PER_SECOND, abs=1)
    assert all(0.0 <= p <= 1.0 for p in peaks["peaks"]) and max(peaks["peaks"]) > 0.3
    monkeypatch.setattr(renditions, "MAX_PEAKS", 3)  # long shows: the count is capped
    short = DATA / "LJ001-0002.wav"  # 1.9 s
    capped = json.loads(renditions.render(short, tmp_path / "b").peaks_path.read_text())
    assert len(capped["peaks"]) <= 3
