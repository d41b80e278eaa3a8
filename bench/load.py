"""Load bench (#13): a real ``radio serve`` under listeners, searches, an upload being
transcribed and idle connections, on 127.0.0.1 only, for a bounded time.

A fresh data folder gets a few real recordings from ``tests/data`` (renditions by the real
pipeline, made-up transcripts so searches find words) and an uploader account; then
``python -m radio serve`` runs on it as a subprocess (in-process worker, transcription on)
and, for ``--seconds`` (60): ``--listeners`` (100) stream MP3s in 64 KiB ``Range``
requests on keep-alive connections, ``--listener-pause`` (0.5 s) apart, as a player
buffering ahead; ``--searches`` (20) a second, each on a new connection, and a visitor on
home and episode pages twice a second; one upload through the form (``--upload-minutes``
(3) of real speech), which the server's worker transcribes; ``--idle`` (100) connections
held open doing nothing (half after one request, half silent), reopened when closed.

Prints JSON lines: the setup, progress every 10 s, and a summary: per kind (media, search,
pages) requests, errors (not 200/206, or a failed connection), hung requests (no answer
in ``--timeout``), p50/p95/max ms; idle connections the server closed; the upload's
outcome; the server's VmRSS (peak seen) and VmHWM. The bench's threads share the machine
with the server: read latencies as upper bounds. Example: ``python bench/load.py
--seconds 15`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"

from _load_clients import (  # noqa: E402
    HOST,
    PASSWORD,
    IdleConnections,
    Tally,
    listener,
    request,
    searcher,
    uploader,
    visitor,
)


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def build_archive(home: Path, clips: list[Path]) -> tuple[list[tuple[str, int]], list[str]]:
    """Episodes from real clips (renditions by the real pipeline) with made-up transcripts,
    and an uploader account; returns [(guid, MP3 size)] and words the transcripts hold."""
    from radio import create_app
    from radio.data.users import add_user
    from radio.db import connect, database_path
    from radio.jobs import tasks
    from radio.jobs.ingest import Limits, Metadata, ingest_file
    from tests.webserver import lexicon, write_transcript

    app = create_app({"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench"})
    db = connect(database_path(app))
    episodes = []
    try:
        for n, path in enumerate(clips):
            got = ingest_file(
                db, home, path, Metadata(title=f"Bench {n}"), Limits.from_config(app.config)
            )
            tasks.run_episode(app, got.episode_id)
            write_transcript(db, got.episode_id, 10, seed=n)
            mp3 = home / "media" / "episodes" / got.guid / "audio.mp3"
            episodes.append((got.guid, mp3.stat().st_size))
        add_user(db, "bench", PASSWORD, "uploader")
    finally:
        db.conn.close()
    return episodes, lexicon(3000)[50:600]


def start_server(home: Path, port: int, model: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIO_")}
    env.update(RADIO_HOME=str(home), RADIO_TRANSCRIBE="true")
    if model:
        env["RADIO_WHISPER_MODEL"] = model
    cmd = [sys.executable, "-m", "radio", "serve", "--host", HOST, "--port", str(port), "--no-qr"]
    log = (home.parent / "serve.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if request(port, "GET", "/health", 2)[0] in (200, 503):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"radio serve did not start; see {home.parent / 'serve.log'}")


def memory_mb(pid: int) -> dict[str, float]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.MULTILINE))
    return {k: round(int(v) / 1024, 1) for k, v in found.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def run(args: argparse.Namespace, workdir: Path) -> None:
    from tests.audiofiles import join_clips

    home = workdir / "home"
    clips = sorted(DATA.glob("LJ001-*.wav"))[:4] + [DATA / "jfk.flac"]
    episodes, words = build_archive(home, clips)
    speech = sorted(DATA.glob("LJ001-*.wav")) + sorted(DATA.glob("sense_and_*.wav"))
    audio = workdir / "upload.wav"
    join_clips(speech, audio, gap=0.7)  # 16 kHz, 16-bit mono: 32,000 bytes a second
    repeats = math.ceil(args.upload_minutes * 60 / (audio.stat().st_size / 32000))
    join_clips(speech * max(1, repeats), audio, gap=0.7)
    port = free_port()
    server = start_server(home, port, args.model)
    size_mb = round(audio.stat().st_size / 1e6, 1)
    mem = memory_mb(server.pid)
    emit(setup="ready", episodes=len(episodes), port=port, upload_mb=size_mb, **mem)
    try:
        _load(args, port, server, episodes, words, audio)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def _load(args, port, server, episodes, words, audio) -> None:  # noqa: ANN001
    tally, stop, upload = Tally(), threading.Event(), {}
    idle = IdleConnections(port, args.idle)
    threads = [threading.Thread(target=idle.run, args=(stop,))]
    threads += [
        threading.Thread(target=listener, args=(port, episodes, tally, stop, args))
        for _ in range(args.listeners)
    ]
    threads += [
        threading.Thread(target=searcher, args=(port, words, tally, stop, args)),
        threading.Thread(target=visitor, args=(port, episodes, tally, stop, args)),
        threading.Thread(target=uploader, args=(port, audio, upload, stop)),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    started, peak = time.monotonic(), 0.0
    while (elapsed := time.monotonic() - started) < args.seconds and server.poll() is None:
        time.sleep(min(10.0, args.seconds - elapsed))
        mem = memory_mb(server.pid)
        peak = max(peak, mem.get("VmRSS", 0.0))
        emit(
            t=round(time.monotonic() - started),
            media=tally.summary("media")["requests"],
            searches=tally.summary("search")["requests"],
            errors=sum(tally.errors.values()),
            hung=sum(tally.hung.values()),
            idle_closed_by_server=idle.closed_by_server,
            upload=upload.get("status"),
            rss_mb=mem.get("VmRSS"),
        )
    stop.set()
    for t in threads:
        t.join(args.timeout + 5)
    kinds = {kind: tally.summary(kind) for kind in ("media", "search", "pages")}
    summary = {
        "summary": "load",
        **{k: getattr(args, k) for k in ("seconds", "listeners", "searches", "idle")},
        "errors": sum(k["errors"] for k in kinds.values()),
        "hung": sum(k["hung"] for k in kinds.values()),
        **kinds,
        "idle_closed_by_server": idle.closed_by_server,
        "upload": upload,
        "error_samples": tally.samples,
        "server_alive": server.poll() is None,
        "server_rss_peak_mb": peak,
        "server_memory_mb": memory_mb(server.pid),
    }
    emit(**summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--listener-pause", type=float, default=0.5)
    parser.add_argument("--searches", type=float, default=20, help="per second")
    parser.add_argument("--idle", type=int, default=100)
    parser.add_argument("--upload-minutes", type=float, default=3)
    parser.add_argument("--timeout", type=float, default=10, help="a request hangs after this")
    parser.add_argument("--model", help="RADIO_WHISPER_MODEL for the server (default: its own)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="radio-load-"))
    try:
        run(args, workdir)
    finally:
        if args.keep:
            emit(kept=str(workdir))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
