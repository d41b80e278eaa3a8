"""Where the archive's errors become messages for the person at the terminal: one place.

Every package raises errors of its own family whose message already says what went wrong
and what to do. A command lets them rise; ``ArchiveCommand.invoke`` shows the message on
stderr and exits 1 (``click.ClickException``), so nobody reads a traceback or a Python
class name. So does a full disk wherever it is met (``DiskFull`` is a ``MediaError``; SQLite's
"database or disk is full" and ENOSPC are said in plain words). Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from feeds import FeedError
from radio.config import ConfigError
from radio.data.errors import DataError
from radio.jobs.errors import JobError
from radio.media.errors import MediaError, is_disk_full
from radio.upkeep.errors import UpkeepError
from transcription.errors import TranscriptionError

ARCHIVE_ERRORS: tuple[type[Exception], ...] = (
    DataError,
    JobError,
    MediaError,
    TranscriptionError,
    ConfigError,
    FeedError,
    UpkeepError,
)


@contextmanager
def translated() -> Iterator[None]:
    """Turn an archive error into a ClickException with the same message."""
    try:
        yield
    except ARCHIVE_ERRORS as e:
        raise click.ClickException(str(e)) from e
    except Exception as e:  # a full disk met outside the archive's own checks (SQLite, a write)
        if not is_disk_full(e):
            raise
        raise click.ClickException(
            "The disk is full, so this was not done. Free some space on the disk of the data "
            "folder, then run the command again."
        ) from e


class ArchiveCommand(click.Command):
    """A command whose archive errors reach the user as their message and exit status 1.

    The translation sits on the command rather than on the ``radio`` group so that a
    command run on its own (as the tests do, with ``CliRunner().invoke(command)``) says
    the same as it does under ``radio``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        with translated():
            return super().invoke(ctx)


class ArchiveGroup(click.Group):
    """A group whose subcommands (``@group.command()``) are ArchiveCommands."""

    command_class = ArchiveCommand
    group_class = type  # subgroups made with @group.group() are ArchiveGroups too
