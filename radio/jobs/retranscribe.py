"""Transcribing an episode again (``radio retranscribe``, the editors' button; issue #11).

Listeners keep the published transcript (pages, search, feeds, transcript files) while the
new one is made beside it in ``segments_staging``; one transaction then swaps it in
(``radio.data.swaps.swap_staged``), and topics and chapters are recomputed. Each
phase is recorded in the episode's ``retranscriptions`` row, so a killed worker leaves the
old transcript in place and the next run carries on where it stopped: queued or running
-> transcribe into staging (resuming after the last staged segment), staged -> swap,
topics -> retag. The episode lease keeps a retranscription and a processing run apart.

Editors' corrections follow their words to the new transcript by the rule of
``radio.jobs.alignment``; a correction that no longer aligns is not forced in: the new text
stands and the edit stays in the history (``transcript_edits`` with no segment), counted
and logged. After the swap, the unsure-language rule of a first transcription
(``radio.jobs.language``) is applied to the new transcript.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.config import ConfigError
from radio.data import processing, swaps, transcripts
from radio.data.episodes import Episode, EpisodeStatus, get_episode
from radio.data.errors import DataError
from radio.data.shows import show_language
from radio.data.swaps import Provenance, Swapped
from radio.data.transcripts import Phase, Retranscription
from radio.i18n import _
from radio.jobs import leases
from radio.jobs.alignment import align
from radio.jobs.errors import JobError
from radio.jobs.language import Heard, review_language, review_speech
from radio.jobs.speakers import find_speakers
from radio.jobs.topics import retag
from radio.jobs.voiceprints import sent_diarization
from radio.media import store
from radio.upkeep.logs import episode_context
from transcription.errors import TranscriptionError
from transcription.languages import is_known
from transcription.models import ModelInfo, find_models, normalise_language, pick_model
from transcription.segments import TranscriptInfo

logger = logging.getLogger(__name__)

STAGING_SHARE = 0.95  # of the progress bar; the swap and topics take the rest
MULTILINGUAL_HINT = "pip install 'radio-archive[multilingual]'"


class RetranscribeError(JobError):
    """A retranscription can't be asked for or can't go on; the old transcript stays."""


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"  # the message is in the retranscriptions row; the old transcript stays
    BUSY = "busy"  # another worker holds the episode
    NOTHING = "nothing"  # nothing was asked (a duplicate queue entry)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    swapped: Swapped | None = None
    error: str | None = None


# --- asking ---------------------------------------------------------------------------


def check_language(code: str | None) -> str | None:
    """A language hint as Whisper's code ('pt-BR' -> 'pt'); None for none."""
    language = normalise_language(code)
    if language is not None and not is_known(language):
        raise RetranscribeError(
            _(
                "{code!r} isn't a language code Whisper knows; give a code such as en, es, fr "
                "or sw, or leave it out to keep the episode's language."
            ).format(code=code)
        )
    return language


def resolve_model(config: dict[str, Any], name: str | None, language: str | None) -> ModelInfo:
    """The installed model called ``name``, or the archive's own choice when none is named."""
    configured, home = config.get("WHISPER_MODEL"), Path(config["HOME"])
    if not name:
        return pick_model(configured, home, language=language)
    # The configured model under its own name, then every installed one under theirs (a
    # configured folder may be an installed model too: tiny.en is found by either name).
    found = [*find_models(configured, home), *find_models(None, home)]
    for model in found:
        if model.name.casefold() == name.strip().casefold():
            return model
    names = ", ".join(dict.fromkeys(m.name for m in found)) or str(_("none"))
    raise RetranscribeError(
        _(
            "No installed Whisper model is called {name!r}; installed: {names}. Name one of "
            "those (`radio models` describes them), or install more ({hint})."
        ).format(name=name, names=names, hint=MULTILINGUAL_HINT)
    )


def check_model(model: ModelInfo, language: str | None) -> None:
    """Refuse to transcribe another language with an English-only model: it would
    publish invented English."""
    if language and language != "en" and not model.multilingual:
        raise RetranscribeError(
            _(
                "{model} knows English only, so it can't transcribe {language!r}. Name a "
                "multilingual model (`radio models` lists them) or install one: {hint}."
            ).format(model=model.name, language=language, hint=MULTILINGUAL_HINT)
        )


