"""The real ``radio`` command on a fresh data folder."""

import json

import click
import pytest

from radio.cli import main
from radio.cli.episodes import parse_clock
from tests.conftest import clip
from tests.webserver import write_transcript


def all_commands():
    return sorted(main.commands)


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help_with_an_example(runner, name):
    result = runner(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


def test_init_creates_the_data_folder(runner, home):
    result = runner("init")
    assert result.exit_code == 0, result.output
    assert (home / "archive.db").exists() and (home / "media" / "originals").is_dir()


def test_ingest_wait_processes_and_reports_what_was_made(runner, home):
    result = runner(
        "ingest",
        str(clip("jfk.flac")),
        "--show",
        "Morning Talk",
        "--title",
        "Water committee",
        "--recorded-at",
        "2026-11-02",
        "--wait",
    )
    assert result.exit_code == 0, result.output
    assert "Added" in result.output and "ready" in result.output
    assert "audio.mp3" in result.output and "48 kbps" in result.output
    status = runner("status", "1", "--json")
    data = json.loads(status.output)
    assert data["status"] == "ready" and data["title"] == "Water committee"
    assert {r["kind"] for r in data["renditions"]} == {"mp3", "opus", "aac"}
    for r in data["renditions"]:
        assert set(r) >= {"kind", "path", "bytes", "bitrate", "mime"}
        assert (home / "media" / r["path"]).stat().st_size == r["bytes"]
    assert data["loudness_before"] is not None and data["duration"] > 10


def test_ingest_refuses_bad_files_and_exits_1(runner, tmp_path):
    bad = tmp_path / "readme.wav"
    bad.write_text("not audio")
    good = clip("LJ001-0002.wav")
    result = runner("ingest", str(bad), str(good))
    assert result.exit_code == 1
    assert "Refused readme.wav" in result.output
    assert "Added" in result.output  # the good one still went in


def test_ingest_without_wait_queues(runner):
    result = runner("ingest", str(clip("LJ001-0002.wav")))
    assert result.exit_code == 0, result.output
    data = json.loads(runner("status", "--json").output)
    assert [e["status"] for e in data] == ["queued"]


def test_one_title_for_several_files_numbers_them(runner):
    files = [str(clip(f"LJ001-000{i}.wav")) for i in (2, 3, 4)]
    result = runner("ingest", *files, "--title", "Water committee")
    assert result.exit_code == 0, result.output
    titles = sorted(e["title"] for e in json.loads(runner("status", "--json").output))
    assert titles == [f"Water committee ({i} of 3)" for i in (1, 2, 3)]


def test_status_of_unknown_episode(runner):
    runner("init")
    result = runner("status", "42")
    assert result.exit_code == 1 and "Episode 42 doesn't exist" in result.output


def test_clip_writes_a_short_mp3(runner, tmp_path):
    runner("ingest", str(clip("jfk.flac")), "--wait")
    out = tmp_path / "clip.mp3"
    result = runner("clip", "1", "--from", "0:02", "--to", "0:06", "-o", str(out))
    assert result.exit_code == 0, result.output
    import av

    with av.open(str(out)) as f:
        assert abs(f.duration / 1e6 - 4.0) < 0.15


def test_retry_of_failed_episode(runner, home):
    runner("ingest", str(clip("LJ001-0002.wav")))
    original = next((home / "media" / "originals").rglob("*.wav"))
    original.rename(original.with_suffix(".gone"))
    assert runner("retry", "1", "--wait").exit_code == 1
    assert "missing" in json.loads(runner("status", "1", "--json").output)["error"]
    original.with_suffix(".gone").rename(original)
    result = runner("retry", "1", "--wait")
    assert result.exit_code == 0, result.output


def test_parse_clock():
    assert parse_clock("12:30") == 750
    assert parse_clock("1:02:03") == 3723
    assert parse_clock("75.5") == 75.5
    with pytest.raises(click.BadParameter):
        parse_clock("noon")


def test_search_finds_a_word_said_in_a_real_recording_at_its_second(runner, monkeypatch):
    # End to end on the device: ingest, transcribe with the bundled tiny.en, search.
    # In jfk.flac "country" is said twice: "what your country" (about 5.5-6.2 s, by ear)
    # and, last, "for your country" (about 9.8-10.6 s).
    monkeypatch.setenv("RADIO_TRANSCRIBE", "true")
    runner("ingest", str(clip("LJ001-0001.wav")), "--title", "Printing", "--wait")
    assert runner("ingest", str(clip("jfk.flac")), "--title", "Inaugural", "--wait").exit_code == 0
    result = runner("search", "country", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [e["title"] for e in data["episodes"]] == ["Inaugural"]
    times = sorted(h["time"] for h in data["episodes"][0]["hits"])
    assert abs(times[0] - 5.8) < 1.0
    assert abs(times[-1] - 10.2) < 1.0
    plain = runner("search", "country")
    assert "0:05" in plain.output or "0:06" in plain.output


def test_retranscribe_wait_and_what_it_refuses(runner):
    # Ingested without a transcript (RADIO_TRANSCRIBE=false); transcribing again gives one.
    assert runner("ingest", str(clip("jfk.flac")), "--wait").exit_code == 0
    bad = runner("retranscribe", "1", "--model", "nosuch")
    assert bad.exit_code == 1
    assert "No installed Whisper model is called 'nosuch'" in bad.output
    assert "tiny.en" in bad.output and "Traceback" not in bad.output
    wrong = runner("retranscribe", "1", "--language", "klingon")
    assert wrong.exit_code == 1 and "isn't a language code" in wrong.output
    missing = runner("retranscribe", "1", "7", "--wait")
    assert missing.exit_code == 1 and "Episode 7 doesn't exist" in missing.output
    assert "new transcript by" in missing.output  # episode 1 was done all the same
    data = json.loads(runner("status", "1", "--json").output)
    assert data["status"] == "ready" and data["segments"] == 2
    found = json.loads(runner("search", "country", "--json").output)
    assert [e["title"] for e in found["episodes"]] == ["jfk"]
    queued = runner("retranscribe", "1", "--language", "en-GB")
    assert queued.exit_code == 0 and "queued" in queued.output


def test_ingest_licence_then_the_stations_and_both_in_status_and_json(runner, db, monkeypatch):
    given = runner("ingest", str(clip("jfk.flac")), "--licence", "CC BY-SA")
    assert given.exit_code == 0, given.output
    monkeypatch.setenv("RADIO_LICENCE", "all-rights-reserved")
    assert runner("ingest", str(clip("LJ001-0002.wav"))).exit_code == 0
    refused = runner("ingest", str(clip("LJ001-0001.wav")), "--license", "GPL")
    assert refused.exit_code == 1 and "'GPL' is not a licence" in refused.output
    data = json.loads(runner("status", "--json").output)
    assert [e["licence"] for e in data] == ["all-rights-reserved", "cc-by-sa"]  # newest first
    assert "licence:  CC BY-SA 4.0" in runner("status", "1").output
    write_transcript(db, 1, minutes=0.1)
    transcript = json.loads(runner("transcript", "1", "--format", "json").output)
    assert transcript["license"]["identifier"] == "cc-by-sa-4.0"
