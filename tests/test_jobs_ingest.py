"""Every accepted format takes real speech in; every bad input is refused and leaves nothing."""

import dataclasses
from pathlib import Path

import av
import numpy as np
import pytest

from radio import create_app
from radio.data.episodes import get_episode
from radio.data.shows import get_or_create_show, set_show_licence
from radio.db import connect, database_path
from radio.jobs.ingest import IngestError, Limits, Metadata, ingest_file, parse_recorded_at
from tests.audiofiles import FORMATS, convert, write_pcm
from tests.conftest import clip, settings

LIMITS = Limits(min_seconds=1.0, max_seconds=6 * 3600.0, max_bytes=50 * 1024 * 1024)


def leftovers(home: Path) -> list[Path]:
    media = home / "media"
    return [p for p in media.rglob("*") if p.is_file()]


def ingest(db, home, path, limits=LIMITS, **meta):
    queued = []
    result = ingest_file(db, home, path, Metadata(**meta), limits, enqueue=queued.append)
    return result, queued


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_every_format_takes_real_speech_in(app, db, home, tmp_path, ext):
    src = convert(clip("LJ001-0001.wav"), tmp_path / f"printing.{ext}")
    result, queued = ingest(db, home, src, show="Book Club", recorded_at="2026-11-02")
    assert result.created and queued == [result.episode_id]
    row = db["episodes"].get(result.episode_id)
    assert row["status"] == "queued"
    assert row["title"] == "printing"
    assert abs(row["duration"] - 9.655) < 0.1
    assert row["recorded_at"] == "2026-11-02"
    stored = home / "media" / row["source_path"]
    assert stored.read_bytes() == src.read_bytes()
    assert stored.name == f"{row['source_sha256']}.{ext}"
    assert db["shows"].get(row["show_id"])["slug"] == "book-club"


def test_same_bytes_twice_give_back_the_same_episode(app, db, home, copy_clip):
    first, _ = ingest(db, home, copy_clip("jfk.flac"))
    second, queued = ingest(db, home, copy_clip("jfk.flac", "renamed.flac"), title="Other")
    assert not second.created and second.episode_id == first.episode_id
    assert queued == []
    assert db["episodes"].count == 1
    assert len(leftovers(home)) == 1


def refused(db, home, path, match, limits=LIMITS):
    with pytest.raises(IngestError, match=match) as info:
        ingest(db, home, path, limits)
    assert path.name in str(info.value)
    assert leftovers(home) == [], "a refused file left something in the media folder"
    assert db["episodes"].count == 0
    return info.value


def test_text_renamed_wav_is_refused(app, db, home, tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("Meeting notes: the water committee meets on Tuesday.\n" * 20)
    refused(db, home, path, "isn.t an audio file")


def test_zero_byte_file_is_refused(app, db, home, tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    refused(db, home, path, "empty")


def test_truncated_mp3_is_refused(app, db, home, tmp_path):
    whole = convert(clip("LJ001-0001.wav"), tmp_path / "whole.mp3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 10])
    refused(db, home, cut, "cut off|truncated|incomplete")


def test_file_without_audio_stream_is_refused(app, db, home, tmp_path):
    path = tmp_path / "slides.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(20):
            img = np.full((64, 64, 3), i * 10, dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    refused(db, home, path, "no sound in it")


def test_too_short_is_refused(app, db, home, tmp_path):
    with av.open(str(clip("jfk.flac"))) as f:
        pcm = np.concatenate([fr.to_ndarray().ravel() for fr in f.decode(audio=0)])
    half_second = write_pcm(tmp_path / "blip.wav", pcm[:8000] / 32768.0, rate=16000)
    refused(db, home, half_second, "0.5 s long")


def test_too_long_is_refused_with_how_to_fix(app, db, home, copy_clip):
    short_limit = Limits(min_seconds=1.0, max_seconds=5.0, max_bytes=None)
    error = refused(db, home, copy_clip("jfk.flac"), "over the limit", limits=short_limit)
    assert "MAX_DURATION_HOURS" in str(error)


def test_over_the_size_limit_is_refused(app, db, home, copy_clip):
    tiny = Limits(max_bytes=100_000)
    refused(db, home, copy_clip("jfk.flac"), "larger than the limit", limits=tiny)


def test_bad_date_is_refused_before_anything_is_stored(app, db, home, copy_clip):
    with pytest.raises(IngestError, match="YYYY-MM-DD"):
        ingest(db, home, copy_clip("jfk.flac"), recorded_at="next tuesday")
    assert leftovers(home) == []


def test_missing_file(app, db, home, tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        ingest(db, home, tmp_path / "nope.mp3")


def test_dates():
    assert parse_recorded_at("2026-11-02") == "2026-11-02"
    assert parse_recorded_at("2026-11-02T18:30") == "2026-11-02T18:30"
    assert parse_recorded_at("2026-11-02T18:30:00+03:00") == "2026-11-02T15:30"


def test_the_licence_given_is_stored_as_its_code(app, db, home, copy_clip):
    result, _ = ingest(db, home, copy_clip("jfk.flac"), licence="CC BY-NC 4.0")
    assert get_episode(db, result.episode_id).licence == "cc-by-nc"


def test_without_a_licence_the_shows_comes_first_then_the_stations(app, db, home, copy_clip):
    station = dataclasses.replace(LIMITS, licence="cc-by")
    morning = get_or_create_show(db, "Morning Talk")
    set_show_licence(db, morning, "all-rights-reserved")
    of_show, _ = ingest(db, home, copy_clip("jfk.flac"), station, show="Morning Talk")
    loose, _ = ingest(db, home, copy_clip("LJ001-0001.wav"), station)
    given, _ = ingest(db, home, copy_clip("LJ001-0002.wav"), station, licence="cc0")
    unstated, _ = ingest(db, home, copy_clip("61-70968-0000.flac"))  # no LICENCE in config
    licence = {r: get_episode(db, r.episode_id).licence for r in (of_show, loose, given, unstated)}
    assert licence == {
        of_show: "all-rights-reserved",
        loose: "cc-by",
        given: "cc0",
        unstated: None,
    }


def test_the_stations_licence_comes_from_config(home, copy_clip):
    app = create_app(settings(home, LICENCE="CC BY-SA"))
    db = connect(database_path(app))
    try:
        result, _ = ingest(db, home, copy_clip("jfk.flac"), Limits.from_config(app.config))
        assert get_episode(db, result.episode_id).licence == "cc-by-sa"
    finally:
        db.conn.close()


def test_an_unknown_licence_is_refused_before_anything_is_stored(app, db, home, copy_clip):
    with pytest.raises(IngestError, match="'GPL' is not a licence.*cc-by-sa"):
        ingest(db, home, copy_clip("jfk.flac"), licence="GPL")
    assert leftovers(home) == [] and db["episodes"].count == 0
