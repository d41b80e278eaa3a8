"""Workers as separate processes: the queue, and a worker killed with SIGKILL mid-episode."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radio.db import connect
from tests.audiofiles import join_clips
from tests.conftest import DATA, clip


def radio(home: Path, *args: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "RADIO_HOME": str(home), **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "radio", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def episode(home: Path, episode_id: int = 1) -> dict:
    db = connect(home / "archive.db")
    try:
        row = db["episodes"].get(episode_id)
        row["segments"] = db.execute(
            "select count(*) from segments where episode_id = ?", [episode_id]
        ).fetchone()[0]
        return row
    finally:
        db.conn.close()


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.stdout.read() if proc.stdout else ""


def test_worker_processes_what_ingest_queued(tmp_path):
    home = tmp_path / "home"
    env = {"RADIO_TRANSCRIBE": "false"}
    ingest = radio(home, "ingest", str(clip("jfk.flac")), env_extra=env)
    assert ingest.wait(60) == 0, ingest.stdout.read()
    worker = radio(home, "worker", env_extra=env)
    try:
        wait_for(lambda: episode(home)["status"] == "ready", 120, "the worker to finish")
    finally:
        output = stop(worker)
    assert episode(home)["error"] is None, output


@pytest.mark.slow
def test_sigkill_mid_transcription_resumes_without_duplicates_or_orphans(tmp_path):
    home = tmp_path / "home"
    long_call = tmp_path / "call.wav"
    names = ["LJ001-0001.wav", "jfk.flac", "61-70968-0000.flac", "LJ001-0002.wav"] * 3
    join_clips([DATA / n for n in names], long_call, gap=1.5)
    ingest = radio(home, "ingest", str(long_call))
    assert ingest.wait(60) == 0, ingest.stdout.read()

    worker = radio(home, "worker")
    wait_for(lambda: episode(home)["segments"] >= 2, 240, "transcription to start")
    worker.kill()  # SIGKILL: no chance to clean up
    worker.wait()
    killed_at = episode(home)
    assert killed_at["status"] == "processing"

    worker = radio(home, "worker")
    try:
        wait_for(lambda: episode(home)["status"] in ("ready", "failed"), 300, "the episode")
    finally:
        output = stop(worker)
    done = episode(home)
    assert done["status"] == "ready", (done["error"], output)

    db = connect(home / "archive.db")
    rows = list(db.query("select idx, start, end, text from segments order by idx"))
    assert [r["idx"] for r in rows] == list(range(len(rows)))
    starts = [r["start"] for r in rows]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), "duplicate segments"
    text = " ".join(r["text"] for r in rows).lower()
    assert text.count("fellow americans") == 3  # each JFK clip transcribed once
    steps = {r["step"]: r["attempts"] for r in db["episode_steps"].rows}
    assert steps["audio"] == 1  # finished before the kill, not redone
    assert db["renditions"].count == 3

    media = home / "media"
    assert list((media / "incoming").iterdir()) == []
    assert len([p for p in (media / "originals").rglob("*") if p.is_file()]) == 1
    folder = media / "episodes" / done["guid"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "audio.m4a",
        "audio.mp3",
        "audio.opus",
        "peaks.json",
    ]
    assert json.loads((folder / "peaks.json").read_text())
