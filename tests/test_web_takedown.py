"""Takedown from the web (#16 item 4): the admins' form (CSRF, admin only, a reason
required, destroy as a choice), 410 Gone at every address for everyone with a tombstone
for the team, the receipt that says only that it was taken down, and the undo."""

from __future__ import annotations

from pathlib import Path

from radio.data import audit
from radio.data.episodes import get_episode
from radio.jobs.ingest import Limits, Metadata, ingest_file
from radio.jobs.takedown import take_down
from radio.media.store import episode_dir, media_root
from tests.conftest import clip
from tests.webserver import csrf_token

RECORDING = "cannot-complete-as-dialed.wav"  # 2.6 s, licence in tests/data/manifest.tsv
WHY = "Asked by the family of the speaker"


def recording(app, db):  # noqa: ANN001, ANN201
    """A real recording taken in and processed, with its receipt link, and a word said."""
    from radio.jobs import tasks

    home = app.config["HOME"]
    taken = ingest_file(
        db, home, clip(RECORDING), Metadata(title="Harambee"), Limits.from_config(app.config)
    )
    tasks.run_episode(app, taken.episode_id)
    db["segments"].insert(
        {"episode_id": taken.episode_id, "idx": 0, "start": 0.0, "end": 2.0,
         "text": "harambee tonight at the hall"}
    )  # fmt: skip
    return get_episode(db, taken.episode_id), f"/receipts/{taken.receipt_token}"


def post_form(client, guid: str, **data):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/episodes/{guid}/takedown").get_data(as_text=True))
    return client.post(f"/episodes/{guid}/takedown", data={"csrf_token": token, **data})


def test_an_admin_takes_an_episode_down_from_the_web(app, client, auth, db):
    ep, receipt = recording(app, db)
    listener = app.test_client()
    assert listener.get(f"/episodes/{ep.guid}").status_code == 200
    first = csrf_token(listener.get("/login").get_data(as_text=True))
    passage = {"csrf_token": first, "start": "0:01", "end": "0:02", "message": "A name I said"}
    assert listener.post(f"{receipt}/passage", data=passage).status_code == 303
    auth.login("root", "admin")
    edit = client.get(f"/episodes/{ep.guid}/edit").get_data(as_text=True)
    assert f"/episodes/{ep.guid}/takedown" in edit  # linked for admins
    form = client.get(f"/episodes/{ep.guid}/takedown").get_data(as_text=True)
    assert 'name="reason"' in form and 'name="destroy"' in form and "cannot be undone" in form

    refused = post_form(client, ep.guid, reason="   ")
    assert refused.status_code == 400 and "Say why" in refused.get_data(as_text=True)
    assert get_episode(db, ep.id).taken_down_at is None

    done = post_form(client, ep.guid, reason=WHY)
    assert done.status_code == 303 and done.location.endswith(f"/episodes/{ep.guid}")

    # listeners: a short page, 410, nothing of it
    page = listener.get(f"/episodes/{ep.guid}")
    text = page.get_data(as_text=True)
    assert page.status_code == 410 and "taken down" in text
    assert "harambee tonight" not in text and WHY not in text
    # the team: a tombstone (title, when, by whom, why), still 410, still no content
    tomb = client.get(f"/episodes/{ep.guid}")
    text = tomb.get_data(as_text=True)
    assert tomb.status_code == 410
    assert "Harambee" in text and WHY in text and "root" in text
    assert "harambee tonight" not in text and "<audio" not in text
    # every address answers 410, to editors and admins too
    addresses = [
        f"/media/{ep.guid}/audio.mp3",
        f"/media/{ep.guid}/harambee.opus",
        f"/media/{ep.guid}/peaks.json",
        f"/media/{ep.guid}/original",
        f"/episodes/{ep.guid}/transcript.vtt",
        f"/feeds/chapters/{ep.guid}.json",
        f"/episodes/{ep.guid}/edit",
        f"/episodes/{ep.guid}/clip.opus?from=0&to=2",
    ]
    for path in addresses:
        assert client.get(path).status_code == 410, path
        assert listener.get(path).status_code == 410, path
    found = client.get("/search?q=harambee").get_data(as_text=True)
    assert ep.guid not in found and "tonight" not in found

    # the receipt still opens and says it was taken down, when and why, and nothing more
    shown = listener.get(receipt)
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Taken down on" in text and WHY in text
    assert "harambee tonight" not in text and "SHA-256" not in text
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert 'id="request-' in text  # what the contributor asked stays on their receipt
    assert 'action="/receipts/' not in text  # with no form left to ask more
    token = csrf_token(listener.get("/login").get_data(as_text=True))
    asked = listener.post(f"{receipt}/takedown", data={"csrf_token": token, "message": "x"})
    assert asked.status_code == 410  # its forms have nothing left to act on

    # the admin's history names who and why
    (entry,) = audit.entries(db, action="episode.takedown")
    assert (entry.actor, entry.why) == ("root", WHY)
    # kept: the files stay here; the admin undoes it
    assert episode_dir(app.config["HOME"], ep.guid).is_dir()
    token = csrf_token(client.get(f"/episodes/{ep.guid}/takedown").get_data(as_text=True))
    back = client.post(f"/episodes/{ep.guid}/takedown/undo", data={"csrf_token": token})
    assert back.status_code == 303
    assert listener.get(f"/episodes/{ep.guid}").status_code == 200
    assert listener.get(f"/media/{ep.guid}/audio.mp3").status_code == 200
    assert [e.action for e in audit.entries(db, action="episode")][0] == "episode.takedown_undo"


