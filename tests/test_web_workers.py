"""The worker endpoints (/api/worker, #17): token scope, leases, ranged downloads, chunked
resumable uploads and the atomic, idempotent commit, on a real recording whose listening
copies a scratch archive made with the real pipeline."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from flask import Flask

from radio import create_app
from radio.data import worker_tokens
from radio.data.episodes import get_episode
from radio.db import connect, database_path, utcnow
from radio.jobs import pipeline
from radio.jobs.handoff import REMOTE_STEPS
from radio.jobs.remote_results import build_manifest, prepare_local
from radio.jobs.steps import STEPS
from radio.media import store
from tests.conftest import clip, settings

CLIP = "LJ001-0002.wav"


def bearer(token: str, worker: str = "box-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Worker-Id": worker}


def signed(token: str, piece: bytes) -> dict[str, str]:
    return {**bearer(token), "X-Chunk-SHA256": hashlib.sha256(piece).hexdigest()}


@pytest.fixture
def token(db: sqlite_utils.Database) -> str:
    return worker_tokens.add_token(db, "studio-pc", "test", utcnow())


@pytest.fixture
def episode(seed) -> int:  # noqa: ANN001
    return seed.recording(clip(CLIP), process=False).id


def test_a_worker_token_opens_only_the_worker_endpoints(client, auth, db, token) -> None:  # noqa: ANN001
    assert client.get("/api/worker/settings").status_code == 401
    assert client.get("/api/worker/settings", headers=bearer("x" * 43)).status_code == 401
    answer = client.get("/api/worker/settings", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.get_json()["MP3_BITRATE"] == 48_000
    # the token is no login: an admin page stays closed to it
    assert client.get("/admin/health", headers=bearer(token)).status_code in (302, 401, 403)
    # and a login is no token: an admin's session opens no worker endpoint
    auth.login("root", role="admin")
    assert client.get("/api/worker/settings").status_code == 401
    assert client.post("/api/worker/recover").status_code == 401
    worker_tokens.revoke_token(db, "studio-pc", utcnow())
    refused = client.get("/api/worker/settings", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_one_worker_holds_an_episode_at_a_time(client, token, episode) -> None:  # noqa: ANN001
    first = client.post(f"/api/worker/episodes/{episode}/lease", headers=bearer(token, "a"))
    assert first.status_code == 200, first.get_data(as_text=True)
    lent = first.get_json()
    assert lent["remote_steps"] == list(REMOTE_STEPS) and lent["done"] == []
    assert (
        client.post(f"/api/worker/episodes/{episode}/lease", headers=bearer(token, "b")).status_code
        == 409
    )
    renew = client.post(
        f"/api/worker/episodes/{episode}/lease/renew", headers=bearer(token, "b"), json={}
    )
    assert renew.status_code == 409  # b holds nothing to renew
    client.delete(f"/api/worker/episodes/{episode}/lease", headers=bearer(token, "a"))
    assert (
        client.post(f"/api/worker/episodes/{episode}/lease", headers=bearer(token, "b")).status_code
        == 200
    )


def test_the_original_comes_in_byte_ranges_with_its_checksum(app, client, token, episode) -> None:  # noqa: ANN001
    db = connect(database_path(app))
    ep = get_episode(db, episode)
    data = store.resolve(app.config["HOME"], ep.source_path).read_bytes()
    whole = client.get(f"/api/worker/episodes/{episode}/original", headers=bearer(token))
    assert whole.status_code == 200 and whole.data == data
    assert whole.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest() == ep.source_sha256
    rest = client.get(
        f"/api/worker/episodes/{episode}/original",
        headers={**bearer(token), "Range": "bytes=1000-"},
    )
    assert rest.status_code == 206 and rest.data == data[1000:]
    assert rest.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"


def scratch_results(tmp_path: Path, app: Flask, lent: dict) -> tuple[dict, dict[str, Path]]:
    """The listening copies a worker's own scratch archive makes of the lent episode."""
    scratch = create_app(settings(tmp_path / "scratch"))
    db = connect(database_path(scratch))
    local = prepare_local(db, scratch.config["HOME"], lent)
    source = store.resolve(app.config["HOME"], lent["source_path"])
    target = store.resolve(scratch.config["HOME"], lent["source_path"])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    audio = tuple(step for step in STEPS if step[0] == "audio")
    assert pipeline.process(db, scratch.config, local, audio) == "ready"
    return build_manifest(db, scratch.config["HOME"], local, ["audio"])