def request(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    ref: int | str,
    *,
    model: str | None = None,
    language: str | None = None,
    user_id: int | None = None,
) -> Retranscription:
    """Ask for a new transcript of a ready episode (then queue it, or ``run`` it)."""
    episode = get_episode(db, ref)
    if episode.status != EpisodeStatus.READY:
        raise RetranscribeError(
            _(
                "Episode {episode} is {status}, not ready; transcribe it again once it "
                "is ready (`radio status {episode}`; `radio retry {episode}` if it failed)."
            ).format(episode=episode.id, status=episode.status)
        )
    language = check_language(language)
    if model:
        found = resolve_model(config, model, language)
        check_model(found, language)
        model = found.name
    asked = transcripts.get_retranscription(db, episode.id)
    if asked and _held(episode) and (asked.model, asked.language) != (model, language):
        raise RetranscribeError(
            _(
                "Episode {episode} is being transcribed again right now "
                "({percent:.0f}%); ask again once it is done."
            ).format(episode=episode.id, percent=100 * asked.progress)
        )
    transcripts.request_retranscription(
        db, episode.id, model=model, language=language, user_id=user_id
    )
    return transcripts.get_retranscription(db, episode.id)  # type: ignore[return-value]


def _held(episode: Episode) -> bool:
    """Whether a live worker holds the episode now."""
    owner, until = episode.lease_owner, episode.lease_until or 0.0
    return owner is not None and until >= time.time() and not leases.owner_is_dead(owner)


def unfinished(db: sqlite_utils.Database, include_queued: bool = True) -> list[int]:
    """Episodes whose retranscription a worker should carry on with (``tasks.recover``)."""
    now = time.time()
    return [
        episode_id
        for episode_id, owner, until in transcripts.retranscription_candidates(db, include_queued)
        if owner is None or (until or 0) < now or leases.owner_is_dead(owner)
    ]


# --- doing ----------------------------------------------------------------------------


def run(db: sqlite_utils.Database, config: dict[str, Any], episode_id: int) -> Result:
    """Carry the episode's retranscription through its remaining phases, under its lease."""
    lease = float(config.get("LEASE_SECONDS", 120))
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
    asked = transcripts.get_retranscription(db, episode_id)
    if asked is None:
        return Result(Outcome.NOTHING)
    swapped = None
    try:
        if asked.status in (Phase.QUEUED, Phase.RUNNING):
            stage(db, config, episode_id, _Renewer(db, episode_id, lease))
            asked = transcripts.get_retranscription(db, episode_id) or asked
        if asked.status == Phase.STAGED:
            swapped = swap(db, episode_id)
            review(db, config, asked)
        # The new segments carry no voices yet (safe to repeat after a crash here).
        episode = get_episode(db, episode_id)
        sent = sent_diarization(db, episode)  # a worker on another machine's, if any (#17)
        find_speakers(db, episode, _original(config, episode), diarized=sent)
        retag(db, config, [episode_id])
        from radio.jobs.filetags import refresh  # PyAV: not in the web process, which imports us

        refresh(db, config, episode_id)  # new chapters into the listening files (#14)
    except (JobError, DataError, TranscriptionError, ConfigError) as e:
        message = str(e)
    except Exception:
        logger.exception("episode %s: transcribing again failed", episode_id)
        message = (
            f"an unexpected error stopped it; the log has the details for episode {episode_id}. "
            f"Run `radio retranscribe {episode_id}` to try again."
        )
    else:
        transcripts.finish_retranscription(db, episode_id)
        return Result(Outcome.DONE, swapped)
    logger.warning("episode %s: transcribing again stopped: %s", episode_id, message)
    transcripts.update_retranscription(db, episode_id, error=message)
    return Result(Outcome.FAILED, swapped, message)


def stage(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    report: Callable[[float, float], None],
) -> None:
    """Transcribe the original into ``segments_staging``, resuming after the last staged
    segment when the same model made it; the published transcript is not touched."""
    # Loaded here, not at the top: only a worker that transcribes pays for faster-whisper.
    from transcription.scripts import to_chinese_script
    from transcription.transcribe import Transcriber

    asked = transcripts.get_retranscription(db, episode_id)
    episode = get_episode(db, episode_id)
    source = _original(config, episode)
    hint = asked.language or episode.language or show_language(db, episode.show_id) or None
    model = resolve_model(config, asked.model, hint)
    check_model(model, asked.language)
    resume_at, next_idx, language = _resume(db, asked, model, hint)
    transcripts.update_retranscription(
        db,
        episode_id,
        status=Phase.RUNNING,
        staged_model=model.name,
        staged_model_path=str(model.path),
    )
    spent = asked.seconds if next_idx else 0.0  # time of the runs this one carries on
    started = time.monotonic()
    try:
        transcriber = Transcriber(model, threads=int(config.get("WHISPER_THREADS") or 0))
        segments, info = transcriber.transcribe(
            source,
            language=language,
            start_at=resume_at,
            speaker_names=episode.speaker_names or None,
            progress=report,
        )
        transcripts.update_retranscription(
            db,
            episode_id,
            staged_language=info.language,
            staged_language_probability=round(info.language_probability, 3),
        )
        script = config.get("CHINESE_SCRIPT")
        if script and info.language == "zh":  # Whisper mixes scripts; the station reads one
            segments = (to_chinese_script(s, script) for s in segments)
        transcripts.add_staged(db, episode_id, segments, next_idx)
        if transcripts.staged_resume_point(db, episode_id) is None:
            # Never swap a transcript for nothing: an unreadable or silent file, or the
            # wrong language, is no reason to take the old words away.
            raise RetranscribeError(
                "The new transcription heard no speech, so the old transcript stays. Check "
                "the original plays, or try another model or a language hint: "
                f"radio retranscribe {episode_id} --model base --language es"
            )
    finally:
        seconds = spent + time.monotonic() - started
        transcripts.update_retranscription(db, episode_id, seconds=round(seconds, 2))
    transcripts.update_retranscription(db, episode_id, status=Phase.STAGED, progress=STAGING_SHARE)


