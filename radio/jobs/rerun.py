"""Making a finished episode's steps again while it stays published (issue #15).

``retry`` used to set a finished episode back to ``queued``, so its page, feed item and
files were gone until a worker reached it. Here a published episode stays ready and
public the whole time, as a retranscription (``radio.jobs.retranscribe``) keeps the old
transcript:

- audio: the listening copies and peaks are rendered into a staging folder beside the old
  ones (``media/episodes/<guid>/next/``) and tagged there, so their sizes are final; then,
  in one database transaction, each file is renamed over its old self and the renditions
  rows and the episode's levels are updated. That commit is what the feed cache and the
  media layer watch, so a feed's ``length`` never describes bytes that aren't there. A
  failure before the swap leaves the old files and rows as they were. A worker on another
  machine may do the rendering (``radio.jobs.remote_rerun``); the archive tags and swaps.
- topics: topics and chapters found again (editors' decisions stay), then the chapters
  written into the files, each file renamed into place.
- transcript: ``radio.jobs.retranscribe``, unchanged.
- all (``radio retry`` of a finished episode): the audio, then a new transcript, which
  finds speakers, topics and chapters again and tags the files.

Each phase is recorded in the episode's ``reruns`` row (what was staged included), so a
killed worker's re-run carries on: queued or running -> stage again; staged -> swap.
A failed or unfinished episode has nothing public to keep: it is retried as before.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import processing
from radio.data.episodes import Episode, EpisodeStatus, get_episode, update_episode
from radio.data.errors import DataError
from radio.data.processing import StepName, StepStatus
from radio.data.renditions import save_renditions
from radio.data.reruns import RerunPhase, RerunStep, get_rerun, request_rerun, update_rerun
from radio.db import transaction
from radio.i18n import _
from radio.jobs import leases
from radio.jobs.errors import JobError
from radio.jobs.rerun_render import render_staging
from radio.media import store
from radio.upkeep.logs import episode_context

logger = logging.getLogger(__name__)

STAGING = "next"  # the folder inside an episode's folder where new files are made
RENDER_SHARE = 0.9  # of the re-run's progress bar; tagging the new files takes the rest
PEAKS = "peaks.json"


class RerunError(JobError):
    """A re-run can't be asked for or can't go on; what listeners have stays."""


class Asked(StrEnum):
    """What a request turned into, so the caller queues the right work."""

    RERUN = "rerun"  # a reruns row: queue radio.jobs.tasks' rerun_episode
    RETRANSCRIBE = "retranscribe"  # a retranscriptions row: queue retranscribe_episode
    RETRY = "retry"  # a failed episode retried as before: queue process_episode


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"  # the message is in the reruns row; the old files stay
    BUSY = "busy"  # another worker holds the episode
    NOTHING = "nothing"  # nothing was asked (a duplicate queue entry)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None
    retranscribe: bool = False  # a new transcript was asked for; queue it


# --- asking ---------------------------------------------------------------------------


STEP_NAMES = ("audio", "transcript", "topics")  # what editors and `radio retry --step` name


def request(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    ref: int | str,
    step: str | None = None,
    *,
    user_id: int | None = None,
) -> Asked:
    """Ask for an episode's ``step`` (audio, transcript, topics; None: every step) again."""
    episode = get_episode(db, ref)
    if episode.deleted_at is not None or episode.taken_down_at is not None:
        raise RerunError(
            _("Episode {episode} was taken down or is in the trash: nothing of it is made again.")
            .format(episode=episode.id)
        )  # fmt: skip
    if step is not None and step not in STEP_NAMES:
        raise RerunError(
            _("There is no step {step!r}; name one of {steps}.").format(
                step=step, steps=", ".join(STEP_NAMES)
            )
        )
    # failed, or still waiting for a worker (none may be running): its steps run as they are
    if episode.status in (EpisodeStatus.FAILED, EpisodeStatus.QUEUED):
        from radio.jobs import pipeline  # PyAV and the models: only when it runs

        pipeline.retry(db, episode.id)
        return Asked.RETRY
    if episode.status != EpisodeStatus.READY:
        raise RerunError(
            _(
                "Episode {episode} is {status}: its steps run now. Ask again once it "
                "is ready (`radio status {episode}`)."
            ).format(episode=episode.id, status=episode.status)
        )
    if step == "transcript":
        from radio.jobs import retranscribe

        try:
            retranscribe.request(db, config, episode.id, user_id=user_id)
        except retranscribe.RetranscribeError as e:
            raise RerunError(str(e)) from e
        return Asked.RETRANSCRIBE
    asked = get_rerun(db, episode.id)
    if asked and asked.unfinished and asked.status != RerunPhase.QUEUED and _held(episode):
        raise RerunError(
            _(
                "Episode {episode} is being made again right now ({step}, "
                "{percent:.0f}%); ask again once it is done."
            ).format(episode=episode.id, step=asked.step, percent=100 * asked.progress)
        )
    request_rerun(db, episode.id, RerunStep(step or RerunStep.ALL), user_id)
    return Asked.RERUN


