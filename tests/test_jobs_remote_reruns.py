"""A re-run's audio made by a worker on another machine (#15, #17; radio.jobs.remote_rerun):
Debian's redis-server on 127.0.0.1 as the queue, ``radio serve --no-worker`` as the archive
and one ``radio worker --archive URL --token T`` process with its own empty data folder.

The station changes its loudness target and asks for the audio again: the worker renders
the new listening copies and peaks with the archive's settings and sends them; the archive
tags and swaps them in. The episode stays published the whole time, and the new files
decode to exactly what an in-process re-run of the same clip makes. A whole re-run sends its
audio and then its new transcript through the worker. Then, over real HTTP without a queue:
a damaged file is refused, a commit sent twice changes nothing the second time, a worker
that vanishes after its commit leaves files the archive swaps in without rendering them
again, and nothing is made again for an episode taken down.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlite_utils
from flask import Flask

from radio import create_app
from radio.data import reruns, takedowns, worker_tokens
from radio.data.episodes import get_episode
from radio.data.reruns import RerunPhase
from radio.db import connect, database_path, transaction, utcnow
from radio.jobs import rerun, tasks
from radio.jobs.ingest import Limits, Metadata, ingest_file
from radio.jobs.remote import RemoteWorker
from radio.jobs.remote_http import ArchiveClient
from radio.media import store
from tests.conftest import clip, settings
from tests.test_jobs_remote_speakers import adb, archive, server, worker  # noqa: F401 - fixtures
from tests.test_jobs_remote_workers import (  # noqa: F401 - fleet and redis_url: fixtures
    SETTINGS,
    Fleet,
    fleet,
    redis_url,
    results,
    rows,
    wait_for,
)

CLIP = "LJ001-0002.wav"  # 2 s of one reader
QUIETER = -20.0  # the station's new loudness target (the default is -16 LUFS)


def inodes(home: Path, episode_id: int) -> dict[str, int]:
    media = home / "media"
    found = {kind: (media / path).stat().st_ino
             for kind, path in rows(home, "select kind, path from renditions where episode_id = ?",
                                    [episode_id])}  # fmt: skip
    ((peaks,),) = rows(home, "select peaks_path from episodes where id = ?", [episode_id])
    return {**found, "peaks": (media / peaks).stat().st_ino}


def in_process_rerun(home: Path) -> dict[str, str]:
    """The same clip processed and its audio made again the ordinary way, elsewhere."""
    app = create_app(settings(home, **SETTINGS))
    db = connect(database_path(app))
    try:
        made = ingest_file(db, str(home), clip(CLIP), Metadata(title=CLIP),
                           Limits.from_config(app.config))  # fmt: skip
        assert tasks.run_episode(app, made.episode_id) == "ready"
        app.config["TARGET_LUFS"] = QUIETER
        assert rerun.request(db, app.config, made.episode_id, "audio") == rerun.Asked.RERUN
        assert rerun.run(db, app.config, made.episode_id).outcome == rerun.Outcome.DONE
        return {CLIP: get_episode(db, made.episode_id).guid}
    finally:
        db.conn.close()


def published_throughout(home: Path, episode_id: int, done: str) -> bool:
    """Whether the re-run reached ``done``; checked at every look: still published."""
    ((status, taken_down, deleted),) = rows(
        home, "select status, taken_down_at, deleted_at from episodes where id = ?", [episode_id]
    )
    assert (status, taken_down, deleted) == ("ready", None, None)
    assert rows(home, "select count(*) from renditions where episode_id = ?", [episode_id]) == [
        (3,)
    ]
    found = rows(home, "select status, error from reruns where episode_id = ?", [episode_id])
    assert not found or found[0][0] != "failed", found[0][1]
    return bool(found) and found[0][0] == done


def test_a_remote_worker_makes_the_audio_again_as_the_archive_would(
    fleet: Fleet,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = fleet.archive_home
    fleet.radio(home, "init")
    made = fleet.radio(home, "worker-token", "add", "lan")
    token = next(line for line in made.stdout.splitlines() if len(line) == 43)
    fleet.serve()  # no worker of its own: only the remote one renders
    scratch = tmp_path / "w1"
    fleet.start("w1", scratch, "worker", "--archive", fleet.url, "--token", token)
    fleet.radio(home, "ingest", str(clip(CLIP)), "--title", CLIP)
    ready = "select count(*) from episodes where status = 'ready'"
    wait_for("the episode", lambda: rows(home, ready) == [(1,)], fleet.logs)
    ((episode_id, guid),) = rows(home, "select id, guid from episodes")
    before = inodes(home, episode_id)

    # The station turns its level down (the archive restarts with it) and asks again.
    stopped = fleet.procs.pop("archive")
    stopped.terminate()
    stopped.wait(15)
    fleet.env["RADIO_TARGET_LUFS"] = str(QUIETER)
    fleet.serve()
    fleet.radio(home, "retry", str(episode_id), "--step", "audio")
    wait_for("the re-run", lambda: published_throughout(home, episode_id, "done"), fleet.logs)

    # Rendered on the worker (a commit of the re-run, named by its token), swapped in here.
    commits = rows(home, "select worker from worker_commits where episode_id = ?", [episode_id])
    assert len(commits) == 2 and all(w.startswith("remote/lan/") for (w,) in commits)
    sql = "select actor, summary_after from audit where action = 'worker.commit' order by id"
    (_, (actor, after)) = rows(home, sql)
    assert actor == "worker:lan" and '"rerun": "audio"' in after
    said = {p.name: p.read_text() for p in fleet.logs}
    assert f"episode {episode_id}: new listening copies sent (4 files)" in said["w1.log"]
    now = inodes(home, episode_id)
    assert all(now[kind] != before[kind] for kind in before)  # new files, the same names
    media = home / "media"
    for path, size in rows(home, "select path, bytes from renditions where episode_id = ?",
                           [episode_id]):  # fmt: skip
        assert (media / path).stat().st_size == size
    assert not (store.episode_dir(home, guid) / rerun.STAGING).exists()
    assert not any(p.is_file() for p in (scratch / "media").rglob("*"))  # scratch emptied
    # the same as an in-process re-run: the decoded audio, the peaks, the loudness
    remote = results(home, {CLIP: guid})[CLIP]
    local = results(tmp_path / "reference", in_process_rerun(tmp_path / "reference"))[CLIP]
    for key in ("audio", "peaks", "loudness"):
        assert remote[key] == local[key], key
    assert abs(remote["loudness"][1] - QUIETER) <= 1.0

    # Every step again: the audio, then the new transcript, both through the worker.
    fleet.radio(home, "retry", str(episode_id))
    commits_made = f"select count(*) from worker_commits where episode_id = {episode_id}"
    wait_for("the whole re-run", lambda: published_throughout(home, episode_id, "done")
             and rows(home, commits_made) == [(4,)]
             and not rows(home, "select 1 from retranscriptions"), fleet.logs)  # fmt: skip
    *_, (_, audio), (_, transcript) = rows(home, sql)
    assert '"rerun": "all"' in audio and '"retranscription"' in transcript
    assert rows(home, "select count(*) from segments where episode_id = ?", [episode_id])[0][0]


# -- over real HTTP, the worker in this process ----------------------------------------


def lend(by: RemoteWorker, episode_id: int) -> tuple[int, dict]:
    return by.client.json("POST", f"episodes/{episode_id}/rerun/lease")


def rendered(app: Flask, lent: dict, folder: Path) -> tuple[dict, dict[str, Path]]:
    """What a worker makes and sends: the manifest and its files."""
    from radio.jobs.rerun_render import render_staging

    source = store.resolve(app.config["HOME"], lent["source_path"])
    facts = render_staging(app.config, source, folder, lambda fraction: None)
    files = {p.name: p for p in folder.iterdir()}
    entries = [{"name": name, "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
               for name, path in sorted(files.items())]  # fmt: skip
    return {"request": lent["request"], "files": entries, "staged": facts}, files


def test_commits_are_checked_applied_once_and_carried_on_by_the_archive(
    archive: Flask,  # noqa: F811
    adb: sqlite_utils.Database,  # noqa: F811
    worker: RemoteWorker,  # noqa: F811
    server,  # noqa: ANN001, F811
    tmp_path: Path,
) -> None:
    from tests.archive import Seeder

    episode = Seeder(archive, adb).recording(clip(CLIP), title="LJ")
    before = inodes(Path(archive.config["HOME"]), episode.id)
    assert rerun.request(adb, archive.config, episode.id, "audio") == rerun.Asked.RERUN
    status, lent = lend(worker, episode.id)
    assert status == 200 and lent["stage"]
    assert reruns.get_rerun(adb, episode.id).status == RerunPhase.RUNNING
    url = f"episodes/{episode.id}/rerun"

    manifest, files = rendered(archive, lent, tmp_path / "made")
    damaged = bytearray(files["audio.opus"].read_bytes())  # the worker's disk let it down
    damaged[len(damaged) // 2] ^= 0xFF
    good = files["audio.opus"].read_bytes()
    files["audio.opus"].write_bytes(bytes(damaged))
    worker.upload(episode.id, manifest, files)
    status, answer = worker.client.json("POST", f"{url}/commit", manifest)
    assert status == 400 and "audio.opus did not arrive whole" in answer["error"]
    assert reruns.get_rerun(adb, episode.id).staged is None
    worker.give_back(episode.id)  # it gives up; another worker (a new upload) goes on

    other = RemoteWorker(worker.app, ArchiveClient(server.url, worker.client.token, "box-2"))
    status, lent = lend(other, episode.id)
    assert status == 200 and lent["stage"]
    assert lend(worker, episode.id)[0] == 409  # one worker at a time
    told = other.client.call("POST", f"{url}/progress", payload={"progress": 0.5}, attempts=1)
    assert told.status == 200 and reruns.get_rerun(adb, episode.id).progress == 0.45
    files["audio.opus"].write_bytes(good)
    other.upload(episode.id, manifest, files)
    first = other.client.json("POST", f"{url}/commit", manifest)
    again = other.client.json("POST", f"{url}/commit", manifest)  # the answer was lost
    assert first == again and first[0] == 200
    assert len(worker_tokens.commits(adb, episode.id)) == 1  # applied once
    staging = store.episode_dir(archive.config["HOME"], episode.guid) / rerun.STAGING
    placed = (staging / rerun.PEAKS).stat().st_ino
    assert inodes(Path(archive.config["HOME"]), episode.id) == before  # listeners: the old
    assert get_episode(adb, episode.id).is_public

    # The worker vanishes before `finish`; once its lease runs out the archive carries on
    # from the files it received: tagged and swapped in, not rendered again.
    adb.execute("update episodes set lease_until = 0 where id = ?", [episode.id])
    status, lent = lend(worker, episode.id)
    assert status == 200 and not lent["stage"]  # nothing heavy is left for a worker
    assert rerun.run(adb, archive.config, episode.id).outcome == rerun.Outcome.DONE
    now = inodes(Path(archive.config["HOME"]), episode.id)
    assert now["peaks"] == placed and now["mp3"] != before["mp3"]
    assert reruns.get_rerun(adb, episode.id).status == RerunPhase.DONE


def test_nothing_is_made_again_for_an_episode_taken_down(
    archive: Flask,  # noqa: F811
    adb: sqlite_utils.Database,  # noqa: F811
    worker: RemoteWorker,  # noqa: F811
) -> None:
    from tests.archive import Seeder

    episode = Seeder(archive, adb).recording(clip(CLIP), title="LJ")
    rerun.request(adb, archive.config, episode.id, "audio")
    with transaction(adb) as conn:
        takedowns.mark(conn, episode.id, "editor", "a complaint", utcnow())
    assert worker.rerun(episode.id) == "refused"
    asked = reruns.get_rerun(adb, episode.id)
    assert asked.status == RerunPhase.FAILED and "taken down" in asked.error
    assert worker_tokens.commits(adb, episode.id) == []
    assert get_episode(adb, episode.id).lease_owner is None  # never lent
    # A re-run the worker sends no file for (topics) is the archive's, as before.
    with transaction(adb) as conn:
        takedowns.unmark(conn, episode.id, utcnow())
    rerun.request(adb, archive.config, episode.id, "topics")
    lent = lend(worker, episode.id)
    assert lent == (200, {"id": episode.id, "stage": False})
