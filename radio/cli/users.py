"""``radio user``: accounts for volunteers (registered on the ``radio`` command)."""

from __future__ import annotations

import sys
from typing import Any

import click


@click.group()
def user() -> None:
    """Accounts for volunteers: uploader, editor or admin. Listeners need none.

    Example: radio user add amina --role editor
    """


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["uploader", "editor", "admin"]),
    default="uploader",
    show_default=True,
    help="uploader: upload; editor: also edit and see drafts; admin: all.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_add(state: Any, name: str, role: str, password_stdin: bool) -> None:
    """Add an account; asks for its password.

    Example: radio user add amina --role editor
    """
    from radio.data.users import UserError, add_user

    password = _read_password(password_stdin)
    try:
        created = add_user(state.db(), name, password, role)
    except UserError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Added {created.name} ({created.role}).")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_password(state: Any, name: str, password_stdin: bool) -> None:
    """Set a new password for an account.

    Example: radio user password amina
    """
    from radio.data.users import UserError, set_password

    password = _read_password(password_stdin)
    try:
        set_password(state.db(), name, password)
    except UserError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"New password set for {name}.")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["uploader", "editor", "admin"]))
@click.pass_obj
def user_role(state: Any, name: str, role: str) -> None:
    """Change what an account may do.

    Example: radio user role amina admin
    """
    from radio.data.users import UserError, set_role

    try:
        set_role(state.db(), name, role)
    except UserError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{name} is now {role}.")


@user.command("list")
@click.pass_obj
def user_list(state: Any) -> None:
    """List the accounts and their roles.

    Example: radio user list
    """
    from radio.data.users import list_users

    users = list_users(state.db())
    if not users:
        click.echo("No accounts yet. Add one with: radio user add NAME --role admin")
    for u in users:
        click.echo(f"{u.name:<20} {u.role:<9} last login: {u.last_login_at or 'never'}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


COMMANDS = [user]
