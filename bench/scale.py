"""Scale bench (#17 item 2): how search, pages, feeds and backup grow with the archive.

Builds (once; kept under ``/tmp/scale/<hours>h``) archives of 100, 1,000 and 10,000 hours
of transcripts (``bench/_scale_archive.py``: real sentences in synthetic episodes, through
the project's schema and data modules) and measures on each:

- the database's size;
- search (``radio.data.search.search``, the function every page, feed and command calls):
  p50/p95 for a rare word, a common word ("the"), a phrase, a prefix (``farm*``) and a
  common prefix, each alone and with a show filter and a one-year date filter;
- the first common-word search of a fresh process, as ``radio search`` runs it;
- feed builds (all, a show, a saved search);
- every listener-facing request through the real app served by waitress exactly as
  ``radio serve`` runs it, over loopback HTTP: home, episode, topic, topics, show, search
  with and without filters, every kind of feed and its data-saver twin, media (the
  server's own time from ``Server-Timing`` and what the client waited): steady, and the
  first request after a change (``--rounds`` times a change before each request, of two
  kinds: an episode's title edited, and an episode published or hidden; every cache the
  change invalidates is rebuilt by that request);
- ``radio backup`` of an unchanged archive (after a first one).

Prints one JSON line per measure per size, then one per measure with its slope: the
log-log exponent between the smallest and the largest size (1.0 grows with the archive,
0 stays flat) and milliseconds per 1,000 hours.

Run from the repository root: ``nice -n 10 python bench/scale.py --hours 100 1000 10000``
(``pip install -e '.[bench]'`` first; the 10,000-hour archive takes tens of minutes and
about 5 GB once).
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import logging
import math
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))  # _scale_archive, after the packages

from _scale_archive import build  # noqa: E402

from radio import create_app  # noqa: E402
from radio.config import load_station_taxonomy  # noqa: E402
from radio.data.feeds import FeedSpec  # noqa: E402
from radio.data.search import search  # noqa: E402
from radio.data.tags import episodes_for_topic  # noqa: E402
from radio.db import connect, database_path  # noqa: E402
from radio.jobs.topics import store_moments  # noqa: E402
from radio.web.feed_items import load_feed  # noqa: E402
from radio.web.feedparts import KeptUrls, assemble_rss  # noqa: E402
from tests.webserver import LiveServer  # noqa: E402

SCALE = Path("/tmp/scale")
QUERIES = {
    "rare": "chariots",
    "common": "the",
    "phrase": '"children of israel"',
    "prefix": "farm*",
    "prefix_common": "bless*",
}


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


def timed(fn, runs: int) -> dict[str, float]:  # noqa: ANN001
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": p(times, 0.5), "p95": p(times, 0.95)}


def emit(hours: float, measure: str, **figures: object) -> dict:
    line = {"hours": hours, "measure": measure, **figures}
    print(json.dumps(line), flush=True)
    return line


def open_app(home: Path):  # noqa: ANN201
    return create_app({"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench"})


def measure_search(hours: float, db, runs: int) -> list[dict]:  # noqa: ANN001
    year = db.execute(
        "select substr(recorded_at, 1, 4) from episodes order by id desc limit 1"
    ).fetchone()[0]
    filters = {
        "": {},
        "+show": {"show": "show-3"},
        "+date": {"date_from": f"{year}-01-01", "date_to": year},
    }
    out = []
    for name, query in QUERIES.items():
        for label, extra in filters.items():
            found = search(db, query, **extra)
            figures = timed(lambda q=query, x=extra: search(db, q, **x), runs)
            out.append(emit(hours, f"search {name}{label}", total=found.total, **figures))
    return out


def measure_cold_search(hours: float, home: Path) -> dict:
    """``radio search the`` in a fresh process: start-up included, as a person waits."""
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("radio")), "--home", str(home), "search", "the"],
        check=True, capture_output=True,
    )  # fmt: skip
    return emit(hours, "radio search the (new process)", ms=round(
        (time.perf_counter() - started) * 1000, 1))  # fmt: skip


def measure_feeds(hours: float, app, db, runs: int) -> list[dict]:  # noqa: ANN001
    """A feed built from scratch in process, as the server does (its items and URLs kept
    between builds, ``radio.web.feedparts``): what a change costs the next listener."""
    urls = KeptUrls("http://radio.local", app.url_map)
    out = []
    for spec in (FeedSpec("all"), FeedSpec("show", "show-3"), FeedSpec("search", "water")):

        def make(s=spec):  # noqa: ANN202
            data = load_feed(db, app.config, urls, s)
            return assemble_rss(data.info, data.items)

        out.append(emit(hours, f"feed {spec.kind}", **timed(make, max(3, runs // 4))))
    return out


def _get(port: int, path: str) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    response.read()
    waited = (time.perf_counter() - started) * 1000
    conn.close()
    assert response.status == 200, (path, response.status)
    timing = response.getheader("Server-Timing") or ""
    server = re.search(r"dur=([\d.]+)", timing)
    return (float(server.group(1)) if server else waited), waited


def _paths(db) -> dict:  # noqa: ANN001
    """Every listener-facing request, by name: a function giving its path."""
    rng = random.Random(3)
    # not the two newest: CHANGES edit and hide those
    guids = [r[0] for r in db.execute(
        "select guid from episodes where visibility = 'public' and status = 'ready' "
        "and id < (select max(id) - 1 from episodes) limit 2000").fetchall()]  # fmt: skip
    topic = db.execute("select slug from tags order by id limit 1").fetchone()[0]
    year = db.execute(
        "select substr(recorded_at, 1, 4) from episodes order by id desc limit 1"
    ).fetchone()[0]
    return {
        "home": lambda: "/",
        "episode": lambda: f"/episodes/{rng.choice(guids)}",
        "topic": lambda: f"/topics/{topic}",
        "topics": lambda: "/topics",
        "show": lambda: "/shows/show-3",
        "search rare": lambda: "/search?q=chariots",
        "search common": lambda: "/search?q=the",
        "search prefix": lambda: "/search?q=farm*",
        "search phrase": lambda: "/search?q=%22children+of+israel%22",
        "search common+show+date": lambda: f"/search?q=the&show=show-3&from={year}-01-01",
        "search common page 5": lambda: "/search?q=the&page=5",
        "feed all": lambda: "/feeds/all.xml",
        "feed saver all": lambda: "/feeds/saver/all.xml",
        "feed show": lambda: "/feeds/shows/show-3.xml",
        "feed topic": lambda: f"/feeds/topics/{topic}.xml",
        "feed search": lambda: "/feeds/search.xml?q=water",
        "feed saver search": lambda: "/feeds/saver/search.xml?q=the",
        "media": lambda: f"/media/{rng.choice(guids)}/audio.mp3",
    }


def _emit_pairs(hours: float, name: str, pairs: list[tuple[float, float]]) -> dict:
    return emit(hours, name,
                server_p50=p([a for a, _ in pairs], 0.5),
                server_p95=p([a for a, _ in pairs], 0.95),
                client_p95=p([b for _, b in pairs], 0.95))  # fmt: skip


def _edit_a_title(db) -> None:  # noqa: ANN001
    """A change as an editor makes one many times a day: the newest episode's title."""
    db.execute("update episodes set title = case when title like '% (edited)' "
               "then substr(title, 1, length(title) - 9) else title || ' (edited)' end "
               "where id = (select max(id) from episodes)")  # fmt: skip
    db.conn.commit()


