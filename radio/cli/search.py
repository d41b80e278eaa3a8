"""``radio search``, ``radio transcript`` and ``radio models`` (registered on ``radio``)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

import radio
from radio.cli.common import AppState, clock, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import consent
from radio.data.episodes import get_episode
from radio.data.search import Hit, Results, highlight, search
from radio.data.transcripts import load_segments
from transcription.formats import FORMATS, to_podcast_json
from transcription.models import ModelInfo, find_models


@click.command("search", cls=ArchiveCommand)
@click.argument("query")
@click.option("--show", help="Only this show (its slug, e.g. morning-talk).")
@click.option("--language", help="Only this language code.")
@click.option("--from", "date_from", help="Recorded on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Recorded on or before YYYY-MM-DD.")
@click.option("--speaker", help="Only what this speaker said (the name, in any case).")
@click.option("--page", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def search_command(state: AppState, query: str, as_json: bool, page: int, **filters: Any) -> None:
    """Search what was said; prints episode, who spoke and when, and the snippet.

    Example: radio search '"water committee" farm*' --from 2026-01-01 --speaker Amina
    """
    results = search(state.db, query, page=page, **filters)
    if as_json:
        click.echo(json.dumps(_results_json(results), indent=2, ensure_ascii=False))
        return
    if not results.episodes:
        click.echo("No results.")
    for ep in results.episodes:
        for hit in ep.hits or []:
            snippet = highlight(hit.snippet, "\x1b[1m", "\x1b[0m") if _tty() else _plain(hit)
            click.echo(f"{ep.episode_id}  {said(hit)}  {snippet}")
        if not ep.hits:
            click.echo(f"{ep.episode_id}  0:00  {ep.title} (title or description)")
    if results.pages > 1:
        about = "about " if results.estimated else ""  # a word said nearly everywhere
        click.echo(f"Page {results.page} of {about}{results.pages}; --page N for more.")


def said(hit: Hit) -> str:
    """When a hit was said, and by whom when known: "Amina at 12:31", or "12:31"."""
    return f"{hit.speaker} at {clock(hit.time)}" if hit.speaker else clock(hit.time)


def _tty() -> bool:
    return sys.stdout.isatty()


def _plain(hit: Hit) -> str:
    return highlight(hit.snippet, "", "")


def _results_json(results: Results) -> dict[str, Any]:
    return {
        "query": results.query,
        "total": results.total,
        "total_estimated": results.estimated,
        "page": results.page,
        "pages": results.pages,
        "episodes": [
            {**asdict(ep), "hits": [{**asdict(h), "snippet": _plain(h)} for h in ep.hits]}
            for ep in results.episodes
        ],
    }


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="txt",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
@pass_state
def transcript(state: AppState, episode: str, fmt: str, output: str | None) -> None:
    """Print or save an episode's transcript as WebVTT, SRT, Podcasting 2.0 JSON or text.

    Example: radio transcript 12 --format vtt -o show.vtt
    """
    row = get_episode(state.db, episode)
    segments = load_segments(state.db, row.id)
    if not segments:
        raise click.ClickException(
            f"Episode {row.id} has no transcript yet (status: {row.status})."
        )
    licence = row.licence_info
    if fmt == "json":  # the licence and who agreed to be heard (#16) go with the words
        heard = consent.summary(consent.participants(state.db, row.id))
        text = to_podcast_json(
            segments, license=licence.summary() if licence else None, consent=heard
        )
    else:
        text = FORMATS[fmt][0](segments)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


# Real speech timed by `radio models --bench` when no --clip is given: the LJ Speech clips
# of a source checkout (public domain, 50 s; tests/data/manifest.tsv).
BENCH_CLIPS = tuple(f"LJ001-000{i}.wav" for i in range(1, 9))


@click.command(cls=ArchiveCommand)
@click.option("--bench", is_flag=True, help="Time each model on this machine.")
@click.option(
    "--clip",
    "clips",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A recording of speech to time them on (repeat to join several; 30-60 s is plenty). "
    "Default: the LJ Speech clips in tests/data of a source checkout.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def models(state: AppState, bench: bool, clips: tuple[Path, ...], as_json: bool) -> None:
    """List the Whisper models found on disk, in the order they are chosen; with --bench,
    how many seconds each needs per minute of audio here.

    Example: radio models --bench
    """
    config = state.app.config
    found = find_models(config.get("WHISPER_MODEL"), state.data_folder)
    if not found:
        raise click.ClickException("No Whisper model found. Reinstall: pip install radio-archive")
    if bench:
        _bench(state, found, clips, int(config.get("WHISPER_THREADS") or 0), as_json)
    elif as_json:
        rows = [{**asdict(m), "path": str(m.path), "chosen": i == 0} for i, m in enumerate(found)]
        click.echo(json.dumps(rows, indent=2))
    else:
        for i, m in enumerate(found):
            mark = "*" if i == 0 else " "
            click.echo(
                f"{mark} {m.name:<16} {_kind(m.multilingual):<13} {m.size_bytes / 1e6:6.0f} MB  "
                f"{m.source:<8} {m.path}"
            )


def _kind(multilingual: bool) -> str:
    return "multilingual" if multilingual else "English only"


def _bench(
    state: AppState, found: list[ModelInfo], clips: tuple[Path, ...], threads: int, as_json: bool
) -> None:
    # Loaded here: `radio serve` (this package) must not load faster-whisper or PyAV.
    from transcription.speed import join_speech, measure

    paths = list(clips) or _checkout_clips()
    audio = state.data_folder / "models" / f".bench-{os.getpid()}.wav"
    warm = audio.with_name(f".bench-warm-{os.getpid()}.wav")
    try:
        seconds = join_speech(paths, audio)
        join_speech(paths[:1], warm)
        if not as_json:
            click.echo(f"Timing each model on {seconds:.0f} s of speech ({_cores(threads)})")
        speeds = [measure(m, audio, warm, threads) for m in found]
    finally:
        audio.unlink(missing_ok=True)
        warm.unlink(missing_ok=True)
    if as_json:
        data = {"cores": os.cpu_count(), "threads": threads, "audio_seconds": round(seconds, 2)}
        click.echo(json.dumps({**data, "models": [s.as_json() for s in speeds]}, indent=2))
        return
    click.echo(f"  {'model':<12} {'languages':<13} {'load':>6} {'compute':>8}  per minute of audio")
    for s in speeds:
        click.echo(
            f"  {s.model:<12} {_kind(s.multilingual):<13} {s.load_seconds:5.1f}s "
            f"{s.compute_seconds:7.1f}s  {s.per_minute:5.1f} s (an hour of audio: "
            f"{s.per_minute:.0f} min)"
        )


def _checkout_clips() -> list[Path]:
    data = Path(radio.__file__).resolve().parent.parent / "tests" / "data"
    paths = [data / name for name in BENCH_CLIPS]
    if not all(p.is_file() for p in paths):
        raise click.UsageError(
            "No clips to time the models on: give a recording of speech, e.g. "
            "radio models --bench --clip talk.mp3 (30-60 s is plenty)."
        )
    return paths


def _cores(threads: int) -> str:
    return f"{threads or os.cpu_count()} threads, {os.cpu_count()} cores"


COMMANDS = [search_command, transcript, models]
