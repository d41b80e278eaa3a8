"""Requests about an episode (#16), in the data layer and ``radio.jobs.decide``: consent
withdrawn takes effect at once, an open takedown request holds the episode from listeners
until it is refused, a listener's correction goes through the editors' edit path (history,
audit, search) when accepted, and every field is checked and capped."""

from __future__ import annotations

import pytest

from radio.data import audit, consent, history, requests, search
from radio.data.episodes import get_episode, public_sql
from radio.data.requests import Kind, RequestError, Status
from radio.data.transcripts import transcript_lines
from radio.data.users import add_user
from radio.db import transaction
from radio.jobs import decide

LINES = [
    (0.0, 4.0, "the borehole by the school is dry"),
    (4.0, 8.0, "we need a new pump before the rains"),
    (8.0, 12.0, "thank you all for coming"),
]


@pytest.fixture
def episode(seed, db) -> int:  # noqa: ANN001
    episode_id = seed.episode("Borehole meeting", LINES, duration=12.0)
    heard = [consent.Participant("Amina", "yes"), consent.Participant("Joseph", "yes")]
    consent.set_participants(db, episode_id, heard, None)
    return episode_id


@pytest.fixture
def editor(db) -> audit.Actor:  # noqa: ANN001
    user = add_user(db, "amina", "correct horse", "editor")
    return audit.Actor(user.name, user.id)


def public_ids(db) -> list[int]:  # noqa: ANN001
    return [r[0] for r in db.execute(f"select id from episodes where {public_sql()}")]


def segment(db, episode_id: int, idx: int) -> tuple[int, float, str]:  # noqa: ANN001
    line = transcript_lines(db, episode_id)[idx]
    return line.id, line.start, line.text


def test_withdrawing_one_participants_consent_holds_the_episode_at_once(db, episode):
    assert public_ids(db) == [episode]
    done = requests.withdraw_consent(db, episode, "Joseph", "I did not know it was recorded")
    assert done.status == Status.DONE and done.kind == Kind.WITHDRAW_CONSENT
    answers = {p.name: p.consent for p in consent.participants(db, episode)}
    assert answers == {"Amina": "yes", "Joseph": "no"}
    assert public_ids(db) == [] and not get_episode(db, episode).is_public
    entry = audit.entries(db, action="consent.withdraw")[0]
    assert entry.actor == "receipt" and entry.subject == f"episode:{episode}"
    assert "I did not know" not in (entry.summary_after or "")  # the note stays with the request
    told = [e.summary for e in history.contribution_history(db, episode)]
    assert (
        "Consent withdrawn for Joseph through the receipt: listeners can no longer hear it." in told
    )
    assert any("Joseph refused" in s for s in told)


def test_withdrawing_for_everyone_or_with_nobody_listed(db, seed, episode):
    requests.withdraw_consent(db, episode, None, None)
    assert {p.consent for p in consent.participants(db, episode)} == {"no"}
    bare = seed.episode("Nobody listed", LINES)
    assert bare in public_ids(db)
    requests.withdraw_consent(db, bare, None, None)
    assert [(p.name, p.consent) for p in consent.participants(db, bare)] == [("anonymous", "no")]
    assert bare not in public_ids(db)
    with pytest.raises(consent.ConsentError, match="No one called Zed"):
        requests.withdraw_consent(db, episode, "Zed", None)


def test_an_open_takedown_request_holds_the_episode_until_it_is_refused(db, episode, editor):
    with pytest.raises(RequestError, match="why"):
        requests.ask_takedown(db, episode, "  ")
    asked = requests.ask_takedown(db, episode, "My family asked me to")
    assert asked.is_open and asked.asked_by == "contributor"
    assert public_ids(db) == [] and get_episode(db, episode).takedown_asked == 1
    assert requests.ask_takedown(db, episode, "again").id == asked.id  # one open at a time
    with pytest.raises(RequestError, match="reason"):
        decide.refuse(db, asked.id, actor=editor, answer="")
    refused = decide.refuse(db, asked.id, actor=editor, answer="It is a public meeting.")
    assert refused.status == Status.REFUSED and refused.decided_by == "amina"
    assert refused.answer == "It is a public meeting." and refused.decided_at
    assert public_ids(db) == [episode]
    entry = audit.entries(db, action="request.refuse")[0]
    assert entry.actor == "amina" and entry.why == "It is a public meeting."
    with pytest.raises(RequestError, match="already answered"):
        decide.refuse(db, asked.id, actor=editor, answer="twice")
    told = [e.summary for e in history.contribution_history(db, episode)]
    assert "Asked through the receipt to take the whole recording down." in told
    assert "Refused: the recording stays in the archive. Answer: It is a public meeting." in told


