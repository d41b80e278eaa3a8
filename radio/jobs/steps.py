"""The processing steps themselves; ``radio.jobs.pipeline`` decides when each runs."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from radio.data import transcripts
from radio.data.episodes import update_episode
from radio.data.processing import StepName
from radio.data.renditions import save_renditions
from radio.data.shows import show_language
from radio.db import transaction
from radio.jobs.context import Context, Step, StepError
from radio.jobs.filetags import tags_step
from radio.jobs.language import Heard, review_language, review_speech
from radio.jobs.speakers import speakers_step
from radio.jobs.topics import topics_step
from radio.media import audio, renditions, store
from transcription.errors import TranscriptionError
from transcription.languages import is_known
from transcription.scripts import to_chinese_script

logger = logging.getLogger(__name__)


def audio_step(ctx: Context) -> None:
    """Loudness-normalised MP3, Opus and AAC renditions and a peaks file, from the original."""
    episode = ctx.episode
    source = store.resolve(ctx.home, episode.source_path)
    if not source.exists():
        raise StepError(
            f"the original {episode.source_path} is missing from the media folder; "
            "restore it from a backup and run `radio retry`."
        )
    out_dir = store.episode_dir(ctx.home, episode.guid)
    out_dir.mkdir(parents=True, exist_ok=True)
    store.sweep_episode_dir(ctx.home, episode.guid)
    config = ctx.config
    try:
        result = renditions.render(
            source,
            out_dir,
            target_lufs=float(config["TARGET_LUFS"]),
            max_true_peak=float(config["MAX_TRUE_PEAK_DBTP"]),
            mp3_bitrate=int(config["MP3_BITRATE"]),
            opus_bitrate=int(config["OPUS_BITRATE"]),
            aac_bitrate=int(config["AAC_BITRATE"]),
            progress=lambda done, total: ctx.report(done / total if total else 0.0),
            max_seconds=float(config["MAX_DURATION_HOURS"]) * 3600.0,
        )
    except audio.AudioError as e:
        raise StepError(str(e)) from e
    with transaction(ctx.db):  # the renditions and the episode's levels, or neither
        save_renditions(
            ctx.db,
            episode.id,
            result.renditions,
            [store.relative(ctx.home, r.path) for r in result.renditions],
        )
        update_episode(
            ctx.db,
            episode.id,
            duration=result.duration,
            loudness_before=_finite(result.before.integrated_lufs),
            true_peak_before=_finite(result.before.true_peak_dbtp),
            loudness_after=_finite(result.after.integrated_lufs),
            true_peak_after=_finite(result.after.true_peak_dbtp),
            peaks_path=store.relative(ctx.home, result.peaks_path),
        )


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None


def transcribe_step(ctx: Context) -> None:
    """Transcribe on the device, saving each segment as it comes so a crash keeps the work."""
    if not ctx.config.get("TRANSCRIBE", True):
        return
    # Loaded here, not at the top: only a worker that transcribes pays for faster-whisper.
    from transcription.models import pick_model
    from transcription.transcribe import Transcriber

    episode = ctx.episode
    db = ctx.db
    source = store.resolve(ctx.home, episode.source_path)
    hint = episode.language or show_language(db, episode.show_id) or None
    resume_at, next_idx = _resume_point(ctx)
    heard = Heard(before=next_idx)
    started = time.monotonic()
    try:
        model = pick_model(ctx.config.get("WHISPER_MODEL"), Path(ctx.home), language=hint)
        transcriber = Transcriber(model, threads=int(ctx.config.get("WHISPER_THREADS") or 0))
        segments, info = transcriber.transcribe(
            source,
            language=hint,
            start_at=resume_at,
            speaker_names=episode.speaker_names or None,
            progress=lambda done, total: ctx.report(done / total if total else 0.0),
        )
        script = ctx.config.get("CHINESE_SCRIPT")
        if script and info.language == "zh":  # Whisper mixes scripts; the station reads one
            segments = (to_chinese_script(s, script) for s in segments)
        transcripts.add_segments(db, episode.id, heard.count(segments), next_idx)
    except TranscriptionError as e:
        raise StepError(str(e)) from e
    detected = model.multilingual and not is_known(hint)
    if review_language(db, episode.id, info, heard, hint=hint, detected=detected) is None:
        review_speech(db, episode.id, heard)
    update_episode(
        db,
        episode.id,
        transcript_model=model.name,
        transcribe_seconds=round(time.monotonic() - started, 2),
    )


def _resume_point(ctx: Context) -> tuple[float, int]:
    """Where a cut-off transcription left off: after the last saved segment."""
    found = transcripts.resume_point(ctx.db, ctx.episode.id)
    if found is None:
        return 0.0, 0
    logger.info("episode %s: resuming transcription at %.1f s", ctx.episode.id, found[0])
    return found[0], found[1] + 1


# (name, function, share of the total progress bar), in the order they run.
STEPS: tuple[tuple[str, Step, float], ...] = (
    (StepName.AUDIO, audio_step, 0.25),
    (StepName.TRANSCRIBE, transcribe_step, 0.58),
    (StepName.SPEAKERS, speakers_step, 0.1),
    (StepName.TOPICS, topics_step, 0.05),
    (StepName.TAGS, tags_step, 0.02),
)
