"""The audit history through the web (#16): what editors and admins do leaves one entry
each, with who, what, which and before/after; admins alone read and export it."""

from __future__ import annotations

import csv
import io
import json

from radio.data import audit
from radio.data.episodes import get_episode
from tests.webserver import add_account, csrf_token, log_in


def post(client, page: str, url: str, **data):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def only(db, action: str) -> audit.Entry:  # noqa: ANN001
    found = audit.entries(db, action=action)
    assert len(found) == 1, found
    return found[0]


def test_actions_leave_one_entry_each_and_admins_export_them(app, client, seed, db, runner):
    kept = seed.episode("Water committee", show="Farm hour")
    gone = seed.episode("Old rerun")
    guid, gone_guid = get_episode(db, kept).guid, get_episode(db, gone).guid
    add_account(app, "amina", "editor")
    add_account(app, "root", "admin")
    add_account(app, "joseph", "uploader")

    log_in(client, "amina")
    edit = f"/episodes/{guid}/edit"
    done = post(client, "/upload", edit, part="details", visibility="public", description="",
                title="Water committee, March")  # fmt: skip
    assert done.status_code == 302
    post(client, "/upload", f"/episodes/{guid}/schedule", action="schedule",
         publish_at="2099-01-01T08:00")  # fmt: skip
    post(client, "/shows/farm-hour/settings", "/shows/farm-hour/settings",
         description="Farmers talk.", hosts="", language="", licence="cc-by",
         itunes_category="")  # fmt: skip
    assert client.get("/admin/audit").status_code == 403  # editors don't read the history

    admin = app.test_client()
    log_in(admin, "root")
    page = f"/episodes/{gone_guid}/delete"
    assert post(admin, page, page).status_code == 303
    assert runner("user", "role", "joseph", "editor").exit_code == 0

    edited = only(db, "episode.edit")
    assert (edited.actor, edited.subject) == ("amina", f"episode:{kept}")
    assert json.loads(edited.summary_before) == {"title": "Water committee"}
    assert json.loads(edited.summary_after) == {"title": "Water committee, March"}
    planned = only(db, "episode.schedule")
    assert planned.actor == "amina" and planned.subject == f"episode:{kept}"
    assert json.loads(planned.summary_before)["publish_at"] is None
    assert (
        json.loads(planned.summary_after)["publish_at"] == "2099-01-01T08:00:00Z"
    )  # TIMEZONE: UTC
    show = only(db, "setting.show")
    assert (show.actor, show.subject) == ("amina", "show:farm-hour")
    assert json.loads(show.summary_before)["licence"] is None
    assert json.loads(show.summary_after)["licence"] == "cc-by"
    deleted = only(db, "episode.delete")
    assert (deleted.actor, deleted.subject) == ("root", f"episode:{gone}")
    assert json.loads(deleted.summary_before)["title"] == "Old rerun"
    role = only(db, "account.role")
    assert role.actor.startswith("cli:") and role.subject.startswith("account:")
    assert (json.loads(role.summary_before), json.loads(role.summary_after)) == (
        {"role": "uploader"},
        {"role": "editor"},
    )

    listed = admin.get("/admin/audit")
    assert listed.status_code == 200 and "episode.schedule" in listed.get_data(as_text=True)
    as_csv = admin.get("/admin/audit?format=csv")
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert {r["action"] for r in rows} == {
        "episode.edit", "episode.schedule", "setting.show", "episode.delete", "account.role",
    }  # fmt: skip
    as_json = json.loads(admin.get("/admin/audit?format=json").data)
    assert [r["id"] for r in as_json] == [int(r["id"]) for r in rows]
    mine = json.loads(admin.get(f"/admin/audit?format=json&episode={guid}").data)
    assert {r["action"] for r in mine} == {"episode.edit", "episode.schedule"}
    # an admin sees the episode's history on its page; an editor does not
    assert "Water committee, March" in admin.get(f"/episodes/{guid}").get_data(as_text=True)
    assert 'id="history"' in admin.get(f"/episodes/{guid}").get_data(as_text=True)
    assert 'id="history"' not in client.get(f"/episodes/{guid}").get_data(as_text=True)


def test_listeners_and_editors_cannot_read_the_history(app, client, auth):
    assert client.get("/admin/audit?format=json").status_code in (302, 401)
    auth.login("amina", "editor")
    for url in ("/admin/audit", "/admin/audit?format=csv", "/admin/audit?format=json"):
        assert client.get(url).status_code == 403


def test_a_bad_date_is_a_clear_400(client, auth):
    auth.login("root", "admin")
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400 and "2026-11-02" in bad.get_data(as_text=True)
