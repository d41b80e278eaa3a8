"""``radio tagfiles``: titles, chapters and cover written into episodes' listening files again.

Thin over ``radio.jobs.filetags``. Named ``tagfiles`` because ``radio retag`` already
recomputes topics and chapters (``radio.cli.topics``).
"""

from __future__ import annotations

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data.episodes import get_episode
from radio.data.renditions import episodes_with_renditions

_SAID = {
    "tagged": "tagged",
    "unchanged": "already up to date",
    "waiting": "still being processed; its last step tags the files",
    "busy": "held by a worker right now; run this again in a minute",
}


@click.command("tagfiles", cls=ArchiveCommand)
@click.argument("episodes", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every episode that has listening files.")
@pass_state
def tagfiles(state: AppState, episodes: tuple[str, ...], all_: bool) -> None:
    """Write title, show, station, licence, cover (COVER_IMAGE) and chapters into the MP3,
    Opus and M4A files, without encoding the audio again; files that already say it all are
    left alone. For episodes processed before files were tagged, or after changing
    STATION_NAME, BASE_URL or COVER_IMAGE.

    Example: radio tagfiles --all
    """
    # Imported here: mutagen and PyAV stay out of `radio serve`'s web process.
    from radio.jobs.filetags import Outcome, retag_episode

    if all_ == bool(episodes):
        raise click.UsageError("Name episodes or give --all, e.g. radio tagfiles 12 14.")
    db = state.db
    ids = episodes_with_renditions(db) if all_ else [get_episode(db, e).id for e in episodes]
    failed = 0
    for episode_id in ids:
        result = retag_episode(db, state.app.config, episode_id)
        if result.outcome == Outcome.FAILED:
            failed += 1
            click.echo(f"Episode {episode_id}: {result.error}", err=True)
        else:
            click.echo(f"Episode {episode_id}: {_SAID[result.outcome]}")
    if failed:
        raise SystemExit(1)


COMMANDS = [tagfiles]
