"""Receipts for contributions (#16): the only SQL for the ``receipts`` table.

Every upload gets a token (``secrets.token_urlsafe(24)``: 192 random bits, 32 characters)
that opens its receipt page with no account. Only the token's SHA-256 is stored, so a copy
of the database (a backup, say) opens no receipt; a lookup hashes what was typed, finds the
row by that hash and compares the two with ``hmac.compare_digest`` so no timing tells how
much of a guess was right. A receipt is bound to one episode and shows nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import sqlite_utils

TOKEN_BYTES = 24  # 192 bits: far past guessing or enumerating
TOKEN_CHARS = 32  # its URL-safe base64 length; anything else is not a token
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def add_receipt(conn: Any, episode_id: int, token: str, now: str) -> None:
    """Store ``token``'s hash for ``episode_id`` (inside the caller's transaction)."""
    conn.execute(
        "insert into receipts (token_hash, episode_id, created_at) values (?, ?, ?)",
        [token_hash(token), episode_id, now],
    )


def receipt_episode(db: sqlite_utils.Database, token: str) -> int | None:
    """The episode a token's receipt is for, None for anything that isn't a live token."""
    if len(token) != TOKEN_CHARS or not set(token) <= _ALPHABET:
        return None
    wanted = token_hash(token)
    row = db.execute(
        "select token_hash, episode_id from receipts where token_hash = ?", [wanted]
    ).fetchone()
    if row is None or not hmac.compare_digest(row[0], wanted):
        return None
    return int(row[1])


def receipt_created(db: sqlite_utils.Database, episode_id: int) -> str | None:
    """When the episode's (first) receipt was given, if it has one."""
    row = db.execute(
        "select min(created_at) from receipts where episode_id = ?", [episode_id]
    ).fetchone()
    return row[0] if row else None


def receipt_path(token: str) -> str:
    """The receipt page's path, as ``radio.web.receipts`` routes it (lower layers can't
    build URLs; the CLI and drop folder put BASE_URL in front)."""
    return f"/receipts/{token}"


def receipt_url(base_url: str | None, token: str) -> str:
    return (base_url or "").rstrip("/") + receipt_path(token)
