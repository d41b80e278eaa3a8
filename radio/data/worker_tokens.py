"""Worker tokens and worker commits (#17): the only SQL for ``worker_tokens`` and
``worker_commits``.

A worker on another machine (``radio worker --archive URL --token T``) proves itself with a
token an admin made (``radio worker-token add NAME``). As for receipts
(``radio.data.receipts``), only the token's SHA-256 is stored, so a copy of the database
opens nothing; a lookup hashes what was sent, finds the row by that hash and compares the
two with ``hmac.compare_digest``. A revoked token stays listed (who had it, until when) and
opens nothing. ``worker_commits`` remembers each result a worker committed, by the SHA-256
of its manifest, with the answer given, so the same commit sent twice (its answer was lost
on the way) is answered the same and applied once. ``worker_diarizations`` keeps a worker's
diarization of an episode's original (JSON, ``radio.jobs.remote_retranscribe``) for the
speakers of its next transcript.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import sqlite_utils

TOKEN_BYTES = 32  # 256 bits
TOKEN_CHARS = 43  # its URL-safe base64 length; anything else is not a token
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class TokenNameTaken(ValueError):
    """A live or revoked token already has this name."""


@dataclass(frozen=True)
class WorkerToken:
    name: str
    created_at: str
    created_by: str | None
    last_used_at: str | None
    revoked_at: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def add_token(db: sqlite_utils.Database, name: str, created_by: str | None, now: str) -> str:
    """Make a token called ``name``; returns it (the only time it is seen in clear)."""
    if db.execute("select 1 from worker_tokens where name = ?", [name]).fetchone():
        raise TokenNameTaken(name)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.execute(
        "insert into worker_tokens (name, token_hash, created_at, created_by) values (?, ?, ?, ?)",
        [name, token_hash(token), now, created_by],
    )
    return token


def list_tokens(db: sqlite_utils.Database) -> list[WorkerToken]:
    rows = db.execute(
        "select name, created_at, created_by, last_used_at, revoked_at from worker_tokens "
        "order by name"
    ).fetchall()
    return [WorkerToken(*row) for row in rows]


def revoke_token(db: sqlite_utils.Database, name: str, now: str) -> bool:
    """Revoke the live token ``name``; False when there is none of that name."""
    cur = db.execute(
        "update worker_tokens set revoked_at = ? where name = ? and revoked_at is null",
        [now, name],
    )
    return cur.rowcount == 1


def token_worker(db: sqlite_utils.Database, token: str, now: str) -> str | None:
    """The name of the live token ``token`` (and note that it was used), else None."""
    if len(token) != TOKEN_CHARS or not set(token) <= _ALPHABET:
        return None
    wanted = token_hash(token)
    row = db.execute(
        "select token_hash, name, revoked_at, last_used_at from worker_tokens where token_hash = ?",
        [wanted],
    ).fetchone()
    if row is None or not hmac.compare_digest(row[0], wanted) or row[2] is not None:
        return None
    if (row[3] or "")[:16] != now[:16]:  # at most one write a minute, not one per request
        db.execute("update worker_tokens set last_used_at = ? where name = ?", [now, row[1]])
    return str(row[1])


def record_commit(
    conn: Any, episode_id: int, manifest_sha256: str, worker: str, answer: str, now: str
) -> None:
    """Remember a commit and its answer (inside the transaction that applied it)."""
    conn.execute(
        "insert into worker_commits (episode_id, manifest_sha256, worker, answer, committed_at) "
        "values (?, ?, ?, ?, ?)",
        [episode_id, manifest_sha256, worker, answer, now],
    )


def commit_answer(db: sqlite_utils.Database, episode_id: int, manifest_sha256: str) -> str | None:
    """The answer given to this very commit before, if it was applied already."""
    row = db.execute(
        "select answer from worker_commits where episode_id = ? and manifest_sha256 = ?",
        [episode_id, manifest_sha256],
    ).fetchone()
    return row[0] if row else None


def commits(db: sqlite_utils.Database, episode_id: int) -> list[tuple[str, str]]:
    """(worker, committed_at) of every commit applied to an episode, oldest first."""
    return db.execute(
        "select worker, committed_at from worker_commits where episode_id = ? "
        "order by committed_at, rowid",
        [episode_id],
    ).fetchall()


def save_diarization(
    db: sqlite_utils.Database, episode_id: int, source_sha256: str, speakers: int, body: str,
    now: str,
) -> None:  # fmt: skip
    db.execute(
        "insert or replace into worker_diarizations (episode_id, source_sha256, speakers, "
        "body, made_at) values (?, ?, ?, ?, ?)",
        [episode_id, source_sha256, speakers, body, now],
    )


def diarization(
    db: sqlite_utils.Database, episode_id: int, source_sha256: str, speakers: int
) -> str | None:
    """The diarization a worker made of this very original for this many names, if any."""
    row = db.execute(
        "select body from worker_diarizations where episode_id = ? and source_sha256 = ? "
        "and speakers = ?",
        [episode_id, source_sha256, speakers],
    ).fetchone()
    return row[0] if row else None
