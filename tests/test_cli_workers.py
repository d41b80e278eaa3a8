"""``radio worker-token``: a token shown once, listed without it, revoked for good; each change
in the audit history; and the token opens the worker endpoints until it is revoked."""

from __future__ import annotations

import re

from flask import Flask

from radio.data import audit
from radio.db import connect, database_path

TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$", re.M)


def test_a_token_is_made_listed_and_revoked(runner, app: Flask, client) -> None:  # noqa: ANN001
    made = runner("worker-token", "add", "studio-pc")
    assert made.exit_code == 0, made.output
    token = TOKEN.search(made.output).group(0)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/worker/settings", headers=headers).status_code == 200

    listed = runner("worker-token", "list")
    assert "studio-pc\tlive" in listed.output
    assert token not in listed.output  # shown once, never again
    assert "last used never" not in listed.output  # the request above was noted

    again = runner("worker-token", "add", "studio-pc")
    assert again.exit_code == 1 and "exists already" in again.output

    revoked = runner("worker-token", "revoke", "studio-pc")
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/worker/settings", headers=headers).status_code == 401
    assert "studio-pc\trevoked" in runner("worker-token", "list").output
    twice = runner("worker-token", "revoke", "studio-pc")
    assert twice.exit_code == 1 and "no live worker token" in twice.output

    db = connect(database_path(app))
    try:
        actions = [e.action for e in audit.entries(db)]
    finally:
        db.conn.close()
    assert actions.count("worker_token.add") == 1
    assert actions.count("worker_token.revoke") == 1


def test_no_tokens_yet_says_how_to_make_one(runner) -> None:  # noqa: ANN001
    listed = runner("worker-token", "list")
    assert listed.exit_code == 0
    assert "radio worker-token add NAME" in listed.output
