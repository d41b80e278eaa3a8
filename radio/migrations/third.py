"""Migrations 0021 on: requests, redaction and takedown (#16); beyond one box (#17)."""

from __future__ import annotations

import sqlite_utils

from radio.migrations import migration
from radio.migrations.exchange_marks import exchange_listed, exchange_marks
from radio.migrations.listener_speed import listener_speed
from radio.migrations.listing_touches import listing_touches


@migration("0021_requests")
def _requests(db: sqlite_utils.Database) -> None:
    # What contributors (through their receipt) and listeners ask about an episode, and the
    # answer (radio.data.requests). ``kind`` says which fields are filled: ``participant``
    # for a consent withdrawn (None: everyone), ``start``/``end`` (seconds) for a passage,
    # ``segment_id`` (with its start, ``at``), ``original`` and ``proposed`` for a
    # correction. ``decided_by`` is an account's id, kept without a foreign key so that
    # removing an account never fails on the decisions it made (the audit keeps the name).
    db["requests"].create(
        {
            "id": int,
            "episode_id": int,
            "kind": str,  # withdraw_consent | remove_passage | takedown | correction
            "asked_by": str,  # contributor | listener
            "participant": str,
            "start": float,
            "end": float,
            "segment_id": int,
            "at": float,
            "original": str,
            "proposed": str,
            "message": str,
            "status": str,  # open | accepted | refused | done
            "decided_by": int,
            "decided_at": str,
            "answer": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "kind", "asked_by", "status", "created_at"},
    )
    db["requests"].create_index(["episode_id"])
    db["requests"].create_index(["status", "created_at"])


@migration("0022_redaction_and_takedown")
def _redaction_and_takedown(db: sqlite_utils.Database) -> None:
    # redactions (#16 item 4)
    # A passage removed from an episode (radio.data.redactions): where, what replaced it,
    # who and why, never the removed words. ``replaced_sha256`` is the hash of the original
    # it replaced (not content): what tells that very file apart if it is sent in again.
    db["redactions"].create(
        {
            "id": int,
            "episode_id": int,
            "start": float,
            "end": float,
            "sound": str,  # tone | silence
            "reason": str,
            "by": str,  # the actor's name as it was (an account, "cli:<os user>")
            "by_id": int,  # users.id when an account did it; no foreign key, as audit
            "at": str,
            "words_removed": int,
            "segments_removed": int,
            "files_rewritten": int,
            "replaced_sha256": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "start", "end", "sound", "reason", "by", "at"},
    )
    db["redactions"].create_index(["episode_id", "id"])
    # The audit history stays append-only (0018) but for one narrow exception: a redaction
    # may set a summary that quotes removed words (an editor's chapter titles, a tag made
    # from them) to the literal '[removed]'. Nothing else of the row may change, so who did
    # what and when is kept; only the removed content goes (radio.data.edits.scrub_history).
    db.execute("drop trigger if exists audit_no_update")
    db.execute(
        "create trigger audit_no_update before update on audit when not ("
        "new.id is old.id and new.at is old.at and new.actor_id is old.actor_id "
        "and new.actor is old.actor and new.action is old.action "
        "and new.subject is old.subject and new.why is old.why "
        "and (new.summary_before is old.summary_before or new.summary_before = '[removed]') "
        "and (new.summary_after is old.summary_after or new.summary_after = '[removed]')) "
        "begin select raise(abort, 'the audit history is append-only'); end"
    )

    # takedowns (#16 item 4)
    # A taken-down episode (radio.data.takedowns) leaves every page, feed, search and media
    # URL for everyone (live_sql); its row stays as a tombstone so its URLs answer 410 and
    # the audit history can name it. ``taken_down_by`` is the actor's name as it was (an
    # account, "cli:<os user>"), without a foreign key, as the audit's; ``takedown_destroyed``
    # 1: its original, files and content rows were destroyed (nothing to undo).
    episodes = db["episodes"]
    episodes.add_column("taken_down_at", str)
    episodes.add_column("taken_down_by", str)
    episodes.add_column("takedown_reason", str)
    episodes.add_column("takedown_destroyed", int, not_null_default=0)
    episodes.create_index(["taken_down_at"])
    # A removed account (radio.data.users.remove_user) keeps its row as a tombstone, so
    # what it did stays attributed to its id; it can never log in, and reads "a removed
    # account" on pages.
    db["users"].add_column("removed_at", str)


