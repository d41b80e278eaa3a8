"""Connection slots that idle or slow clients can't exhaust: waitress with a guard.

waitress serves at most ``connection_limit`` connections; past that it stops accepting
until one closes, and closes a quiet one only after ``channel_timeout``. So a hundred idle
keep-alive sockets, or requests that promise a body (``Content-Length``) and never send it,
lock every visitor out until they time out. ``GuardedServer`` makes room instead:

- when the server is nearly full, it closes the connections that hold a slot for nothing,
  from the address holding the most first: idle keep-alive connections (no request, nothing
  to send), oldest first, then requests arriving slower than ``MIN_BYTES_PER_S`` after a
  ``GRACE_S`` (an upload over slow Wi-Fi sends kilobytes a second, a slow-loris a byte now
  and then). A connection with a request being answered is never closed;
- one address may hold at most ``per_address`` connections: past that its oldest idle or
  slow one is closed, or, when all of its connections are busy, the new one. Loopback is
  exempt: the archive's own benches and a reverse proxy on the same machine speak for many.

Closing an idle keep-alive connection is allowed by HTTP/1.1: clients open a new one.
``radio.cli.server.server_options`` sets the timeouts that close the rest soon enough.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import Counter
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.server import create_server as waitress_server
from waitress.task import ThreadedTaskDispatcher

logger = logging.getLogger(__name__)

HEADROOM = 8  # slots kept free for new visitors: making room starts this far from the limit
GRACE_S = 10.0  # a request may take this long to arrive before its pace is judged
MIN_BYTES_PER_S = 512.0


class GuardedChannel(HTTPChannel):
    """An HTTP connection that knows how fast its current request is arriving."""

    request_started = 0.0
    request_bytes = 0

    def received(self, data: bytes) -> bool:
        if self.request is None:  # the first bytes of a new request
            self.request_started, self.request_bytes = time.monotonic(), 0
        self.request_bytes += len(data)
        return super().received(data)

    def holds_nothing(self) -> bool:
        """No request in hand or half-received, nothing left to send."""
        return not (self.requests or self.request or self.total_outbufs_len or self.will_close)

    def too_slow(self, now: float) -> bool:
        """A request arriving slower than MIN_BYTES_PER_S after GRACE_S, none being answered."""
        if self.request is None or self.requests or self.will_close:
            return False
        took = now - self.request_started
        grace = getattr(self.server, "grace_s", GRACE_S)
        return took > grace and self.request_bytes / took < MIN_BYTES_PER_S

    def close_if_still(self, now: float) -> bool:
        """Close this connection if it holds a slot for nothing; True when it will close."""
        if not self.requests_lock.acquire(blocking=False):  # a request is coming in now
            return False
        try:
            if self.holds_nothing() or self.too_slow(now):
                self.will_close = True  # the server's loop closes it on its next turn
                return True
            return False
        finally:
            self.requests_lock.release()


class GuardedServer(TcpWSGIServer):
    """waitress's TCP server, making room as the module docstring says."""

    channel_class = GuardedChannel
    per_address = 32
    grace_s = GRACE_S
    spare_loopback = True  # the machine itself may hold any number

    def handle_accept(self) -> None:
        before = set(self.active_channels)
        super().handle_accept()
        for fileno in set(self.active_channels) - before:
            self._cap_address(self.active_channels[fileno])

    def readable(self) -> bool:
        if self.accepting and len(self._map) >= self.adj.connection_limit - HEADROOM:
            self.make_room(HEADROOM)
        return super().readable()

    def _open_channels(self) -> list[GuardedChannel]:
        return [c for c in self.active_channels.values() if not c.will_close]

    def make_room(self, wanted: int) -> int:
        """Close up to ``wanted`` connections that hold slots for nothing; how many closed."""
        now = time.monotonic()
        channels = self._open_channels()
        held = Counter(_address(c) for c in channels)
        # the busiest address first; idle before slow; the longest quiet first
        order = sorted(
            channels, key=lambda c: (-held[_address(c)], not c.holds_nothing(), c.last_activity)
        )
        closed = 0
        for channel in order:
            if closed >= wanted:
                break
            closed += channel.close_if_still(now)
        if closed:
            logger.info("closed %d idle or slow connection(s) to make room", closed)
        return closed

    def _cap_address(self, new: GuardedChannel) -> None:
        address = _address(new)
        if self.spare_loopback and _is_loopback(address):
            return
        mine = [c for c in self._open_channels() if _address(c) == address]
        if len(mine) <= self.per_address:
            return
        now = time.monotonic()
        for channel in sorted(mine, key=lambda c: c.last_activity):
            if channel is not new and channel.close_if_still(now):
                return
        logger.warning("%s holds %d busy connections; refused another", address, len(mine) - 1)
        new.will_close = True


def _address(channel: HTTPChannel) -> str:
    addr = channel.addr
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def create_server(application: Any, *, per_address: int | None = None, **kw: Any) -> Any:
    """``waitress.server.create_server`` with ``GuardedServer`` for a single TCP listener (what
    ``radio serve`` opens); anything else (several listeners, a Unix socket) is waitress's own.
    ``per_address`` defaults to a quarter of ``connection_limit``."""
    adj = Adjustments(**kw)
    if adj.unix_socket or adj.sockets or len(adj.listen) != 1:
        logger.warning("several listeners: serving without the per-address connection guard")
        return waitress_server(application, **kw)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    server = GuardedServer(application, {}, dispatcher=dispatcher, adj=adj)
    server.per_address = per_address or max(4, adj.connection_limit // 4)
    return server
