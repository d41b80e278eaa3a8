"""The ``radio`` command: the group, and the commands registered on it from one module each.

- ``server``: init, serve, worker
- ``episodes``: ingest, status, retry, clip
- ``search``: search, transcript, models
- ``topics``: tag, retag, topics, chapters
- ``filetags``: tagfiles (titles and chapters into the listening files)
- ``transcripts``: retranscribe
- ``speakers``: speakers
- ``trash``: trash (list, --restore, --empty)
- ``users``: user add | password | role | list | remove
- ``takedown``: takedown (gone for everyone at once; --destroy, --undo)
- ``audit``: audit (the audit history as CSV or JSON)
- ``policy``: policy (the station's policy page: --show, --edit FILE, --reset)
- ``history``: history (a contribution's life: received, processed, published, edits)
- ``requests``: requests (contributors' and listeners' requests: list, accept, refuse)
- ``workers``: worker-token (add, list, revoke: tokens for workers on other machines)
- ``exchange``: export, import, sync (programmes between stations, signed bundles)

Each command is thin over ``radio.data`` and ``radio.jobs``; the archive's errors become
messages in one place, ``radio.cli.errors``; ``radio.cli.common.AppState`` holds the app
and the one database connection of an invocation.
"""

from __future__ import annotations

import logging

import click

from radio.cli import (
    audit,
    backup,
    episodes,
    exchange,
    filetags,
    history,
    policy,
    redact,
    requests,
    schedule,
    search,
    server,
    speakers,
    takedown,
    topics,
    transcripts,
    trash,
    users,
    watch,
    workers,
)
from radio.cli.common import AppState
from radio.cli.errors import ArchiveGroup
from radio.cli.server import make_server

__all__ = ["AppState", "main", "make_server"]


@click.group(cls=ArchiveGroup)
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="RADIO_HOME",
    help="Data folder (database, media, queue). Default: ~/.local/share/radio-archive.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="radio-archive")
@click.pass_context
def main(ctx: click.Context, home: str | None, verbose: int) -> None:
    """The community radio archive: ingest, transcribe, search and publish recordings.

    Example: radio ingest show.mp3 --show "Morning Talk" --wait
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = AppState(home)


for _module in (
    server,
    episodes,
    search,
    topics,
    transcripts,
    speakers,
    users,
    backup,
    watch,
    filetags,
    trash,
    schedule,
    audit,
    policy,
    history,
    workers,
    requests,
    exchange,
    takedown,
    redact,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
