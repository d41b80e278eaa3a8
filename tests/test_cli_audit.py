"""``radio audit`` (#16): the history as CSV or JSON from the command line, and what the
command line does recorded with its actor, ``cli:<os user>``."""

from __future__ import annotations

import csv
import getpass
import io
import json

from radio.data.episodes import get_episode


def test_cli_actions_are_recorded_and_exported(runner, seed, db, tmp_path):
    episode_id = seed.episode("Water committee")
    guid = get_episode(db, episode_id).guid
    me = f"cli:{getpass.getuser()}"
    added = runner("user", "add", "amina", "--role", "editor", "--password-stdin",
                   input="correct horse\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert runner("user", "password", "amina", "--password-stdin",
                  input="battery staple\n").exit_code == 0  # fmt: skip
    assert runner("schedule", str(episode_id), "2099-01-01T08:00").exit_code == 0
    assert runner("tag", str(episode_id), "+water").exit_code == 0

    out = runner("audit", "--since", "2000-01-01", "--format", "json")
    assert out.exit_code == 0, out.output
    entries = json.loads(out.output)
    assert [e["action"] for e in entries] == [
        "tags.edit",
        "episode.schedule",
        "account.password",
        "account.add",
    ]  # fmt: skip newest first
    assert {e["actor"] for e in entries} == {me}
    assert json.loads(entries[3]["summary_after"]) == {"name": "amina", "role": "editor"}
    password = entries[2]
    assert password["summary_before"] is None and password["summary_after"] is None
    assert "battery" not in out.output and "horse" not in out.output  # never a password

    written = tmp_path / "audit.csv"
    assert runner("audit", "--episode", guid, "-o", str(written)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(written.read_text(encoding="utf-8"))))
    assert [r["action"] for r in rows] == ["tags.edit", "episode.schedule"]
    assert {r["subject"] for r in rows} == {f"episode:{episode_id}"}

    later = runner("audit", "--since", "2999-01-01")
    assert later.exit_code == 0 and later.output.strip() == (
        "id,at,actor,actor_id,action,subject,summary_before,summary_after,why"
    )
    bad = runner("audit", "--since", "last week")
    assert bad.exit_code == 2 and "2026-11-02" in bad.output


def test_the_trash_from_the_cli_is_recorded(runner, seed, db):
    from radio.data import audit, trash

    episode_id = seed.episode("Old rerun")
    trash.move_to_trash(db, episode_id, None)
    assert runner("trash", "--restore", str(episode_id)).exit_code == 0
    trash.move_to_trash(db, episode_id, None)
    assert runner("trash", "--empty").exit_code == 0
    history = audit.episode_history(db, episode_id)
    assert [(e.action, e.actor) for e in history] == [
        ("trash.empty", f"cli:{getpass.getuser()}"),
        ("episode.delete", "system"),
        ("episode.restore", f"cli:{getpass.getuser()}"),
        ("episode.delete", "system"),
    ]
    exported = json.loads(runner("audit", "--episode", str(episode_id), "--format", "json").output)
    assert len(exported) == 4  # the episode is gone; its number still finds its history
