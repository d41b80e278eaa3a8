"""Migrations 0009 on: language review, retranscription, speakers, licences, soundbites."""

from __future__ import annotations

import sqlite_utils

from radio.migrations import migration


@migration("0009_language_review")
def _language_review(db: sqlite_utils.Database) -> None:
    episodes = db["episodes"]
    # The hint the transcription used (from the upload or the show), None if none: the
    # ``language`` column also takes the detected language once transcribed, so it can't
    # tell a hint from a guess.
    episodes.add_column("language_hint", str)
    # How sure Whisper was of the language it detected; None when it was given or fixed
    # (an English-only model).
    episodes.add_column("language_probability", float)
    # Why an editor must look before listeners do (an unsure language), and the visibility
    # the uploader asked for while the archive holds the episode back as a draft.
    episodes.add_column("review_note", str)
    episodes.add_column("held_visibility", str)


@migration("0010_retranscription")
def _retranscription(db: sqlite_utils.Database) -> None:
    # Transcribing an episode again (radio.jobs.retranscribe) writes the new transcript
    # here, beside the published one, segment by segment so a killed worker resumes; one
    # transaction then swaps it into ``segments`` (data.transcripts.swap_staged).
    db["segments_staging"].create(
        {
            "episode_id": int,
            "idx": int,
            "start": float,
            "end": float,
            "text": str,
            "speaker": str,
            "words": str,
        },
        pk=("episode_id", "idx"),
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"start", "end", "text"},
    )
    # What was asked (model, language: None means the archive's choice) and how far it
    # got: queued -> running -> staged -> topics; a failure leaves its message in ``error``
    # and the phase where it stopped. The row goes when the work is done; the queue entry
    # only names the episode.
    db["retranscriptions"].create(
        {
            "episode_id": int,
            "model": str,
            "language": str,
            "status": str,
            "progress": float,
            "error": str,
            "staged_model": str,  # the name of the model the staged rows came from
            "staged_model_path": str,  # and its folder: a resumed run must use the same one
            "staged_language": str,  # the language they were transcribed as
            "staged_language_probability": float,  # how sure detection was; 1 when given
            "seconds": float,  # transcribing time so far, over every resumed run
            "requested_by": int,
            "requested_at": str,
            "updated_at": str,
        },
        pk="episode_id",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"status"},
        defaults={"progress": 0.0, "seconds": 0.0},
    )


@migration("0011_speakers")
def _speakers(db: sqlite_utils.Database) -> None:
    # Who speaks in an episode (radio.data.speakers): one row per label that segments.speaker
    # carries ("Speaker 2", or a name), its talk time and its voice print (float32,
    # little-endian; NULL for a two-party call's channel speakers). ``suggestion`` is a name
    # from another episode of the same show whose voice is this close (``suggestion_score``,
    # cosine), for an editor to confirm; it is never applied by itself.
    db["speakers"].create(
        {
            "episode_id": int,
            "label": str,
            "voice": bytes,
            "seconds": float,
            "suggestion": str,
            "suggestion_score": float,
        },
        pk=("episode_id", "label"),
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"seconds"},
        defaults={"seconds": 0.0},
    )
    # Search by speaker and the list of speakers on the search page read only this index.
    db.execute(
        "create index segments_speaker on segments(episode_id, speaker, idx) "
        "where speaker is not null"
    )


@migration("0012_session_version")
def _session_version(db: sqlite_utils.Database) -> None:
    # A login stores the account's session version in its cookie; logging out, a new
    # password or a new role bumps it (radio.data.users.end_sessions), so a cookie saved
    # before then is refused on its next request (radio.web.auth.load_user).
    db["users"].add_column("session_version", int, not_null_default=0)


@migration("0013_licences")
def _licences(db: sqlite_utils.Database) -> None:
    # A licence code per recording (radio.data.licences), NULL when none was stated; a
    # show's is the default for its recordings taken in without one (before the station's).
    db["episodes"].add_column("licence", str)
    db["shows"].add_column("licence", str)


