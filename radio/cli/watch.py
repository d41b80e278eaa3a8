"""``radio watch DIR``: the drop folder (``radio.jobs.watch``), in the foreground."""

from __future__ import annotations

import time
from pathlib import Path

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.jobs import watch as drop
from radio.media import store


@click.command(cls=ArchiveCommand)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--interval",
    default=drop.POLL_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between looks at the folder.",
)
@click.option("--once", is_flag=True, help="Take two looks, take in what is complete, and stop.")
@pass_state
def watch(state: AppState, folder: Path, interval: float, once: bool) -> None:
    """Take in recordings copied into FOLDER once each is complete.

    A file is taken once it has stopped changing and decodes to its end, then moved to
    FOLDER/done (or FOLDER/failed, with NAME.error.txt saying why). A subfolder is a show:
    "FOLDER/Morning Talk/x.mp3" goes to the show Morning Talk. Defaults for show, language,
    licence, visibility and description come from a .radio.toml in the folder, e.g.
    language = "sw". Episodes are queued for `radio serve` or `radio worker`.

    Example: radio watch /srv/drop --interval 10
    """
    store.sweep_partials(state.data_folder)
    watched = drop.drop_folder(state.app, folder)
    click.echo(f"Watching {watched.root} every {interval:g} s; Ctrl-C stops.")
    looks = 0
    try:
        while True:
            for outcome in watched.poll():
                _report(outcome)
            looks += 1
            if once and looks == 2:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    for path in watched.waiting():
        click.echo(f"Not complete yet, left for later: {path}")


def _report(outcome: drop.Outcome) -> None:
    name = outcome.source.name
    if outcome.error:
        click.secho(
            f"Refused {name}: {outcome.error} (moved to {outcome.moved_to})", fg="red", err=True
        )
    elif outcome.created:
        click.echo(f"Added {name} as episode {outcome.episode_id}")
    else:
        click.echo(f"Already in the archive: {name} (episode {outcome.episode_id})")


COMMANDS = [watch]
