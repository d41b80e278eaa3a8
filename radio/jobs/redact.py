"""Removing a passage from an episode so that it is really gone (#16 item 4).

``redact`` is the one way in (the CLI, the editors' form and the requests queue call it),
synchronous and complete when it returns. Under the episode's lease, so no worker writes
its files meanwhile:

1. the transcript's changes are planned (``radio.jobs.redact_text``) and checked;
2. every listening copy is written again with a tone or silence over the span (same
   encoder settings, ``radio.media.redaction``) into a staging folder and tagged there,
   with new peaks; the original is written again losslessly (FLAC) and kept by its sha256
   like any original;
3. one transaction: the staged files renamed over the old ones, their sizes (so feeds'
   ``length`` and files' ETags change), the episode pointed at the new original and
   peaks, the words out of the transcript (the search indexes and listings follow by
   their triggers), soundbites over the span and hand-made chapters starting in it gone,
   the edit history and audit summaries that quote the passage scrubbed, the redaction
   recorded and audited (who, why, where, counts; never the words);
4. then the automatic topics and chapters are found again from what is left and written
   into the files, the old original is deleted unless another episode shares it, and
   voice notes cut from the episode are deleted.

A retranscription under way is refused (it would bring the words back from the old
original's transcript); one that stopped with an error is cancelled.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import sqlite_utils

from radio.data import audit, processing, requests, soundbites
from radio.data import renditions as rendition_rows
from radio.data.edits import scrub_history
from radio.data.episodes import (
    Episode,
    EpisodeStatus,
    find_by_source,
    get_episode,
    update_episode,
)
from radio.data.errors import DataError
from radio.data.redactions import add_redaction
from radio.data.reruns import get_rerun
from radio.data.tags import chapters, chapters_by_hand, set_chapters_by_hand
from radio.data.transcripts import (
    clear_staging,
    delete_segments,
    finish_retranscription,
    get_retranscription,
    rewrite_segment,
)
from radio.data.trash import shares_original
from radio.db import transaction, utcnow
from radio.i18n import _
from radio.jobs import leases
from radio.jobs.errors import JobError
from radio.jobs.redact_text import TextPlan, plan_text
from radio.media import store
from radio.media.errors import MediaError
from radio.upkeep.logs import episode_context
from transcription.taxonomy import TaxonomyError

if TYPE_CHECKING:  # PyAV only where audio is written, never when the web app starts
    from radio.jobs.redact_audio import Staged, StoredOriginal

logger = logging.getLogger(__name__)

CLIPS = "clips"  # voice notes cut from the episode (radio.web.share)
MAX_REASON_CHARS = 500
SOUNDS = ("tone", "silence")
_END_SLACK = 0.05  # seconds past the stated duration a span may end (rounding)


class RedactError(JobError):
    """A passage can't be removed; the message says why and what to do."""


@dataclass(frozen=True)
class Redaction:
    id: int
    episode_id: int
    start: float
    end: float
    sound: str
    words_removed: int
    files: tuple[str, ...]  # rewritten, relative to the media folder (the new original last)


def redact(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    start: float,
    end: float,
    *,
    actor: audit.Actor,
    reason: str,
    sound: str = "tone",
) -> Redaction:
    """Replace [start, end) seconds of the episode with a tone (or ``sound="silence"``) in
    every file and take the words said there out of everything derived from them."""
    episode = get_episode(db, episode_id)
    reason = " ".join((reason or "").split())
    check(db, episode, start, end, reason=reason, sound=sound)
    if not leases.take_lease(db, episode.id, float(config.get("LEASE_SECONDS", 120))):
        raise RedactError(_busy(episode))
    try:
        with episode_context(episode.id):
            return _redact(db, config, episode, (start, end), actor, reason, sound)
    finally:
        processing.release_lease(db, episode.id, leases.WORKER_ID)


