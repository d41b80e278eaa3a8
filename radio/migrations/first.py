"""Migrations 0001-0008: the first wave (core tables, search, accounts, topics)."""

from __future__ import annotations

import sqlite_utils

from radio.migrations import migration


@migration("0001_core")
def _core(db: sqlite_utils.Database) -> None:
    _create_shows(db)
    _create_episodes(db)
    _create_processing(db)


def _create_shows(db: sqlite_utils.Database) -> None:
    db["shows"].create(
        {
            "id": int,
            "slug": str,
            "title": str,
            "description": str,
            "language": str,
            "created_at": str,
        },
        pk="id",
        not_null={"slug", "title"},
        defaults={"description": ""},
    )
    db["shows"].create_index(["slug"], unique=True)


def _create_episodes(db: sqlite_utils.Database) -> None:
    db["episodes"].create(
        {
            "id": int,
            "guid": str,
            "show_id": int,
            "title": str,
            "description": str,
            "recorded_at": str,
            "published_at": str,
            "created_at": str,
            "updated_at": str,
            "language": str,
            "speakers": str,
            "duration": float,
            "status": str,
            "step": str,
            "progress": float,
            "error": str,
            "visibility": str,
            "source_sha256": str,
            "source_path": str,
            "source_name": str,
            "source_bytes": int,
            "source_format": str,
            "source_channels": int,
            "source_sample_rate": int,
            "loudness_before": float,
            "true_peak_before": float,
            "loudness_after": float,
            "true_peak_after": float,
            "peaks_path": str,
            "transcript_language": str,
            "transcript_model": str,
            "transcribe_seconds": float,
            "lease_owner": str,
            "lease_until": float,
        },
        pk="id",
        foreign_keys=[("show_id", "shows", "id")],
        not_null={"guid", "title", "status", "visibility", "source_sha256"},
        defaults={"status": "queued", "visibility": "public", "progress": 0.0, "description": ""},
    )
    db["episodes"].create_index(["guid"], unique=True)
    db["episodes"].create_index(["source_sha256"], unique=True)
    db["episodes"].create_index(["status"])
    db["episodes"].create_index(["show_id", "published_at"])


def _create_processing(db: sqlite_utils.Database) -> None:
    """What processing writes: steps done, renditions made, transcript segments."""
    db["episode_steps"].create(
        {
            "episode_id": int,
            "step": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "error": str,
            "attempts": int,
        },
        pk=("episode_id", "step"),
        foreign_keys=[("episode_id", "episodes", "id")],
        defaults={"attempts": 0},
    )
    db["renditions"].create(
        {
            "id": int,
            "episode_id": int,
            "kind": str,
            "path": str,
            "bytes": int,
            "mime": str,
            "bitrate": int,
            "sample_rate": int,
            "duration": float,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "kind", "path", "bytes", "mime"},
    )
    db["renditions"].create_index(["episode_id", "kind"], unique=True)
    db["segments"].create(
        {
            "id": int,
            "episode_id": int,
            "idx": int,
            "start": float,
            "end": float,
            "text": str,
            "speaker": str,
            "words": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "idx", "start", "end", "text"},
    )
    db["segments"].create_index(["episode_id", "idx"], unique=True)


@migration("0002_search")
def _search(db: sqlite_utils.Database) -> None:
    # External-content FTS5 kept in step by triggers: every write to segments or
    # episodes (transcription, an editor's fix) is searchable at once.
    tokenize = "unicode61 remove_diacritics 2"
    db["segments"].enable_fts(["text"], tokenize=tokenize, create_triggers=True)
    db["episodes"].enable_fts(["title", "description"], tokenize=tokenize, create_triggers=True)


@migration("0003_accounts")
def _accounts(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {
            "id": int,
            "name": str,
            "password_hash": str,
            "role": str,  # admin | editor | uploader
            "created_at": str,
            "last_login_at": str,
        },
        pk="id",
        not_null={"name", "password_hash", "role"},
    )
    db["users"].create_index(["name"], unique=True)
    db["transcript_edits"].create(
        {
            "id": int,
            "episode_id": int,
            "segment_id": int,
            "user_id": int,
            "before": str,
            "after": str,
            "edited_at": str,
        },
        pk="id",
        foreign_keys=[
            ("episode_id", "episodes", "id"),
            ("segment_id", "segments", "id"),
            ("user_id", "users", "id"),
        ],
    )
    db["transcript_edits"].create_index(["episode_id"])