def send(client, episode: int, token: str, name: str, path: Path, chunk: int = 20_000) -> None:  # noqa: ANN001
    data, offset = path.read_bytes(), 0
    while offset < len(data):
        piece = data[offset : offset + chunk]
        answer = client.put(
            f"/api/worker/episodes/{episode}/uploads/{name}?offset={offset}",
            data=piece,
            headers=signed(token, piece),
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        offset = answer.get_json()["bytes"]


def test_uploads_resume_refuse_damage_and_commit_once(
    app, client, db, token, episode, tmp_path
) -> None:  # noqa: ANN001
    url = f"/api/worker/episodes/{episode}"
    lent = client.post(f"{url}/lease", headers=bearer(token)).get_json()
    manifest, files = scratch_results(tmp_path, app, lent)
    names = sorted(files)
    assert names == ["audio.m4a", "audio.mp3", "audio.opus", "peaks.json"]
    first, data = names[0], files[names[0]].read_bytes()
    # a first chunk arrives; a damaged one is refused and leaves the file as it was
    piece = data[:5000]
    ok = client.put(f"{url}/uploads/{first}?offset=0", data=piece, headers=signed(token, piece))
    assert ok.get_json() == {"bytes": 5000}
    damaged = bytearray(data[5000:9000])
    damaged[10] ^= 0xFF
    headers = signed(token, data[5000:9000])  # the checksum of what was sent
    refused = client.put(f"{url}/uploads/{first}?offset=5000", data=bytes(damaged), headers=headers)
    assert refused.status_code == 409 and refused.get_json()["bytes"] == 5000
    # a chunk at the wrong place is refused with where to go on from
    wrong = client.put(f"{url}/uploads/{first}?offset=7000", data=b"x", headers=bearer(token))
    assert wrong.status_code == 409 and wrong.get_json()["bytes"] == 5000
    assert client.get(f"{url}/uploads", headers=bearer(token)).get_json() == {
        "files": {first: 5000}
    }
    # a commit before every file arrived changes nothing
    early = client.post(f"{url}/commit", json=manifest, headers=bearer(token))
    assert early.status_code == 400
    assert (
        db.execute("select count(*) from renditions where episode_id = ?", [episode]).fetchone()[0]
        == 0
    )
    # the rest, resumed where the archive says it stands
    client_send_rest(client, url, token, first, data, 5000)
    for name in names[1:]:
        send(client, episode, token, name, files[name])
    done = client.post(f"{url}/commit", json=manifest, headers=bearer(token))
    assert done.status_code == 200, done.get_data(as_text=True)
    again = client.post(f"{url}/commit", json=manifest, headers=bearer(token))
    assert again.status_code == 200 and again.get_json() == done.get_json()
    assert len(worker_tokens.commits(db, episode)) == 1
    ep = get_episode(db, episode)
    folder = store.episode_dir(app.config["HOME"], ep.guid)
    for entry in manifest["files"]:
        placed = folder / entry["name"]
        assert hashlib.sha256(placed.read_bytes()).hexdigest() == entry["sha256"]
    rows = db.execute(
        "select kind, bytes from renditions where episode_id = ?", [episode]
    ).fetchall()
    assert sorted(rows) == sorted((r["kind"], r["bytes"]) for r in manifest["renditions"])
    steps = dict(
        db.execute(
            "select step, status from episode_steps where episode_id = ?", [episode]
        ).fetchall()
    )
    assert steps["audio"] == "done"
    assert ep.loudness_after == manifest["episode"]["loudness_after"]


def client_send_rest(client, url: str, token: str, name: str, data: bytes, offset: int) -> None:  # noqa: ANN001
    piece = data[offset:]
    answer = client.put(
        f"{url}/uploads/{name}?offset={offset}", data=piece, headers=signed(token, piece)
    )
    assert answer.get_json() == {"bytes": len(data)}


def test_a_worker_without_the_lease_can_neither_upload_nor_commit(client, token, episode) -> None:  # noqa: ANN001
    url = f"/api/worker/episodes/{episode}"
    assert client.post(f"{url}/lease", headers=bearer(token, "a")).status_code == 200
    put = client.put(f"{url}/uploads/episode.mp3?offset=0", data=b"abc", headers=bearer(token, "b"))
    assert put.status_code == 409
    manifest = {"renditions": [], "files": [], "steps": ["audio"]}
    assert (
        client.post(f"{url}/commit", json=manifest, headers=bearer(token, "b")).status_code == 409
    )
    bad_name = client.put(
        f"{url}/uploads/..%2Fdb?offset=0", data=b"abc", headers=bearer(token, "a")
    )
    assert bad_name.status_code in (400, 404)


def test_the_worker_client_resumes_downloads_and_uploads_over_http(
    app, token, episode, tmp_path
) -> None:  # noqa: ANN001
    from radio.jobs.remote_http import ArchiveClient, RemoteError
    from tests.webserver import live_server

    db = connect(database_path(app))
    ep = get_episode(db, episode)
    original = store.resolve(app.config["HOME"], ep.source_path).read_bytes()
    with live_server(app) as server:
        client = ArchiveClient(server.url, token, "box-9")
        assert client.json("POST", f"episodes/{episode}/lease")[0] == 200
        # a download cut after 1,000 bytes goes on from there
        dest = tmp_path / "fetched" / "original.wav"
        dest.parent.mkdir()
        dest.with_name("original.wav.part").write_bytes(original[:1000])
        client.download(f"episodes/{episode}/original", dest, ep.source_sha256)
        assert dest.read_bytes() == original
        # a partial file that is not the original's beginning is caught by the checksum
        other = tmp_path / "fetched" / "other.wav"
        other.with_name("other.wav.part").write_bytes(b"\0" * 1000)
        with pytest.raises(RemoteError, match="damaged"):
            client.download(f"episodes/{episode}/original", other, ep.source_sha256)
        assert not other.with_name("other.wav.part").exists()
        # an upload the archive holds part of is finished from where it stands
        source = tmp_path / "audio.mp3"
        source.write_bytes(original * 3)
        client.call("PUT", f"episodes/{episode}/uploads/audio.mp3?offset=0", body=original[:777])
        status, have = client.json("GET", f"episodes/{episode}/uploads")
        assert have == {"files": {"audio.mp3": 777}}
        client.upload(episode, "audio.mp3", source, 0)  # asks from 0; told 777; goes on
        _, have = client.json("GET", f"episodes/{episode}/uploads")
        assert have == {"files": {"audio.mp3": len(original) * 3}}


def test_the_worker_client_gives_up_plainly_when_the_archive_is_gone(token) -> None:  # noqa: ANN001
    import socket

    from radio.jobs.remote_http import ArchiveClient, ArchiveUnreachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    waits: list[float] = []
    client = ArchiveClient(f"http://127.0.0.1:{port}", token, "box", attempts=4, sleep=waits.append)
    with pytest.raises(ArchiveUnreachable, match="gave up after 4 tries"):
        client.json("GET", "settings")
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]  # waits grow between tries


