"""The web's log of database outages: one line per failed request, one traceback per outage.

During an outage every request that reads the database fails the same way, so a traceback
per request says nothing new and buries everything else. The log gets one line per failed
request and one traceback per outage (rate-limited: at most one each `min_gap` seconds, so
a database that flaps does not flood it either), and one line when the database is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("happyface.web")


class OutageLog:
    """Logs database failures of the web: a traceback at the start of an outage, then lines."""

    def __init__(self, min_gap: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.min_gap = min_gap
        self.clock = clock
        self._lock = threading.Lock()
        self._down = False
        self._last_traceback: float | None = None

    def failed(self, path: str, error: BaseException) -> None:
        """A request to `path` failed because the database did not answer."""
        now = self.clock()
        with self._lock:
            starts = not self._down
            self._down = True
            last = self._last_traceback
            traceback = starts and (last is None or now - last >= self.min_gap)
            if traceback:
                self._last_traceback = now
        if traceback:
            log.error(
                "the database is not answering; pages answer 503 until it is back "
                "(further failures are logged one line each)",
                exc_info=error,
            )
        log.warning("%s: 503: %s", path, error)

    def answered(self) -> None:
        """The database answered a read: an outage, if there was one, is over."""
        if not self._down:  # the common case, without taking the lock
            return
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            log.warning("the database answers again")