def check(
    db: sqlite_utils.Database,
    episode: Episode,
    start: float,
    end: float,
    *,
    reason: str = "-",
    sound: str = "tone",
) -> None:
    """Raise ``RedactError`` saying why this passage can't be removed now, if it can't."""
    duration = episode.duration or 0.0
    if episode.deleted_at:
        raise RedactError(
            _("Episode {id} is in the trash; restore it first.").format(id=episode.id)
        )
    if getattr(episode, "taken_down_at", None):  # the takedown work's column (#16 item 4)
        raise RedactError(
            _("Episode {id} was taken down; nothing of it is public.").format(id=episode.id)
        )
    if not reason:
        raise RedactError(_("Say why the passage is removed: the history keeps the reason."))
    if len(reason) > MAX_REASON_CHARS:
        raise RedactError(
            _("The reason is too long; use at most {limit} characters.").format(
                limit=MAX_REASON_CHARS
            )
        )
    if sound not in SOUNDS:
        raise RedactError(
            _("The passage can become a tone or silence, not {sound}.").format(sound=sound)
        )
    if end <= start:
        raise RedactError(_("The end of the passage must come after its start."))
    if start < 0 or duration <= 0 or end > duration + _END_SLACK:
        raise RedactError(
            _("{start} to {end} is outside the episode, which lasts {length}.").format(
                start=_clock(start), end=_clock(end), length=_clock(duration)
            )
        )
    if episode.status in (EpisodeStatus.QUEUED, EpisodeStatus.PROCESSING):
        raise RedactError(_busy(episode))
    if not rendition_rows.renditions(db, episode.id):
        raise RedactError(
            _(
                "Episode {id} has no listening copies yet; remove the passage once they are made."
            ).format(id=episode.id)
        )
    _check_reruns(db, episode)


def _check_reruns(db: sqlite_utils.Database, episode: Episode) -> None:
    again = get_retranscription(db, episode.id)
    if again is not None and again.error is None:
        raise RedactError(
            _(
                "Episode {id} is being transcribed again; remove the passage once that has "
                "finished (the new transcript would otherwise bring the words back)."
            ).format(id=episode.id)
        )
    rerun = get_rerun(db, episode.id)
    if rerun is not None and rerun.unfinished:
        raise RedactError(
            _(
                "Episode {id} is being made again; remove the passage once that has finished."
            ).format(id=episode.id)
        )


def _busy(episode: Episode) -> str:
    return _(
        "Episode {id} is being processed right now; remove the passage once it is ready "
        "(`radio status {id}` shows its progress)."
    ).format(id=episode.id)


def _clock(seconds: float) -> str:
    from radio.data.fields import clock_text

    return clock_text(max(seconds, 0.0))


def _redact(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode: Episode,
    span: tuple[float, float],
    actor: audit.Actor,
    reason: str,
    sound: str,
) -> Redaction:
    from radio.jobs.redact_audio import stage_audio, store_original

    staged = stage_audio(db, config, episode, span, sound)
    original: StoredOriginal | None = None
    try:
        original = store_original(config, episode, span, sound)
        redaction_id, plan = _commit(db, episode, span, staged, original, actor, reason, sound)
    except BaseException:
        shutil.rmtree(staged.folder, ignore_errors=True)
        if original is not None and find_by_source(db, original.sha256) is None:
            store.discard(config["HOME"], original.relpath)  # no episode's file
        raise
    _after(db, config, episode)
    files = (*staged.relpaths, original.relpath)
    logger.info(
        "removed %.2f-%.2f s (%s): %d words, %d files", *span, sound, plan.words_removed, len(files)
    )
    return Redaction(redaction_id, episode.id, span[0], span[1], sound, plan.words_removed, files)


