"""Crash safety (#13): the archive's processes SIGKILLed at random moments (a seeded random)
and started again, as a power cut or the kernel's OOM killer would.

- ``radio worker``, 20 times, while it processes real clips (transcribed with tiny.en) and
  a longer recording: in the end every episode is ``ready``, none duplicated, no segment
  twice, every original's sha256 unchanged, ``PRAGMA integrity_check`` ok, no partial file;
- ``radio serve`` during a real multipart upload over 127.0.0.1, killed mid-body or while
  it stores the file: after each restart no half episode and no partial file, and in the
  end each recording is in the archive once;
- ``radio ingest`` during its copy: the same, for the command line.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from radio import create_app
from radio.db import connect, database_path
from radio.jobs.ingest import Limits, Metadata, ingest_file
from tests.audiofiles import decode_mono, join_clips, write_pcm
from tests.conftest import DATA, settings
from tests.webserver import add_account, csrf_token

SEED = 13
WORKER_ROUNDS = 20
UPLOAD_ROUNDS = 20
INGEST_ROUNDS = 20
SPEECH = ["LJ001-0001.wav", "jfk.flac", "LJ001-0003.wav", "61-70968-0000.flac", "LJ001-0005.wav"]
# Short English clips, taken in one a round so that every kill finds work in progress.
MORE = [
    *(f"LJ001-000{i}.wav" for i in (2, 4, 6, 7, 8)),
    *(f"sense_and_sensibility_01_austen_64kb-0{n}.wav" for n in (870, 880, 890, 920, 930)),
    "agent-alreadyon.wav",
    "cannot-complete-as-dialed.wav",
    "check-number-dial-again.wav",
    "privacy-prompt.wav",
    "queue-thereare.wav",
    "vm-tempgreeting.wav",
    "ss-noservice.wav",
    "conf-adminmenu.wav",
    "stereo_diarization.wav",
    "basic-pbx-ivr-main.wav",
]
T = TypeVar("T")


def radio(home: Path, log: Path, *args: str, **env: str) -> subprocess.Popen:
    """The real `radio` command in a process of its own (tiny.en: conftest sets it)."""
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "radio", *args],
            env={**os.environ, "RADIO_HOME": str(home), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait()


def wait_for(
    predicate: Callable[[], T], timeout: float, what: str, log: Path, every: float = 0.05
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}; log:\n{log.read_text()[-3000:]}")


def query(home: Path, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    db = connect(home / "archive.db")
    try:
        return list(db.query(sql, params))
    finally:
        db.conn.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_whole(home: Path, *, settled: bool = True) -> list[dict[str, Any]]:
    """No half episode (each has its original, unchanged), no partial upload, databases ok;
    once ``settled``, every original is an episode's, once.

    A kill between keeping an original and writing its episode leaves the original alone
    until the same bytes come again (the ingest then takes it up): hence ``settled``."""
    episodes = query(home, "select * from episodes order by id")
    media = home / "media"
    for row in episodes:
        original = media / row["source_path"]
        assert sha256(original) == row["source_sha256"], f"episode {row['id']}: original changed"
    originals = {str(p.relative_to(media)) for p in (media / "originals").rglob("*.*")}
    paths = [row["source_path"] for row in episodes]
    assert len(set(paths)) == len(paths) and originals >= set(paths)
    if settled:
        assert originals == set(paths), "an original that is no episode's"
    assert list((media / "incoming").iterdir()) == [], "a partial upload was left"
    for name in ("archive.db", "queue.db"):
        db = connect(home / name)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name
        finally:
            db.conn.close()
    return episodes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_worker_killed_twenty_times_loses_nothing(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "worker.log"
    app = create_app(settings(home))
    rng = random.Random(SEED)
    long_recording = tmp_path / "long call.wav"  # 100 s: its audio step takes seconds
    join_clips([DATA / n for n in SPEECH * 2], long_recording, gap=1.5)
    sources = [long_recording] + [DATA / n for n in SPEECH]
    expected: dict[str, str] = {}

    def take_in(path: Path) -> None:
        db = connect(database_path(app))
        try:
            ingest_file(db, home, path, Metadata(), Limits.from_config(app.config))
        finally:
            db.conn.close()
        expected[sha256(path)] = path.name

    for path in sources:
        take_in(path)
    for round_ in range(WORKER_ROUNDS):
        # two at once: the long recording's audio step is cut again and again, the short
        # clips' steps beside it
        worker = radio(home, log, "worker", "--workers", "2")
        time.sleep(rng.uniform(0.5, 5.0))  # startup, recovery or any step of any episode
        kill(worker)
        take_in(DATA / MORE[round_])  # more work for the next round (queued by its recovery)

    worker = radio(home, log, "worker", "--workers", "2")
    try:
        wait_for(
            lambda: (
                {r["status"] for r in query(home, "select status from episodes")}
                <= {"ready", "failed"}
            ),
            300,
            "every episode to be processed",
            log,
        )
    finally:
        kill(worker)
    episodes = assert_whole(home)
    assert sorted(r["source_sha256"] for r in episodes) == sorted(expected), "an episode twice"
    for row in episodes:
        assert (row["status"], row["error"]) == ("ready", None), row
        segments = query(
            home, "select * from segments where episode_id = ? order by idx", (row["id"],)
        )
        assert [s["idx"] for s in segments] == list(range(len(segments)))
        said = [(s["start"], s["speaker"], s["text"]) for s in segments]  # a call: two at 0.0
        assert len(set(said)) == len(said), f"{expected[row['source_sha256']]}: a segment twice"
        assert [s[0] for s in said] == sorted(s[0] for s in said)
        kinds = query(home, "select kind from renditions where episode_id = ?", (row["id"],))
        assert sorted(k["kind"] for k in kinds) == ["aac", "mp3", "opus"]
        folder = home / "media" / "episodes" / row["guid"]
        assert sorted(p.name for p in folder.iterdir()) == [
            "audio.m4a",
            "audio.mp3",
            "audio.opus",
            "peaks.json",
        ]


class Browser:
    """Just enough of a browser: one cookie, forms, and a multipart body sent in pieces."""

    def __init__(self) -> None:
        self.port = 0
        self.cookie = ""

    def request(self, method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=self._headers(headers))
            answer = conn.getresponse()
            self._keep_cookie(answer)
            return answer.read()
        finally:
            conn.close()

    def log_in(self, name: str, password: str) -> None:
        token = csrf_token(self.request("GET", "/login").decode())
        form = {"name": name, "password": password, "csrf_token": token, "next": "/"}
        self.request(
            "POST",
            "/login",
            urllib.parse.urlencode(form).encode(),
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )

    def upload(self, name: str, data: bytes, sent: float | None = None) -> dict[str, Any] | None:
        """POST the upload form and read the answer; with ``sent``, send only that share of
        the body (1.0: all of it) and leave the connection open: the caller kills the server."""
        token = csrf_token(self.request("GET", "/upload").decode())
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="{name}"\r\nContent-Type: audio/wav\r\n\r\n'.encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.putrequest("POST", "/upload")
        headers = self._headers(
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(body)),
                "Accept": "application/json",
            }
        )
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.endheaders()
        if sent is not None:
            conn.send(body[: int(sent * len(body))])
            self.open_upload = conn
            return None
        conn.send(body)
        try:
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "Cookie": self.cookie} if self.cookie else headers

    def _keep_cookie(self, answer: http.client.HTTPResponse) -> None:
        for key, value in answer.getheaders():
            if key.lower() == "set-cookie":
                self.cookie = value.split(";", 1)[0]


def serve(home: Path, log: Path, browser: Browser) -> subprocess.Popen:
    browser.port = free_port()
    args = ("serve", "--host", "127.0.0.1", "--port", str(browser.port), "--no-qr")
    server = radio(home, log, *args, RADIO_TRANSCRIBE="false")

    def answers() -> bool:
        try:
            return bool(browser.request("GET", "/login"))
        except (OSError, http.client.HTTPException):
            return False

    wait_for(answers, 60, "the server to answer", log)
    return server


def recordings(tmp_path: Path, n: int) -> list[Path]:
    """``n`` different real recordings (about 50 s of speech each, 1.5 MB)."""
    speech = np.concatenate([decode_mono(DATA / name) for name in SPEECH])
    made = []
    for i in range(n):
        pause = np.zeros(16000 + 160 * i, dtype=np.float32)  # a different length each
        made.append(write_pcm(tmp_path / f"upload {i}.wav", np.concatenate([speech, pause])))
    return made


def test_the_server_killed_during_uploads_keeps_no_half_of_anything(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "serve.log"
    add_account(create_app(settings(home)), "amina", "uploader")
    rng = random.Random(SEED)
    files = recordings(tmp_path, UPLOAD_ROUNDS)
    browser = Browser()
    server = serve(home, log, browser)
    browser.log_in("amina", "correct horse")
    for path in files:
        data = path.read_bytes()
        if rng.random() < 0.5:  # mid-body
            browser.upload(path.name, data, sent=rng.uniform(0.01, 0.99))
        else:  # the whole body sent: killed while it is spooled, hashed, stored or queued
            browser.upload(path.name, data, sent=1.0)
            time.sleep(rng.uniform(0.0, 1.5))
        kill(server)
        browser.open_upload.close()
        server = serve(home, log, browser)  # its start sweeps what the killed one left
        assert_whole(home, settled=False)

    answers = [browser.upload(path.name, path.read_bytes()) for path in files]
    kill(server)
    assert all(a and a["files"][0]["outcome"] in ("added", "duplicate") for a in answers), answers
    episodes = assert_whole(home)
    assert sorted(r["source_sha256"] for r in episodes) == sorted(sha256(p) for p in files)


def test_ingest_killed_during_its_copy_leaves_nothing_half_done(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "ingest.log"
    create_app(settings(home))
    rng = random.Random(SEED)
    speech = np.concatenate([decode_mono(DATA / name) for name in SPEECH])
    big = write_pcm(tmp_path / "assembly.wav", np.tile(speech, 28))  # 20 minutes, 39 MB
    for _ in range(INGEST_ROUNDS):
        ingest = radio(home, log, "ingest", str(big))
        partial = re.compile(rf"^{ingest.pid}\.")

        def copying(proc: subprocess.Popen = ingest, mine: re.Pattern = partial) -> bool:
            incoming = home / "media" / "incoming"
            found = incoming.is_dir() and any(mine.match(p.name) for p in incoming.iterdir())
            return found or proc.poll() is not None

        wait_for(copying, 60, "the copy to start", log, every=0.002)
        time.sleep(rng.uniform(0.0, 0.05))  # a 39 MB copy takes about that
        kill(ingest)

    done = subprocess.run(
        [sys.executable, "-m", "radio", "ingest", str(big)],
        env={**os.environ, "RADIO_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (episode,) = assert_whole(home)  # the next ingest swept the partial copies
    assert episode["source_sha256"] == sha256(big)
