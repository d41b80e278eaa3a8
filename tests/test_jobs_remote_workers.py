"""Workers on other machines, no shared folder (#17 item 1), the whole way for real: Debian's
redis-server on 127.0.0.1 as the queue, ``radio serve --no-worker`` as the archive, and two
``radio worker --archive URL --token T`` processes, each with its own empty data folder.

Five real clips are processed, each exactly once (one commit each), with results identical
to an in-process run of the same clips in another archive: the decoded audio of every
listening copy (the files themselves differ by their tags, which name each archive's own
dates and links; the audio frames are what the encoders made), the peaks file, the loudness
figures, the transcript's text, times and speakers, and the speakers rows (talk time, voice
print) the workers' diarization made. Then a worker is SIGKILLed while it
holds an episode; the other finishes it once the lease runs out.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from radio import create_app
from radio.data import worker_tokens
from radio.db import connect, database_path
from radio.jobs import tasks
from radio.jobs.ingest import Limits, Metadata, ingest_file
from tests.conftest import clip, require, settings

CLIPS = (
    "LJ001-0002.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
    "61-70968-0000.flac",
    "jfk.flac",
)
LONG_CLIP = "basic-pbx-ivr-main.wav"  # 25 s: time enough to kill its worker mid-episode
LEASE_SECONDS = 4
SETTINGS = {"TRANSCRIBE": True, "LEASE_SECONDS": LEASE_SECONDS, "WHISPER_THREADS": 1}
WAIT_S = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready: Callable[[], object], logs: list[Path]) -> object:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.05)
    shown = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-4000:]}" for p in logs)
    pytest.fail(f"gave up waiting for {what}\n{shown}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    require(server is not None, "redis-server")
    port = free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    wait_for("redis-server", lambda: _pings(client), [])
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _pings(client) -> bool:  # noqa: ANN001
    try:
        return bool(client.ping())
    except Exception:
        return False


class Fleet:
    """The archive and its workers as subprocesses, with their logs."""

    def __init__(self, tmp_path: Path, queue_url: str) -> None:
        self.tmp = tmp_path
        self.env = {
            **os.environ,
            "RADIO_QUEUE_URL": queue_url,
            "RADIO_TRANSCRIBE": "true",
            "RADIO_LEASE_SECONDS": str(LEASE_SECONDS),
            "RADIO_WHISPER_THREADS": "1",
        }
        self.env.pop("RADIO_HOME", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: list[Path] = []
        self.archive_home = tmp_path / "archive"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def radio(self, home: Path, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "radio", "--home", str(home), *args],
            env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, f"radio {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def start(self, name: str, home: Path, *args: str) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "radio", "-v", "--home", str(home), *args],
            env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def serve(self, *, own_worker: bool = False) -> None:
        self.start("archive", self.archive_home, "serve", "--no-qr",
                   *(() if own_worker else ("--no-worker",)),
                   "--host", "127.0.0.1", "--port", str(self.port))  # fmt: skip
        wait_for("the archive", lambda: _answers(self.url + "/health"), self.logs)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture
def fleet(tmp_path: Path, redis_url: str) -> Iterator[Fleet]:
    f = Fleet(tmp_path, redis_url)
    try:
        yield f
    finally:
        f.stop()


def rows(home: Path, sql: str, params: list | tuple = ()) -> list[tuple]:
    db = connect(home / "archive.db")
    try:
        return db.execute(sql, list(params)).fetchall()
    finally:
        db.conn.close()


def decoded_sha(path: Path) -> str:
    import av

    digest = hashlib.sha256()
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            digest.update(frame.to_ndarray().tobytes())
    return digest.hexdigest()


def results(home: Path, guid_by_name: dict[str, str]) -> dict[str, dict]:
    """What is compared between two archives, per clip."""
    out = {}
    for name, guid in guid_by_name.items():
        (eid, before, after, peaks), = rows(
            home, "select id, loudness_before, loudness_after, peaks_path from episodes "
            "where guid = ?", [guid])  # fmt: skip
        media = home / "media"
        files = rows(home, "select kind, path from renditions where episode_id = ?", [eid])
        out[name] = {
            "audio": {kind: decoded_sha(media / path) for kind, path in files},
            "peaks": hashlib.sha256((media / peaks).read_bytes()).hexdigest(),
            "loudness": (before, after),
            "segments": rows(
                home,
                "select idx, start, end, text, speaker from segments "
                "where episode_id = ? order by idx",
                [eid],
            ),  # fmt: skip
            # who speaks: found on the worker (voice prints, clustering), saved here
            "speakers": rows(
                home,
                "select label, seconds, voice, suggestion, suggestion_score from speakers "
                "where episode_id = ? order by label",
                [eid],
            ),  # fmt: skip
        }
    return out


def in_process_run(home: Path) -> dict[str, str]:
    """The same clips, processed the ordinary way in an archive of their own."""
    app = create_app(settings(home, **SETTINGS))
    db = connect(database_path(app))
    guids = {}
    try:
        for name in CLIPS:
            made = ingest_file(db, str(home), clip(name), Metadata(title=name),
                               Limits.from_config(app.config))  # fmt: skip
            assert tasks.run_episode(app, made.episode_id) == "ready"
            guids[name] = db["episodes"].get(made.episode_id)["guid"]
    finally:
        db.conn.close()
    return guids


def test_two_remote_workers_process_each_clip_once_as_the_archive_would(
    fleet: Fleet, tmp_path: Path
) -> None:
    home = fleet.archive_home
    fleet.radio(home, "init")
    made = fleet.radio(home, "worker-token", "add", "lan")
    token = next(line for line in made.stdout.splitlines() if len(line) == 43)
    fleet.serve()
    workers = {}
    for name in ("w1", "w2"):
        scratch = tmp_path / name
        workers[name] = (scratch, fleet.start(name, scratch, "worker", "--archive", fleet.url,
                                              "--token", token))  # fmt: skip
    for name in CLIPS:
        fleet.radio(home, "ingest", str(clip(name)), "--title", name)
    wait_for("five ready episodes", lambda: _ready(home) == len(CLIPS), fleet.logs)

    guids = dict(rows(home, "select title, guid from episodes"))
    for (episode_id,) in rows(home, "select id from episodes"):
        assert len(rows(home, "select worker from worker_commits where episode_id = ?",
                        [episode_id])) == 1  # fmt: skip
    committed_by = {w for (w,) in rows(home, "select worker from worker_commits")}
    assert all(w.startswith("remote/lan/") for w in committed_by)
    for scratch, _ in workers.values():  # scratch folders: emptied once results are sent
        assert rows(scratch, "select count(*) from episodes") == [(0,)]
        assert not any(p.is_file() for p in (scratch / "media" / "originals").rglob("*"))

    reference = tmp_path / "reference"
    reference_guids = in_process_run(reference)
    remote = results(home, guids)
    local = results(reference, reference_guids)
    for name in CLIPS:
        assert set(remote[name]["audio"]) == {"mp3", "opus", "aac"}
        assert remote[name] == local[name], name
    assert any(remote[name]["segments"] for name in CLIPS)
    assert any(remote[name]["speakers"] for name in CLIPS)  # jfk.flac: one voice of 11 s
    # the heavy part of the speakers step ran on the workers, never on the archive
    assert rows(home, "select count(*) from episode_steps where step = 'speakers' and "
                "status = 'done' and attempts = 0") == [(len(CLIPS),)]  # fmt: skip

    # A worker SIGKILLed while it holds an episode: the other finishes it after the lease.
    fleet.radio(home, "ingest", str(clip(LONG_CLIP)), "--title", LONG_CLIP)
    sql = "select id, source_path from episodes where title = ?"
    ((long_id, source_path),) = rows(home, sql, [LONG_CLIP])
    owner = wait_for("a worker to take the long episode",
                     lambda: _owner(home, long_id), fleet.logs)  # fmt: skip
    pid = int(str(owner).split(":")[1])
    victim = next(name for name, (_, p) in workers.items() if p.pid == pid)
    scratch = workers[victim][0]
    wait_for("the victim to start processing",
             lambda: _scratch_step(scratch, long_id), fleet.logs)  # fmt: skip
    assert (scratch / "media" / source_path).exists()  # it has fetched the original
    os.kill(pid, signal.SIGKILL)
    workers[victim][1].wait(10)
    wait_for("the long episode to be ready", lambda: _ready(home) == len(CLIPS) + 1, fleet.logs)
    (survivor_commit,) = rows(home, "select worker from worker_commits where episode_id = ?",
                              [long_id])  # fmt: skip
    assert f":{pid}:" not in survivor_commit[0]
    assert rows(home, "select count(*) from segments where episode_id = ?", [long_id])[0][0] > 0
    survivor = next(name for name in workers if name != victim)
    said = {p.name: p.read_text() for p in fleet.logs}
    assert f"episode {long_id}: committed" in said[f"{survivor}.log"]
    assert f"episode {long_id}: committed" not in said[f"{victim}.log"]
    assert f"queued unfinished episodes [{long_id}]" in said["archive.log"]  # the lease ran out


def _scratch_step(scratch: Path, episode_id: int) -> str | None:
    """The step a worker's scratch copy of the episode is in, once its pipeline runs."""
    if not (scratch / "archive.db").exists():
        return None
    found = rows(scratch, "select step from episodes where id = ?", [episode_id])
    return found[0][0] if found else None


