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
and ``nginx`` (``apt-get install -y wrk nginx``) for the media figures (left out, with a
note, without them); prints one JSON line.

``--before REV`` measures an older revision beside the working tree in the same run (#15):
REV's files are exported with ``git archive`` (nothing in the checkout changes) and each
tree builds its own data folder the same way and serves it from its own process; home,
episode (a 30-minute transcript), show and search pages are timed in turn, with their
weight (gzip bytes of the HTML, and with the CSS and JS it loads).
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

# --serve ROOT: this process serves the archive code of ROOT (an exported older revision, or
# the working tree); the editable install's import hook would otherwise always load ours.
ROOT = (
    Path(sys.argv[sys.argv.index("--serve") + 1]).resolve()
    if "--serve" in sys.argv
    else Path(__file__).resolve().parent.parent
)
if "--serve" in sys.argv:
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in type(f).__module__]
sys.path.insert(0, str(ROOT))

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
    minutes_of = {}
    ids = random.Random(seed + 1)  # the same guids in every tree built with this seed
    now = utcnow()
    for n in range(episodes):
        guid = str(uuid.UUID(int=ids.getrandbits(128), version=4))
        minutes = rng.choice((5, 15, 30, 30, 45, 60))
        minutes_of[guid] = minutes
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
    app.config["BENCH_MINUTES"] = minutes_of
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


COMPARED_PAGES = ("home", "episode", "show", "search")


def compared_paths(
    guids: list[str], minutes: dict[str, int], requests: int
) -> dict[str, list[str]]:
    """The same request paths for every tree: the episode page of 30-minute transcripts."""
    rng = random.Random(3)
    words = lexicon(3000)
    half_hours = [g for g in guids if minutes.get(g) == 30] or guids
    make = {
        "home": lambda: "/",
        "episode": lambda: f"/episodes/{rng.choice(half_hours)}",
        "show": lambda: f"/shows/show-{rng.randrange(20)}",
        "search": lambda: f"/search?q={rng.choice(words[100:])}",
    }
    return {name: [make[name]() for _ in range(requests + 20)] for name in COMPARED_PAGES}


def page_weight(port: int, path: str) -> dict[str, int]:
    """Compressed bytes a browser fetches for a page before any audio: the HTML, then the
    stylesheets and scripts it links (as tests/test_web_archive.py counts them)."""
    import gzip

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    r = conn.getresponse()
    body = r.read()
    html = (gzip.decompress(body) if r.getheader("Content-Encoding") == "gzip" else body).decode()
    total = len(body)
    for asset in set(
        re.findall(r'<(?:link rel="stylesheet"|script) [^>]*(?:href|src)="(/[^"]+)"', html)
    ):
        conn.request("GET", asset.replace("&amp;", "&"), headers={"Accept-Encoding": "gzip"})
        a = conn.getresponse()
        total += len(a.read())
    conn.close()
    return {"html_gzip_bytes": len(body), "total_gzip_bytes": total}


def serve_tree(args: argparse.Namespace) -> None:
    """``--serve ROOT``: build the archive with ROOT's code, serve it, print where, and
    keep serving until stdin closes."""
    import radio

    assert Path(radio.__file__).resolve().is_relative_to(ROOT), radio.__file__
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    home = Path(args.home)
    app, guids, _mp3 = build_archive(home, args.episodes)
    server = LiveServer(app, threads=8).start()
    minutes = app.config["BENCH_MINUTES"]
    print(json.dumps({"port": server.port, "guids": guids, "minutes": minutes}), flush=True)
    sys.stdin.read()
    server.stop()


def start_tree(root: Path, workdir: Path, episodes: int) -> tuple[subprocess.Popen, dict]:
    home = workdir / "home"
    home.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", str(root)]
    cmd += ["--home", str(home), "--episodes", str(episodes)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"the archive of {root} did not start (exit {proc.returncode})")
    return proc, json.loads(line)


def export_revision(rev: str, dest: Path) -> str:
    """REV's files into ``dest`` (git archive: the checkout and its index stay untouched)."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(repo), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {rev} failed")
    return commit


def compare(args: argparse.Namespace, workdir: Path) -> dict:
    """Before (REV) and after (the working tree), built alike, measured in turn."""
    trees = {"before": workdir / "before-src", "after": ROOT}
    commit = export_revision(args.before, trees["before"])
    served = {}
    try:
        for name, root in trees.items():
            served[name] = start_tree(root, workdir / name, args.episodes)
        info = served["after"][1]
        paths = compared_paths(
            info["guids"], {k: int(v) for k, v in info["minutes"].items()}, args.requests
        )
        out: dict[str, dict] = {name: {} for name in trees}
        for page, todo in paths.items():
            times = {name: ([], []) for name in trees}
            for k, path in enumerate(todo):
                for name, (_proc, where) in served.items():  # in turn: the same load on both
                    s, c, _n = timed_get(where["port"], path)
                    if k >= 20:  # after a warm-up
                        times[name][0].append(s)
                        times[name][1].append(c)
            for name, (_proc, where) in served.items():
                out[name][page] = {
                    "server_ms": summary(times[name][0]),
                    "client_ms": summary(times[name][1]),
                    **page_weight(where["port"], todo[0]),
                }
        return {"before_rev": commit, **out}
    finally:
        for proc, _where in served.values():
            proc.stdin.close()
            proc.wait(60)


def media_figures(
    home: Path, guids: list[str], mp3: str, server: object, workdir: Path, args: argparse.Namespace
) -> dict:
    size = (home / "media" / mp3).stat().st_size
    middle = size // 2
    ranges = {
        "1MiB_middle": f"Range: bytes={middle}-{middle + MIB - 1}",
        "probe_2B": "Range: bytes=0-1",
    }
    nginx_port = free_port()
    nginx = start_nginx(home / "media", workdir, nginx_port)
    try:
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
        return {"mp3_bytes": size, "media": media}
    finally:
        nginx.terminate()
        nginx.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--requests", type=int, default=300, help="per page type")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--before", metavar="REV", help="also measure this git revision")
    parser.add_argument("--serve", metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_tree(args)
        return
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # wrk keeps every thread busy
    workdir = Path(tempfile.mkdtemp(prefix="radio-bench-"))
    report: dict = {"bench": "web", "episodes": args.episodes, "cpus": os.cpu_count()}
    try:
        if args.before:
            report["pages"] = compare(args, workdir)
            print(json.dumps(report))
            return
        home = workdir / "home"
        built = time.perf_counter()
        app, guids, mp3 = build_archive(home, args.episodes)
        report["build_seconds"] = round(time.perf_counter() - built, 1)
        server = LiveServer(app, threads=8).start()
        try:
            report["pages"] = page_times(server.port, guids, args.requests)
            missing = [tool for tool in ("wrk", "nginx") if not shutil.which(tool)]
            if missing:
                report["media"] = (
                    f"not measured: {' and '.join(missing)} missing (apt-get install -y wrk nginx)"
                )
            else:
                report.update(media_figures(home, guids, mp3, server, workdir, args))
                report["wrk"] = {
                    "threads": 2,
                    "connections": args.connections,
                    "seconds": args.seconds,
                }
        finally:
            server.stop()
        print(json.dumps(report))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
