"""Bench: ``radio export --since last`` on archives of N exportable episodes (#17).

    python bench/exchange.py [--episodes 100 1000] [--runs 5] [--minutes 30]

One real clip (tests/data/LJ001-0008.wav, public domain) is ingested and processed for real;
N synthetic episodes (CC BY, public, ready, a transcript of a line every six seconds with
word times, a topic) are added through the data modules and share its renditions and
peaks. A first full export to a target records what it was sent. Then, medians over
``--runs``, one JSON line per N:

- ``anchor_build_all_ms``: building every exportable episode's episode.json and its sha256,
  which is what ``--since last`` did before migration 0030 even when nothing had changed
  (the old way);
- ``since_last_unchanged_ms``: ``export_bundle(since="last")`` with nothing changed (no
  bundle is written);
- ``since_last_one_changed_ms``: the same after one episode's title was edited (a bundle of
  that episode, its audio included, is written);
- ``full_export_ms``: the first, full export (once; writes every episode's files);
- ``catalogue_first_ms``, ``catalogue_unchanged_ms``, ``catalogue_after_restart_ms``,
  ``catalogue_one_changed_ms``: the HTTP exchange's signed catalogue (what ``radio sync``
  asks first): built whole for the first time, again with nothing changed, in a freshly
  started process with nothing changed (the parts are kept in the database, migration 0031),
  and again after one episode's title was edited.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # _scale_archive, after the packages

from _scale_archive import _fts_triggers, test_sentences  # noqa: E402

from radio import create_app  # noqa: E402
from radio.data import exchange  # noqa: E402
from radio.data import tags as tags_data  # noqa: E402
from radio.data.edits import edit_episode  # noqa: E402
from radio.data.transcripts import segment_values  # noqa: E402
from radio.db import connect, database_path, transaction  # noqa: E402
from radio.jobs.exchange import catalogue, episode_document, export_bundle  # noqa: E402
from radio.jobs.exchange_bundle import document_bytes  # noqa: E402
from transcription.segments import Segment, Word  # noqa: E402

CLIP = ROOT / "tests" / "data" / "LJ001-0008.wav"
STATION = "Radio Bench"
SECONDS_PER_SEGMENT = 6.0


def build(home: Path, episodes: int, minutes: int) -> tuple[object, object]:
    """(app, db) of an archive of ``episodes`` exportable episodes."""
    from radio.jobs import tasks
    from radio.jobs.ingest import Limits, Metadata, ingest_file

    app = create_app(
        {"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench", "STATION_NAME": STATION}
    )
    db = connect(database_path(app))
    seed = ingest_file(db, str(home), CLIP, Metadata(title="Seed"), Limits.from_config(app.config))
    tasks.run_episode(app, seed.episode_id)
    db.execute("update episodes set visibility = 'private' where id = ?", [seed.episode_id])
    shared = db["episodes"].get(seed.episode_id)
    renditions = list(db.query("select * from renditions where episode_id = ?", [seed.episode_id]))
    show_id = db["shows"].insert({"slug": "morning-talk", "title": "Morning Talk"}).last_pk
    lines = [s for ss in test_sentences().values() for s in ss if s.isascii()] or ["Good day."]
    taxonomy = tags_data.load_station_taxonomy(str(home))
    triggers = _fts_triggers(db)  # search isn't benched here: its index is left unbuilt
    for name, _sql in triggers:
        db.execute(f"drop trigger {name}")
    with transaction(db) as conn:
        made = [_episode(conn, n, show_id, shared, renditions, lines, minutes)
                for n in range(episodes)]  # fmt: skip
    for episode_id in made:
        tags_data.tag_episode(db, episode_id, add=["water"], taxonomy=taxonomy)
    for _name, sql in triggers:
        db.execute(sql)
    return app, db


def _episode(conn, n, show_id, shared, renditions, lines, minutes) -> int:  # noqa: ANN001
    episode_id = conn.execute(
        "insert into episodes (guid, show_id, title, description, recorded_at, published_at, "
        "created_at, updated_at, language, duration, status, visibility, licence, "
        "source_sha256, source_path, peaks_path) values (?, ?, ?, ?, ?, ?, ?, ?, 'en', ?, "
        "'ready', 'public', 'cc-by', ?, ?, ?)",
        [str(uuid.uuid4()), show_id, f"Programme {n + 1}", "Talk of the morning.",
         f"2026-01-{n % 28 + 1:02d}", "2026-02-01T00:00:00", "2026-02-01T00:00:00",
         "2026-02-01T00:00:00", minutes * 60.0, uuid.uuid4().hex, shared["source_path"],
         shared["peaks_path"]],
    ).lastrowid  # fmt: skip
    for r in renditions:
        row = {**r, "id": None, "episode_id": episode_id}
        conn.execute(
            f"insert into renditions ({', '.join(row)}) values ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    segments = []
    for idx in range(int(minutes * 60 / SECONDS_PER_SEGMENT)):
        text = lines[(n * 7 + idx) % len(lines)]
        step = SECONDS_PER_SEGMENT / max(1, len(text.split()))
        start = idx * SECONDS_PER_SEGMENT
        words = tuple(Word(start + i * step, start + (i + 1) * step, f" {w}", 0.9)
                      for i, w in enumerate(text.split()))  # fmt: skip
        segment = Segment(start, start + SECONDS_PER_SEGMENT, text, words, "Speaker 1")
        segments.append(segment_values(episode_id, idx, segment))
    conn.executemany(
        "insert into segments (episode_id, idx, start, end, text, speaker, words) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        segments,
    )
    return episode_id


def build_every_document(db, config) -> int:  # noqa: ANN001
    """The old way: every exportable episode's episode.json and its sha256."""
    chosen = exchange.select_exportable(db)
    for episode in chosen.episodes:
        document, _files = episode_document(
            db, config["HOME"], config["STATION_NAME"], episode, False
        )
        hashlib.sha256(document_bytes(document)).hexdigest()
    return len(chosen.episodes)


