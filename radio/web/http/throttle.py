"""Slow down password guessing: a few wrong passwords, then a wait.

Kept in memory: one ``radio serve`` process answers every login, and a restart
forgetting the count is no help to a guesser (it is far slower than guessing). Two
counts are kept, per name and address (a mistyped password locks out only that person
on that device) and per address alone (so guessing across many names is slowed too).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 15 * 60
PER_NAME_AND_ADDRESS = 5
PER_ADDRESS = 20
MAX_KEYS = 10_000  # the oldest are dropped past this, so a flood can't grow memory


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _limits(self, name: str, address: str) -> list[tuple[tuple[str, ...], int]]:
        return [
            (("name", name.casefold(), address), PER_NAME_AND_ADDRESS),
            (("address", address), PER_ADDRESS),
        ]

    def wait_seconds(self, name: str, address: str) -> int:
        """0 when a login may be tried now, else how long until it may."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._limits(name, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, times[-limit] + WINDOW_S - now)
        return math.ceil(wait)

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key, limit in self._limits(name, address):
                times = self._failures.setdefault(key, deque(maxlen=limit))
                times.append(now)
            while len(self._failures) > MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._limits(name, address)[0][0], None)

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times
