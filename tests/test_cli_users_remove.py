"""``radio user remove``: the account goes (its logins end at once, it can't log in
again), what it did stays attributed to its id and reads "a removed account" in the
history and the audit page, the last admin stays, and the removal is audited."""

from __future__ import annotations

from radio.data import audit
from radio.data.users import find_user, get_user
from tests.webserver import log_in


def add(runner, name: str, role: str) -> None:  # noqa: ANN001
    made = runner("user", "add", name, "--role", role, "--password-stdin", input="correct horse\n")
    assert made.exit_code == 0, made.output


def test_a_removed_account_logs_out_everywhere_and_reads_as_removed(app, db, seed, runner):
    add(runner, "root", "admin")
    add(runner, "amina", "editor")
    amina = find_user(db, "amina")
    episode_id = seed.episode("Water committee", [(0.0, 2.0, "the borehole")],
                              uploaded_by=amina.id)  # fmt: skip
    audit.record(db, audit.Actor("amina", amina.id), "tags.edit",
                 audit.subject("episode", episode_id), why="health, not farming")  # fmt: skip
    browser = app.test_client()
    assert log_in(browser, "amina").status_code == 302
    assert browser.get("/upload").status_code == 200  # logged in

    asked = runner("user", "remove", "amina", input="n\n")
    assert asked.exit_code == 1 and find_user(db, "amina") is not None
    removed = runner("user", "remove", "amina", "--yes")
    assert removed.exit_code == 0, removed.output
    assert "Removed the account amina" in removed.output

    assert browser.get("/upload").status_code == 302  # that login ended at once
    assert log_in(app.test_client(), "amina").status_code != 302  # and none comes again
    assert find_user(db, "amina") is None
    assert "amina" not in runner("user", "list").output
    # what it did stays attributed to its id...
    kept = get_user(db, amina.id)
    assert kept is not None and kept.name != "amina"
    assert db.execute("select uploaded_by from episodes where id = ?", [episode_id]).fetchone() == (
        amina.id,
    )
    # ...and reads "a removed account" in the history and on the audit page
    history = runner("history", str(episode_id)).output
    assert "a removed account" in history and "amina" not in history
    admin = app.test_client()
    log_in(admin, "root")
    page = admin.get(f"/admin/audit?episode={episode_id}").get_data(as_text=True)
    assert "a removed account" in page and ">amina<" not in page
    # the removal itself: who removed whom
    (entry,) = audit.entries(db, action="account.remove")
    assert entry.actor.startswith("cli:") and entry.subject == f"account:{amina.id}"
    assert '"name": "amina"' in entry.summary_before

    # the name is free again, for a new account that inherits nothing
    add(runner, "amina", "uploader")
    assert find_user(db, "amina").id != amina.id
    assert "a removed account" in runner("history", str(episode_id)).output


def test_the_last_admin_cannot_be_removed(db, runner):
    add(runner, "root", "admin")
    refused = runner("user", "remove", "root", "--yes")
    assert refused.exit_code == 1 and "last admin" in refused.output
    assert find_user(db, "root") is not None
    add(runner, "second", "admin")
    assert runner("user", "remove", "root", "--yes").exit_code == 0
    missing = runner("user", "remove", "nobody", "--yes")
    assert missing.exit_code == 1 and "no user nobody" in missing.output