@migration("0023_worker_tokens")
def _worker_tokens(db: sqlite_utils.Database) -> None:
    """Tokens that let a worker on another machine process episodes over HTTP (only the
    token's SHA-256 is kept), and each result a worker committed, so the same commit sent
    twice is recognised and applied once (radio.data.worker_tokens)."""
    db.execute(
        "create table worker_tokens (id integer primary key, name text not null unique, "
        "token_hash text not null unique, created_at text not null, created_by text, "
        "last_used_at text, revoked_at text)"
    )
    db.execute(
        "create table worker_commits (episode_id integer not null references episodes(id), "
        "manifest_sha256 text not null, worker text not null, answer text not null, "
        "committed_at text not null, primary key (episode_id, manifest_sha256))"
    )


@migration("0024_exchange")
def _exchange(db: sqlite_utils.Database) -> None:
    # Programmes between stations (radio.data.exchange). Each bundle this archive wrote, and
    # which episodes it carried, so the next export to the same target carries only new work.
    db["exchange_exports"].create(
        {
            "id": int,
            "target": str,  # the bundle's name ("radio-b.radio") or --target
            "made_at": str,
            "since": str,  # what was asked: a date, "last", or NULL for everything
            "show": str,  # the show slug asked for, or NULL
            "with_originals": int,
            "episodes": int,
            "manifest_sha256": str,
        },
        pk="id",
        not_null={"target", "made_at"},
    )
    db["exchange_exports"].create_index(["target"])
    db["exchange_exported"].create(
        {"export_id": int, "guid": str},
        pk=("export_id", "guid"),
        foreign_keys=[("export_id", "exchange_exports", "id")],
    )
    db["exchange_exported"].create_index(["guid"])
    # Where each imported episode came from: the station that made it, the key that signed
    # the bundle it came in, its GUID there (the same GUID here) and its licence there.
    db["exchange_imports"].create(
        {
            "episode_id": int,
            "source_station": str,
            "source_fingerprint": str,
            "source_guid": str,
            "source_licence": str,
            "signed_by": str,  # the station whose key signed the bundle (a relay, or the source)
            "manifest_sha256": str,
            "imported_at": str,
        },
        pk="episode_id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"source_station", "source_fingerprint", "source_guid", "imported_at"},
    )
    db["exchange_imports"].create_index(["source_guid"])


@migration("0025_scale")
def _scale(db: sqlite_utils.Database) -> None:
    # The lists beside every search and the home page (shows, topics, languages, speakers;
    # radio.data.facets) each scanned every episode, the speakers every segment: seconds at
    # 10,000 hours. Who speaks in which episode is kept here by triggers (a row a speaker
    # an episode, with their segment count), and every write that can change such a list
    # counts in counters('listing_changes'), which any process can read in a microsecond.
    db.execute(
        "create table segment_speakers (episode_id integer not null, speaker text not null, "
        "n integer not null, primary key (episode_id, speaker)) without rowid"
    )
    db.execute(
        "insert into segment_speakers select episode_id, speaker, count(*) from segments "
        "where speaker is not null group by episode_id, speaker"
    )
    add = (
        "insert into segment_speakers values (new.episode_id, new.speaker, 1) "
        "on conflict (episode_id, speaker) do update set n = n + 1;"
    )
    remove = (
        "update segment_speakers set n = n - 1 "
        "where episode_id = old.episode_id and speaker = old.speaker; "
        "delete from segment_speakers "
        "where episode_id = old.episode_id and speaker = old.speaker and n <= 0;"
    )
    db.execute(
        "create trigger segment_speakers_ai after insert on segments "
        f"when new.speaker is not null begin {add} end"
    )
    db.execute(
        "create trigger segment_speakers_ad after delete on segments "
        f"when old.speaker is not null begin {remove} end"
    )
    db.execute(
        "create trigger segment_speakers_au_old after update of speaker, episode_id on segments "
        f"when old.speaker is not null begin {remove} end"
    )
    db.execute(
        "create trigger segment_speakers_au_new after update of speaker, episode_id on segments "
        f"when new.speaker is not null begin {add} end"
    )
    _episode_segments(db)
    # The words in the index (no storage of its own): a prefix said everywhere ("bless*"),
    # read a range of ids at a time, is searched as its words, not merged afresh each time.
    db.execute("create virtual table segments_fts_terms using fts5vocab(segments_fts, 'row')")
    db["counters"].insert({"name": "listing_changes", "n": 0}, ignore=True)
    for table, update_of in _LISTED.items():
        _count_changes(db, table, update_of)


