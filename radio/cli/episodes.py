"""``radio ingest``, ``radio status``, ``radio retry`` and ``radio clip``: episodes in and out."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from pathlib import Path
from typing import Any

import click
import sqlite_utils
from flask import Flask

from radio.cli.audit import actor
from radio.cli.common import AppState, clock, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import audit, consent, receipts
from radio.data.episodes import Episode, EpisodeStatus, Visibility, get_episode, list_episodes
from radio.data.licences import CODES
from radio.data.renditions import rendition_file, renditions
from radio.data.transcripts import segment_count
from radio.jobs import tasks
from radio.jobs.errors import IngestError
from radio.jobs.ingest import IngestResult, Limits, Metadata, ingest_file, title_in_batch
from radio.media import store

STATUS_COLOURS = {EpisodeStatus.READY: "green", EpisodeStatus.FAILED: "red"}
SUMMARY_KEYS = (
    "id",
    "guid",
    "title",
    "status",
    "step",
    "progress",
    "error",
    "duration",
    "recorded_at",
    "published_at",
    "language",
    "visibility",
    "loudness_before",
    "true_peak_before",
    "loudness_after",
    "true_peak_after",
    "source_path",
    "review_note",
    "licence",
)


@click.command(cls=ArchiveCommand)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--show", help='Show the recording belongs to, e.g. "Morning Talk".')
@click.option("--title", help="Episode title (default: from the file name).")
@click.option("--description", default="", help="Episode description.")
@click.option("--recorded-at", help="Recording date, YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
@click.option("--language", help="Language code hint for transcription, e.g. en, es, sw.")
@click.option(
    "--speakers",
    help='Who speaks: "Amina,Joseph" (a two-party call: left channel first; a group call: in '
    "the order they first speak, and how many to look for).",
)
@click.option(
    "--visibility",
    type=click.Choice([v.value for v in Visibility]),
    default=Visibility.PUBLIC.value,
)
@click.option(
    "--licence",
    "--license",
    help=f"Licence it is published under: {', '.join(CODES)} (default: the show's, else "
    "LICENCE in config.toml).",
)
@click.option(
    "--publish-at",
    help="Go public at this date and time, in the station's TIMEZONE: 2026-12-24T08:00 "
    "(hidden from listeners until then).",
)
@click.option(
    "--participant",
    "participants",
    multiple=True,
    help='Someone heard in it and whether they agreed to publication: "Amina=yes", '
    '"anonymous=pending", "Joseph=no" (again for each; any but yes keeps it from listeners).',
)
@click.option("--wait", is_flag=True, help="Process now and return when ready (exit 1 if failed).")
@pass_state
def ingest(state: AppState, files: tuple[str, ...], wait: bool, **options: Any) -> None:
    """Take recordings into the archive.

    Example: radio ingest show.mp3 --show "Morning Talk" --title "Water committee"
    --recorded-at 2026-11-02 --wait
    """
    speakers = tuple(s.strip() for s in (options.pop("speakers") or "").split(",") if s.strip())
    if options["publish_at"]:
        from radio.cli.schedule import moment_to_come

        options["publish_at"] = moment_to_come(state, options["publish_at"])
    try:
        heard = consent.parse_list(options.pop("participants"))
    except consent.ConsentError as e:
        raise click.BadParameter(str(e), param_hint="--participant") from None
    meta = Metadata(speakers=speakers, participants=heard, **options)
    failures = 0
    for index, name in enumerate(files, 1):
        # One refused file doesn't stop the others; the exit status says some were refused.
        titled = dataclasses.replace(meta, title=title_in_batch(meta.title, index, len(files)))
        try:
            result = _ingest_one(state, Path(name), titled, queue=not wait)
        except IngestError as e:
            click.secho(f"Refused {e}", fg="red", err=True)
            failures += 1
            continue
        verb = "Added" if result.created else "Already in the archive:"
        click.echo(f"{verb} {name} as episode {result.episode_id} ({result.guid})")
        if result.receipt_token:
            url = receipts.receipt_url(state.app.config.get("BASE_URL"), result.receipt_token)
            click.echo(f"Receipt: {url}")
        if wait:
            status = _process_with_bar(state, result.episode_id)
            _print_episode(state, get_episode(state.db, result.episode_id))
            failures += status != EpisodeStatus.READY
    if failures:
        raise SystemExit(1)


def _ingest_one(state: AppState, path: Path, meta: Metadata, queue: bool) -> IngestResult:
    app = state.app
    size = path.stat().st_size if path.is_file() else 0
    with click.progressbar(length=size, label=f"Storing {path.name}", file=sys.stderr) as bar:
        return ingest_file(
            state.db,
            state.data_folder,
            path,
            meta,
            Limits.from_config(app.config),
            enqueue=(lambda eid: tasks.enqueue(eid, app)) if queue else None,
            progress=bar.update,
        )


def _process_with_bar(state: AppState, episode_id: int) -> str:
    """Run the pipeline in a thread and show its progress, polled from the database."""
    app: Flask = state.app
    outcome: dict[str, str] = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("status", tasks.run_episode(app, episode_id)),
        daemon=True,
    )
    worker.start()
    with click.progressbar(length=1000, label="Processing", file=sys.stderr) as bar:
        shown = 0
        while worker.is_alive():
            worker.join(0.5)
            row = get_episode(state.db, episode_id)
            target = int((row.progress or 0) * 1000)
            if target > shown:
                bar.update(target - shown)
                shown = target
        bar.update(1000 - shown)
    return outcome.get("status", EpisodeStatus.FAILED)


def _episode_summary(db: sqlite_utils.Database, row: Episode) -> dict[str, Any]:
    summary = {key: getattr(row, key) for key in SUMMARY_KEYS}
    summary["renditions"] = renditions(db, row.id)
    summary["segments"] = segment_count(db, row.id)
    return summary


def _print_episode(state: AppState, row: Episode) -> None:
    s = _episode_summary(state.db, row)
    colour = STATUS_COLOURS.get(s["status"], "yellow")
    click.echo(f"Episode {s['id']}  {s['title']}")
    click.echo("  status:   " + click.style(s["status"], fg=colour) + _progress_text(s))
    if s["error"]:
        click.echo(f"  error:    {s['error']}")
    if row.under_review:
        click.echo(f"  review:   {row.review_note}")
    if s["duration"]:
        click.echo(f"  duration: {clock(s['duration'])}")
    if row.licence_info:
        click.echo(f"  licence:  {row.licence_info.label}")
    if s["loudness_before"] is not None and s["loudness_after"] is not None:
        click.echo(
            f"  loudness: {s['loudness_before']:.1f} LUFS -> {s['loudness_after']:.1f} LUFS, "
            f"true peak {s['true_peak_after']:.1f} dBTP"
        )
    media = store.media_root(state.data_folder)
    for r in s["renditions"]:
        click.echo(
            f"  {r['kind']:<5} {r['bitrate'] // 1000} kbps  {r['bytes'] / 1e6:.2f} MB  "
            f"{media / r['path']}"
        )


def _progress_text(s: dict[str, Any]) -> str:
    if s["status"] != EpisodeStatus.PROCESSING:
        return ""
    return f" ({s['step']}, {100 * (s['progress'] or 0):.0f}%)"


@click.command(cls=ArchiveCommand)
@click.argument("episode", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=50, show_default=True, help="How many episodes to list.")
@click.option(
    "--health", is_flag=True, help="The archive's health instead, as /health (exit 1: unhealthy)."
)
@pass_state
def status(state: AppState, episode: str | None, as_json: bool, limit: int, health: bool) -> None:
    """Show one episode's processing state, or list the latest episodes.

    With --health: whether the database is writable, free disk space, the queue, whether a
    worker runs, and the last backup, as /health reports them.

    Example: radio status 12 --json
    """
    if health:
        from radio.cli.backup import print_health

        print_health(state, as_json)
        return
    db = state.db
    rows = [get_episode(db, episode)] if episode else list_episodes(db, limit=limit)
    if as_json:
        data = [_episode_summary(db, row) for row in rows]
        click.echo(json.dumps(data[0] if episode else data, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No episodes yet. Add one with: radio ingest FILE")
    for row in rows:
        _print_episode(state, row)


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.option(
    "--step",
    type=click.Choice(["audio", "transcript", "topics"]),
    help="Make only this step of a finished episode again (default: every step).",
)
@click.option("--wait", is_flag=True, help="Process now instead of queueing.")
@pass_state
def retry(state: AppState, episode: str, step: str | None, wait: bool) -> None:
    """Run a failed episode's unfinished steps again, or make a finished one's steps again.

    A finished episode stays published throughout: the new audio, transcript or topics are
    made beside the old ones and replace them at once when complete. Without --step, every
    step is made again (the audio, then a new transcript with its topics and chapters).

    Example: radio retry 12 --step audio --wait
    """
    from radio.jobs import rerun

    row = get_episode(state.db, episode)
    try:
        asked = rerun.request(state.db, state.app.config, row.id, step)
    except rerun.RerunError as e:
        raise click.ClickException(str(e)) from e
    audit.record(state.db, actor(), "episode.rerun", audit.subject("episode", row.id),
                 after={"step": step or "all", "asked": str(asked)})  # fmt: skip
    if asked != rerun.Asked.RETRY:
        _rerun_published(state, row.id, asked, wait)
        return
    if wait:
        outcome = _process_with_bar(state, row.id)
        _print_episode(state, get_episode(state.db, row.id))
        if outcome != EpisodeStatus.READY:
            raise SystemExit(1)
    else:
        tasks.enqueue(row.id, state.app)
        click.echo(f"Episode {row.id} queued again.")


def _rerun_published(state: AppState, episode_id: int, asked: str, wait: bool) -> None:
    """A finished episode's steps made again, in the background or now (--wait)."""
    from radio.jobs import rerun

    app = state.app
    if not wait:
        queue = tasks.enqueue_rerun if asked == rerun.Asked.RERUN else tasks.enqueue_retranscription
        queue(episode_id, app)
        click.echo(
            f"Episode {episode_id} queued to be made again; listeners keep it as it is until "
            "the new version is complete (`radio status` shows the progress)."
        )
        return
    error = None
    if asked == rerun.Asked.RERUN:
        result = tasks.run_rerun(app, episode_id)
        error = result.error if result.outcome != rerun.Outcome.DONE else None
        again = result.retranscribe
    else:
        again = True
    if error is None and again:
        done = tasks.run_retranscription(app, episode_id)
        error = done.error if done.outcome != "done" else None
    if error:
        raise click.ClickException(f"Episode {episode_id} was not made again: {error}")
    click.echo(f"Episode {episode_id} made again; it stayed published throughout.")


