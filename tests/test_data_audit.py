"""The audit history's table (#16): entries recorded and queried, refused UPDATE and DELETE
(triggers), and kept when the trash is emptied of their episode."""

from __future__ import annotations

import sqlite3

import pytest

from radio.data import audit, trash
from radio.data.errors import Invalid
from radio.data.users import add_user
from radio.upkeep import trash as emptying


def test_entries_are_recorded_and_found_by_filter(db):
    amina = audit.Actor("amina", 7)
    audit.record(db, amina, "episode.edit", "episode:1", before={"title": "Old"},
                 after={"title": "New"}, why="typo")  # fmt: skip
    audit.record(db, audit.SYSTEM, "trash.empty", "episode:2")
    audit.record(db, audit.command_line(), "account.role", "account:3", after={"role": "admin"})
    newest_first = audit.entries(db)
    assert [e.action for e in newest_first] == ["account.role", "trash.empty", "episode.edit"]
    (edit,) = audit.episode_history(db, 1)
    assert (edit.actor, edit.actor_id, edit.why) == ("amina", 7, "typo")
    assert edit.summary_before == '{"title": "Old"}' and edit.summary_after == '{"title": "New"}'
    assert edit.at.endswith("Z")
    assert [e.subject for e in audit.entries(db, action="episode")] == ["episode:1"]
    assert [e.action for e in audit.entries(db, action="trash")] == ["trash.empty"]
    assert audit.entries(db, actor="system")[0].subject == "episode:2"
    assert audit.entries(db, since="2999-01-01T00:00:00Z") == []
    assert audit.entries(db)[0].actor.startswith("cli:")


def test_summaries_are_short(db):
    audit.record(db, audit.SYSTEM, "episode.edit", "episode:1", after={"description": "x" * 5000})
    (entry,) = audit.entries(db)
    assert len(entry.summary_after) < 300 and entry.summary_after.endswith('…"}')


def test_since_takes_dates_and_moments():
    assert audit.since_moment("2026-11-02") == "2026-11-02T00:00:00Z"
    assert audit.since_moment("2026-11-02T08:00+03:00") == "2026-11-02T05:00:00Z"
    with pytest.raises(Invalid):
        audit.since_moment("last week")


def test_the_history_cannot_be_rewritten_or_removed(db):
    audit.record(db, audit.SYSTEM, "episode.edit", "episode:1", after={"title": "New"})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("update audit set actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("delete from audit")
    assert audit.entries(db)[0].actor == "system"


def test_emptying_the_trash_keeps_the_episodes_history(app, db, seed):
    episode_id = seed.episode("Harambee meeting", [(0.0, 2.0, "harambee tonight")])
    admin = add_user(db, "root", "correct horse", "admin")
    trash.move_to_trash(db, episode_id, admin.id)
    # no foreign key to episodes: table discovery for the purge leaves the history alone
    assert "audit" not in dict(trash.referencing_tables(db))
    emptying.empty(db, app.config["HOME"], only=episode_id, actor=audit.Actor("root", admin.id))
    assert db.execute("select 1 from episodes where id = ?", [episode_id]).fetchone() is None
    history = audit.episode_history(db, episode_id)
    assert [(e.action, e.actor) for e in history] == [
        ("trash.empty", "root"),
        ("episode.delete", "root"),
    ]
    assert "Harambee meeting" in history[0].summary_before