def _held(episode: Episode) -> bool:
    owner, until = episode.lease_owner, episode.lease_until or 0.0
    return owner is not None and until >= time.time() and not leases.owner_is_dead(owner)


def unfinished(db: sqlite_utils.Database, include_queued: bool = True) -> list[int]:
    """Episodes whose re-run a worker should carry on with (``tasks.recover``)."""
    from radio.data.reruns import rerun_candidates

    now = time.time()
    return [
        episode_id
        for episode_id, owner, until in rerun_candidates(db, include_queued)
        if owner is None or (until or 0) < now or leases.owner_is_dead(owner)
    ]


# --- doing ----------------------------------------------------------------------------


def run(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, *, handed: bool = False
) -> Result:
    """Carry the episode's re-run through its remaining phases, under its lease (``handed``:
    a worker on another machine passed it to this process for this run, remote_rerun)."""
    lease = float(config.get("LEASE_SECONDS", 120))
    if not handed and processing.lease_owner(db, episode_id) == leases.WORKER_ID:
        return Result(Outcome.BUSY)  # another thread of this process is at work on it
    if not leases.take_lease(db, episode_id, lease):
        logger.info("episode %s is held by another worker", episode_id)
        return Result(Outcome.BUSY)
    try:
        with episode_context(episode_id):
            return _phases(db, config, episode_id, lease)
    finally:
        processing.release_lease(db, episode_id, leases.WORKER_ID)


def _phases(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, lease: float
) -> Result:
    asked = get_rerun(db, episode_id)
    if asked is None or not asked.unfinished:
        return Result(Outcome.NOTHING)
    try:
        if asked.step in (RerunStep.AUDIO, RerunStep.ALL):
            if asked.status in (RerunPhase.QUEUED, RerunPhase.RUNNING):
                stage_audio(db, config, episode_id, _Renewer(db, episode_id, lease))
            if get_rerun(db, episode_id).status == RerunPhase.STAGED:  # type: ignore[union-attr]
                swap_audio(db, config, episode_id)
        if asked.step == RerunStep.TOPICS:
            update_rerun(db, episode_id, status=RerunPhase.TOPICS, progress=0.5)
            find_topics_again(db, config, episode_id)
        again = asked.step == RerunStep.ALL and _ask_transcript(db, config, asked)
    except (JobError, DataError) as e:
        message = str(e)
    except Exception as e:
        from radio.media.errors import is_disk_full

        logger.exception("episode %s: making it again failed", episode_id)
        message = (
            f"the disk is full; free some space, then `radio retry {episode_id}` again."
            if is_disk_full(e)
            else f"an unexpected error stopped it; the log has the details for episode "
            f"{episode_id}. Run `radio retry {episode_id}` to try again."
        )
    else:
        update_rerun(db, episode_id, status=RerunPhase.DONE, progress=1.0, error=None)
        return Result(Outcome.DONE, retranscribe=again)
    if "Listeners keep" not in message:
        message = f"{message} Listeners keep the episode as it was."
    logger.warning("episode %s: making it again stopped: %s", episode_id, message)
    discard_staging(config, get_episode(db, episode_id))
    update_rerun(db, episode_id, status=RerunPhase.FAILED, error=message)
    return Result(Outcome.FAILED, message)


def _ask_transcript(db: sqlite_utils.Database, config: dict[str, Any], asked: Any) -> bool:
    from radio.jobs import retranscribe

    retranscribe.request(db, config, asked.episode_id, user_id=asked.requested_by)
    return True


def staging_dir(config: dict[str, Any], episode: Episode) -> Path:
    return store.episode_dir(config["HOME"], episode.guid) / STAGING


def discard_staging(config: dict[str, Any], episode: Episode) -> None:
    shutil.rmtree(staging_dir(config, episode), ignore_errors=True)


