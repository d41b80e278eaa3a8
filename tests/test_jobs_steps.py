"""The transcribe step with the default model, Whisper base, through the real pipeline: the
language it hears is recorded and shown; an unsure language is held for an editor as a
draft with a note, not published as a guess.

Real recordings (tests/data/manifest.tsv): a Spanish reading (Multilingual LibriSpeech) and
Setswana, a language Whisper doesn't have, spoken by eSpeak NG. Base takes ~3 s a clip here,
so the module shares one archive and transcribes each clip once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import jiwer
import pytest
import sqlite_utils
from flask import Flask
from whisper_normalizer.basic import BasicTextNormalizer

from radio import create_app
from radio.data import episodes
from radio.data.episodes import Episode, Visibility, get_episode
from radio.data.transcripts import load_segments
from radio.db import connect, database_path
from radio.jobs.language import (
    LANGUAGE_SURE,
    WORDS_SURE,
    Heard,
    language_doubt,
    review_language,
)
from tests.archive import Seeder
from tests.audiofiles import convert
from tests.conftest import DATA, AuthActions, clip, settings
from transcription.segments import Segment, TranscriptInfo, Word

SPANISH = "13697_11991_000000.opus"
SETSWANA = "setswana-espeak-ng.opus"
normalise = BasicTextNormalizer()


@pytest.fixture(scope="module")
def base_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    home = tmp_path_factory.mktemp("home")
    # Named, as a station names it; the default install's default (tests pin tiny.en).
    return create_app(settings(home, TRANSCRIBE=True, WHISPER_MODEL="base"))


@pytest.fixture(scope="module")
def base_db(base_app: Flask) -> Iterator[sqlite_utils.Database]:
    db = connect(database_path(base_app))
    yield db
    db.conn.close()


@pytest.fixture(scope="module")
def seeded(base_app: Flask, base_db: sqlite_utils.Database) -> Seeder:
    return Seeder(base_app, base_db)


@pytest.fixture(scope="module")
def spanish(seeded: Seeder) -> Episode:
    return seeded.recording(clip(SPANISH), title="Persuasión")


@pytest.fixture(scope="module")
def setswana(seeded: Seeder) -> Episode:
    return seeded.recording(clip(SETSWANA), title="Dumelang", show="Mmuso wa Batho")


@pytest.fixture
def editor(base_app: Flask):  # noqa: ANN201 - FlaskClient
    client = base_app.test_client()
    AuthActions(base_app, client).login("amina", "editor")
    return client


def reference(name: str) -> str:
    with (DATA / "manifest.tsv").open(encoding="utf-8") as fh:
        return next(r["reference"] for r in csv.DictReader(fh, delimiter="\t") if r["path"] == name)


def heard(db: sqlite_utils.Database, episode: Episode) -> str:
    return " ".join(s.text for s in load_segments(db, episode.id))


def test_spanish_is_transcribed_in_spanish_by_default(spanish, base_app, base_db) -> None:
    assert spanish.status == "ready" and spanish.transcript_model == "base"
    assert (spanish.transcript_language, spanish.language) == ("es", "es")
    assert spanish.language_hint is None and spanish.language_probability >= LANGUAGE_SURE
    assert spanish.visibility == Visibility.PUBLIC and spanish.review_note is None
    text = heard(base_db, spanish)
    error = jiwer.wer(normalise(reference(SPANISH)), normalise(text))
    assert error < 0.3, text  # 0.21 measured: names (Wentworth) and run-together words
    page = base_app.test_client().get(f"/episodes/{spanish.guid}").get_data(as_text=True)
    assert f"Spanish (detected, {spanish.language_probability:.0%} sure)" in page
    assert "sorpresa" in page


def test_a_language_whisper_lacks_is_held_not_published(setswana, base_app, base_db, editor):
    assert setswana.status == "ready" and setswana.transcript_model == "base"
    assert setswana.language_probability < LANGUAGE_SURE  # it named some language, unsure
    assert setswana.language is None  # the guess is not kept where a hint would be
    assert setswana.visibility == Visibility.DRAFT
    assert setswana.held_visibility == Visibility.PUBLIC  # as the uploader asked, for later
    note = setswana.review_note
    assert note.startswith("The language sounded like ") and "% sure" in note
    assert note.endswith("set the language and transcribe it again (or publish it as it is).")
    # Whatever Whisper wrote is kept for editors, and listeners see none of it.
    assert heard(base_db, setswana)
    listener = base_app.test_client()
    assert listener.get(f"/episodes/{setswana.guid}").status_code == 404
    assert setswana.guid not in listener.get("/feeds/all.xml").get_data(as_text=True)
    assert "Dumelang" not in listener.get("/").get_data(as_text=True)
    # Editors read why, where they follow an upload and on the episode.
    progress = editor.get(f"/episodes/{setswana.guid}/progress").get_data(as_text=True)
    assert "Held back from listeners as a draft: The language sounded like" in progress
    page = editor.get(f"/episodes/{setswana.guid}").get_data(as_text=True)
    assert "Held back from listeners: The language sounded like" in page


def test_a_given_language_is_used_and_shown(seeded, base_app, tmp_path) -> None:
    # Other bytes of the same reading (a duplicate would give back the first episode).
    wav = convert(clip(SPANISH), tmp_path / "lectura.wav")
    hinted = seeded.recording(wav, title="Lectura", language="es")
    assert (hinted.language_hint, hinted.transcript_language) == ("es", "es")
    assert hinted.language_probability is None  # given, not detected
    assert hinted.visibility == Visibility.PUBLIC and hinted.review_note is None
    page = base_app.test_client().get(f"/episodes/{hinted.guid}").get_data(as_text=True)
    assert "Spanish (as given)" in page


def test_a_sure_transcription_ends_the_hold(setswana, base_db) -> None:
    # What an editor's fix ends in (a language set, transcribed again: Whisper has no
    # Setswana, so here a sure outcome in Swahili) gives back the visibility held back.
    sure = TranscriptInfo("sw", 1.0, 17.4, "base", ())
    said = Heard()
    list(said.count([segment(0.9)]))
    assert review_language(base_db, setswana.id, sure, said, hint="sw", detected=False) is None
    again = get_episode(base_db, setswana.id)
    assert again.visibility == Visibility.PUBLIC and again.review_note is None
    assert (again.language_hint, again.held_visibility) == ("sw", None)
    assert again.language_label == again.hint_label == "Swahili"


def segment(probability: float, words: int = 4) -> Segment:
    return Segment(
        0.0, 2.0, "w " * words, tuple(Word(0, 1, "w", probability) for _ in range(words))
    )


@pytest.mark.parametrize(
    ("probability", "word_probability", "words", "held"),
    [
        (0.98, 0.85, 40, None),  # Spanish read aloud: sure of both
        (0.42, 0.85, 40, "like Spanish (es, 42% sure); set the language"),
        (LANGUAGE_SURE, WORDS_SURE, 40, None),  # the thresholds themselves pass
        (0.82, 0.40, 40, "but its words came out unsure (40% on average)"),
        (0.82, 0.0, 0, "but no words came out of it"),  # heard clearly, wrote nothing
        (0.30, 0.0, 0, None),  # music or noise: nothing named clearly, nothing written
        (0.0, 0.0, 0, None),  # no speech at all
        (0.0, 0.9, 10, "No speech came early enough to tell the language"),
    ],
)
def test_when_a_detected_language_is_doubted(probability, word_probability, words, held) -> None:
    said = Heard()
    list(said.count([segment(word_probability, words)] if words else []))
    note = language_doubt(TranscriptInfo("es", probability, 60.0, "base", ()), said)
    assert (note is None) if held is None else (held in note), note


def test_a_hold_keeps_what_the_uploader_chose(base_db, seeded) -> None:
    private = seeded.episode("Private call", visibility=Visibility.PRIVATE)
    episodes.hold_for_review(base_db, private, "unsure")
    row = get_episode(base_db, private)
    assert (row.visibility, row.held_visibility, row.review_note) == ("private", None, "unsure")
    episodes.end_review(base_db, private)
    assert get_episode(base_db, private).visibility == Visibility.PRIVATE
    public = seeded.episode("Morning talk")
    episodes.hold_for_review(base_db, public, "unsure")
    base_db["episodes"].update(public, {"visibility": Visibility.PRIVATE})  # an editor's call
    episodes.end_review(base_db, public)
    row = get_episode(base_db, public)
    assert (row.visibility, row.review_note, row.held_visibility) == ("private", None, None)


def test_nothing_heard_names_no_language(base_db, seeded) -> None:
    # Music, or a language Whisper lacks heard unsurely: no words were written, so nothing
    # was invented and nothing is held; the name it guessed is not shown either.
    music = seeded.episode("Music hour", language=None)
    unsure = TranscriptInfo("th", 0.3, 60.0, "base", ())
    assert review_language(base_db, music, unsure, Heard(), hint=None, detected=True) is None
    row = get_episode(base_db, music)
    assert (row.transcript_language, row.language, row.language_probability) == (None, None, 0.3)
    assert row.visibility == Visibility.PUBLIC and row.language_label is None