def _commit(
    db: sqlite_utils.Database,
    episode: Episode,
    span: tuple[float, float],
    staged: Staged,
    original: StoredOriginal,
    actor: audit.Actor,
    reason: str,
    sound: str,
) -> tuple[int, TextPlan]:
    """Everything listeners and the history see changes in this one transaction (the
    transcript's changes planned inside it, so an editor's fix meanwhile can't slip by)."""
    now = utcnow()
    with transaction(db) as conn:
        plan = plan_text(db, episode.id, *span)
        _cancel_stopped_retranscription(db, episode.id)
        sizes = staged.sizes()
        rendition_rows.record_sizes(db, episode.id, sizes)
        update_episode(db, episode.id, peaks_path=staged.peaks_relpath, **original.fields())
        scrubbed = scrub_history(conn, episode.id, plan.touched, plan.gone, plan.only_there)
        requests.forget_passage(conn, episode.id, *span, plan.touched)
        for segment_id, segment in plan.rewritten:
            rewrite_segment(conn, segment_id, segment)
        delete_segments(conn, plan.gone)
        bites = soundbites.remove_overlapping(conn, episode.id, *span)
        chapters_gone = _drop_hand_chapters(db, conn, episode.id, span, now)
        files = len(sizes) + 1
        redaction_id = add_redaction(
            conn,
            episode.id,
            span=span,
            sound=sound,
            reason=reason,
            actor=actor,
            at=now,
            counts=(plan.words_removed, len(plan.gone), files),
            replaced_sha256=episode.source_sha256,
        )
        audit.record(
            conn,
            actor,
            "episode.redact",
            audit.subject("episode", episode.id),
            before={"from": round(span[0], 3), "to": round(span[1], 3)},
            after={
                "sound": sound,
                "words_removed": plan.words_removed,
                "segments_removed": len(plan.gone),
                "segments_shortened": len(plan.rewritten),
                "soundbites_removed": bites,
                "chapters_removed": chapters_gone,
                "history_scrubbed": scrubbed,
                "files_rewritten": files,
            },
            why=reason,
        )
        staged.swap_in()  # last: a failed write above leaves the old files as they were
    return redaction_id, plan


def _cancel_stopped_retranscription(db: sqlite_utils.Database, episode_id: int) -> None:
    """A retranscription that stopped with an error staged words from the old audio."""
    if get_retranscription(db, episode_id) is not None:
        clear_staging(db, episode_id)
        finish_retranscription(db, episode_id)


def _drop_hand_chapters(
    db: sqlite_utils.Database, conn: Any, episode_id: int, span: tuple[float, float], now: str
) -> int:
    """Editors' chapters that start inside the passage go; how many. (Computed chapters
    are found again from what is left, after the commit.)"""
    if not chapters_by_hand(conn, episode_id):
        return 0
    current = chapters(db, episode_id)
    kept = [c for c in current if not span[0] <= c.start < span[1]]
    if len(kept) != len(current):
        set_chapters_by_hand(conn, episode_id, kept, now)
    return len(current) - len(kept)


def _after(db: sqlite_utils.Database, config: dict[str, Any], episode: Episode) -> None:
    """After the commit: the old original and voice notes deleted first (the passage must
    not survive), then chapters and topics found from what is left and written into the
    files. A failure of the last part leaves the passage removed; it is logged, and
    `radio retag` / `radio tagfiles` finish it."""
    from radio.jobs.filetags import refresh
    from radio.jobs.topics import retag

    if not shares_original(db, cast(Any, episode)):  # it reads id, source_path, source_sha256
        store.discard(config["HOME"], episode.source_path)
    else:
        logger.info("the old original %s stays: another episode shares it", episode.source_path)
    shutil.rmtree(store.episode_dir(config["HOME"], episode.guid) / CLIPS, ignore_errors=True)
    try:
        retag(db, config, [episode.id])
        refresh(db, config, episode.id)
    except (JobError, DataError, MediaError, TaxonomyError) as e:
        logger.warning(
            "passage removed, but finding chapters and tagging the files again failed: %s; "
            "run `radio retag %s`",
            e,
            episode.id,
        )
