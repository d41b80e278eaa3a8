"""``radio redact`` (#16 item 4): shows the words, asks, removes them for good; errors say
what to fix. A real recording (jfk.flac) transcribed by the real pipeline (tiny.en)."""

from __future__ import annotations

import json

import pytest

from radio import create_app
from radio.data import audit
from radio.data.redactions import redactions_of
from radio.data.transcripts import load_segments
from radio.db import connect, database_path
from tests.archive import Seeder
from tests.conftest import clip, settings


@pytest.fixture
def speech(home):  # noqa: ANN001, ANN201
    """(episode id, from, to) around "Americans", in a transcribed archive at ``home``."""
    app = create_app(settings(home, TRANSCRIBE=True))
    db = connect(database_path(app))
    ep = Seeder(app, db).recording(clip("jfk.flac"), title="Inaugural")
    word = next(
        w for s in load_segments(db, ep.id) for w in s.words if "americans" in w.word.lower()
    )
    db.conn.close()
    return ep.id, f"{word.start - 0.05:.2f}", f"{word.end + 0.05:.2f}"


def _transcript(runner, episode_id: int) -> str:  # noqa: ANN001
    result = runner("transcript", str(episode_id), "--format", "txt")
    assert result.exit_code == 0, result.output
    return result.output.lower()


def test_redact_shows_the_words_and_removes_them(runner, speech, home) -> None:  # noqa: ANN001
    episode_id, start, end = speech
    result = runner(
        "redact", str(episode_id), "--from", start, "--to", end,
        "--reason", "Named a person", "--silence", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Americans" in result.output and "becomes silence" in result.output
    assert "Removed: 1 word(s), 4 file(s)" in result.output
    text = _transcript(runner, episode_id)
    assert "americans" not in text and "country" in text
    db = connect(home / "archive.db")
    try:
        (row,) = redactions_of(db, episode_id)
        assert (row.sound, row.reason, row.by.startswith("cli:")) == (
            "silence",
            "Named a person",
            True,
        )
        (entry,) = audit.entries(db, action="episode.redact")
        assert entry.why == "Named a person" and entry.actor.startswith("cli:")
        assert json.loads(entry.summary_after)["words_removed"] == 1
    finally:
        db.conn.close()


def test_redact_asks_first(runner, speech) -> None:  # noqa: ANN001
    episode_id, start, end = speech
    result = runner(
        "redact", str(episode_id), "--from", start, "--to", end, "--reason", "x", input="n\n"
    )
    assert result.exit_code == 1 and "Remove it for good?" in result.output
    assert "americans" in _transcript(runner, episode_id)  # nothing was removed


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("0:05", "0:04", "must come after"),
        ("0:05", "1:00", "outside the episode"),
        ("soon", "0:06", "not a time"),
    ],
)
def test_redact_errors_say_what_to_fix(runner, speech, start, end, message) -> None:  # noqa: ANN001
    episode_id, _start, _end = speech
    result = runner(
        "redact", str(episode_id), "--from", start, "--to", end, "--reason", "x", "--yes"
    )
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output