def stage_audio(
    db: sqlite_utils.Database, config: dict[str, Any], episode_id: int, report: _Renewer
) -> None:
    """Render and tag the new listening copies in the staging folder; listeners keep the
    old ones. What was made is recorded in the reruns row for the swap. Copies a worker on
    another machine rendered and sent (``radio.jobs.remote_rerun``) are only tagged."""
    from radio.media import audio
    from radio.media.errors import MediaError

    episode = get_episode(db, episode_id)
    staging = staging_dir(config, episode)
    facts = received(staging, get_rerun(db, episode_id).staged)  # type: ignore[union-attr]
    update_rerun(db, episode_id, status=RerunPhase.RUNNING, error=None,
                 progress=RENDER_SHARE if facts else 0.0)  # fmt: skip
    try:
        if facts is None:
            source = store.resolve(config["HOME"], episode.source_path)
            if not source.exists():
                raise RerunError(
                    f"The original {episode.source_path} is missing from the media folder; "
                    f"restore it from a backup, then `radio retry {episode_id} --step audio`. "
                    "Listeners keep the old copies meanwhile."
                )
            facts = render_staging(config, source, staging, lambda f: report(RENDER_SHARE * f))
        tag_staging(db, config, episode, staging, facts)
    except (audio.AudioError, MediaError) as e:
        raise RerunError(f"{e} Listeners keep the old copies.") from e
    update_rerun(db, episode_id, status=RerunPhase.STAGED, progress=0.95, staged=json.dumps(facts))


def tag_staging(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode: Episode,
    staging: Path,
    facts: dict[str, Any],
) -> None:
    """Tagged before the swap: the sizes the swap records are final."""
    from radio.jobs.filetags import gather
    from radio.media.filetags import write_tags

    tags = gather(db, config, episode)
    for r in facts["renditions"]:
        write_tags(staging / r["file"], tags)


def received(staging: Path, staged: str | None) -> dict[str, Any] | None:
    """What a worker rendered and the archive placed in the staging folder while the phase
    is still "running" (untagged; ``radio.jobs.remote_rerun``), if all of it is there."""
    facts = json.loads(staged) if staged else None
    if not facts:
        return None
    names = [r["file"] for r in facts["renditions"]] + [PEAKS]
    return facts if all((staging / name).is_file() for name in names) else None


@dataclass(frozen=True)
class _Made:
    """A staged rendition as ``save_renditions`` takes it."""

    kind: str
    bytes: int
    mime: str
    bitrate: int
    sample_rate: int
    duration: float


def swap_audio(db: sqlite_utils.Database, config: dict[str, Any], episode_id: int) -> None:
    """Rename each staged file over the old one and record them, in one transaction.

    Safe to run again after a crash at any point: a file already moved is simply where it
    belongs, and the rows are written from the files' own sizes.
    """
    episode = get_episode(db, episode_id)
    facts = json.loads(get_rerun(db, episode_id).staged or "{}")  # type: ignore[union-attr]
    folder = store.episode_dir(config["HOME"], episode.guid)
    staging = folder / STAGING
    names = [r["file"] for r in facts["renditions"]] + [PEAKS]
    with transaction(db):
        for name in names:
            if (staging / name).exists():
                os.replace(staging / name, folder / name)
        made = [
            _Made(
                r["kind"],
                (folder / r["file"]).stat().st_size,
                r["mime"],
                r["bitrate"],
                r["sample_rate"],
                r["duration"],
            )
            for r in facts["renditions"]
        ]
        save_renditions(
            db,
            episode_id,
            made,
            [store.relative(config["HOME"], folder / r["file"]) for r in facts["renditions"]],
        )
        update_episode(
            db,
            episode_id,
            duration=facts["duration"],
            loudness_before=facts["loudness_before"],
            true_peak_before=facts["true_peak_before"],
            loudness_after=facts["loudness_after"],
            true_peak_after=facts["true_peak_after"],
            peaks_path=store.relative(config["HOME"], folder / PEAKS),
        )
        processing.mark_step(db, episode_id, StepName.TAGS, StepStatus.DONE)
        update_rerun(db, episode_id, status=RerunPhase.TOPICS, progress=0.98)
    _sync_dir(folder)
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("episode %s: new listening copies swapped in", episode_id)


def find_topics_again(db: sqlite_utils.Database, config: dict[str, Any], episode_id: int) -> None:
    """Topics and chapters found again (editors' decisions stay), then into the files."""
    from radio.jobs.filetags import refresh
    from radio.jobs.topics import retag

    retag(db, config, [episode_id])
    refresh(db, config, episode_id)


def _sync_dir(folder: Path) -> None:
    """The renames survive a power cut once the folder itself is on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Renewer:
    """Progress callback: renews the episode lease and records progress, at most once a
    second; stops the work if another worker has taken the episode over meanwhile."""

    def __init__(self, db: sqlite_utils.Database, episode_id: int, lease: float) -> None:
        self.db, self.episode_id, self.lease = db, episode_id, lease
        self.last = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        if not leases.take_lease(self.db, self.episode_id, self.lease):
            raise RerunError(
                f"Another worker took episode {self.episode_id} over; listeners keep the old "
                f"copies. Run `radio retry {self.episode_id} --step audio` to carry on."
            )
        update_rerun(self.db, self.episode_id, progress=round(min(max(fraction, 0.0), 1.0), 4))
