"""``radio speakers``: list an episode's speakers, name them, accept suggested names; thin
over ``radio.data.speakers``."""

from __future__ import annotations

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, clock, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import audit
from radio.data import speakers as speaker_data
from radio.data.episodes import get_episode
from radio.data.speakers import Speaker, default_label


def parse_change(change: str) -> tuple[str, str]:
    """``2=Amina`` or ``Speaker 2=Amina`` -> ("Speaker 2", "Amina")."""
    label, sep, name = change.partition("=")
    label = " ".join(label.split())
    if not sep or not label or not name.strip():
        raise click.UsageError(
            f'{change!r}: write a rename as 2=Amina or "Speaker 3=Joseph Otieno" (label=name).'
        )
    if label.isdigit() and int(label) >= 1:
        label = default_label(int(label) - 1)
    return label, name


def _print_speakers(rows: list[Speaker]) -> None:
    if not rows:
        click.echo("  No speakers yet (they are found after the transcript).")
    width = max((len(r.label) for r in rows), default=0)
    for row in rows:
        hint = ""
        if row.suggestion:
            hint = f"  Suggested: {row.suggestion} ({row.suggestion_score or 0:.2f})"
        click.echo(f"  {row.label:<{width}}  {clock(row.seconds):>7}{hint}")


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.argument("changes", nargs=-1)
@click.option("--accept", is_flag=True, help="Take every suggested name.")
@pass_state
def speakers(state: AppState, episode: str, changes: tuple[str, ...], accept: bool) -> None:
    """List an episode's speakers (talk time, suggested names), or name them.

    A number stands for "Speaker N"; naming two labels alike makes them one speaker.
    A suggestion is a voice that sounds like someone named in another episode of the
    same show; --accept takes them all.

    Example: radio speakers 12 2=Amina "Speaker 3=Joseph Otieno"
    """
    db = state.db
    row = get_episode(db, episode)
    renames = [parse_change(c) for c in changes]
    for label, name in renames:
        click.echo(str(speaker_data.rename(db, row.id, label, name)))
    if accept:
        suggested = [s for s in speaker_data.of_episode(db, row.id) if s.suggestion]
        if not suggested:
            click.echo("No suggested names to accept.")
        for s in suggested:
            click.echo(str(speaker_data.confirm_suggestion(db, row.id, s.label)))
        renames += [(s.label, s.suggestion) for s in suggested]
    if renames:
        audit.record(db, actor(), "speakers.rename", audit.subject("episode", row.id),
                     after={"renamed": [[label, name] for label, name in renames]})  # fmt: skip
    click.echo(f"Episode {row.id}  {row.title}")
    _print_speakers(speaker_data.of_episode(db, row.id))


COMMANDS = [speakers]
