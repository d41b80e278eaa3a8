"""``radio history EPISODE``: a contribution's whole life, as its receipt page tells it (#16)."""

from __future__ import annotations

import dataclasses
import json

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import consent
from radio.data.episodes import get_episode
from radio.data.history import contribution_history


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of lines.")
@pass_state
def history(state: AppState, episode: str, as_json: bool) -> None:
    """What happened to an episode since it was received: processing, publication (or why
    not), every edit with who and when, and who agreed to be heard.

    Example: radio history 12
    """
    found = get_episode(state.db, episode)
    entries = contribution_history(state.db, found.id)
    heard = consent.participants(state.db, found.id)
    if as_json:
        document = {
            "episode": {"id": found.id, "guid": found.guid, "title": found.title},
            "participants": [dataclasses.asdict(p) for p in heard],
            "history": [
                {k: str(v) if v is not None else None for k, v in dataclasses.asdict(e).items()}
                for e in entries
            ],  # fmt: skip
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    click.echo(f"Episode {found.id}: {found.title} ({found.guid})")
    for entry in entries:
        when = (entry.when or "now").replace("T", " ").rstrip("Z")
        who = f" [{entry.actor}]" if entry.actor else ""
        click.echo(f"{when:<19}  {entry.kind:<9}  {entry.summary}{who}")
        if entry.before is not None or entry.after is not None:
            click.echo(f"{'':<19}  {'':<9}  {_short(entry.before)} -> {_short(entry.after)}")
    if heard:
        listed = ", ".join(f"{p.name}: {p.consent}" for p in heard)
        click.echo(f"Who is heard: {listed}")


def _short(text: str | None, limit: int = 120) -> str:
    one_line = " ".join((text or "").split()) or "(empty)"
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


COMMANDS = [history]
