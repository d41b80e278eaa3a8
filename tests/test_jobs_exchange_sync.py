"""``radio sync --from URL --show S`` between two archives served on 127.0.0.1 (#17): one
show's catalogue can't say what was withdrawn, so the receiver asks the source, signed, about
every episode it got from that key; a takedown or a new licence at the source after a first
``--show`` sync reaches the second archive on the next one, and the episode leaves its
pages, feeds and search there. An answer not signed by the source's key, or to another
question, is refused."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest

from radio import create_app
from radio.data.station_key import station_key
from radio.jobs.exchange_bundle import BundleError
from radio.jobs.exchange_sync import _checked_answer
from tests.conftest import settings
from tests.exchange_archives import RECEIVER, SOURCE, make_home
from tests.test_jobs_exchange import shared_guids
from tests.test_jobs_exchange_updates import edit_title, episodes_by_guid, first_guid, ok, one
from tests.webserver import live_server

SHOW = "morning-talk"


# alpha (a copy of the source, built once per module) and beta (an empty receiver): the
# fixtures of tests/exchange_archives.py


def listener_view(home: Path, guid: str, word: str) -> tuple[int, bool, bool, bool]:
    """(its page's status, in the whole feed, in its show's feed, found by a search)."""
    client = create_app(settings(home, STATION_NAME=RECEIVER)).test_client()
    feed = client.get("/feeds/all.xml").get_data(as_text=True)
    show_feed = client.get(f"/feeds/shows/{SHOW}.xml").get_data(as_text=True)
    found = client.get(f"/search?q={word}").get_data(as_text=True)
    return (
        client.get(f"/episodes/{guid}").status_code,
        guid in feed,
        guid in show_feed,
        f"/episodes/{guid}" in found,
    )


def rare_word(home: Path, guid: str) -> str:
    """The longest word of its transcript (the others' don't share it)."""
    sql = (
        "select group_concat(s.text, ' ') from segments s join episodes e "
        "on e.id = s.episode_id where e.guid = ?"
    )
    text = one(home, sql, [guid])[0]
    return max(re.findall(r"[A-Za-z]{4,}", text), key=len).lower()


def test_a_show_sync_brings_that_show_s_withdrawals(alpha, beta):
    guid = first_guid(alpha.home)
    other = (shared_guids(alpha.home) - {guid}).pop()
    with live_server(create_app(settings(alpha.home, STATION_NAME=SOURCE))) as server:
        address = f"http://127.0.0.1:{server.port}"
        assert "Imported 2" in ok(beta("sync", "--from", address, "--show", SHOW)).output
        word = rare_word(beta.home, other)
        assert listener_view(beta.home, other, word) == (200, True, True, True)
        other_id = one(alpha.home, "select id from episodes where guid = ?", [other])[0]
        ok(alpha("takedown", str(other_id), "--reason", "consent withdrawn", "--yes"))
        edit_title(alpha.home, guid, "Corrected over the network")
        again = ok(beta("sync", "--from", address, "--show", SHOW))
        assert "Updated 1 changed by their station since; took down 1" in again.output
        third = ok(beta("sync", "--from", address, "--show", SHOW))
    assert "took down" not in third.output, "a withdrawal is done once"
    there = episodes_by_guid(beta.home)
    assert there[other]["taken_down_at"] and not there[guid]["taken_down_at"]
    assert there[guid]["title"] == "Corrected over the network"
    reason = one(beta.home, "select takedown_reason from episodes where guid = ?", [other])[0]
    assert SOURCE in reason
    assert listener_view(beta.home, other, word) == (410, False, False, False)
    assert listener_view(beta.home, guid, rare_word(beta.home, guid))[:3] == (200, True, True)


def test_a_new_licence_that_keeps_it_home_reaches_a_show_sync(alpha, beta):
    from radio.data.edits import edit_episode
    from tests.exchange_archives import database

    guid = first_guid(alpha.home)
    with live_server(create_app(settings(alpha.home, STATION_NAME=SOURCE))) as server:
        address = f"http://127.0.0.1:{server.port}"
        ok(beta("sync", "--from", address, "--show", SHOW))
        db = database(alpha.home)
        try:
            episode_id = db.execute("select id from episodes where guid = ?", [guid]).fetchone()[0]
            assert edit_episode(db, episode_id, None, {"licence": "all-rights-reserved"})
        finally:
            db.conn.close()
        again = ok(beta("sync", "--from", address, "--show", SHOW))
    assert "took down 1" in again.output
    assert episodes_by_guid(beta.home)[guid]["taken_down_at"]


def test_the_answer_about_withdrawals_is_signed_and_answers_what_was_asked(alpha):
    guid = first_guid(alpha.home)
    other_id = one(alpha.home, "select id from episodes where guid = ?", [guid])[0]
    ok(alpha("takedown", str(other_id), "--reason", "complaint", "--yes"))
    client = create_app(settings(alpha.home, STATION_NAME=SOURCE)).test_client()
    asked, nonce = [guid, "not-one-of-ours-1234"], secrets.token_hex(8)
    query = "&".join([f"nonce={nonce}"] + [f"guid={g}" for g in asked])
    answer = client.get(f"/exchange/withdrawn.json?{query}").get_json()
    key = station_key(alpha.home).public_text
    assert sorted(_checked_answer(answer, key, asked, nonce)) == sorted(asked)

    with pytest.raises(BundleError, match="another question"):
        _checked_answer(answer, key, asked, "another nonce")  # an old answer played back
    forged = json.loads(answer["manifest"]) | {"withdrawn": asked + ["more"]}
    with pytest.raises(BundleError, match="not signed by the key"):
        _checked_answer({**answer, "manifest": json.dumps(forged)}, key, asked, nonce)
    impostor = station_key(make_home(alpha.home.parent / "impostor", "Impostor")).public_text
    with pytest.raises(BundleError, match="not signed by the key"):
        _checked_answer(answer, impostor, asked, nonce)
