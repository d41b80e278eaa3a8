import threading

from radio.db import connect, database_path, migrate
from radio.migrations import MIGRATIONS


def test_migrations_are_recorded_and_rerun_safely(app, db):
    names = [row["name"] for row in db["_migrations"].rows]
    assert names == [name for name, _ in MIGRATIONS]
    assert migrate(db) == []  # running again applies nothing
    assert {"shows", "episodes", "renditions", "segments", "episode_steps"} <= set(db.table_names())


def test_wal_mode(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_processes_starting_at_once_do_not_collide(tmp_path):
    # serve and worker may start together on a fresh data folder
    path = tmp_path / "archive.db"
    errors = []

    def run():
        try:
            migrate(connect(path))
        except Exception as e:  # pragma: no cover - the failure we guard against
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert connect(path).execute("select count(*) from _migrations").fetchone()[0] == len(
        MIGRATIONS
    )


def test_segments_are_searchable_as_soon_as_written(app, db):
    db["episodes"].insert(
        {
            "guid": "g",
            "title": "Educación",
            "status": "ready",
            "visibility": "public",
            "source_sha256": "x",
        }
    )
    db["segments"].insert(
        {"episode_id": 1, "idx": 0, "start": 1.0, "end": 2.0, "text": "la educación de las niñas"}
    )
    hits = db.execute(
        "select rowid from segments_fts where segments_fts match 'educacion'"
    ).fetchall()
    assert hits == [(1,)]
    assert database_path(app).name == "archive.db"