def _publish_or_hide(db) -> None:  # noqa: ANN001
    """A change to what listeners may see (an episode published or held back): every
    count and list changes with it. The second newest episode, so page paths stay valid."""
    db.execute("update episodes set visibility = case visibility when 'public' then 'private' "
               "else 'public' end where id = (select max(id) - 1 from episodes)")  # fmt: skip
    db.conn.commit()


CHANGES = {"title edit": _edit_a_title, "publish": _publish_or_hide}


def _tagged_since_0026(app, db, slug: str, episodes: int = 40) -> None:  # noqa: ANN001
    """Archives built before migration 0026 have no stored topic moments; the topics step
    stores them when an episode is tagged. Store those of the measured topic's newest
    episodes, as tagging them now would (the rest are computed when first shown)."""
    taxonomy = load_station_taxonomy(app.config["HOME"])
    for episode in episodes_for_topic(db, slug, public_only=False, limit=episodes):
        store_moments(db, episode.id, taxonomy, episode.spoken_language)


def measure_pages(hours: float, app, db, runs: int, rounds: int) -> list[dict]:  # noqa: ANN001
    """Each request steady (warm caches), then the first after a change of each kind
    (``CHANGES``): one made before each timed request, over ``rounds`` rounds."""
    paths = _paths(db)
    _tagged_since_0026(app, db, db.execute("select slug from tags order by id").fetchone()[0])
    server = LiveServer(app).start()  # waitress, as radio serve runs it
    out = []
    try:
        for name, make in paths.items():
            _get(server.port, make())  # warm
            pairs = [_get(server.port, make()) for _ in range(runs)]
            out.append(_emit_pairs(hours, f"page {name}", pairs))
        for change, make_change in CHANGES.items():
            first: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
            for _ in range(rounds):
                for name, make in paths.items():
                    make_change(db)
                    first[name].append(_get(server.port, make()))
            out += [_emit_pairs(hours, f"first after {change}: {n}", v) for n, v in first.items()]
        if rounds % 2:
            _publish_or_hide(db)  # as it was
    finally:
        server.stop()
    return out


