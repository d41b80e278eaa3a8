"""``radio takedown``: take an episode down (gone for everyone at once, the reason kept),
destroy it, or undo a takedown whose content was kept (#16 item 4)."""

from __future__ import annotations

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data.episodes import get_episode
from radio.jobs.takedown import take_down, undo_takedown
from radio.media.store import megabytes


@click.command("takedown", cls=ArchiveCommand)
@click.argument("episode")
@click.option("--reason", metavar="TEXT", help="Why (required to take down; kept in the audit).")
@click.option(
    "--destroy",
    is_flag=True,
    help="Also delete its original (unless shared), files and transcript. Can't be undone.",
)
@click.option("--undo", is_flag=True, help="Bring back a takedown whose content was kept.")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@pass_state
def takedown(
    state: AppState, episode: str, reason: str | None, destroy: bool, undo: bool, yes: bool
) -> None:
    """Take EPISODE down: its page, feed items, search results and every download answer
    "Gone" for everyone at once, and backups made afterwards do not contain it. With
    --destroy its files and content are deleted too; otherwise an admin can --undo it.

    Example: radio takedown 12 --reason "The speaker withdrew consent" --destroy
    """
    db = state.db
    found = get_episode(db, episode)
    if undo:
        if destroy or reason:
            raise click.UsageError("--undo takes no --reason or --destroy.")
        if not yes:
            click.confirm(f"Bring back episode {found.id} ({found.title})?", abort=True)
        back = undo_takedown(db, found.id, actor=actor())
        click.echo(f"Takedown undone: episode {back.id} ({back.title}) is back as it was.")
        return
    if not reason:
        raise click.UsageError('Say why with --reason "...": it is kept in the audit history.')
    if not yes:
        what = "take down and DESTROY (this can't be undone)" if destroy else "take down"
        click.confirm(f"{what.capitalize()} episode {found.id} ({found.title})?", abort=True)
    done = take_down(db, state.app.config, found.id, actor=actor(), reason=reason, destroy=destroy)
    click.echo(f"Taken down: episode {done.episode_id} ({done.title}), reason: {done.reason}")
    if done.destroyed:
        kept = " (its original is kept: another episode shares it)" if done.original_kept else ""
        click.echo(f"Destroyed its files and content: {megabytes(done.freed_bytes)} freed{kept}.")
    else:
        click.echo(f"Its files are kept, unreachable; `radio takedown {done.episode_id} --undo`.")


COMMANDS = [takedown]