def _original(config: dict[str, Any], episode: Episode) -> Path:
    source = store.resolve(config["HOME"], episode.source_path)
    if not source.exists():
        raise RetranscribeError(
            f"The original {episode.source_path} is missing from the media folder; restore it "
            f"from a backup, then run `radio retranscribe {episode.id}`. The old transcript "
            "stays meanwhile."
        )
    return source


def _resume(
    db: sqlite_utils.Database, asked: Retranscription, model: ModelInfo, hint: str | None
) -> tuple[float, int, str | None]:
    """Where to start (seconds, next index) and in which language: after what is staged,
    in the language it was transcribed as, if the same model staged it; else afresh."""
    found = transcripts.staged_resume_point(db, asked.episode_id)
    if found is not None and asked.staged_model_path == str(model.path):
        logger.info("episode %s: resuming the new transcript at %.1f s", asked.episode_id, found[0])
        return found[0], found[1] + 1, asked.staged_language or hint
    if found is not None:
        transcripts.clear_staging(db, asked.episode_id)
    return 0.0, 0, hint


class _Renewer:
    """Progress callback: renews the episode lease and records progress, at most once a
    second; stops the work if another worker has taken the episode over meanwhile."""

    def __init__(self, db: sqlite_utils.Database, episode_id: int, lease: float) -> None:
        self.db, self.episode_id, self.lease = db, episode_id, lease
        self.last = 0.0

    def __call__(self, done: float, total: float) -> None:
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        if not leases.take_lease(self.db, self.episode_id, self.lease):
            raise RetranscribeError(
                f"Another worker took episode {self.episode_id} over; its old transcript "
                f"stays. Run `radio retranscribe {self.episode_id}` to carry on."
            )
        fraction = min(max(done / total if total else 0.0, 0.0), 1.0)
        transcripts.update_retranscription(
            self.db, self.episode_id, progress=round(STAGING_SHARE * fraction, 4)
        )


def review(db: sqlite_utils.Database, config: dict[str, Any], asked: Retranscription) -> None:
    """The unsure-language rule of a first transcription, on the new transcript: a language
    set and transcribed again ends the hold; a new guess that is still unsure keeps it."""
    episode = get_episode(db, asked.episode_id)
    hint = asked.language or episode.language or show_language(db, episode.show_id) or None
    model = resolve_model(config, asked.model, hint)
    info = TranscriptInfo(
        language=asked.staged_language or "",
        language_probability=asked.staged_language_probability or 0.0,
        duration=episode.duration or 0.0,
        model_name=asked.staged_model or model.name,
        speakers=(),
    )
    heard = Heard()
    for _segment in heard.count(transcripts.load_segments(db, asked.episode_id)):
        pass
    detected = model.multilingual and not is_known(hint)
    if review_language(db, asked.episode_id, info, heard, hint=hint, detected=detected) is None:
        review_speech(db, asked.episode_id, heard)


def swap(db: sqlite_utils.Database, episode_id: int) -> Swapped:
    """Put the staged transcript in place of the published one (one transaction)."""
    asked = transcripts.get_retranscription(db, episode_id)
    if asked is None:
        raise RetranscribeError(f"Nothing was asked; run `radio retranscribe {episode_id}`.")
    made = Provenance(
        model=asked.staged_model or "",
        language=asked.staged_language or "",
        seconds=asked.seconds,
        hint=asked.language,
    )
    swapped = swaps.swap_staged(db, episode_id, align, made)
    logger.info(
        "episode %s: new transcript of %d segments by %s (%s); kept %d of %d corrections",
        episode_id,
        swapped.segments,
        made.model,
        made.language,
        len(swapped.kept),
        len(swapped.kept) + len(swapped.dropped),
    )
    for c in swapped.dropped:
        logger.info("episode %s: %r at %.1f s no longer aligns", episode_id, c.text, c.start)
    return swapped