@migration("0014_soundbites")
def _soundbites(db: sqlite_utils.Database) -> None:
    # Moments of an episode an editor marked (radio.data.soundbites): podcast:soundbite in
    # the feeds, "Highlights" on the episode page. ``start`` and ``duration`` are seconds
    # on the timeline of the episode's renditions.
    db["soundbites"].create(
        {
            "id": int,
            "episode_id": int,
            "start": float,
            "duration": float,
            "title": str,
            "created_by": int,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id"), ("created_by", "users", "id")],
        not_null={"episode_id", "start", "duration", "created_at"},
        defaults={"title": ""},
    )
    db["soundbites"].create_index(["episode_id", "start"])


@migration("0015_chapter_edits")
def _chapter_edits(db: sqlite_utils.Database) -> None:
    # When an editor last set the episode's chapters by hand (radio.data.tags); while set,
    # `radio retag` and a new transcript leave the chapters alone, as they do editors' tags.
    # On the episode rather than on each chapter: removing every chapter is an edit too.
    db["episodes"].add_column("chapters_by_hand", str)
    # Editors' changes to an episode's fields and chapters (radio.data.edits), kept like
    # transcript_edits: what it was, what it became, who and when.
    db["episode_edits"].create(
        {
            "id": int,
            "episode_id": int,
            "user_id": int,
            "field": str,
            "before": str,
            "after": str,
            "edited_at": str,
        },
        pk="id",
        foreign_keys=[("episode_id", "episodes", "id"), ("user_id", "users", "id")],
        not_null={"episode_id", "field", "edited_at"},
    )
    db["episode_edits"].create_index(["episode_id", "id"])


@migration("0016_trash_and_artwork")
def _trash_and_artwork(db: sqlite_utils.Database) -> None:
    episodes = db["episodes"]
    # A deleted episode stays in the trash (radio.data.trash) until it is emptied: every
    # listing, feed, search and media URL leaves it out at once (public_sql, live_sql).
    episodes.add_column("deleted_at", str)
    episodes.add_column("deleted_by", int)  # users.id; NULL: from the command line
    episodes.create_index(["deleted_at"])
    # The same recording sent again after its episode was deleted makes a new episode
    # (sharing the original file), so the sha256 is unique among live episodes only.
    db.execute("drop index if exists idx_episodes_source_sha256")
    db.execute(
        "create unique index idx_episodes_source_sha256 on episodes(source_sha256) "
        "where deleted_at is null"
    )
    # Artwork (radio.data.artwork): each image once, media/artwork/<sha256>.<ext>; an
    # episode or show names its own by that file name.
    db["artwork"].create(
        {
            "name": str,
            "sha256": str,
            "mime": str,
            "bytes": int,
            "width": int,
            "height": int,
            "created_by": int,
            "created_at": str,
        },
        pk="name",
        not_null={"sha256", "mime", "bytes", "width", "height"},
    )
    episodes.add_column("artwork", str)
    db["shows"].add_column("artwork", str)
    # Apple's category for the show's own feed ("Society & Culture > Documentary").
    db["shows"].add_column("itunes_category", str)


@migration("0017_scheduled_publishing")
def _scheduled_publishing(db: sqlite_utils.Database) -> None:
    # ``publish_at`` (UTC, as utcnow writes it): listeners see the episode from that moment
    # on (public_sql compares it with radio_now()); null: no schedule.
    db["episodes"].add_column("publish_at", str)
    db["episodes"].create_index(["publish_at"])
    # Re-running a finished episode's steps without unpublishing it (radio.jobs.rerun): one
    # row per episode, the phase reached, and what was made in the staging folder (JSON) so
    # a killed worker's swap can be finished from the row.
    db["reruns"].create(
        {
            "episode_id": int,
            "step": str,
            "status": str,
            "progress": float,
            "error": str,
            "staged": str,
            "requested_by": int,
            "requested_at": str,
            "finished_at": str,
        },
        pk="episode_id",
        foreign_keys=[("episode_id", "episodes", "id"), ("requested_by", "users", "id")],
        not_null={"step", "status", "requested_at"},
        defaults={"status": "queued", "progress": 0.0},
    )


@migration("0018_audit")
def _audit(db: sqlite_utils.Database) -> None:
    # Who did what to which episode, account or setting, and when (radio.data.audit).
    # ``subject`` names the thing as text ("episode:12", "account:3", "show:water-talk"),
    # never by foreign key, so emptying the trash (which deletes every row pointing at an
    # episode) and removing an account keep their history; ``actor_id`` is the account's id
    # then and ``actor`` its name as it was ("system", "cli:<os user>", "receipt" otherwise).
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "actor_id": int,
            "actor": str,
            "action": str,
            "subject": str,
            "summary_before": str,
            "summary_after": str,
            "why": str,
        },
        pk="id",
        not_null={"at", "actor", "action", "subject"},
    )
    db["audit"].create_index(["subject", "id"])
    db["audit"].create_index(["at"])
    # Append-only from the application's side: no code path may rewrite or drop history.
    for verb in ("update", "delete"):
        db.execute(
            f"create trigger audit_no_{verb} before {verb} on audit begin "
            "select raise(abort, 'the audit history is append-only'); end"
        )


@migration("0019_consent_and_receipts")
def _consent_and_receipts(db: sqlite_utils.Database) -> None:
    # Who is heard in a recording and whether each agreed to its publication
    # (radio.data.consent): any answer but yes keeps the episode from listeners (public_sql).
    db["participants"].create(
        {
            "episode_id": int,
            "idx": int,
            "name": str,
            "consent": str,  # yes | pending | no
            "changed_at": str,
            "changed_by": int,  # users.id; NULL: given at upload or from the command line
        },
        pk=("episode_id", "idx"),
        foreign_keys=[("episode_id", "episodes", "id"), ("changed_by", "users", "id")],
        not_null={"name", "consent"},
    )
    db.execute("create index idx_participants_held on participants(episode_id, consent)")
    # A receipt per contribution (radio.data.receipts): only the token's SHA-256 is kept.
    db["receipts"].create(
        {"token_hash": str, "episode_id": int, "created_at": str},
        pk="token_hash",
        foreign_keys=[("episode_id", "episodes", "id")],
        not_null={"episode_id", "created_at"},
    )
    db["receipts"].create_index(["episode_id"])


@migration("0020_station_policy")
def _station_policy(db: sqlite_utils.Database) -> None:
    # Texts the admins write for the station (radio.data.policy): ``key`` names the text
    # ("policy" for now: how recordings are used, kept and removed), one row per interface
    # language. No row: the default that ships (radio/policy/<locale>.md) is shown.
    db["station_texts"].create(
        {
            "key": str,
            "locale": str,
            "markdown": str,
            "updated_at": str,
            "updated_by": int,  # users.id; NULL when written from the command line
        },
        pk=("key", "locale"),
        foreign_keys=[("updated_by", "users", "id")],
        not_null={"markdown", "updated_at"},
    )
