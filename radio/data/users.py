"""Accounts for the station's volunteers: names, hashed passwords and roles.

Listeners never need an account. An account is for people who put recordings in
(``uploader``), fix them (``editor``: titles, descriptions, transcripts, drafts and
private episodes) or run the archive (``admin``: everything). Each role can do all
that the roles below it can.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlite_utils
from werkzeug.security import check_password_hash, generate_password_hash

from radio.data import fields
from radio.data.errors import Invalid
from radio.db import utcnow
from radio.i18n import _

logger = logging.getLogger(__name__)


class Role(StrEnum):
    """What an account may do; each role can do all that the roles before it can."""

    UPLOADER = "uploader"
    EDITOR = "editor"
    ADMIN = "admin"


ROLES = tuple(Role)  # lowest first
MIN_PASSWORD_CHARS = 8
MAX_NAME_CHARS = 64

# Checked against when a name is unknown, so a wrong name costs as long as a wrong password
# and the time a login takes doesn't tell which names exist.
_DUMMY_HASH = generate_password_hash("not a password of anyone's")


class UserError(Invalid):
    """An account can't be created or changed; the message says how to fix it."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    created_at: str | None = None
    last_login_at: str | None = None
    session_version: int = 0  # a login's cookie carries it; see end_sessions

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def sees_hidden(self) -> bool:
        """Editors and admins see drafts, private and unfinished episodes."""
        return self.can(Role.EDITOR)


def _from_row(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        created_at=row.get("created_at"),
        last_login_at=row.get("last_login_at"),
        session_version=row.get("session_version") or 0,
    )


def check_name(name: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise UserError(str(_("A user needs a name, e.g. amina.")))
    if len(name) > MAX_NAME_CHARS or any(c.isspace() for c in name):
        raise UserError(
            _("{name!r}: use one word of at most {limit} characters.").format(
                name=name, limit=MAX_NAME_CHARS
            )
        )
    if name != fields.clean_text(name):
        raise UserError(
            _("{name!r}: use letters, digits and signs, without control characters.").format(
                name=name
            )
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(
            _("{role!r} is not a role; use one of {roles}.").format(
                role=role, roles=", ".join(ROLES)
            )
        )
    return role


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise UserError(
            _("The password is too short; use at least {limit} characters.").format(
                limit=MIN_PASSWORD_CHARS
            )
        )
    return password


def add_user(db: sqlite_utils.Database, name: str, password: str, role: str) -> User:
    name, role, password = check_name(name), check_role(role), check_password(password)
    if find_user(db, name):
        raise UserError(
            _("{name} already exists; change the password with `radio user password`.").format(
                name=name
            )
        )
    table = db["users"]
    table.insert(
        {
            "name": name,
            "password_hash": generate_password_hash(password),
            "role": role,
            "created_at": utcnow(),
        }
    )
    logger.info("added user %s (%s)", name, role)
    return _from_row(table.get(table.last_pk))


def set_password(db: sqlite_utils.Database, name: str, password: str) -> None:
    user = find_user(db, name)
    if user is None:
        raise UserError(
            _("There is no user {name}; `radio user list` lists them.").format(name=name)
        )
    password_hash = generate_password_hash(check_password(password))
    db.execute(
        "update users set password_hash = ?, session_version = session_version + 1 where id = ?",
        [password_hash, user.id],
    )
    logger.info("new password for %s; its logins everywhere are ended", user.name)


def set_role(db: sqlite_utils.Database, name: str, role: str) -> None:
    user = find_user(db, name)
    if user is None:
        raise UserError(
            _("There is no user {name}; `radio user list` lists them.").format(name=name)
        )
    db.execute(
        "update users set role = ?, session_version = session_version + 1 where id = ?",
        [check_role(role), user.id],
    )
    logger.info("%s is now %s; its logins everywhere are ended", user.name, role)


def end_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    """End every login of this account: each browser's cookie carries the session version
    it logged in with, and a cookie whose version is behind is refused from then on."""
    db.execute("update users set session_version = session_version + 1 where id = ?", [user_id])


def find_user(db: sqlite_utils.Database, name: str) -> User | None:
    rows = list(
        db.query("select * from users where name = ? and removed_at is null", [name.strip()])
    )
    return _from_row(rows[0]) if rows else None


def get_user(db: sqlite_utils.Database, user_id: int) -> User | None:
    rows = list(db.query("select * from users where id = ?", [user_id]))
    return _from_row(rows[0]) if rows else None


def list_users(db: sqlite_utils.Database) -> list[User]:
    rows = db.query("select * from users where removed_at is null order by name")
    return [_from_row(row) for row in rows]


def authenticate(db: sqlite_utils.Database, name: str, password: str) -> User | None:
    """The user when the name and password match, else None (the same for either mistake)."""
    rows = list(
        db.query(
            "select * from users where name = ? and removed_at is null", [(name or "").strip()]
        )
    )
    stored = rows[0]["password_hash"] if rows else _DUMMY_HASH
    if not check_password_hash(stored, password or "") or not rows:
        return None
    try:
        db["users"].update(rows[0]["id"], {"last_login_at": utcnow()})
    except sqlite3.OperationalError as e:  # a full disk: the login itself needs no write
        logger.warning("could not note %s's login time: %s", rows[0]["name"], e)
    return _from_row(rows[0])


# A removed account keeps its row, so what it did stays attributed to its id; its name
# becomes this prefix and its id (with spaces, which no live name may have, so never
# taken again), its password one nobody knows, and pages read it as "a removed account".
REMOVED_PREFIX = "removed account "


def remove_user(db: sqlite_utils.Database, name: str) -> User:
    """Remove an account: it can never log in again and its logins end at once; what it
    did stays attributed to its id. The last admin can't be removed. Returns it as it was."""
    user = find_user(db, name)
    if user is None:
        raise UserError(
            _("There is no user {name}; `radio user list` lists them.").format(name=name)
        )
    admins = db.execute(
        "select count(*) from users where role = ? and removed_at is null", [Role.ADMIN]
    ).fetchone()[0]
    if user.role == Role.ADMIN and admins <= 1:
        raise UserError(
            _(
                "{name} is the last admin: make another account admin first "
                "(`radio user role NAME admin`), then remove this one."
            ).format(name=user.name)
        )
    db.execute(
        "update users set name = ?, password_hash = ?, role = ?, removed_at = ?, "
        "session_version = session_version + 1 where id = ? and removed_at is null",
        [
            f"{REMOVED_PREFIX}{user.id}",
            generate_password_hash(secrets.token_urlsafe(32)),
            Role.UPLOADER,
            utcnow(),
            user.id,
        ],
    )
    logger.info("removed the account %s; its logins everywhere are ended", user.name)
    return user


def shown_name(name: str | None) -> str | None:
    """An account's name as pages show it: a removed one reads "a removed account"."""
    if name and name.startswith(REMOVED_PREFIX):
        return str(_("a removed account"))
    return name


def shown_actor(db: sqlite_utils.Database, name: str, actor_id: int | None) -> str:
    """Who the audit history names (by name as it was), as pages show it now."""
    if actor_id is None:
        return name
    row = db.execute("select removed_at from users where id = ?", [actor_id]).fetchone()
    return str(_("a removed account")) if row is None or row[0] else name