def _ready(home: Path) -> int:
    return rows(home, "select count(*) from episodes where status = 'ready'")[0][0]


def _owner(home: Path, episode_id: int) -> str | None:
    (owner,) = rows(home, "select lease_owner from episodes where id = ?", [episode_id])[0]
    return owner if owner and owner.startswith("remote/") else None


def test_the_archives_own_worker_works_beside_a_remote_one(fleet: Fleet, tmp_path: Path) -> None:
    """``radio serve`` with its in-process worker on the same Redis queue as a remote worker:
    every episode is processed once, by one or the other, never both."""
    home = fleet.archive_home
    fleet.radio(home, "init")
    made = fleet.radio(home, "worker-token", "add", "lan")
    token = next(line for line in made.stdout.splitlines() if len(line) == 43)
    fleet.serve(own_worker=True)
    fleet.start("w1", tmp_path / "w1", "worker", "--archive", fleet.url, "--token", token)
    for name in CLIPS[:4]:
        fleet.radio(home, "ingest", str(clip(name)), "--title", name)
    wait_for("four ready episodes", lambda: _ready(home) == 4, fleet.logs)
    for (episode_id,) in rows(home, "select id from episodes"):
        commits = len(rows(home, "select 1 from worker_commits where episode_id = ?", [episode_id]))
        sql = "select attempts from episode_steps where episode_id = ? and step = 'audio'"
        ((attempts,),) = rows(home, sql, [episode_id])
        # remote: one commit and no local attempt; in-process: one attempt and no commit
        assert (commits, attempts) in {(1, 0), (0, 1)}, episode_id


def test_revoked_tokens_and_missing_queue_are_told_plainly(tmp_path: Path) -> None:
    home = tmp_path / "archive"
    app = create_app(settings(home))
    db = connect(database_path(app))
    try:
        token = worker_tokens.add_token(db, "lan", None, "2026-01-01T00:00:00Z")
    finally:
        db.conn.close()
    env = {k: v for k, v in os.environ.items() if k not in ("RADIO_QUEUE_URL", "RADIO_HOME")}
    run = subprocess.run(
        [sys.executable, "-m", "radio", "--home", str(tmp_path / "w"), "worker",
         "--archive", "http://127.0.0.1:9", "--token", token],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1
    assert "RADIO_QUEUE_URL" in run.stderr
