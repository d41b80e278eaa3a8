"""Bench: build the podcast feed of a 5,000-episode archive; requests/s of a 304 answer.

    python bench/feeds.py [--episodes 5000] [--seconds 3]

One real clip (tests/data/jfk.flac) is ingested and rendered for real; its rows are
then copied into N episodes (fresh guids, dates a day apart, a few transcript lines,
shows and topics), all pointing at the same rendition files. Prints one JSON line:

- ``build_page_ms``: query + XML for the feed's first page (FEED_LIMIT items), cold
- ``build_full_ms``: the same with every episode in one document
- ``first_response_ms``: the first GET of /feeds/all.xml over HTTP (builds and caches)
- ``not_modified_rps``: If-None-Match revalidations answered 304 per second over one
  keep-alive connection to waitress (as ``radio serve`` runs it); ``..._4_clients``:
  the same with four client processes at once
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide
# the ``feeds`` package; the repository root must win.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from waitress import create_server  # noqa: E402

from feeds.build import build_rss  # noqa: E402
from radio import create_app  # noqa: E402
from radio.data.feeds import FeedSpec  # noqa: E402
from radio.db import connect, database_path  # noqa: E402
from radio.jobs import pipeline  # noqa: E402
from radio.jobs.ingest import Limits, Metadata, ingest_file  # noqa: E402
from radio.web.feed_items import load_feed  # noqa: E402
from radio.web.urls import Urls  # noqa: E402

LINES = [
    "And so my fellow Americans, ask not what your country can do for you.",
    "Ask what you can do for your country.",
    "Printing, in the only sense with which we are at present concerned,",
    "differs from most if not from all the arts and crafts represented in the Exhibition.",
]


def make_archive(home: Path, count: int) -> tuple:
    app = create_app({"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench"})
    db = connect(database_path(app))
    first = ingest_file(db, home, ROOT / "tests/data/jfk.flac", Metadata(show="Show 0"), Limits())
    assert pipeline.process(db, app.config, first.episode_id) == "ready"
    template = db["episodes"].get(first.episode_id)
    renditions = list(db["renditions"].rows_where("episode_id = ?", [first.episode_id]))
    shows = [template["show_id"]] + [
        db["shows"].insert({"slug": f"show-{i}", "title": f"Show {i}"}).last_pk for i in range(1, 8)
    ]
    tags = [
        db["tags"].insert({"slug": f"topic-{i}", "label": f"Topic {i}"}).last_pk for i in range(20)
    ]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    episodes, rendition_rows, segments, episode_tags = [], [], [], []
    next_id = template["id"] + 1
    for n in range(count - 1):
        eid = next_id + n
        published = (start + timedelta(hours=12 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        row = dict(template, id=eid, guid=str(uuid.uuid4()), source_sha256=uuid.uuid4().hex)
        row.update(
            title=f"Episode {n}: ñ 中文 & <news>",
            description="The week's news, then the weather.",
            show_id=shows[n % len(shows)],
            published_at=published,
            updated_at=published,
            speakers=json.dumps(["Ana", "Bo"] if n % 3 else ["Ana"]),
        )
        episodes.append(row)
        rendition_rows += [dict(r, id=None, episode_id=eid) for r in renditions]
        segments += [
            {"episode_id": eid, "idx": i, "start": 3.0 * i, "end": 3.0 * i + 3, "text": text}
            for i, text in enumerate(LINES)
        ]
        episode_tags += [
            {"episode_id": eid, "tag_id": tags[(n + k) % len(tags)], "source": "auto", "score": 0.5}
            for k in range(3)
        ]
    with db.conn:
        db["episodes"].insert_all(episodes, batch_size=500)
        db["renditions"].insert_all(rendition_rows, batch_size=500)
        db["segments"].insert_all(segments, batch_size=500)
        db["episode_tags"].insert_all(episode_tags, batch_size=500)
    return app, db


def time_build(app, db, limit: int, runs: int) -> tuple[float, int, int]:
    app.config["FEED_LIMIT"] = limit
    times, size, items = [], 0, 0
    for _ in range(runs):
        started = time.perf_counter()
        data = load_feed(db, app.config, Urls("http://radio.local", app.url_map), FeedSpec("all"))
        body = build_rss(data.info, data.items)
        times.append(time.perf_counter() - started)
        size, items = len(body), len(data.items)
    return statistics.median(times) * 1000, items, size


def revalidate(port: int, etag: str, seconds: float) -> int:
    """Client side, in its own process: 304s answered on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": "gzip", "If-None-Match": etag}
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        conn.request("GET", "/feeds/all.xml", headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 304, response.status
        count += 1
    conn.close()
    return count


def time_http(app, seconds: float, clients: int) -> dict:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" is the point
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    port = server.effective_port
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        conn.request("GET", "/feeds/all.xml", headers={"Accept-Encoding": "gzip"})
        first = conn.getresponse()
        first.read()
        first_ms = (time.perf_counter() - started) * 1000
        conn.close()
        etag = first.headers["ETag"]
        # The load comes from other processes, so the client does not share the server's GIL.
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(clients) as pool:
            one = pool.apply(revalidate, (port, etag, seconds))
            many = sum(pool.starmap(revalidate, [(port, etag, seconds)] * clients))
    finally:
        server.close()
        server.task_dispatcher.shutdown()
    return {
        "first_response_ms": round(first_ms, 1),
        "first_response_gzip_bytes": int(first.headers["Content-Length"]),
        "not_modified_rps": round(one / seconds, 1),
        f"not_modified_rps_{clients}_clients": round(many / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, db = make_archive(Path(tmp) / "home", args.episodes)
        limit = int(app.config["FEED_LIMIT"])
        page_ms, page_items, page_bytes = time_build(app, db, limit, args.runs)
        full_ms, full_items, full_bytes = time_build(app, db, args.episodes, max(1, args.runs // 2))
        app.config["FEED_LIMIT"] = limit
        figures = {
            "bench": "feeds",
            "episodes": args.episodes,
            "feed_limit": limit,
            "build_page_ms": round(page_ms, 1),
            "build_page_items": page_items,
            "build_page_bytes": page_bytes,
            "build_full_ms": round(full_ms, 1),
            "build_full_items": full_items,
            "build_full_bytes": full_bytes,
            **time_http(app, args.seconds, args.clients),
        }
        db.conn.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
