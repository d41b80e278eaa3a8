"""``radio tag``, ``radio retag``, ``radio topics`` and ``radio chapters``: thin over
``radio.data.tags`` and ``radio.jobs.topics``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.config import load_station_taxonomy
from radio.data import audit
from radio.data.episodes import get_episode
from radio.data.tags import EpisodeTag, episode_tags, list_topics, tag_episode
from radio.data.tags import chapters as chapters_of
from radio.data.transcripts import transcribed_episode_ids
from radio.jobs.topics import retag


def _print_tags(rows: list[EpisodeTag]) -> None:
    if not rows:
        click.echo("No tags.")
    for row in rows:
        score = "" if row.score is None else f"{row.score:.3f}"
        state = "removed by an editor" if row.removed else row.source
        click.echo(f"  {row.slug:<32} {score:>6}  {state:<10}  {row.label}")


@click.command(cls=ArchiveCommand, context_settings={"ignore_unknown_options": True})
@click.argument("episode")
@click.argument("changes", nargs=-1, type=click.UNPROCESSED)
@pass_state
def tag(state: AppState, episode: str, changes: tuple[str, ...]) -> None:
    """Add (+name) and remove (-name) an episode's tags, or list them.

    Names are taxonomy topics ("water" finds water-and-sanitation) or any words; quote a
    name with spaces. Editors' decisions stay through every `radio retag`.

    Example: radio tag 12 +water -health "+market day"
    """
    db = state.db
    row = get_episode(db, episode)
    add = [c[1:] if c.startswith("+") else c for c in changes if not c.startswith("-")]
    remove = [c[1:] for c in changes if c.startswith("-")]
    if add or remove:
        taxonomy = load_station_taxonomy(state.data_folder)
        tag_episode(db, row.id, add, remove, taxonomy=taxonomy)
        audit.record(db, actor(), "tags.edit", audit.subject("episode", row.id),
                     after={"added": add, "removed": remove})  # fmt: skip
    click.echo(f"Episode {row.id}  {row.title}")
    _print_tags(episode_tags(db, row.id, include_removed=True))


@click.command("retag", cls=ArchiveCommand)
@click.argument("episodes", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every episode with a transcript.")
@pass_state
def retag_command(state: AppState, episodes: tuple[str, ...], all_: bool) -> None:
    """Recompute topics, keyphrases and chapters, say after editing taxonomy.toml.

    Editors' tags (added or removed) are never changed.

    Example: radio retag --all
    """
    if all_ == bool(episodes):
        raise click.UsageError("Name episodes or give --all, e.g. radio retag 12 14.")
    app = state.app
    db = state.db
    taxonomy = load_station_taxonomy(state.data_folder)
    ids = transcribed_episode_ids(db) if all_ else [get_episode(db, e).id for e in episodes]
    with click.progressbar(length=len(ids), label="Retagging", file=sys.stderr) as bar:
        done = retag(db, app.config, ids, taxonomy=taxonomy, progress=lambda _: bar.update(1))
    click.echo(
        f"Retagged {done} episode(s) with {len(taxonomy.topics)} topics from {taxonomy.source}."
    )
    _chapters_into_files(state, ids)


def _chapters_into_files(state: AppState, ids: list[int]) -> None:
    """The new chapters go into the audio files too (#14), as an editor's change would."""
    from radio.jobs.filetags import Outcome, retag_episode  # mutagen and PyAV: only here

    for episode_id in ids:
        result = retag_episode(state.db, state.app.config, episode_id)
        if result.outcome == Outcome.BUSY:
            click.echo(f"Episode {episode_id} is being processed; its files get the chapters then.")
        elif result.outcome == Outcome.FAILED:
            click.secho(
                f"Episode {episode_id}: its files kept the old chapters: {result.error}",
                fg="yellow",
                err=True,
            )


@click.command(cls=ArchiveCommand)
@click.option("--check", is_flag=True, help="Only check the taxonomy file and list its topics.")
@click.option("--all", "show_all", is_flag=True, help="Count draft and private episodes too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def topics(state: AppState, check: bool, show_all: bool, as_json: bool) -> None:
    """List the topics and how many episodes each has, or check the taxonomy file.

    The station's topics are in taxonomy.toml in the data folder (the shipped default
    until one is put there).

    Example: radio topics --check
    """
    taxonomy = load_station_taxonomy(state.data_folder)
    if check:
        click.echo(f"{taxonomy.source}: {len(taxonomy.topics)} topics, OK")
        for t in taxonomy.topics:
            langs = ", ".join(f"{lang} {len(words)}" for lang, words in t.keywords.items())
            click.echo(f"  {t.slug:<28} {t.label:<28} keywords: {langs}")
        return
    rows = list_topics(state.db, public_only=not show_all)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No tagged episodes yet. `radio retag --all` tags the transcribed ones.")
    for row in rows:
        click.echo(f"  {row.episodes:>4}  {row.slug:<32} {row.kind:<10} {row.label}")


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.option("--json", "as_json", is_flag=True, help="Print Podcasting 2.0 chapters JSON.")
@pass_state
def chapters(state: AppState, episode: str, as_json: bool) -> None:
    """List an episode's chapters (start time and title).

    Example: radio chapters 12 --json
    """
    db = state.db
    row = get_episode(db, episode)
    found = chapters_of(db, row.id)
    if as_json:
        doc = {
            "version": "1.2.0",
            "chapters": [{"startTime": c.start, "title": c.title} for c in found],
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo(f"Episode {row.id} has no chapters yet (status: {row.status}).")
    for c in found:
        minutes, seconds = divmod(int(round(c.start)), 60)
        click.echo(f"  {minutes:>3}:{seconds:02d}  {c.title}")


COMMANDS = [tag, retag_command, topics, chapters]
