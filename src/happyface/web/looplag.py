"""How late the event loop runs what is due: a figure for /metrics, measured all the time.

The web and the scheduler share one event loop. Anything that blocks it (a database call, a
long computation) delays every request; the delay of a short periodic sleep measures that.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque

#: how often the loop is probed; short enough to catch blocks of a few milliseconds
PERIOD = 0.05
#: the window over which the worst delay is reported
WINDOW = 60.0


class LoopLag:
    """The worst scheduling delay of the event loop over the last `window` seconds."""

    def __init__(self, period: float = PERIOD, window: float = WINDOW) -> None:
        self.period = period
        self.window = window
        self._lock = threading.Lock()
        # (second, worst delay seen in it), oldest first
        self._seconds: deque[tuple[int, float]] = deque()
        # the last answer of `worst`, (first second left out, delay): /metrics asks at every
        # scrape, and between two probes only the passing of a whole second changes it
        self._worst: tuple[int, float] | None = None

    async def watch(self) -> None:
        """Probe the running loop until cancelled."""
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self.period)
            woke = time.monotonic()
            self.record(woke, max(0.0, woke - asked - self.period))

    def record(self, at: float, delay: float) -> None:
        """Note a delay measured at monotonic time `at`."""
        second = int(at)
        with self._lock:
            if self._seconds and self._seconds[-1][0] == second:
                delay = max(delay, self._seconds[-1][1])
                self._seconds.pop()
            self._seconds.append((second, delay))
            self._worst = None
            while self._seconds and self._seconds[0][0] <= second - self.window:
                self._seconds.popleft()

    def worst(self, now: float | None = None) -> float:
        """The longest delay measured within the window before `now` (0 when none)."""
        # seconds are whole, so `s > horizon` is `s > floor(horizon)`
        horizon = math.floor((time.monotonic() if now is None else now) - self.window)
        with self._lock:
            if self._worst is None or self._worst[0] != horizon:
                delay = max((d for s, d in self._seconds if s > horizon), default=0.0)
                self._worst = (horizon, delay)
            return self._worst[1]
