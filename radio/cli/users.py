"""``radio user``: accounts for volunteers (registered on the ``radio`` command)."""

from __future__ import annotations

import sys

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveGroup
from radio.data import audit
from radio.data.users import (
    Role,
    add_user,
    find_user,
    list_users,
    remove_user,
    set_password,
    set_role,
)

ROLE_CHOICE = click.Choice([r.value for r in Role])


@click.group(cls=ArchiveGroup)
def user() -> None:
    """Accounts for volunteers: uploader, editor or admin. Listeners need none.

    Example: radio user add amina --role editor
    """


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=ROLE_CHOICE,
    default=Role.UPLOADER.value,
    show_default=True,
    help="uploader: upload; editor: also edit and see drafts; admin: all.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def user_add(state: AppState, name: str, role: str, password_stdin: bool) -> None:
    """Add an account; asks for its password.

    Example: radio user add amina --role editor
    """
    password = _read_password(password_stdin)
    created = add_user(state.db, name, password, role)
    audit.record(state.db, actor(), "account.add", audit.subject("account", created.id),
                 after={"name": created.name, "role": created.role})  # fmt: skip
    click.echo(f"Added {created.name} ({created.role}).")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def user_password(state: AppState, name: str, password_stdin: bool) -> None:
    """Set a new password for an account.

    Example: radio user password amina
    """
    password = _read_password(password_stdin)
    set_password(state.db, name, password)
    _record(state, name, "account.password")  # that it changed; never the password
    click.echo(f"New password set for {name}.")


@user.command("role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
@pass_state
def user_role(state: AppState, name: str, role: str) -> None:
    """Change what an account may do.

    Example: radio user role amina admin
    """
    before = find_user(state.db, name)
    set_role(state.db, name, role)
    _record(state, name, "account.role", before={"role": before.role if before else None},
            after={"role": role})  # fmt: skip
    click.echo(f"{name} is now {role}.")


@user.command("list")
@pass_state
def user_list(state: AppState) -> None:
    """List the accounts and their roles.

    Example: radio user list
    """
    users = list_users(state.db)
    if not users:
        click.echo("No accounts yet. Add one with: radio user add NAME --role admin")
    for u in users:
        click.echo(f"{u.name:<20} {u.role:<9} last login: {u.last_login_at or 'never'}")


@user.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@pass_state
def user_remove(state: AppState, name: str, yes: bool) -> None:
    """Remove an account: its logins end at once and it can't log in again; what it did
    stays in the history, shown as "a removed account". The last admin can't be removed.

    Example: radio user remove amina
    """
    if not yes:
        click.confirm(f"Remove the account {name}?", abort=True)
    removed = remove_user(state.db, name)
    audit.record(state.db, actor(), "account.remove", audit.subject("account", removed.id),
                 before={"name": removed.name, "role": removed.role},
                 after={"removed": True})  # fmt: skip
    click.echo(f"Removed the account {removed.name}; its logins are ended.")


def _record(state: AppState, name: str, action: str, **summaries: object) -> None:
    account = find_user(state.db, name)
    ref = account.id if account else name
    audit.record(state.db, actor(), action, audit.subject("account", ref), **summaries)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


COMMANDS = [user]
