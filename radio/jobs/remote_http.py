"""The HTTP side of a worker on another machine (#17): talk to the archive's ``/api/worker``
endpoints (``radio.web.workers``) over a network that may drop.

Every call is tried again with a growing wait (1, 2, 4 ... 30 s) when the network fails or
the archive answers 5xx, and gives up after ``attempts`` tries with ``ArchiveUnreachable``
(the episode's lease then runs out and another worker, or this one later, takes it up).
A download goes on from what a ``.part`` file already holds (HTTP ranges) and is checked
against the SHA-256 the archive states; an upload asks what the archive already has and
sends the rest in chunks, each with its own SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from radio.jobs.errors import JobError

logger = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024  # under the archive's 8 MB cap on a request body
MAX_WAIT_S = 30.0


class RemoteError(JobError):
    """The archive refused or could not be reached; the message says which, for the log."""


class TokenRefused(RemoteError):
    """401: the worker token is unknown or was revoked."""


class ArchiveUnreachable(RemoteError):
    """The network or the archive failed ``attempts`` times in a row."""


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class ArchiveClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        worker_id: str,
        *,
        attempts: int = 10,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = base_url.rstrip("/") + "/api/worker/"
        self.token, self.worker_id = token, worker_id
        self.attempts, self.timeout, self.sleep = attempts, timeout, sleep

    def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        attempts: int | None = None,
    ) -> Answer:
        """One request, tried again on network errors and 5xx; 4xx answers are returned."""
        attempts = attempts or self.attempts
        sent = {"Authorization": f"Bearer {self.token}", "X-Worker-Id": self.worker_id}
        sent.update(headers or {})
        if payload is not None:
            body = json.dumps(payload).encode()
            sent["Content-Type"] = "application/json"
        for attempt in range(1, attempts + 1):
            try:
                answer = self._once(method, path, body, sent)
            except (OSError, urllib.error.URLError) as e:
                problem = f"cannot reach {self.base}: {getattr(e, 'reason', e)}"
            else:
                if answer.status == 401:
                    raise TokenRefused(
                        f"the archive at {self.base} refused this worker's token "
                        "(unknown or revoked); ask its admin for a new one"
                    )
                if answer.status < 500:
                    return answer
                problem = f"the archive answered {answer.status} to {method} {path}"
            if attempt == attempts:
                raise ArchiveUnreachable(f"{problem}; gave up after {attempt} tries")
            wait = min(MAX_WAIT_S, 2.0 ** (attempt - 1)) * random.uniform(0.8, 1.2)
            logger.warning("%s; trying again in %.0f s (try %d of %d)", problem, wait, attempt,
                           attempts)  # fmt: skip
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(self.base + path, data=body, headers=headers,
                                         method=method)  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                return Answer(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def json(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        answer = self.call(method, path, payload=payload if payload is not None else {})
        return answer.status, answer.json()

    # -- files -------------------------------------------------------------------------

    def download(self, path: str, dest: Path, sha256: str) -> None:
        """Fetch ``path`` into ``dest``, going on from a partial download; checked."""
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, self.attempts + 1):
            try:
                self._download_rest(path, part)
                break
            except OSError as e:  # cut mid-body: keep what came, ask for the rest
                if attempt == self.attempts:
                    raise ArchiveUnreachable(f"downloading {path} failed: {e}") from e
                logger.warning("download of %s cut at %d bytes (%s); resuming", path,
                               part.stat().st_size if part.exists() else 0, e)  # fmt: skip
                self.sleep(min(MAX_WAIT_S, 2.0 ** (attempt - 1)))
        if file_sha256(part) != sha256.lower():
            part.unlink()
            raise RemoteError(f"{path} arrived damaged (its SHA-256 differs); will fetch again")
        os.replace(part, dest)

    def _download_rest(self, path: str, part: Path) -> None:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        sent = {"Authorization": f"Bearer {self.token}", "X-Worker-Id": self.worker_id, **headers}
        request = urllib.request.Request(self.base + path, headers=sent)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416:  # we hold the whole file already
                return
            if e.code == 401:
                raise TokenRefused("the archive refused this worker's token") from e
            raise RemoteError(f"the archive answered {e.code} for {path}") from e
        with response, part.open("ab" if response.status == 206 else "wb") as f:
            for block in iter(lambda: response.read(1 << 20), b""):
                f.write(block)

    def upload(self, episode_id: int, name: str, source: Path, have: int) -> None:
        """Send ``source`` as ``name`` from byte ``have`` on, chunk by chunk."""
        size = source.stat().st_size
        refusals = 0
        with source.open("rb") as f:
            while have < size:
                f.seek(have)
                chunk = f.read(CHUNK_BYTES)
                answer = self.call(
                    "PUT",
                    f"episodes/{episode_id}/uploads/{name}?offset={have}",
                    body=chunk,
                    headers={
                        "X-Chunk-SHA256": hashlib.sha256(chunk).hexdigest(),
                        "Content-Type": "application/octet-stream",
                    },  # fmt: skip
                )
                if answer.status == 200:
                    have, refusals = int(answer.json()["bytes"]), 0
                elif answer.status == 409 and "bytes" in (answer.json() or {}) and refusals < 5:
                    # damaged on the way, or the archive holds another amount (an answer
                    # was lost): go on from what it holds
                    refusals += 1
                    have = int(answer.json()["bytes"])
                    logger.info("%s: the archive has %d bytes; going on from there", name, have)
                else:
                    raise RemoteError(f"uploading {name} refused: {answer.body[:200]!r}")
        if have != size:
            raise RemoteError(f"{name}: the archive holds {have} bytes of {size}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
