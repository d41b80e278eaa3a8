"""``radio speakers``: list an episode's speakers, name them (a number is "Speaker N"),
merge two labels, accept the suggested names; mistakes say what to type."""

from __future__ import annotations

import numpy as np
import pytest
import sqlite_utils

from radio.cli.speakers import parse_change
from radio.data import speakers as sp
from radio.data.speakers import Speaker
from radio.data.transcripts import load_segments
from transcription.segments import Segment


def unit(i: int) -> np.ndarray:
    v = np.zeros(256, dtype=np.float32)
    v[i] = 1.0
    return v


@pytest.fixture
def call(seed, db: sqlite_utils.Database) -> int:  # noqa: ANN001
    said = [(0.0, 4.0, "Welcome everyone"), (4.0, 9.0, "The borehole is dry"), (9.0, 12.0, "Why")]
    segments = [Segment(a, b, text, (), f"Speaker {i + 1}") for i, (a, b, text) in enumerate(said)]
    episode = seed.episode("Water committee", segments, show="Morning Talk")
    sp.save_voices(
        db,
        episode,
        [
            Speaker("Speaker 1", 64.0, unit(0), "Amina", 0.83),
            Speaker("Speaker 2", 5.0, unit(1)),
            Speaker("Speaker 3", 3.0, unit(2), "Joseph", 0.81),
        ],
    )
    return episode


def labels(db: sqlite_utils.Database, episode: int) -> list[str | None]:
    return [s.speaker for s in load_segments(db, episode)]


def test_lists_labels_talk_time_and_suggestions(runner, call):
    result = runner("speakers", str(call))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Episode {call}  Water committee"
    assert lines[1].split() == ["Speaker", "1", "1:04", "Suggested:", "Amina", "(0.83)"]
    assert lines[2].split() == ["Speaker", "2", "0:05"]


def test_renames_by_number_or_label_and_merges(runner, db, call):
    result = runner("speakers", str(call), "2=Kofi", "Speaker 3=Joseph Otieno")
    assert result.exit_code == 0, result.output
    assert "Speaker 2 is now Kofi (1 segment)." in result.output
    assert "Speaker 3 is now Joseph Otieno (1 segment)." in result.output
    assert labels(db, call) == ["Speaker 1", "Kofi", "Joseph Otieno"]
    merged = runner("speakers", str(call), "Joseph Otieno=Kofi")
    assert "one speaker with the Kofi already there" in merged.output
    assert labels(db, call) == ["Speaker 1", "Kofi", "Kofi"]
    assert [r.seconds for r in sp.of_episode(db, call) if r.label == "Kofi"] == [8.0]


def test_accept_takes_every_suggested_name(runner, db, call):
    result = runner("speakers", str(call), "--accept")
    assert result.exit_code == 0, result.output
    assert "Speaker 1 is now Amina" in result.output and "Speaker 3 is now Joseph" in result.output
    assert labels(db, call) == ["Amina", "Speaker 2", "Joseph"]
    again = runner("speakers", str(call), "--accept")
    assert "No suggested names to accept." in again.output


def test_mistakes_say_what_to_type(runner, db, call):
    usage = runner("speakers", str(call), "Amina")
    assert usage.exit_code == 2 and "write a rename as 2=Amina" in usage.output
    unknown = runner("speakers", str(call), "7=Amina")
    assert unknown.exit_code == 1
    assert "no speaker 'Speaker 7'; its speakers are: Speaker 1, Speaker 2, Speaker 3" in (
        unknown.output
    )
    assert "Traceback" not in unknown.output
    missing = runner("speakers", "999")
    assert missing.exit_code == 1 and "radio status" in missing.output
    assert labels(db, call) == ["Speaker 1", "Speaker 2", "Speaker 3"]


def test_parse_change():
    assert parse_change("2=Amina") == ("Speaker 2", "Amina")
    assert parse_change(" Speaker  3 =Joseph = Jo") == ("Speaker 3", "Joseph = Jo")
    assert parse_change("Amina=Amina Njeri") == ("Amina", "Amina Njeri")
