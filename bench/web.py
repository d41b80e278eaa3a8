"""Web bench: page server times and media throughput beside nginx, on loopback.

Builds an archive of a few hundred episodes (one real processed recording whose
renditions every episode shares, and made-up transcripts of 5 to 60 minutes), serves
it with waitress exactly as ``radio serve`` does, and measures:

- home, episode and search pages: median and p95 of the app's own time (the
  ``Server-Timing`` header) and of the time a client waits, over sequential requests;
  search once for words people look for and once for the ten most said words;
- a media range request (1 MiB from the middle of the MP3, as a player after a seek,
  and the 2-byte probe players send first): requests per second with ``wrk`` against
  our server and against nginx serving the same file, in the same run.

Run from the repository root: ``python bench/web.py [--episodes 300]``. Needs ``wrk``
and ``nginx`` (``apt-get install -y wrk nginx``); prints one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from radio import create_app  # noqa: E402
from radio.db import connect, database_path, utcnow  # noqa: E402
from radio.jobs import tasks  # noqa: E402
from radio.jobs.ingest import Limits, Metadata, ingest_file  # noqa: E402
from tests.audiofiles import join_clips  # noqa: E402
from tests.webserver import LiveServer, lexicon, spoken_text, write_transcript  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
MIB = 1024 * 1024


def build_archive(home: Path, episodes: int, seed: int = 7) -> tuple[object, list[str], str]:
    app = create_app({"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench"})
    db = connect(database_path(app))
    # one real recording, about 5 minutes, rendered to MP3 and Opus like any upload
    clips = sorted(DATA.glob("*.wav")) + sorted(DATA.glob("*.flac"))
    source = home.parent / "long.wav"
    join_clips(clips * 6, source, gap=0.5)
    first = ingest_file(db, home, source, Metadata(title="Seed"), Limits.from_config(app.config))
    tasks.run_episode(app, first.episode_id)
    rendition_rows = list(db.query("select * from renditions where episode_id = ?", [1]))
    rng = random.Random(seed)
    show_ids = [db["shows"].insert({"slug": f"show-{i}", "title": f"Show {i}"}).last_pk
                for i in range(20)]  # fmt: skip
    guids = []
    now = utcnow()
    for n in range(episodes):
        guid = str(uuid.uuid4())
        minutes = rng.choice((5, 15, 30, 30, 45, 60))
        episode_id = db["episodes"].insert(
            {
                "guid": guid, "show_id": rng.choice(show_ids), "title": f"Episode {n}",
                "description": " ".join(spoken_text(40, seed=n)), "language": "en",
                "recorded_at": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "published_at": now, "created_at": now, "updated_at": now,
                "duration": minutes * 60.0, "status": "ready", "visibility": "public",
                "source_sha256": uuid.uuid4().hex, "source_path": "none",
            }
        ).last_pk  # fmt: skip
        write_transcript(db, episode_id, minutes, seed=n)
        for r in rendition_rows:
            db["renditions"].insert({**r, "id": None, "episode_id": episode_id})
        guids.append(guid)
    mp3 = next(r["path"] for r in rendition_rows if r["kind"] == "mp3")
    db.conn.close()
    return app, guids, mp3


def timed_get(port: int, path: str) -> tuple[float, float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    body = response.read()
    waited = (time.perf_counter() - started) * 1000
    conn.close()
    assert response.status == 200, (path, response.status)
    server = float(re.search(r"dur=([\d.]+)", response.getheader("Server-Timing")).group(1))
    return server, waited, len(body)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"median": round(statistics.median(ordered), 2), "p95": round(p95, 2)}


def page_times(port: int, guids: list[str], requests: int) -> dict[str, dict]:
    rng = random.Random(1)
    words = lexicon(3000)  # most said first
    paths = {
        "home": lambda: "/",
        "episode": lambda: f"/episodes/{rng.choice(guids)}",
        # what people look for: any word but the hundred most said ones
        "search": lambda: f"/search?q={rng.choice(words[100:])}",
        # the ten most said words ("the", "and"): in most segments of every episode
        "search_frequent": lambda: f"/search?q={rng.choice(words[:10])}",
    }
    out = {}
    for name, make in paths.items():
        for _ in range(20):  # warm up
            timed_get(port, make())
        server, client, sizes = [], [], []
        for _ in range(requests if name != "search_frequent" else max(20, requests // 10)):
            s, c, n = timed_get(port, make())
            server.append(s)
            client.append(c)
            sizes.append(n)
        out[name] = {
            "server_ms": summary(server),
            "client_ms": summary(client),
            "gzip_bytes_median": int(statistics.median(sizes)),
        }
    return out


def wrk(url: str, header: str, seconds: int, connections: int) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", header, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    return {
        "rps": round(rps, 1),
        "transfer_per_s": f"{transfer.group(1)} {transfer.group(2)}" if transfer else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def start_nginx(root: Path, workdir: Path, port: int) -> subprocess.Popen:
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
user root;
worker_processes auto;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  types {{ audio/mpeg mp3; }}
  server {{ listen 127.0.0.1:{port}; root {root}; etag on; }}
}}
"""
    )
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir)])
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("HEAD", "/")
            return proc
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("nginx did not start; see " + str(workdir / "error.log"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--requests", type=int, default=300, help="per page type")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # wrk keeps every thread busy
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install -y wrk nginx")
    workdir = Path(tempfile.mkdtemp(prefix="radio-bench-"))
    try:
        home = workdir / "home"
        built = time.perf_counter()
        app, guids, mp3 = build_archive(home, args.episodes)
        build_seconds = time.perf_counter() - built
        server = LiveServer(app, threads=8).start()
        size = (home / "media" / mp3).stat().st_size
        middle = size // 2
        ranges = {
            "1MiB_middle": f"Range: bytes={middle}-{middle + MIB - 1}",
            "probe_2B": "Range: bytes=0-1",
        }
        nginx_port = free_port()
        nginx = start_nginx(home / "media", workdir, nginx_port)
        try:
            pages = page_times(server.port, guids, args.requests)
            media = {}
            ours_url = f"{server.url}/media/{guids[0]}/audio.mp3"
            theirs_url = f"http://127.0.0.1:{nginx_port}/{mp3}"
            for name, header in ranges.items():
                ours = wrk(ours_url, header, args.seconds, args.connections)
                theirs = wrk(theirs_url, header, args.seconds, args.connections)
                media[name] = {
                    "ours": ours,
                    "nginx": theirs,
                    "ratio": round(ours["rps"] / theirs["rps"], 3),
                }
        finally:
            nginx.terminate()
            nginx.wait(10)
            server.stop()
        print(
            json.dumps(
                {
                    "bench": "web",
                    "episodes": args.episodes,
                    "build_seconds": round(build_seconds, 1),
                    "mp3_bytes": size,
                    "pages": pages,
                    "media": media,
                    "wrk": {"threads": 2, "connections": args.connections, "seconds": args.seconds},
                    "cpus": os.cpu_count(),
                }
            )
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
