"""``radio trash``: list deleted episodes, restore one, or empty the trash for good."""

from __future__ import annotations

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import audit
from radio.data import trash as trashing
from radio.media.store import megabytes
from radio.upkeep import trash as emptying


@click.command(cls=ArchiveCommand)
@click.option("--restore", "restore", metavar="EPISODE", help="Take this episode out of the trash.")
@click.option("--empty", is_flag=True, help="Remove what is in the trash for good (files too).")
@click.option(
    "--older-than-days",
    type=click.FloatRange(min=0),
    help="With --empty: only what was deleted at least this many days ago.",
)
@pass_state
def trash(state: AppState, restore: str | None, empty: bool, older_than_days: float | None) -> None:
    """List the deleted episodes (kept TRASH_DAYS days, 30 by default), restore one, or
    empty the trash: its rows everywhere, its folder of renditions, and its original unless
    another episode shares it. `radio serve` empties what is older than TRASH_DAYS daily.

    Example: radio trash --empty --older-than-days 7
    """
    if restore and empty:
        raise click.UsageError("Restore or empty, not both at once.")
    if older_than_days is not None and not empty:
        raise click.UsageError("--older-than-days goes with --empty.")
    db, home = state.db, state.data_folder
    if restore:
        episode = trashing.restore(db, restore)
        audit.record(db, actor(), "episode.restore", audit.subject("episode", episode.id),
                     before={"in_trash": True}, after={"in_trash": False})  # fmt: skip
        click.echo(f"Restored episode {episode.id} ({episode.title}); listeners see it again.")
        return
    if empty:
        done = emptying.empty(db, home, older_than_days=older_than_days, actor=actor())
        click.echo(
            f"Removed {len(done.episodes)} episode(s) for good, {megabytes(done.bytes)} freed."
        )
        return
    listed = emptying.entries(db, home)
    if not listed:
        click.echo("The trash is empty.")
        return
    click.echo(f"{'ID':>5}  {'DELETED':20}  {'BY':12}  {'SIZE':>8}  TITLE")
    for entry in listed:
        item = entry.item
        title = item.title + (f" ({item.show_title})" if item.show_title else "")
        click.echo(
            f"{item.id:>5}  {item.deleted_at:20}  {(item.deleted_by or '-'):12}  "
            f"{megabytes(entry.bytes):>8}  {title}"
        )
    days = emptying.trash_days(state.app.config)
    click.echo(f"Kept {days:g} days after deletion; `radio trash --restore ID` brings one back.")


COMMANDS = [trash]
