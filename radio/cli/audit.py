"""``radio audit``: the audit history as CSV or JSON, for admins (#16).

``actor()`` is how the other command modules name who acted when they record an entry:
``cli:`` and the operating system's user.
"""

from __future__ import annotations

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import audit
from radio.data.episodes import EpisodeNotFound, get_episode
from radio.data.errors import Invalid


def actor() -> audit.Actor:
    return audit.command_line()


@click.command("audit", cls=ArchiveCommand)
@click.option("--since", metavar="DATE", help="Only entries from then on (2026-11-02, UTC).")
@click.option("--episode", metavar="EPISODE", help="Only this episode's (id or guid).")
@click.option("--action", metavar="CODE", help="Only this action (episode.edit) or family.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Write to this file instead of the terminal.")  # fmt: skip
@pass_state
def audit_command(
    state: AppState,
    since: str | None,
    episode: str | None,
    action: str | None,
    fmt: str,
    output: click.utils.LazyFile,
) -> None:
    """Export the audit history, newest first: who did what to which episode, account or
    setting, and when, with before/after summaries (never removed content, never passwords).

    Example: radio audit --since 2026-11-01 --format json -o audit.json
    """
    try:
        moment = audit.since_moment(since) if since else None
    except Invalid as e:
        raise click.BadParameter(str(e), param_hint="--since") from e
    rows = audit.entries(
        state.db, since=moment, subject=_subject(state, episode), action=action or None
    )
    output.write(audit.as_json(rows) + "\n" if fmt == "json" else audit.as_csv(rows))


def _subject(state: AppState, ref: str | None) -> str | None:
    """An episode's subject; a number names one even after the trash was emptied of it."""
    if not ref:
        return None
    try:
        return audit.subject("episode", get_episode(state.db, ref).id)
    except EpisodeNotFound:
        if ref.isdigit():
            return audit.subject("episode", int(ref))
        raise


COMMANDS = [audit_command]
