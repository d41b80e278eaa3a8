"""`radio requests` (#16): the queue (open ones first, or as JSON), accepting a listener's
correction (the transcript, search and the history follow), refusing with a reason (required),
and the audit history naming whoever ran the command."""

from __future__ import annotations

import json

import pytest

from radio.data import audit, history, requests, search
from radio.data.episodes import get_episode
from radio.data.transcripts import transcript_lines

LINES = [
    (0.0, 4.0, "the borehole by the school is dry"),
    (4.0, 8.0, "we need a new pump before the rains"),
]


@pytest.fixture
def asked(seed, db) -> tuple[int, requests.Request, requests.Request]:  # noqa: ANN001
    episode_id = seed.episode("Borehole meeting", LINES, duration=8.0)
    line = transcript_lines(db, episode_id)[1]
    correction = requests.suggest_correction(
        db, episode_id, (line.id, line.start, line.text), "we need a new hand pump", "I was there"
    )
    takedown = requests.ask_takedown(db, episode_id, "My family asked me to")
    return episode_id, correction, takedown


def test_requests_lists_the_queue_and_json(runner, asked):
    _episode_id, correction, takedown = asked
    result = runner("requests")
    assert result.exit_code == 0, result.output
    assert f"#{correction.id:<4} open" in result.output
    assert "A listener suggested a correction of the transcript at 0:04." in result.output
    assert "'we need a new pump before the rains' -> 'we need a new hand pump'" in result.output
    assert "message: My family asked me to" in result.output
    document = json.loads(runner("requests", "--open", "--json").output)
    assert [r["id"] for r in document["requests"]] == [correction.id, takedown.id]
    assert document["requests"][1]["kind"] == "takedown"


def test_accepting_a_correction_from_the_command_line(runner, db, asked):
    episode_id, correction, _takedown = asked
    result = runner("requests", "accept", str(correction.id), "--reason", "Thank you")
    assert result.exit_code == 0, result.output
    assert "Accepted request" in result.output and "Answer: Thank you" in result.output
    assert transcript_lines(db, episode_id)[1].text == "we need a new hand pump"
    assert search.search(db, '"hand pump"', include_hidden=True).episodes
    entry = audit.entries(db, action="request.accept")[0]
    assert entry.actor.startswith("cli:") and entry.why == "Thank you"
    told = [e.summary for e in history.contribution_history(db, episode_id)]
    assert "Corrected the transcript." in told
    again = runner("requests", "accept", str(correction.id))
    assert again.exit_code == 1 and "already answered (accepted)" in again.output


def test_refusing_needs_a_reason_and_releases_a_takedown_hold(runner, db, asked):
    episode_id, _correction, takedown = asked
    assert not get_episode(db, episode_id).is_public
    missing = runner("requests", "refuse", str(takedown.id))
    assert missing.exit_code == 2 and "--reason" in missing.output
    blank = runner("requests", "refuse", str(takedown.id), "--reason", "  ")
    assert blank.exit_code == 1 and "Give a reason" in blank.output
    result = runner("requests", "refuse", str(takedown.id), "--reason", "A public meeting.")
    assert result.exit_code == 0, result.output
    assert requests.get_request(db, takedown.id).answer == "A public meeting."
    assert get_episode(db, episode_id).is_public  # held while the request was open
    listed = runner("requests").output
    assert "Refused: the recording stays in the archive. Answer: A public meeting." in listed
    assert runner("requests", "refuse", "999", "--reason", "x").output.strip() == (
        "Error: There is no request 999."
    )
