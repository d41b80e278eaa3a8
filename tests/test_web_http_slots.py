"""Connection slots idle or slow clients can't exhaust (#13).

Against a real ``radio serve`` on 127.0.0.1: a hundred idle keep-alive sockets and twenty
requests whose ``Content-Length`` lies hold more connections than the server may open, and
a new visitor still gets the home page (within this test's generous socket timeout: a
functional check, not a timing one); the server then closes the lying and idle sockets
itself. The guard (``radio.web.http.slots``) is also run in-process with a long channel
timeout, so that only its making room can let the visitor in.
"""

from __future__ import annotations

import http.client
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from radio import create_app
from radio.web.http import slots
from tests.conftest import settings

VISITOR_TIMEOUT = 20.0  # seconds a visitor's socket waits: generous, never measured
LYING_POST = (
    b"POST /login HTTP/1.1\r\nHost: archive\r\nContent-Type: application/x-www-form-urlencoded"
    b"\r\nContent-Length: 1000000\r\n\r\nname=amina&pass"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def visit(port: int, path: str = "/") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=VISITOR_TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def idle_sockets(stack: ExitStack, port: int, n: int, *, kept_alive: bool) -> list[socket.socket]:
    """``n`` sockets holding a connection: connected and silent, or after one complete
    request and its answer, kept alive and silent."""
    opened = []
    for _ in range(n):
        s = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        if kept_alive:
            s.sendall(b"GET /login HTTP/1.1\r\nHost: archive\r\n\r\n")
            read_response(s)
        opened.append(s)
    return opened


def read_response(s: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += s.recv(65536)


def lying_sockets(stack: ExitStack, port: int, n: int) -> list[socket.socket]:
    opened = []
    for _ in range(n):
        s = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        s.sendall(LYING_POST)  # and never the rest of the million bytes it promised
        opened.append(s)
    return opened


def closed_by_server(s: socket.socket) -> bool:
    """True when the server closes this socket (or answers and closes) within the timeout."""
    s.settimeout(VISITOR_TIMEOUT)
    try:
        while data := s.recv(65536):
            if b"HTTP/1.1" in data and b"Connection: close" not in data:
                continue
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@contextmanager
def radio_serve(home: Path, port: int, open_files: int) -> Iterator[subprocess.Popen]:
    """``radio serve`` in a process allowed ``open_files`` files (so about half as many
    connections, as ``server_options`` decides) and a 5 s channel timeout."""
    env = {**os.environ, "RADIO_HOME": str(home), "RADIO_TRANSCRIBE": "false"}
    env["RADIO_CHANNEL_TIMEOUT"] = "5"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, hard))

    proc = subprocess.Popen(
        [sys.executable, "-m", "radio", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--no-worker", "--no-qr", "--threads", "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=limit_files,  # noqa: PLW1509 - only resource limits, before exec
    )
    try:
        for _ in range(300):
            try:
                if visit(port) == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("radio serve did not start")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_idle_and_lying_connections_do_not_lock_visitors_out(tmp_path):
    port = free_port()
    # 220 open files: about 110 connections, fewer than the 120 sockets opened below
    with radio_serve(tmp_path / "home", port, open_files=220) as proc, ExitStack() as stack:
        kept = idle_sockets(stack, port, 50, kept_alive=True)
        silent = idle_sockets(stack, port, 50, kept_alive=False)
        lying = lying_sockets(stack, port, 20)
        assert visit(port) == 200  # a new visitor gets the home page
        assert visit(port, "/search?q=water") == 200
        # and the server lets go of the sockets that hold slots for nothing
        assert all(closed_by_server(s) for s in lying[:5]), "a lying request kept its slot"
        assert all(closed_by_server(s) for s in kept[:5] + silent[-5:])
        assert proc.poll() is None


class Guarded:
    """``slots.create_server`` in a thread, on 127.0.0.1."""

    def __init__(self, home: Path, **options: object) -> None:
        app = create_app(settings(home))
        self.server = slots.create_server(app, host="127.0.0.1", port=0, threads=4, **options)
        self.port = int(self.server.effective_port)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Guarded:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.task_dispatcher.shutdown()

        def close_all() -> None:
            for channel in list(self.server._map.values()):
                channel.close()

        self.server.trigger.pull_trigger(close_all)
        self.thread.join(10)


def test_the_guard_makes_room_when_the_server_is_full(tmp_path):
    # A channel timeout of five minutes: only the guard can let the visitor in.
    options = {"connection_limit": 40, "channel_timeout": 300, "cleanup_interval": 1}
    with Guarded(tmp_path / "home", **options) as guarded, ExitStack() as stack:
        assert isinstance(guarded.server, slots.GuardedServer)
        guarded.server.grace_s = 1.0
        port = guarded.port
        kept = idle_sockets(stack, port, 20, kept_alive=True)
        silent = idle_sockets(stack, port, 30, kept_alive=False)
        lying_sockets(stack, port, 10)
        assert visit(port) == 200
        assert visit(port, "/topics") == 200
        assert closed_by_server(kept[0]) and closed_by_server(silent[0])  # the oldest went


def test_one_address_holds_only_its_share(tmp_path):
    options = {"connection_limit": 200, "channel_timeout": 300}
    with Guarded(tmp_path / "home", **options) as guarded, ExitStack() as stack:
        server = guarded.server
        server.spare_loopback, server.per_address = False, 5
        silent = idle_sockets(stack, guarded.port, 12, kept_alive=False)
        assert visit(guarded.port) == 200  # its oldest idle socket made way for it
        assert closed_by_server(silent[0])
        still_open = [c for c in server.active_channels.values() if not c.will_close]
        assert len(still_open) <= 5 + 1  # its share, and the one just accepted


def test_radio_serve_runs_the_guard(app):
    from radio.cli import make_server

    server = make_server(app, "127.0.0.1", 0, 2)
    try:
        assert isinstance(server, slots.GuardedServer)
    finally:
        server.close()