def ms(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def catalogue_in_new_process(home: Path) -> float:
    """The catalogue asked of a freshly started process, nothing changed since it was
    last built (the first ``radio sync`` after a restart); its own time, in ms."""
    out = subprocess.run(
        [sys.executable, __file__, "--catalogue-of", str(home)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return float(out.strip().splitlines()[-1])


def time_catalogue(home: Path) -> None:
    app = create_app(
        {"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench", "STATION_NAME": STATION}
    )
    db = connect(database_path(app))
    print(round(ms(lambda: catalogue(db, app.config))[0], 1))


def bench(episodes: int, runs: int, minutes: int, work: Path) -> dict:
    home = work / f"archive-{episodes}"
    app, db = build(home, episodes, minutes)
    config, out = app.config, work / f"to-other-{episodes}.radio"
    full, done = ms(lambda: export_bundle(db, config, out))
    assert len(done.guids) == episodes, done
    anchor = [ms(lambda: build_every_document(db, config))[0] for _ in range(runs)]
    unchanged, changed = [], []
    for _ in range(runs):
        took, result = ms(lambda: export_bundle(db, config, out, since="last"))
        assert result.guids == [] and result.path is None, result
        unchanged.append(took)
    catalogue_cold = ms(lambda: catalogue(db, config))[0]
    restarted = [catalogue_in_new_process(home) for _ in range(runs)]
    catalogue_warm = [ms(lambda: catalogue(db, config))[0] for _ in range(runs)]
    ids = [row[0] for row in db.execute("select id from episodes where licence = 'cc-by'")]
    catalogue_changed = []
    for n in range(runs):
        assert edit_episode(db, ids[n], None, {"title": f"Corrected {n}"})
        catalogue_changed.append(ms(lambda: catalogue(db, config))[0])
        took, result = ms(lambda: export_bundle(db, config, out, since="last"))
        assert len(result.guids) == 1, result
        changed.append(took)
    db.conn.close()
    return {
        "episodes": episodes,
        "segments_per_episode": int(minutes * 60 / SECONDS_PER_SEGMENT),
        "runs": runs,
        "anchor_build_all_ms": round(statistics.median(anchor), 1),
        "since_last_unchanged_ms": round(statistics.median(unchanged), 1),
        "since_last_one_changed_ms": round(statistics.median(changed), 1),
        "full_export_ms": round(full, 1),
        "catalogue_first_ms": round(catalogue_cold, 1),
        "catalogue_unchanged_ms": round(statistics.median(catalogue_warm), 1),
        "catalogue_after_restart_ms": round(statistics.median(restarted), 1),
        "catalogue_one_changed_ms": round(statistics.median(catalogue_changed), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--minutes", type=int, default=30, help="each episode's length")
    parser.add_argument("--catalogue-of", type=Path, help=argparse.SUPPRESS)  # one timing
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.catalogue_of:
        time_catalogue(args.catalogue_of)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
    try:
        for n in args.episodes:
            print(json.dumps(bench(n, args.runs, args.minutes, work)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