def test_a_manifest_of_the_wrong_shape_is_refused_before_anything_changes(
    client, db, token, episode
) -> None:  # noqa: ANN001
    from radio.jobs.handoff import RENDITION_KINDS
    from radio.media.renditions import KINDS

    assert set(RENDITION_KINDS) == set(KINDS)
    url = f"/api/worker/episodes/{episode}"
    assert client.post(f"{url}/lease", headers=bearer(token)).status_code == 200
    bad = [
        {"renditions": [{"kind": "wav", "file": "a.wav", "bytes": 1, "duration": 1}]},
        {
            "renditions": [],
            "segments": [[0, "soon", 1.0, "hi", None, "[]"]],
            "steps": ["transcribe"],
        },
        {"renditions": [], "steps": ["topics"]},
        {"renditions": [], "steps": ["speakers"]},  # only with the transcript it diarizes
        {"renditions": [], "steps": ["transcribe"], "files": []},  # no transcript file
        {"renditions": [], "files": [{"name": "../archive.db", "bytes": 1, "sha256": "0"}]},
    ]
    for manifest in bad:
        answer = client.post(f"{url}/commit", json=manifest, headers=bearer(token))
        assert answer.status_code == 400, manifest
        assert answer.get_json()["error"]
    assert worker_tokens.commits(db, episode) == []
    assert db.execute("select count(*) from episode_steps where episode_id = ? and status = 'done'",
                      [episode]).fetchone()[0] == 0  # fmt: skip


def test_a_remote_worker_answers_every_kind_of_queue_entry(app) -> None:  # noqa: ANN001
    """Huey names a task by module and name: the remote worker's must read as the archive's,
    or entries it takes from the shared queue would be lost."""
    from radio.jobs.remote import RemoteWorker, make_queue
    from radio.jobs.remote_http import ArchiveClient

    archive = set(app.extensions["radio.huey"]._registry._registry)
    worker = RemoteWorker(app, ArchiveClient("http://127.0.0.1:9", "t", "w"))
    remote = set(make_queue(app, worker)._registry._registry)
    assert archive == remote
    assert "radio.jobs.tasks.process_episode" in remote


