"""The real app behind waitress on 127.0.0.1, in a thread, for tests that speak HTTP."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from radio.data.users import add_user
from radio.db import connect, database_path
from radio.jobs.ingest import Limits, Metadata, ingest_file


class LiveServer:
    def __init__(self, app: Flask, threads: int = 4) -> None:
        from radio.cli import make_server

        self.server = make_server(app, "127.0.0.1", 0, threads=threads)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.task_dispatcher.shutdown()  # lets running requests finish

        def close_all() -> None:  # in the server's own thread, so its loop ends cleanly
            for channel in list(self.server._map.values()):
                channel.close()

        self.server.trigger.pull_trigger(close_all)
        self.thread.join(10)

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()


@contextmanager
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


def add_episode(app: Flask, clip: Path, *, process: bool = True, **meta: object) -> dict:
    """Ingest a real recording (and process it now), as `radio ingest --wait` does."""
    from radio.jobs import tasks

    db = connect(database_path(app))
    try:
        result = ingest_file(
            db, app.config["HOME"], clip, Metadata(**meta), Limits.from_config(app.config)
        )
        if process:
            tasks.run_episode(app, result.episode_id)
        return db["episodes"].get(result.episode_id)
    finally:
        db.conn.close()


def add_account(app: Flask, name: str, role: str, password: str = "correct horse") -> None:
    db = connect(database_path(app))
    try:
        add_user(db, name, password, role)
    finally:
        db.conn.close()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client, name: str, password: str = "correct horse"):  # noqa: ANN001, ANN201
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"}
    )


_SYLLABLES = [c + v for c in "bdfklmnprstvwyz" for v in "aeiou"]


def spoken_text(words: int, seed: int = 1, vocabulary: int = 3000) -> list[str]:
    """Word-like tokens drawn as often as words are in speech (Zipf's law), so text made of
    them compresses about as well as a real transcript (a made-up one compresses worse)."""
    import random

    known = lexicon(vocabulary)  # one language for every episode; ``seed`` picks the words
    weights = [1 / (rank + 1) for rank in range(vocabulary)]
    return random.Random(seed).choices(known, weights=weights, k=words)


def lexicon(size: int) -> list[str]:
    """The made-up language's words, the most said first."""
    import random

    rng = random.Random(0)
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 3, 3))))] = None
    return list(words)


def write_transcript(db, episode_id: int, minutes: float, seed: int = 1) -> int:  # noqa: ANN001
    """A transcript of ``minutes`` at 150 words a minute, in segments of about 12 words,
    with word timings as the transcriber stores them; returns the number of segments."""
    import json

    words = spoken_text(int(minutes * 150), seed)
    per_word = 60 / 150
    rows = []
    for idx, first in enumerate(range(0, len(words), 12)):
        chunk = words[first : first + 12]
        start = first * per_word
        timed = [
            [round(start + i * per_word, 2), round(start + (i + 1) * per_word, 2), f" {w}", 0.9]
            for i, w in enumerate(chunk)
        ]
        text = " ".join(chunk).capitalize() + "."
        rows.append(
            {
                "episode_id": episode_id,
                "idx": idx,
                "start": round(start, 2),
                "end": round(start + len(chunk) * per_word, 2),
                "text": text,
                "words": json.dumps(timed),
            }
        )
    db["segments"].insert_all(rows)
    return len(rows)
