"""radio.jobs.language's hold for no speech (#13): a recording in which transcription found
no speech at all stays a draft with a "No speech found" note, never an empty public episode.
(The language rule itself is tested with the transcribe step, in test_jobs_steps.py.)"""

from __future__ import annotations

from radio.data import episodes
from radio.data.episodes import Visibility, get_episode
from radio.jobs.language import NO_SPEECH, Heard, review_speech
from tests.archive import as_segment


def test_no_speech_at_all_holds_the_episode_with_a_clear_note(db, seed):
    silent = seed.episode("Three hours of nothing", loudness_before=None)
    note = review_speech(db, silent, Heard())
    row = get_episode(db, silent)
    assert note is not None and note.startswith(NO_SPEECH)
    assert "the recording is silent" in note
    assert (row.visibility, row.held_visibility, row.review_note) == ("draft", "public", note)
    assert row.under_review and not row.is_public


def test_sound_without_words_is_held_too_and_says_so(db, seed):
    music = seed.episode("Music hour", loudness_before=-14.0, visibility=Visibility.PRIVATE)
    note = review_speech(db, music, Heard())
    row = get_episode(db, music)
    assert "heard no words" in note and "publish it as it is" in note
    assert row.visibility == Visibility.PRIVATE and row.review_note == note  # stays private


def test_speech_is_not_held(db, seed):
    talk = seed.episode("Morning talk")
    heard = Heard()
    list(heard.count([as_segment((0.0, 2.0, "Good morning"))]))
    assert review_speech(db, talk, heard) is None
    assert get_episode(db, talk).is_public
    # segments an earlier, cut-off run saved are speech too
    assert review_speech(db, talk, Heard(before=3)) is None


def test_an_editor_who_publishes_ends_the_hold(db, seed):
    silent = seed.episode("Silence", loudness_before=None)
    review_speech(db, silent, Heard())
    episodes.end_review(db, silent)
    assert get_episode(db, silent).is_public


def test_listeners_never_see_a_held_episode(client, db, seed):
    silent = seed.episode("Hours of silence", loudness_before=None)
    review_speech(db, silent, Heard())
    guid = get_episode(db, silent).guid
    assert client.get(f"/episodes/{guid}").status_code == 404
    assert "Hours of silence" not in client.get("/").get_data(as_text=True)
    assert "Hours of silence" not in client.get("/feeds/all.xml").get_data(as_text=True)