@migration("0004_topics")
def _topics(db: sqlite_utils.Database) -> None:
    db["tags"].create(
        {"id": int, "slug": str, "label": str, "kind": str, "created_at": str},
        pk="id",
        not_null={"slug", "label"},
    )
    db["tags"].create_index(["slug"], unique=True)
    db["episode_tags"].create(
        {
            "episode_id": int,
            "tag_id": int,
            "source": str,  # keyphrase | taxonomy | manual
            "score": float,
            "removed": int,  # a manual removal, kept so a retag never brings it back
            "created_at": str,
        },
        pk=("episode_id", "tag_id"),
        foreign_keys=[("episode_id", "episodes", "id"), ("tag_id", "tags", "id")],
        defaults={"removed": 0},
    )
    db["episode_tags"].create_index(["tag_id"])
    db["chapters"].create(
        {"id": int, "episode_id": int, "idx": int, "start": float, "end": float, "title": str},
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "idx", "start", "title"},
    )
    db["chapters"].create_index(["episode_id", "idx"], unique=True)


@migration("0005_show_hosts")
def _show_hosts(db: sqlite_utils.Database) -> None:
    db["shows"].add_column("hosts", str)  # JSON list of names, shown as podcast:person hosts


@migration("0006_uploader_and_search_index")
def _uploader_and_search_index(db: sqlite_utils.Database) -> None:
    db["episodes"].add_column("uploaded_by", int)  # users.id of who uploaded it, if anyone
    # Covering index: maps a search hit (segment rowid) to its episode without reading
    # the segment's text, which is most of a search's time when a word is very common.
    db["segments"].create_index(
        ["id", "episode_id"], index_name="segments_id_episode", if_not_exists=True
    )


@migration("0007_segment_deletions")
def _segment_deletions(db: sqlite_utils.Database) -> None:
    # Search keeps which episode each segment belongs to in memory (radio.data.segment_map);
    # new segments only add rows past the last id it read, but a deletion may free ids
    # for reuse, so deletions are counted here and a change makes it read afresh.
    db["counters"].create({"name": str, "n": int}, pk="name", if_not_exists=True)
    db["counters"].insert({"name": "segments_deleted", "n": 0}, ignore=True)
    db.execute(
        "create trigger if not exists segments_count_deletions after delete on segments "
        "begin update counters set n = n + 1 where name = 'segments_deleted'; end"
    )


@migration("0008_unsegmented_scripts")
def _unsegmented_scripts(db: sqlite_utils.Database) -> None:
    # Chinese, Japanese and Korean are written without spaces between words, so the word
    # index (0002) holds a whole sentence as one word. A second index holds only the
    # segments and episodes with such text, every character a token of its own
    # (transcription.scripts.index_text); data.search queries it for such words.
    tokenize = "tokenize='unicode61 remove_diacritics 2'"
    db.execute(f"create virtual table segments_scripts using fts5(text, {tokenize})")
    db.execute(f"create virtual table episodes_scripts using fts5(title, description, {tokenize})")
    for table, columns in (("segments", ("text",)), ("episodes", ("title", "description"))):
        _script_triggers(db, table, columns)
        _fill_script_index(db, table, columns)


def _script_triggers(db: sqlite_utils.Database, table: str, columns: tuple[str, ...]) -> None:
    index = f"{table}_scripts"
    cols = ", ".join(columns)
    values = ", ".join(f"radio_index_text(new.{c})" for c in columns)
    has = " or ".join(f"radio_has_unsegmented(new.{c})" for c in columns)
    db.execute(
        f"create trigger {index}_ai after insert on {table} when {has} begin "
        f"insert into {index}(rowid, {cols}) values (new.id, {values}); end"
    )
    db.execute(
        f"create trigger {index}_ad after delete on {table} begin "
        f"delete from {index} where rowid = old.id; end"
    )
    db.execute(
        f"create trigger {index}_au after update of {cols} on {table} begin "
        f"delete from {index} where rowid = old.id; "
        f"insert into {index}(rowid, {cols}) select new.id, {values} where {has}; end"
    )


def _fill_script_index(db: sqlite_utils.Database, table: str, columns: tuple[str, ...]) -> None:
    cols = ", ".join(columns)
    values = ", ".join(f"radio_index_text({c})" for c in columns)
    has = " or ".join(f"radio_has_unsegmented({c})" for c in columns)
    db.execute(
        f"insert into {table}_scripts(rowid, {cols}) select id, {values} from {table} where {has}"
    )
