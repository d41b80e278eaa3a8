"""The speakers table (radio.data.speakers): rows and voices, renames that rewrite the
transcript, merging two labels that are one person, the named voices of a show, suggested
names, and a transcript given its speakers in one transaction."""

from __future__ import annotations

import numpy as np
import pytest
import sqlite_utils

from radio.data import speakers as sp
from radio.data.edits import edit_segments
from radio.data.speakers import Relabelled, Speaker, SpeakerError, SpeakerNotFound
from radio.data.transcripts import load_segments, transcript_lines
from radio.data.users import add_user
from tests.archive import timed_words
from transcription.segments import Segment


def unit(*values: float) -> np.ndarray:
    v = np.zeros(256, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def said(start: float, text: str, speaker: str | None) -> Segment:
    """A segment whose words last half a second each, as the transcriber gives them."""
    words = text.split()
    timed = [(start + 0.5 * i, start + 0.5 * (i + 1), f" {w}") for i, w in enumerate(words)]
    return Segment(start, start + 0.5 * len(words), text, timed_words(timed), speaker)


@pytest.fixture
def call(seed) -> int:  # noqa: ANN001
    """A group call of the show Morning Talk: Speaker 2 talks first, then 1, then 2, then 3."""
    return seed.episode(
        "Water committee",
        [
            said(0.0, "Welcome to the water committee", "Speaker 2"),
            said(4.0, "Thank you the borehole is dry", "Speaker 1"),
            said(8.0, "When did it stop", "Speaker 2"),
            said(12.0, "Last week after the storm", "Speaker 3"),
        ],
        show="Morning Talk",
    )


def speakers_in(db: sqlite_utils.Database, episode_id: int) -> list[str | None]:
    return [s.speaker for s in load_segments(db, episode_id)]


def test_voices_are_kept_as_float32_and_listed_in_the_order_they_first_speak(db, call):
    amina, joseph = unit(1, 0.2), unit(0.1, 1)
    sp.save_voices(
        db,
        call,
        [Speaker("Speaker 1", 30.0, amina, "Amina", 0.91), Speaker("Speaker 2", 12.5, joseph)],
    )
    rows = sp.of_episode(db, call)
    # Speaker 3 has no row (no voice was found for it) but the transcript carries it.
    assert [(r.label, r.seconds) for r in rows] == [
        ("Speaker 2", 12.5),
        ("Speaker 1", 30.0),
        ("Speaker 3", 2.5),
    ]
    assert rows[1].suggestion == "Amina" and rows[1].suggestion_score == pytest.approx(0.91)
    assert rows[1].voice.dtype == np.float32 and np.array_equal(rows[1].voice, amina)
    assert rows[2].voice is None and not rows[0].named
    stored = db.execute("select voice from speakers where label = 'Speaker 1'").fetchone()[0]
    assert stored == amina.astype("<f4").tobytes()  # 1 KB, little-endian
    sp.save_voices(db, call, [Speaker("Speaker 1", 3.0)])  # replaces the episode's rows
    assert [(r.label, r.voice) for r in sp.of_episode(db, call)][1] == ("Speaker 1", None)


def test_a_rename_rewrites_the_transcript_and_moves_the_row(db, call):
    sp.save_voices(db, call, [Speaker("Speaker 2", 12.5, unit(1), "Joseph", 0.85)])
    renamed = sp.rename(db, call, "Speaker 2", "  Amina   Njeri ")
    assert (renamed.name, renamed.segments, renamed.merged) == ("Amina Njeri", 2, False)
    assert str(renamed) == "Speaker 2 is now Amina Njeri (2 segments)."
    assert speakers_in(db, call) == ["Amina Njeri", "Speaker 1", "Amina Njeri", "Speaker 3"]
    (row,) = [r for r in sp.of_episode(db, call) if r.voice is not None]
    # Named by an editor: the suggestion is no longer a question.
    assert (row.label, row.seconds, row.suggestion, row.named) == ("Amina Njeri", 12.5, None, True)
    assert np.array_equal(row.voice, unit(1))
    again = sp.rename(db, call, "Amina Njeri", "Amina Njeri")
    assert again.segments == 0 and str(again) == "Amina Njeri is already called that."


def test_two_labels_given_one_name_become_one_speaker(db, call):
    a, b = unit(1, 0), unit(0, 1)
    sp.save_voices(db, call, [Speaker("Speaker 1", 30.0, a), Speaker("Speaker 3", 10.0, b)])
    assert not sp.rename(db, call, "Speaker 1", "Amina").merged
    merged = sp.rename(db, call, "Speaker 3", "Amina")
    assert merged.merged and merged.segments == 1
    assert "one speaker with the Amina already there" in str(merged)
    assert speakers_in(db, call) == ["Speaker 2", "Amina", "Speaker 2", "Amina"]
    rows = {r.label: r for r in sp.of_episode(db, call)}
    assert set(rows) == {"Speaker 2", "Amina"}
    assert rows["Amina"].seconds == 40.0
    expected = (30 * a + 10 * b) / np.linalg.norm(30 * a + 10 * b)  # weighted by talk time
    assert np.allclose(rows["Amina"].voice, expected, atol=1e-6)
    assert np.linalg.norm(rows["Amina"].voice) == pytest.approx(1.0, abs=1e-6)


def test_an_unknown_label_or_an_unusable_name_changes_nothing(db, call):
    with pytest.raises(SpeakerNotFound, match="Speaker 2, Speaker 1, Speaker 3"):
        sp.rename(db, call, "Speaker 9", "Amina")
    with pytest.raises(SpeakerError, match="Type a name"):
        sp.rename(db, call, "Speaker 1", "   ")
    with pytest.raises(SpeakerError, match="at most 80 characters"):
        sp.rename(db, call, "Speaker 1", "A" * 81)
    assert speakers_in(db, call) == ["Speaker 2", "Speaker 1", "Speaker 2", "Speaker 3"]


def test_a_label_without_a_row_can_be_renamed(db, call):
    # An episode transcribed before speakers were kept: its channel labels have no rows.
    renamed = sp.rename(db, call, "Speaker 3", "Joseph")
    assert renamed.segments == 1 and speakers_in(db, call)[3] == "Joseph"
    assert "Joseph" in [r.label for r in sp.of_episode(db, call)]


def test_the_named_voices_of_a_show_come_from_its_other_episodes(db, seed, call):
    later = seed.episode("Market day", [said(0, "Hello again", "Amina")], show="Morning Talk")
    other = seed.episode("Football", [said(0, "Goal", "Joseph")], show="Sports Desk")
    a1, a2, s2, j = unit(1, 0.1), unit(1, -0.3), unit(0, 1), unit(0.5, 0.5)
    sp.save_voices(db, call, [Speaker("Amina", 30.0, a1), Speaker("Speaker 2", 20.0, s2)])
    sp.save_voices(db, later, [Speaker("Amina", 10.0, a2), Speaker("Kofi", 5.0)])  # no voice
    sp.save_voices(db, other, [Speaker("Joseph", 40.0, j)])
    show_id = db.execute("select show_id from episodes where id = ?", [call]).fetchone()[0]
    third = seed.episode("Third", show="Morning Talk")
    voices = sp.named_voices_of_show(db, show_id, exclude_episode=third)
    assert set(voices) == {"Amina"}  # not "Speaker 2", nor a name without a voice
    expected = (30 * a1 + 10 * a2) / np.linalg.norm(30 * a1 + 10 * a2)
    assert np.allclose(voices["Amina"], expected, atol=1e-6)
    assert np.allclose(sp.named_voices_of_show(db, show_id, exclude_episode=call)["Amina"], a2)
    assert sp.named_voices_of_show(db, None, exclude_episode=third) == {}


def test_a_suggested_name_is_confirmed_or_dismissed(db, call):
    sp.save_voices(
        db,
        call,
        [
            Speaker("Speaker 1", 30.0, unit(1), "Amina", 0.91),
            Speaker("Speaker 2", 10.0, unit(0, 1), "Joseph", 0.82),
            Speaker("Speaker 3", 2.0, unit(1, 1)),
        ],
    )
    confirmed = sp.confirm_suggestion(db, call, "Speaker 1")
    assert str(confirmed) == "Speaker 1 is now Amina (1 segment)."
    sp.dismiss_suggestion(db, call, "Speaker 2")
    rows = {r.label: r for r in sp.of_episode(db, call)}
    assert (rows["Amina"].suggestion, rows["Speaker 2"].suggestion) == (None, None)
    assert rows["Speaker 2"].suggestion_score is None
    assert speakers_in(db, call) == ["Speaker 2", "Amina", "Speaker 2", "Speaker 3"]
    with pytest.raises(SpeakerError, match="no suggested name"):
        sp.confirm_suggestion(db, call, "Speaker 3")
    with pytest.raises(SpeakerNotFound):
        sp.dismiss_suggestion(db, call, "Speaker 7")


def test_turns_split_the_transcript_in_one_go_and_corrections_follow(app, db, seed):
    episode = seed.episode(
        "Call",
        [said(0.0, "Good morning everyone how are you", None), said(4.0, "Fine thanks", None)],
    )
    user = add_user(db, "amina", "correct horse", "editor").id
    first = transcript_lines(db, episode)[0].id
    edit_segments(db, episode, user, {first: "Good morning everyone, how are you?"})

    def relabel(segments: list[Segment]) -> Relabelled:
        one, two = segments
        host = Segment(0.0, 1.5, "Good morning everyone,", one.words[:3], "Speaker 1")
        guest = Segment(1.5, 3.0, "how are you?", one.words[3:], "Speaker 2")
        rows = [Speaker("Speaker 1", 1.5, unit(1)), Speaker("Speaker 2", 2.5, unit(0, 1))]
        return Relabelled(
            [[host, guest], [Segment(4.0, 5.0, two.text, two.words, "Speaker 1")]], rows
        )

    sp.save_turns(db, episode, relabel)
    lines = transcript_lines(db, episode)
    assert [(s.start, s.text, s.speaker) for s in lines] == [
        (0.0, "Good morning everyone,", "Speaker 1"),
        (1.5, "how are you?", "Speaker 2"),
        (4.0, "Fine thanks", "Speaker 1"),
    ]
    # The correction's history now points at the first piece of its segment.
    edited = db.execute("select segment_id from transcript_edits").fetchone()[0]
    assert edited == lines[0].id
    assert [len(s.words) for s in load_segments(db, episode)] == [3, 3, 2]
    # Search follows (the FTS index is kept by triggers).
    found = db.execute("select rowid from segments_fts where segments_fts match 'how'").fetchall()
    assert [r[0] for r in found] == [lines[1].id]
    assert [r.label for r in sp.of_episode(db, episode)] == ["Speaker 1", "Speaker 2"]


def test_turns_that_split_nothing_keep_every_segment_and_its_id(db, call):
    before = transcript_lines(db, call)

    def relabel(segments: list[Segment]) -> Relabelled:
        pieces = [[Segment(s.start, s.end, s.text, s.words, "Amina")] for s in segments]
        return Relabelled(pieces, [Speaker("Amina", 10.0, unit(1))])

    sp.save_turns(db, call, relabel)
    after = transcript_lines(db, call)
    assert [s.id for s in after] == [s.id for s in before]
    assert {s.speaker for s in after} == {"Amina"}
    assert [r.label for r in sp.of_episode(db, call)] == ["Amina"]