def test_only_an_admin_accepts_a_takedown(db, app, episode, editor):
    asked = requests.ask_takedown(db, episode, "Please")
    with pytest.raises(RequestError, match="Only an admin"):
        decide.accept(db, app.config, asked.id, actor=editor, answer=None)
    assert requests.get_request(db, asked.id).is_open


def test_a_passage_request_is_checked(db, episode):
    with pytest.raises(RequestError, match="end after it starts"):
        requests.ask_passage_removed(db, episode, 5, 5, 12.0, "names my neighbour")
    with pytest.raises(RequestError, match="inside the recording"):
        requests.ask_passage_removed(db, episode, 30, 40, 12.0, "names my neighbour")
    with pytest.raises(RequestError, match="why"):
        requests.ask_passage_removed(db, episode, 1, 3, 12.0, "")
    with pytest.raises(RequestError, match="too long"):
        requests.ask_passage_removed(
            db, episode, 1, 3, 12.0, "x" * (requests.MAX_MESSAGE_CHARS + 1)
        )
    asked = requests.ask_passage_removed(db, episode, 4, 30, 12.0, "names\u202e my neighbour\x00")
    assert (asked.start, asked.end) == (4, 12.0)  # the end cut at the recording's
    assert asked.message == "names my neighbour"  # cleaned as every field is
    assert public_ids(db) == [episode]  # only a takedown holds it meanwhile


def test_an_accepted_correction_goes_through_the_editors_edit_path(db, episode, editor, app):
    before = segment(db, episode, 1)
    with pytest.raises(RequestError, match="same"):
        requests.suggest_correction(db, episode, before, before[2], None)
    asked = requests.suggest_correction(
        db, episode, before, "we need a new hand pump before the rains", "I was there"
    )
    assert asked.asked_by == "listener" and asked.original == before[2]
    assert not search.search(db, "hand pump").episodes
    done = decide.accept(db, app.config, asked.id, actor=editor, answer="Thank you")
    assert done.status == Status.ACCEPTED
    assert segment(db, episode, 1)[2] == "we need a new hand pump before the rains"
    assert [e.episode_id for e in search.search(db, '"hand pump"').episodes] == [episode]
    actions = [e.action for e in audit.entries(db, subject=f"episode:{episode}")]
    assert "transcript.edit" in actions and "request.accept" in actions
    entries = history.contribution_history(db, episode)
    edit = next(e for e in entries if e.summary == "Corrected the transcript.")
    assert edit.actor == "amina" and edit.after == "we need a new hand pump before the rains"
    assert any(
        e.summary == "Accepted: the suggested correction at 0:04 was made. Answer: Thank you"
        for e in entries
    )


def test_a_correction_of_a_segment_changed_since_is_not_applied(db, episode, editor, app):
    from radio.data.edits import edit_segments

    line = segment(db, episode, 0)
    asked = requests.suggest_correction(db, episode, line, "the borehole at the school", None)
    edit_segments(db, episode, editor.user_id, {line[0]: "the borehole near the school"})
    with pytest.raises(RequestError, match="changed there since"):
        decide.accept(db, app.config, asked.id, actor=editor, answer=None)
    assert requests.get_request(db, asked.id).is_open
    assert segment(db, episode, 0)[2] == "the borehole near the school"


def test_the_queue_lists_open_requests_first_and_caps_each_episode(db, episode, monkeypatch):
    first = requests.ask_passage_removed(db, episode, 1, 2, 12.0, "one")
    done = requests.withdraw_consent(db, episode, "Amina", None)
    second = requests.ask_passage_removed(db, episode, 3, 4, 12.0, "two")
    assert [r.id for r in requests.queue(db)] == [first.id, second.id, done.id]
    assert [r.id for r in requests.queue(db, open_only=True)] == [first.id, second.id]
    assert requests.open_count(db) == 2
    monkeypatch.setattr(requests, "MAX_OPEN_PER_EPISODE", 2)
    with pytest.raises(RequestError, match="many requests"):
        requests.ask_passage_removed(db, episode, 5, 6, 12.0, "three")


def test_a_cut_passage_takes_the_words_of_corrections_there_with_it(db, episode):
    near = requests.suggest_correction(db, episode, segment(db, episode, 1), "we need a pump", None)
    far = requests.suggest_correction(db, episode, segment(db, episode, 2), "thanks all", None)
    with transaction(db) as conn:
        assert requests.forget_passage(conn, episode, 5.0, 6.0, []) == 1
    forgotten = requests.get_request(db, near.id)
    assert (forgotten.original, forgotten.proposed) == (None, None) and forgotten.is_open
    kept = requests.get_request(db, far.id)
    assert kept.proposed == "thanks all"
    with pytest.raises(RequestError, match="changed there since"):
        decide.accept(db, {}, near.id, actor=audit.SYSTEM, answer=None)