def parse_clock(value: str) -> float:
    """'12:30', '1:02:03', '75' or '75.5' -> seconds."""
    try:
        parts = [float(p) for p in value.split(":")]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time; use mm:ss or hh:mm:ss.") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.option("--from", "start", required=True, help="Start, mm:ss or hh:mm:ss.")
@click.option("--to", "end", required=True, help="End, mm:ss or hh:mm:ss.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write: .opus is a voice note (mono Opus, 11 kbps, plays inline in WhatsApp, "
    "Signal and Telegram); .mp3, .ogg (Opus at music quality), .m4a or .wav.",
)
@pass_state
def clip(state: AppState, episode: str, start: str, end: str, output: str) -> None:
    """Cut a short clip (up to 10 minutes) with a fade in and out, to share on a messaging app.

    Example: radio clip 12 --from 12:30 --to 13:45 -o moment.opus
    """
    from radio.media import clips  # PyAV: see retry

    row = get_episode(state.db, episode)
    mp3 = rendition_file(state.db, row.id, "mp3")
    # The normalised rendition sounds like the feed; the original serves before it exists.
    source = store.resolve(state.data_folder, mp3[0] if mp3 else row.source_path)
    path = clips.make_clip(source, Path(output), parse_clock(start), parse_clock(end))
    click.echo(f"Wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


COMMANDS = [ingest, status, retry, clip]
