"""``radio worker-token``: tokens for workers on other machines (#17; registered on ``radio``).

A token opens the worker endpoints (``/api/worker/...``) and nothing else; it is printed
once, when made, and only its hash is kept. ``radio worker --archive URL --token T`` on the
other machine uses it.
"""

from __future__ import annotations

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveGroup
from radio.data import audit
from radio.data.worker_tokens import TokenNameTaken, add_token, list_tokens, revoke_token
from radio.db import utcnow


@click.group("worker-token", cls=ArchiveGroup)
def worker_token() -> None:
    """Tokens for workers on other machines: add, list, revoke.

    Example: radio worker-token add studio-pc
    """


@worker_token.command("add")
@click.argument("name")
@pass_state
def token_add(state: AppState, name: str) -> None:
    """Make a token for a worker; it is shown this once.

    Example: radio worker-token add studio-pc
    """
    who = actor()
    try:
        token = add_token(state.db, name, who.name, utcnow())
    except TokenNameTaken:
        raise click.ClickException(
            f"a worker token called {name} exists already (perhaps revoked); choose another name."
        ) from None
    audit.record(state.db, who, "worker_token.add", audit.subject("worker_token", name))
    click.echo(f"Token for worker {name} (shown only now; keep it secret):")
    click.echo(token)
    click.echo(f"On the worker: radio worker --archive http://THIS-MACHINE:5000 --token {token}")


@worker_token.command("list")
@pass_state
def token_list(state: AppState) -> None:
    """List worker tokens: made when and by whom, last used, revoked.

    Example: radio worker-token list
    """
    tokens = list_tokens(state.db)
    if not tokens:
        click.echo("No worker tokens. Make one with: radio worker-token add NAME")
        return
    for t in tokens:
        state_text = f"revoked {t.revoked_at}" if t.revoked_at else "live"
        click.echo(
            f"{t.name}\t{state_text}\tmade {t.created_at} by {t.created_by or '?'}"
            f"\tlast used {t.last_used_at or 'never'}"
        )


@worker_token.command("revoke")
@click.argument("name")
@pass_state
def token_revoke(state: AppState, name: str) -> None:
    """Revoke a worker's token: its next request is refused.

    Example: radio worker-token revoke studio-pc
    """
    if not revoke_token(state.db, name, utcnow()):
        raise click.ClickException(
            f"no live worker token called {name}; see radio worker-token list"
        )
    audit.record(state.db, actor(), "worker_token.revoke", audit.subject("worker_token", name))
    click.echo(f"Revoked the token of worker {name}.")


COMMANDS = [worker_token]