def _episode_segments(db: sqlite_utils.Database) -> None:
    # Each episode's segment ids (lowest, highest) and how many (radio.data.search): a word
    # said in millions of segments is searched newest episodes first, a range at a time,
    # and show and date filters become ranges of ids instead of a filter after the fact.
    # Deleting a segment leaves the bounds as they were (still bounds, with a hole).
    db.execute(
        "create table episode_segments (episode_id integer primary key, lo integer not null, "
        "hi integer not null, n integer not null)"
    )
    db.execute(
        "insert into episode_segments select episode_id, min(id), max(id), count(*) "
        "from segments group by episode_id"
    )
    add = (
        "insert into episode_segments values (new.episode_id, new.id, new.id, 1) "
        "on conflict (episode_id) do update set lo = min(lo, new.id), hi = max(hi, new.id), "
        "n = n + 1;"
    )
    remove = (
        "update episode_segments set n = n - 1 where episode_id = old.episode_id; "
        "delete from episode_segments where episode_id = old.episode_id and n <= 0;"
    )
    db.execute(f"create trigger episode_segments_ai after insert on segments begin {add} end")
    db.execute(f"create trigger episode_segments_ad after delete on segments begin {remove} end")
    db.execute(
        "create trigger episode_segments_au after update of episode_id on segments "
        f"begin {remove} {add} end"
    )


# What the listings are made of, and the columns whose change can change one (None: any).
_LISTED = {
    "episodes": None,  # the home page's latest episodes show most of an episode's row
    "segments": "text",  # an editor's correction: a topic page's moments quote the text
    "shows": None,  # listed with their title, artwork...
    "tags": "slug, label, kind",
    "episode_tags": None,
    "participants": None,
    "requests": "episode_id, kind, status",  # an open takedown holds an episode back
    "segment_speakers": "episode_id, speaker",
}


def _count_changes(db: sqlite_utils.Database, table: str, update_of: str | None) -> None:
    bump = "update counters set n = n + 1 where name = 'listing_changes';"
    columns = f"of {update_of} " if update_of else ""
    for verb, event in (("ai", "insert"), ("ad", "delete"), ("au", f"update {columns}")):
        db.execute(
            f"create trigger {table}_listing_{verb} after {event.strip()} on {table} "
            f"begin {bump} end"
        )


@migration("0026_listener_speed")
def _listener_speed(db: sqlite_utils.Database) -> None:
    # topic moments stored when tagged, finer change counts, feed and home order indexes
    listener_speed(db)


@migration("0027_remote_speakers")
def _remote_speakers(db: sqlite_utils.Database) -> None:
    # A remote worker's diarization of an original (radio.data.worker_tokens), for the
    # speakers of a transcript made again: valid while the original and the number of
    # names given stay the same.
    db.execute(
        "create table worker_diarizations (episode_id integer primary key references "
        "episodes(id), source_sha256 text not null, speakers integer not null, "
        "body text not null, made_at text not null)"
    )


@migration("0028_exchange_updates")
def _exchange_updates(db: sqlite_utils.Database) -> None:
    # An edited episode travels again, a withdrawn one travels as a withdrawal (#17): what
    # each export carried (episode.json's sha256), and, here, what came in and from whom.
    db["exchange_exported"].add_column("content_sha256", str)
    db["exchange_exported"].add_column("withdrawn", int, not_null_default=0)
    imports = db["exchange_imports"]
    imports.add_column("content_sha256", str)
    imports.add_column("origin_fingerprint", str)  # the station that made it (relays)
    imports.add_column("updated_at", str)
    imports.add_column("withdrawn_at", str)


@migration("0029_listing_touches")
def _listing_touches(db: sqlite_utils.Database) -> None:
    # which episodes each change touched: lists kept by episode read only theirs again
    listing_touches(db)


@migration("0030_exchange_marks")
def _exchange_marks(db: sqlite_utils.Database) -> None:
    # a change mark per episode: an incremental export builds again only what changed
    exchange_marks(db)


@migration("0031_exchange_listed")
def _exchange_listed(db: sqlite_utils.Database) -> None:
    # the HTTP catalogue's parts outlive a restart
    exchange_listed(db)