def test_work_only_the_archive_can_do_is_passed_back_to_it(app, client, db, seed, token) -> None:  # noqa: ANN001
    import time

    from mutagen.id3 import ID3

    from radio.data.episodes import update_episode

    episode = seed.recording(clip(CLIP), title="Before").id
    from radio.data.renditions import rendition_file

    mp3 = store.resolve(app.config["HOME"], rendition_file(db, episode, "mp3")[0])
    assert str(ID3(mp3)["TIT2"]) == "Before"
    update_episode(db, episode, title="After")
    url = f"/api/worker/episodes/{episode}/run"
    assert client.post(f"{url}/process_episode", headers=bearer(token)).status_code == 404
    answer = client.post(f"{url}/tag_files", headers=bearer(token))
    assert answer.status_code == 202  # runs beside the request, on the archive's own files
    deadline = time.monotonic() + 60
    while str(ID3(mp3)["TIT2"]) != "After" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert str(ID3(mp3)["TIT2"]) == "After"


def test_a_transcript_file_out_of_shape_is_refused_and_nothing_changes(
    client, db, token, episode
) -> None:  # noqa: ANN001
    import json

    url = f"/api/worker/episodes/{episode}"
    assert client.post(f"{url}/lease", headers=bearer(token)).status_code == 200
    body = json.dumps({"segments": [[0, "soon", 1.0, "hi", None, "[]"]]}).encode()
    put = client.put(f"{url}/uploads/transcript.json?offset=0", data=body,
                     headers=signed(token, body))  # fmt: skip
    assert put.status_code == 200
    entry = {"name": "transcript.json", "bytes": len(body),
             "sha256": hashlib.sha256(body).hexdigest()}  # fmt: skip
    manifest = {"renditions": [], "files": [entry], "steps": ["transcribe"]}
    answer = client.post(f"{url}/commit", json=manifest, headers=bearer(token))
    assert answer.status_code == 400 and "transcript" in answer.get_json()["error"]
    speakers = {**manifest, "steps": ["transcribe", "speakers"]}
    good = json.dumps({"segments": [[0, 0.0, 1.0, "hi", "Speaker 1", "[]"]],
                       "speakers": [["Speaker 1", 1.0, "not base64!"]]}).encode()  # fmt: skip
    client.put(f"{url}/uploads/transcript.json?offset={len(body)}", data=good,
               headers=signed(token, good))  # fmt: skip
    assert client.post(f"{url}/commit", json=speakers, headers=bearer(token)).status_code == 400
    assert worker_tokens.commits(db, episode) == []
    assert db.execute("select count(*) from segments where episode_id = ?",
                      [episode]).fetchone()[0] == 0  # fmt: skip


def test_a_transcript_the_archive_has_is_diarized_on_the_archive(
    client, db, token, episode
) -> None:  # noqa: ANN001
    from radio.data import processing
    from radio.data.processing import StepStatus

    processing.mark_step(db, episode, "audio", StepStatus.DONE)
    processing.mark_step(db, episode, "transcribe", StepStatus.DONE)
    lent = client.post(f"/api/worker/episodes/{episode}/lease", headers=bearer(token)).get_json()
    assert lent["remote_steps"] == ["audio", "transcribe"]  # the worker does nothing more


def test_upload_folders_no_worker_will_commit_are_swept(app, db, token, episode) -> None:  # noqa: ANN001
    import os
    import time as clock

    from radio.jobs import handoff, tasks
    from radio.jobs.remote_uploads import STALE_LEASES, upload_dir

    home = app.config["HOME"]
    holder = "remote/studio-pc/box-1"
    assert handoff.take(db, app.config, episode, holder) is not None
    lease = handoff.lease_seconds(app.config)
    long_ago = clock.time() - (STALE_LEASES + 1) * lease
    folders = {
        "holder": upload_dir(home, episode, holder),  # quiet, but its lease is live
        "dead": upload_dir(home, episode, "remote/studio-pc/box-gone"),  # lost the lease
        "gone": upload_dir(home, 999, "remote/studio-pc/box-1"),  # no such episode
        "recent": upload_dir(home, episode, "remote/studio-pc/box-new"),  # still arriving
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True)
        (folder / "audio.mp3").write_bytes(b"part")
        if name != "recent":
            for path in (folder / "audio.mp3", folder):
                os.utime(path, (long_ago, long_ago))
    tasks.recover(app, include_queued=False)  # the archive's minutely upkeep sweeps them
    assert {name for name, folder in folders.items() if folder.exists()} == {"holder", "recent"}