def test_destroying_from_the_web_deletes_its_files(app, client, auth, db):
    ep, receipt = recording(app, db)
    home = Path(app.config["HOME"])
    auth.login("root", "admin")
    done = post_form(client, ep.guid, reason=WHY, destroy="1")
    assert done.status_code == 303
    assert not episode_dir(home, ep.guid).exists()
    assert not (media_root(home) / ep.source_path).exists()
    tomb = client.get(f"/episodes/{ep.guid}").get_data(as_text=True)
    assert "Destroyed" in tomb and "Undo" not in tomb
    text = app.test_client().get(receipt).get_data(as_text=True)
    assert "Taken down on" in text and "were deleted" in text


def test_only_admins_take_down_and_the_form_needs_its_csrf_token(app, client, auth, db, seed):
    episode_id = seed.episode("Market day", [(0.0, 2.0, "maize prices")])
    guid = get_episode(db, episode_id).guid
    assert client.post(f"/episodes/{guid}/takedown", data={"reason": WHY}).status_code in (
        302,
        400,
        403,
    )
    auth.login("amina", "editor")
    assert client.get(f"/episodes/{guid}/takedown").status_code == 403
    token = csrf_token(client.get(f"/episodes/{guid}/edit").get_data(as_text=True))
    refused = client.post(f"/episodes/{guid}/takedown", data={"csrf_token": token, "reason": WHY})
    assert refused.status_code == 403
    assert f"/episodes/{guid}/takedown" not in client.get(f"/episodes/{guid}/edit").get_data(
        as_text=True
    )
    auth.logout()
    auth.login("root", "admin")
    no_token = client.post(f"/episodes/{guid}/takedown", data={"reason": WHY})
    assert no_token.status_code == 400
    assert get_episode(db, episode_id).taken_down_at is None


def test_an_episode_taken_down_elsewhere_is_gone_for_editors_too(app, client, auth, db, seed):
    episode_id = seed.episode("Market day", [(0.0, 2.0, "maize prices")], visibility="draft")
    guid = get_episode(db, episode_id).guid
    auth.login("amina", "editor")
    assert "Market day" in client.get("/search?q=maize").get_data(as_text=True)  # a draft
    take_down(db, app.config, episode_id, actor=audit.Actor("cli:root"), reason=WHY, destroy=False)
    assert "Market day" not in client.get("/").get_data(as_text=True)
    found = client.get("/search?q=maize").get_data(as_text=True)
    assert "Market day" not in found and "maize prices" not in found
    page = client.get(f"/episodes/{guid}")
    assert page.status_code == 410 and "cli:root" in page.get_data(as_text=True)
