"""Deleting an episode from the web: gone from every page, feed, search and media URL at
once; admins only; the trash restores it, or empties it (rows everywhere, files, and the
original unless another episode shares it)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from radio.data.episodes import get_episode
from radio.media.store import episode_dir, media_root
from tests.conftest import clip
from tests.webserver import csrf_token

RECORDING = "cannot-complete-as-dialed.wav"  # 2.6 s, licence in tests/data/manifest.tsv


def feed_guids(client) -> list[str]:  # noqa: ANN001
    body = client.get("/feeds/all.xml").data
    return etree.fromstring(body).xpath("//item/guid/text()")


def post(client, page: str, action: str, **data):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def listener_sees(app, guid: str, word: str) -> dict[str, bool]:  # noqa: ANN001
    """What a listener (no login) can reach of the episode, each way in."""
    listener = app.test_client()
    return {
        "page": listener.get(f"/episodes/{guid}").status_code == 200,
        "mp3": listener.get(f"/media/{guid}/audio.mp3").status_code == 200,
        "peaks": listener.get(f"/media/{guid}/peaks.json").status_code == 200,
        "feed": guid in feed_guids(listener),
        "search": guid in listener.get(f"/search?q={word}").get_data(as_text=True),
        "home": guid in listener.get("/").get_data(as_text=True),
    }


def deleted_everywhere(seen: dict[str, bool]) -> bool:
    return not any(seen.values())


def test_an_admin_deletes_and_listeners_lose_it_at_once(app, client, auth, seed, db):
    ep = seed.recording(clip(RECORDING), title="Harambee meeting")
    db["segments"].insert(
        {"episode_id": ep.id, "idx": 0, "start": 0.0, "end": 2.0, "text": "harambee tonight"}
    )
    assert all(listener_sees(app, ep.guid, "harambee").values())
    auth.login("root", "admin")
    confirm = client.get(f"/episodes/{ep.guid}/delete")
    assert confirm.status_code == 200
    assert "Move to the trash" in confirm.get_data(as_text=True)  # the confirm step
    done = post(client, f"/episodes/{ep.guid}/delete", f"/episodes/{ep.guid}/delete")
    assert done.status_code == 303 and done.location.endswith("/admin/trash")
    assert deleted_everywhere(listener_sees(app, ep.guid, "harambee"))
    # nobody sees it but in the trash: not the admin's own pages either
    assert client.get(f"/episodes/{ep.guid}").status_code == 404
    assert client.get(f"/episodes/{ep.guid}/edit").status_code == 404
    assert ep.guid not in client.get("/").get_data(as_text=True)
    trash_page = client.get("/admin/trash").get_data(as_text=True)
    assert "Harambee meeting" in trash_page and "root" in trash_page
    # its files wait in the trash
    assert episode_dir(app.config["HOME"], ep.guid).is_dir()


def test_editors_and_listeners_cannot_delete(app, client, auth, seed):
    ep = seed.recording(clip(RECORDING), title="Market day")
    assert client.post(f"/episodes/{ep.guid}/delete").status_code in (302, 400, 403)
    auth.login("amina", "editor")
    assert client.get(f"/episodes/{ep.guid}/delete").status_code == 403
    token = csrf_token(client.get(f"/episodes/{ep.guid}/edit").get_data(as_text=True))
    refused = client.post(f"/episodes/{ep.guid}/delete", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "admin" in refused.get_data(as_text=True)
    assert client.get("/admin/trash").status_code == 403
    edit = client.get(f"/episodes/{ep.guid}/edit").get_data(as_text=True)
    assert "Delete this episode" not in edit  # the button is for admins
    assert app.test_client().get(f"/episodes/{ep.guid}").status_code == 200


def test_restore_brings_it_back_everywhere(app, client, auth, seed):
    ep = seed.recording(clip(RECORDING), title="Water committee")
    auth.login("root", "admin")
    post(client, f"/episodes/{ep.guid}/delete", f"/episodes/{ep.guid}/delete")
    assert deleted_everywhere(listener_sees(app, ep.guid, "water"))
    back = post(client, "/admin/trash", f"/admin/trash/{ep.id}/restore")
    assert back.status_code == 303
    seen = listener_sees(app, ep.guid, "water")  # the title is searchable too
    assert all(seen.values()), seen
    assert "The trash is empty" in client.get("/admin/trash").get_data(as_text=True)


def test_emptying_removes_rows_and_files_but_keeps_a_shared_original(app, client, auth, seed, db):
    home = Path(app.config["HOME"])
    first = seed.recording(clip(RECORDING), title="First take")
    db["soundbites"].insert(
        {"episode_id": first.id, "start": 0.5, "duration": 1.0, "created_at": "2026-01-01"}
    )
    auth.login("root", "admin")
    post(client, f"/episodes/{first.guid}/delete", f"/episodes/{first.guid}/delete")
    # the same recording sent again after its episode was deleted: a new episode that
    # shares the original file
    second = seed.recording(clip(RECORDING), title="Second take")
    assert second.id != first.id and second.source_path == first.source_path
    original = media_root(home) / first.source_path
    page = client.get("/admin/trash").get_data(as_text=True)
    assert "original shared, kept" in page
    post(client, "/admin/trash", f"/admin/trash/{first.id}/empty")
    assert not episode_dir(home, first.guid).exists()
    assert original.is_file()  # the second episode still needs it
    for table in ("episodes", "renditions", "episode_steps", "segments", "soundbites"):
        column = "id" if table == "episodes" else "episode_id"
        count = db.execute(f"select count(*) from {table} where {column} = ?", [first.id])
        assert count.fetchone()[0] == 0, table
    assert (
        db.execute("select count(*) from episodes_fts where title = 'First take'").fetchone()[0]
        == 0
    )
    assert get_episode(db, second.id).deleted_at is None
    assert app.test_client().get(f"/media/{second.guid}/audio.mp3").status_code == 200
    # once the last episode using it goes, so does the original
    post(client, f"/episodes/{second.guid}/delete", f"/episodes/{second.guid}/delete")
    emptied = post(client, "/admin/trash", "/admin/trash/empty")
    assert emptied.status_code == 303
    assert not original.exists() and not episode_dir(home, second.guid).exists()
    assert db.execute("select count(*) from episodes").fetchone()[0] == 0


def test_with_no_trash_days_a_delete_is_for_good(app, client, auth, seed, db):
    app.config["TRASH_DAYS"] = 0
    ep = seed.recording(clip(RECORDING), title="Gone at once")
    auth.login("root", "admin")
    assert "Delete for good" in client.get(f"/episodes/{ep.guid}/delete").get_data(as_text=True)
    post(client, f"/episodes/{ep.guid}/delete", f"/episodes/{ep.guid}/delete")
    assert db.execute("select count(*) from episodes").fetchone()[0] == 0
    assert not (media_root(app.config["HOME"]) / ep.source_path).exists()
