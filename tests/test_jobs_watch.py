"""The drop folder: files taken in only once complete, moved to done/ or failed/ with why,
a subfolder's show and the .radio.toml defaults applied (radio.jobs.watch, radio watch)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest
from flask import Flask

from radio import create_app
from radio.data.episodes import find_by_source, get_episode
from radio.jobs import watch
from tests.conftest import clip, settings

LJ = clip("LJ001-0001.wav")
JFK = clip("jfk.flac")


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def looks(folder: watch.DropFolder, n: int) -> list[watch.Outcome]:
    return [outcome for _ in range(n) for outcome in folder.poll()]


def test_a_file_being_copied_is_taken_only_once_complete(app: Flask, db, drop: Path) -> None:
    folder = watch.DropFolder(drop, watch.ingester(app), settle_polls=1000)
    whole = LJ.read_bytes()
    target = drop / "interview.wav"
    quarter = len(whole) // 4
    for chunk in (whole[:quarter], whole[quarter : 2 * quarter]):  # copied in chunks
        with target.open("ab") as f:
            f.write(chunk)
        assert folder.poll() == []
    # a copy that stalls half-way: unchanged, but its header promises more than is there
    assert looks(folder, 3) == []
    assert folder.waiting() == [target]
    with target.open("ab") as f:
        f.write(whole[2 * quarter :])
    assert folder.poll() == []  # it changed since the last look

    (outcome,) = folder.poll()
    assert outcome.created and outcome.error is None
    assert outcome.moved_to == drop / "done" / "interview.wav"
    assert outcome.moved_to.read_bytes() == whole and not target.exists()
    episode = get_episode(db, outcome.episode_id)
    assert episode.source_sha256 == hashlib.sha256(whole).hexdigest()  # never half a file
    assert episode.status == "queued"
    assert folder.poll() == [] and folder.waiting() == []


def test_a_show_folder_and_the_radio_toml_defaults(app: Flask, db, drop: Path) -> None:
    (drop / ".radio.toml").write_text('language = "en"\nvisibility = "draft"\nlicence = "CC BY"\n')
    show = drop / "Morning Talk"
    show.mkdir()
    (show / ".radio.toml").write_text(
        'visibility = "private"\ndescription = "From the van"\nlicense = "CC BY-NC 4.0"\n'
    )
    shutil.copy(LJ, drop / "loose.wav")
    shutil.copy(JFK, show / "call.flac")
    folder = watch.DropFolder(drop, watch.ingester(app))

    outcomes = {o.source.name: o for o in looks(folder, 2)}

    assert set(outcomes) == {"loose.wav", "call.flac"}
    call = get_episode(db, outcomes["call.flac"].episode_id)
    assert (call.show_title, call.language) == ("Morning Talk", "en")  # the folder, the parent
    assert (call.visibility, call.description) == ("private", "From the van")  # its own file
    assert call.licence == "cc-by-nc"  # its own file's, spelt the American way
    assert outcomes["call.flac"].moved_to == show / "done" / "call.flac"
    loose = get_episode(db, outcomes["loose.wav"].episode_id)
    assert (loose.show_title, loose.language, loose.visibility) == (None, "en", "draft")
    assert loose.licence == "cc-by"  # "CC BY" in DIR/.radio.toml
    assert (drop / "done" / "loose.wav").exists()


def test_an_unknown_licence_in_the_settings_refuses_the_files_naming_the_file(
    app: Flask, db, drop: Path
) -> None:
    (drop / ".radio.toml").write_text('licence = "GPL"\n')
    shutil.copy(JFK, drop / "news.flac")
    folder = watch.DropFolder(drop, watch.ingester(app))

    (outcome,) = looks(folder, 2)

    assert outcome.episode_id is None and db["episodes"].count == 0
    note = (drop / "failed" / "news.flac.error.txt").read_text()
    assert str(drop / ".radio.toml") in note and "'GPL' is not a licence" in note
    assert "cc-by-sa" in note and "fix the settings file" in note


def test_a_bad_file_goes_to_failed_with_why_and_what_to_do(app: Flask, db, drop: Path) -> None:
    (drop / "notes.mp3").write_text("Agenda: water committee, Tuesday.\n" * 40)
    shutil.copy(LJ, drop / "show.wav")
    shutil.copy(LJ, drop / "again.wav")  # the same bytes twice: one episode
    folder = watch.DropFolder(drop, watch.ingester(app), settle_polls=2)

    outcomes = {o.source.name: o for o in looks(folder, 3)}

    refused = outcomes["notes.mp3"]
    assert refused.error and refused.episode_id is None
    assert refused.moved_to == drop / "failed" / "notes.mp3"
    note = (drop / "failed" / "notes.mp3.error.txt").read_text()
    assert "was not added" in note and f"Why: {refused.error}" in note
    assert "move it back into" in note and "Traceback" not in note
    first, second = outcomes["again.wav"], outcomes["show.wav"]
    assert first.episode_id == second.episode_id and first.created != second.created
    assert sorted(p.name for p in (drop / "done").iterdir()) == [
        "again.wav",
        "again.wav.receipt.txt",  # the contribution's receipt; the duplicate gets none
        "show.wav",
    ]
    assert find_by_source(db, sha256(LJ)) is not None


def test_unreadable_settings_refuse_the_files_and_say_which_file(app: Flask, drop: Path) -> None:
    show = drop / "Evening News"
    show.mkdir()
    (show / ".radio.toml").write_text('visiblity = "private"\n')  # misspelt: must not publish
    shutil.copy(JFK, show / "news.flac")
    folder = watch.DropFolder(drop, watch.ingester(app))

    (outcome,) = looks(folder, 2)

    assert outcome.episode_id is None and "visiblity" in (outcome.error or "")
    assert str(show / ".radio.toml") in (show / "failed" / "news.flac.error.txt").read_text()


def test_radio_watch_once(runner, home: Path, drop: Path) -> None:
    shutil.copy(JFK, drop / "jfk.flac")
    result = runner("watch", str(drop), "--once", "--interval", "0.1")
    assert result.exit_code == 0, result.output
    assert "Added jfk.flac as episode 1" in result.output
    assert (drop / "done" / "jfk.flac").exists()


def test_start_watching_watches_the_configured_folder(home: Path, drop: Path) -> None:
    app = create_app(settings(home, WATCH_DIR=str(drop), WATCH_POLL_SECONDS=0.05))
    assert watch.start_watching(create_app(settings(home))) is None  # no WATCH_DIR: no thread
    thread = watch.start_watching(app)
    assert thread is not None
    try:
        shutil.copy(JFK, drop / "jfk.flac")
        deadline = time.monotonic() + 60
        while not (drop / "done" / "jfk.flac").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()  # type: ignore[attr-defined]
        thread.join(10)
    assert (drop / "done" / "jfk.flac").exists()
