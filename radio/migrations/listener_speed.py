"""Migration 0026's body (#17): what makes the first request after a change as fast as the
others at 10,000 hours.

- ``topic_moments``: where an episode talks about each of its topics, stored when it is
  tagged (``radio.data.topic_moments``) instead of scoring ten whole transcripts for every
  topic page. Triggers forget an episode's rows whenever a segment of it is added, removed
  or its text or timing changes (an editor's correction, a redaction, a retranscription's
  swap), and a topic's rows when its tag goes, so what is stored is never stale; the rows
  also record what they were computed from (``basis``: the topic's words, the language).
- ``counters('transcript_changes')``: counts changes to what segments say, so that what is
  computed from transcripts alone (a saved search's matches) outlives a title's edit.
- ``counters('listing_shape_changes')``: like 0025's ``listing_changes``, but not moved
  by what no list beside a search or on the home page shows (an episode's title,
  description, artwork, processing progress and leases): those lists, each a scan of every
  episode, outlive such an edit (``radio.data.facets``).
- indexes in feed order (newest published first) and in the home page's (newest
  recorded first), so a feed or the home page reads its page, not every episode sorted.
"""

from __future__ import annotations

import sqlite_utils


def listener_speed(db: sqlite_utils.Database) -> None:
    db.execute(
        "create table topic_moments (episode_id integer not null references episodes (id), "
        "slug text not null, "
        "basis text not null, moments text not null, primary key (episode_id, slug)) "
        "without rowid"
    )
    db.execute("create index topic_moments_slug on topic_moments (slug)")
    forget_new = "delete from topic_moments where episode_id = new.episode_id;"
    forget_old = "delete from topic_moments where episode_id = old.episode_id;"
    bump = "update counters set n = n + 1 where name = 'transcript_changes';"
    for name, event, body in (
        ("ai", "insert", forget_new + bump),
        ("ad", "delete", forget_old + bump),
        ("au", "update of text, start, end, episode_id", forget_old + forget_new + bump),
    ):
        db.execute(f"create trigger segments_moments_{name} after {event} on segments "
                   f"begin {body} end")  # fmt: skip
    db.execute(
        "create trigger episodes_moments_ad after delete on episodes "
        "begin delete from topic_moments where episode_id = old.id; end"
    )
    db.execute(
        "create trigger tags_moments_ad after delete on tags "
        "begin delete from topic_moments where slug = old.slug; end"
    )
    db.execute(
        "create trigger tags_moments_au after update of slug on tags "
        "begin delete from topic_moments where slug = old.slug; end"
    )
    db["counters"].insert({"name": "transcript_changes", "n": 0}, ignore=True)
    _count_shape_changes(db)
    db.execute(
        "create index episodes_feed_order on episodes "
        "(coalesce(published_at, created_at) desc, id desc)"
    )
    db.execute("create index episodes_latest_order on episodes (recorded_at desc, id desc)")


# Episode columns no listing but the latest episodes shows or filters on (those change
# often: every progress report, every lease renewal, an editor's new title).
UNLISTED = {
    "title", "description", "updated_at", "step", "progress", "error", "lease_owner",
    "lease_until", "peaks_path", "artwork", "review_note", "loudness_before",
    "true_peak_before", "loudness_after", "true_peak_after", "transcribe_seconds",
}  # fmt: skip
# What else the lists are made of, and the columns whose change can change one (None: any).
SHAPED = {
    "segments": "episode_id",  # inserts and deletes move episode_segments
    "shows": None,
    "tags": "slug, label, kind",
    "episode_tags": None,
    "participants": None,
    "requests": "episode_id, kind, status",
    "segment_speakers": "episode_id, speaker",
}


def _count_shape_changes(db: sqlite_utils.Database) -> None:
    db["counters"].insert({"name": "listing_shape_changes", "n": 0}, ignore=True)
    bump = "update counters set n = n + 1 where name = 'listing_shape_changes';"
    listed = ", ".join(c for c in db["episodes"].columns_dict if c not in UNLISTED)
    for table, update_of in {**SHAPED, "episodes": listed}.items():
        columns = f" of {update_of}" if update_of else ""
        for verb, event in (("ai", "insert"), ("ad", "delete"), ("au", f"update{columns}")):
            db.execute(f"create trigger {table}_shape_{verb} after {event} on {table} "
                       f"begin {bump} end")  # fmt: skip
