"""Consent per recording (#16): the participants table, the typed forms, and the one
visibility rule (public_sql) that keeps an episode with a pending or refused participant
from listeners while episodes with nobody listed behave as before."""

from __future__ import annotations

import json

import pytest

from radio.data import audit, consent
from radio.data.consent import Consent, ConsentError, Participant
from radio.data.episodes import get_episode, latest_episodes, public_sql
from radio.data.history import reasons_not_public
from radio.db import transaction, utcnow


def test_typed_participants_are_read_as_people_write_them():
    listed = consent.parse_list(["Amina=yes, anonymous=pending", "Joseph: no\nZawadi"])
    assert [(p.name, p.consent) for p in listed] == [
        ("Amina", Consent.YES),
        ("anonymous", Consent.PENDING),
        ("Joseph", Consent.NO),
        ("Zawadi", Consent.PENDING),  # nobody is assumed to agree
    ]
    assert consent.parse_participant("ANONYMOUS=Yes").anonymous
    with pytest.raises(ConsentError, match="yes, pending or no"):
        consent.parse_list(["Amina=maybe"])
    with pytest.raises(ConsentError, match="name"):
        consent.parse_list(["=yes"])
    with pytest.raises(ConsentError, match="at most 50"):
        consent.parse_list([",".join(f"P{i}=yes" for i in range(51))])


def listener_ids(db) -> set[int]:  # noqa: ANN001
    return {e.id for e in latest_episodes(db, include_hidden=False).items}


def add(db, episode_id, *listed: Participant) -> None:  # noqa: ANN001
    with transaction(db) as conn:
        consent.add_participants(conn, episode_id, listed, utcnow())


def test_any_answer_but_yes_keeps_it_from_listeners(db, seed):
    untracked = seed.episode("Nobody listed")
    agreed = seed.episode("Everyone agreed")
    waiting = seed.episode("One pending")
    refused = seed.episode("One refused")
    add(db, agreed, Participant("Amina", Consent.YES), Participant("anonymous", Consent.YES))
    add(db, waiting, Participant("Amina", Consent.YES), Participant("Joseph", Consent.PENDING))
    add(db, refused, Participant("Zawadi", Consent.NO))

    assert listener_ids(db) == {untracked, agreed}
    raw = db.execute(f"select id from episodes where {public_sql()}").fetchall()
    assert {r[0] for r in raw} == {untracked, agreed}  # the rule without an alias, too
    assert get_episode(db, agreed).is_public and get_episode(db, untracked).is_public
    held = get_episode(db, waiting)
    assert not held.is_public and held.consent_held == 1
    assert not get_episode(db, refused).is_public

    why = reasons_not_public(held, consent.participants(db, waiting))
    assert why == ["Joseph's consent is pending: when Joseph agrees, mark it yes on the edit page."]
    why = reasons_not_public(get_episode(db, refused), consent.participants(db, refused))
    assert why and "Zawadi refused" in why[0]


def test_an_editor_changes_answers_with_who_and_when(app, db, seed):
    from tests.webserver import add_account

    add_account(app, "amina", "editor")
    editor = db.execute("select id from users where name = 'amina'").fetchone()[0]
    episode_id = seed.episode("Water committee")
    add(db, episode_id, Participant("Joseph", Consent.PENDING), Participant("anonymous"))
    assert episode_id not in listener_ids(db)

    changes = consent.set_participants(
        db,
        episode_id,
        [Participant("Joseph", Consent.YES), Participant("anonymous", Consent.PENDING)],
        editor,
    )
    assert changes == [("Joseph", "pending", "yes")]  # the unchanged row keeps its history
    rows = consent.participants(db, episode_id)
    assert rows[0].changed_by == "amina" and rows[1].changed_by is None
    assert episode_id not in listener_ids(db)  # the anonymous one is still pending

    changes = consent.set_participants(db, episode_id, [Participant("Joseph", "yes")], editor)
    assert changes == [("anonymous", "pending", None)]  # taken off the list
    assert episode_id in listener_ids(db)

    logged = audit.episode_history(db, episode_id)
    assert [e.action for e in logged] == ["consent.edit", "consent.edit"]
    assert logged[-1].actor == "amina"
    assert json.loads(logged[-1].summary_after) == {"Joseph": "yes"}


def test_the_json_transcript_summary_names_the_state():
    assert consent.summary([]) is None  # not tracked
    assert consent.summary([Participant("Amina", "yes")])["state"] == "given"
    both = [Participant("Amina", "yes"), Participant("anonymous", "pending")]
    assert consent.summary(both) == {
        "state": "pending",
        "participants": [
            {"name": "Amina", "consent": "yes"},
            {"name": "anonymous", "consent": "pending"},
        ],
    }
    assert consent.summary([*both, Participant("Joseph", "no")])["state"] == "refused"