def measure_backup(hours: float, home: Path) -> dict:
    dest = SCALE / f"backup-{int(hours)}h"
    shutil.rmtree(dest, ignore_errors=True)
    command = [
        str(Path(sys.executable).with_name("radio")),
        "--home",
        str(home),
        "backup",
        str(dest),
    ]
    subprocess.run(command, check=True, capture_output=True)  # the first copies everything
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    shutil.rmtree(dest, ignore_errors=True)
    return emit(hours, "radio backup (unchanged)", ms=round(seconds * 1000, 1))


def measure(hours: float, runs: int, rounds: int, skip: set[str]) -> list[dict]:
    home = build(hours, SCALE / f"{int(hours)}h")
    app = open_app(home)
    db = connect(database_path(app))
    gc.collect()  # as radio serve does (radio.cli.server.make_server): start-up's objects
    gc.freeze()  # are never garbage, and a full collection walking them is a 20-30 ms spike
    size = sum(f.stat().st_size for f in home.glob("archive.db*"))
    counts = db.execute("select (select count(*) from episodes), (select count(*) from segments)")
    episodes, segments = counts.fetchone()
    out = [emit(hours, "database", mb=round(size / 1e6, 1), episodes=episodes,
                segments=segments)]  # fmt: skip
    if "search" not in skip:
        out += [measure_cold_search(hours, home), *measure_search(hours, db, runs)]
    if "feeds" not in skip:
        out += measure_feeds(hours, app, db, runs)
    if "pages" not in skip:
        out += measure_pages(hours, app, db, runs, rounds)
    if "backup" not in skip:
        out.append(measure_backup(hours, home))
    db.conn.close()
    return out


def slopes(results: list[dict]) -> None:
    """For each measure, how it grows from the smallest archive to the largest."""
    by_measure: dict[str, list[dict]] = {}
    for line in results:
        by_measure.setdefault(line["measure"], []).append(line)
    for name, lines in by_measure.items():
        lines.sort(key=lambda line: line["hours"])
        key = next((k for k in ("p95", "server_p95", "ms", "mb") if k in lines[0]), None)
        if len(lines) < 2 or key is None:
            continue
        a, b = lines[0], lines[-1]
        ya, yb = max(a[key], 0.01), max(b[key], 0.01)
        exponent = math.log(yb / ya) / math.log(b["hours"] / a["hours"])
        per_k = (b[key] - a[key]) / (b["hours"] - a["hours"]) * 1000
        print(json.dumps({"measure": name, "figure": key, "from_hours": a["hours"],
                          "to_hours": b["hours"], "log_log_exponent": round(exponent, 2),
                          "per_1000_hours": round(per_k, 2)}), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=40, help="requests per measure")
    parser.add_argument("--rounds", type=int, default=10,
                        help="edits each followed by one timed request of each page")  # fmt: skip
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[], help="search feeds pages backup")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("radio").setLevel(logging.WARNING)
    results = []
    for hours in args.hours:
        if args.build_only:
            build(hours, SCALE / f"{int(hours)}h")
            continue
        results += measure(hours, args.runs, args.rounds, set(args.skip))
    slopes(results)


if __name__ == "__main__":
    main()
