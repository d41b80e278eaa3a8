"""``radio requests``: what contributors and listeners asked (#16), and the answers.

- ``radio requests [--open] [--json]``: the queue, open ones first;
- ``radio requests accept N [--reason] [--destroy] [--silence]``: do what was asked
  (a correction, a passage cut, a takedown) and record the answer;
- ``radio requests refuse N --reason TEXT``.

Whoever runs the command may do what an admin may (takedowns included), as with every
``radio`` command; the audit history names them ``cli:USER``.
"""

from __future__ import annotations

import dataclasses
import json

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, clock, pass_state
from radio.cli.errors import ArchiveGroup, translated
from radio.data import requests as asking
from radio.data.history import outcome_words, request_words
from radio.jobs import decide


@click.group("requests", cls=ArchiveGroup, invoke_without_command=True)
@click.option("--open", "open_only", is_flag=True, help="Only the requests waiting for an answer.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of lines.")
@click.pass_context
def requests_command(ctx: click.Context, open_only: bool, as_json: bool) -> None:
    """Requests from contributors (through their receipt) and listeners' corrections:
    list them, or accept or refuse one.

    Example: radio requests --open
    """
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.find_object(AppState)
    with translated():
        found = asking.queue(state.db, open_only=open_only)
    if as_json:
        rows = [dataclasses.asdict(r) for r in found]
        click.echo(json.dumps({"requests": rows}, ensure_ascii=False, indent=1))
        return
    if not found:
        click.echo("No requests." if not open_only else "No request is waiting.")
        return
    for r in found:
        when = r.created_at.replace("T", " ").rstrip("Z")[:16]
        click.echo(f"#{r.id:<4} {r.status:<8} {when}  episode {r.episode_id} ({r.episode_title})")
        click.echo(f"       {request_words(r)}")
        if r.kind == asking.Kind.CORRECTION:
            click.echo(f"       at {clock(r.at or 0)}: {r.original!r} -> {r.proposed!r}")
        if r.message:
            click.echo(f"       message: {' '.join(r.message.split())}")
        if not r.is_open:
            who = f" [{r.decided_by}]" if r.decided_by else ""
            click.echo(f"       {outcome_words(r)}{who}")


@requests_command.command("accept")
@click.argument("request_id", metavar="N", type=int)
@click.option("--reason", help="The answer the contributor reads on the receipt.")
@click.option("--destroy", is_flag=True, help="A takedown: destroy the original and its files.")
@click.option("--silence", is_flag=True, help="A passage: silence instead of a tone.")
@pass_state
def accept(
    state: AppState, request_id: int, reason: str | None, destroy: bool, silence: bool
) -> None:
    """Do what request N asks (a correction goes into the transcript, a passage is cut,
    the recording is taken down) and record the answer.

    Example: radio requests accept 12 --reason "Done, thank you."
    """
    choices = decide.Choices(
        destroy=destroy, sound="silence" if silence else "tone", may_take_down=True
    )
    done = decide.accept(
        state.db, state.app.config, request_id, actor=actor(), answer=reason, choices=choices
    )
    click.echo(f"Accepted request {done.id} (episode {done.episode_id}): {outcome_words(done)}")


@requests_command.command("refuse")
@click.argument("request_id", metavar="N", type=int)
@click.option("--reason", required=True, help="Why: the contributor reads it on the receipt.")
@pass_state
def refuse(state: AppState, request_id: int, reason: str) -> None:
    """Refuse request N with a reason; a refused takedown lets listeners hear it again.

    Example: radio requests refuse 12 --reason "The passage names no one."
    """
    done = decide.refuse(state.db, request_id, actor=actor(), answer=reason)
    click.echo(f"Refused request {done.id} (episode {done.episode_id}).")


COMMANDS = [requests_command]
