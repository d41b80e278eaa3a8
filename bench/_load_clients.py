"""The simulated clients of ``bench/load.py``: listeners streaming ranges, searchers, a page
visitor, an uploader that follows its upload, idle connections; and their tally. Stdlib
only (``http.client`` in threads), loopback only."""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import select
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
CHUNK = 64 * 1024
PASSWORD = "bench password"
Answer = tuple[int, dict[str, str], bytes]  # status, headers, body


class Tally:
    """Latencies, errors and hung requests per kind of request; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.hung: dict[str, int] = {}
        self.samples: list[str] = []

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)

    def failed(self, kind: str, what: str, hung: bool = False) -> None:
        with self.lock:
            table = self.hung if hung else self.errors
            table[kind] = table.get(kind, 0) + 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {what}")

    def summary(self, kind: str) -> dict[str, object]:
        with self.lock:
            times = sorted(self.times.get(kind, []))
            errors, hung = self.errors.get(kind, 0), self.hung.get(kind, 0)
        return {
            "requests": len(times) + errors + hung,
            "errors": errors,
            "hung": hung,
            "p50_ms": _ms(times, 0.50),
            "p95_ms": _ms(times, 0.95),
            "max_ms": round(times[-1] * 1000, 1) if times else None,
        }


def _ms(ordered: list[float], q: float) -> float | None:
    at = min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))
    return round(ordered[at] * 1000, 1) if ordered else None


def request(port: int, method: str, path: str, timeout: float = 10, **kw: Any) -> Answer:
    """One request on a new connection; ``kw``: ``body``, ``headers``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, **kw)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def timed(tally: Tally, kind: str, fn) -> bytes | None:  # noqa: ANN001
    started = time.perf_counter()
    try:
        status, body = fn()
    except TimeoutError:
        tally.failed(kind, "no answer in time", hung=True)
        return None
    except (OSError, http.client.HTTPException) as e:
        tally.failed(kind, f"{type(e).__name__}: {e}")
        return None
    if status not in (200, 206):
        tally.failed(kind, f"HTTP {status}")
        return None
    tally.ok(kind, time.perf_counter() - started)
    return body


def listener(port: int, episodes: list, tally: Tally, stop: threading.Event, args) -> None:  # noqa: ANN001
    rng = random.Random()
    conn = None
    while not stop.is_set():
        guid, size = rng.choice(episodes)
        for start in range(rng.randrange(0, size // 2), size, CHUNK):
            if stop.is_set():
                break
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=args.timeout)
            headers = {"Range": f"bytes={start}-{min(size, start + CHUNK) - 1}"}

            def fetch(c=conn, h=headers, g=guid) -> tuple[int, bytes]:  # noqa: ANN001
                c.request("GET", f"/media/{g}/audio.mp3", headers=h)
                r = c.getresponse()
                return r.status, r.read()

            if timed(tally, "media", fetch) is None:
                conn.close()
                conn = None
            stop.wait(args.listener_pause)
    if conn is not None:
        conn.close()


def searcher(port: int, words: list[str], tally: Tally, stop: threading.Event, args) -> None:  # noqa: ANN001
    rng = random.Random(1)
    with ThreadPoolExecutor(max_workers=32) as pool:
        next_at = time.monotonic()
        while not stop.is_set():
            q = rng.choice(words)
            pool.submit(timed, tally, "search", lambda q=q: _get(port, f"/search?q={q}", args))
            next_at += 1 / args.searches
            stop.wait(max(0.0, next_at - time.monotonic()))


def visitor(port: int, episodes: list, tally: Tally, stop: threading.Event, args) -> None:  # noqa: ANN001
    rng = random.Random(2)
    while not stop.is_set():
        path = rng.choice(["/", f"/episodes/{rng.choice(episodes)[0]}"])
        timed(tally, "pages", lambda p=path: _get(port, p, args))
        stop.wait(0.5)


def _get(port: int, path: str, args) -> tuple[int, bytes]:  # noqa: ANN001
    status, _, body = request(port, "GET", path, args.timeout)
    return status, body


class IdleConnections:
    """Connections held open doing nothing; reopened when the server closes one."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count, self.closed_by_server = port, count, 0
        self.socks: list[tuple[socket.socket, bool]] = []

    def open(self, after_request: bool) -> tuple[socket.socket, bool]:
        s = socket.create_connection((HOST, self.port), timeout=10)
        if after_request:
            s.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            s.recv(65536)  # the answer (small); the connection stays open, idle
        return s, after_request

    def run(self, stop: threading.Event) -> None:
        self.socks = [self.open(i % 2 == 0) for i in range(self.count)]
        while not stop.wait(1.0):
            readable, _, _ = select.select([s for s, _ in self.socks], [], [], 0)
            for i, (s, after) in enumerate(self.socks):
                if s in readable and not _drain(s):  # the server closed it
                    s.close()
                    self.closed_by_server += 1
                    with contextlib.suppress(OSError):
                        self.socks[i] = self.open(after)
        for s, _ in self.socks:
            s.close()


def _drain(s: socket.socket) -> bool:
    """Read what is waiting; False when the other side has closed the connection."""
    try:
        return bool(s.recv(65536))
    except OSError:
        return False


def uploader(port: int, audio: Path, result: dict, stop: threading.Event) -> None:
    """Log in, upload through the form, then follow the episode until it is ready."""
    try:
        cookie = _log_in(port)
        _, _, html = request(port, "GET", "/upload", headers={"Cookie": cookie})
        token = re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()
        body, ctype = _multipart({"csrf_token": token, "title": "Bench upload"}, audio)
        started = time.monotonic()
        headers = {"Cookie": cookie, "Content-Type": ctype, "Accept": "application/json"}
        status, _, answer = request(port, "POST", "/upload", 120, body=body, headers=headers)
        result.update(upload_status=status, upload_s=round(time.monotonic() - started, 2))
        guid = json.loads(answer)["files"][0]["guid"]
        while not stop.wait(2.0):
            _, _, data = request(
                port, "GET", f"/api/episodes/{guid}/progress", headers={"Cookie": cookie}
            )
            progress = json.loads(data)
            result.update(status=progress.get("status"), step=progress.get("step"))
            if progress.get("status") in ("ready", "failed"):
                result["done_after_s"] = round(time.monotonic() - started, 1)
                break
    except Exception as e:  # noqa: BLE001 - reported in the summary
        result["error"] = f"{type(e).__name__}: {e}"


def _log_in(port: int) -> str:
    _, headers, html = request(port, "GET", "/login")
    cookie = headers["set-cookie"].split(";")[0]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()
    form = f"name=bench&password={PASSWORD.replace(' ', '+')}&csrf_token={token}&next=/"
    sent = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    _, headers, _ = request(port, "POST", "/login", body=form.encode(), headers=sent)
    return headers.get("set-cookie", cookie).split(";")[0]


def _multipart(fields: dict[str, str], audio: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{audio.name}"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
        + audio.read_bytes()
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
