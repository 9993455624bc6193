"""One series' recent history: times and values in growable numpy arrays, trimmed by age.

Appending is amortised O(1) and the arrays are handed to numpy without copying, so a run
costs each series a few microseconds whatever its window holds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]

_INITIAL = 64


class Window:
    """The points of one series within `span` seconds of its newest, oldest first."""

    def __init__(self, span: float) -> None:
        self.span = span
        self._t: Floats = np.empty(_INITIAL)
        self._y: Floats = np.empty(_INITIAL)
        self._h = np.empty(_INITIAL, dtype=np.intp)
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def times(self) -> Floats:
        """Seconds since the epoch of each point (a view: do not keep it across appends)."""
        return self._t[self._start : self._end]

    @property
    def values(self) -> Floats:
        """The value of each point (a view, like `times`)."""
        return self._y[self._start : self._end]

    @property
    def hours(self) -> np.ndarray:
        """The hour of the day (UTC, 0 to 23) of each point, kept so no run computes it again."""
        return self._h[self._start : self._end]

    def append(self, t: float, y: float) -> bool:
        """Add a point newer than the newest; False (and nothing kept) when it is not newer."""
        if self._end > self._start and t <= self._t[self._end - 1]:
            return False
        if self._end == len(self._t):
            self._make_room()
        self._t[self._end] = t
        self._y[self._end] = y
        self._h[self._end] = int(t % 86400 // 3600)
        self._end += 1
        self._trim(t - self.span)
        return True

    def _trim(self, oldest: float) -> None:
        if self._t[self._start] >= oldest:
            return
        self._start += int(np.searchsorted(self._t[self._start : self._end], oldest))

    def _make_room(self) -> None:
        size = len(self)
        capacity = max(_INITIAL, 2 * size)
        t, y, h = np.empty(capacity), np.empty(capacity), np.empty(capacity, dtype=np.intp)
        t[:size] = self.times
        y[:size] = self.values
        h[:size] = self.hours
        self._t, self._y, self._h, self._start, self._end = t, y, h, 0, size
