"""Counters: series that only grow except when they reset, judged by their rate instead.

A counter's level always rises, so every run would look like a change; its rate (growth per
hour) is what carries the news, and a reset (a restart of the counting process) is a drop
to near zero that says nothing about the site: that interval is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .window import Floats

# Enough steps to tell a counter from a gauge that happened to rise for a while.
_MIN_STEPS = 12
_MAX_RESET_SHARE = 0.05
_MIN_RISE_SHARE = 0.5


@dataclass
class CounterCheck:
    """Counts of the series' steps, updated per point: is it a counter?"""

    steps: int = 0
    rises: int = 0
    falls: int = 0
    last: float | None = None

    def add(self, value: float) -> None:
        """Take the next value into the counts."""
        if self.last is not None:
            self.steps += 1
            self.rises += value > self.last
            self.falls += value < self.last
        self.last = value

    @property
    def is_counter(self) -> bool:
        """True when the series mostly rises and falls only as rarely as resets happen."""
        if self.steps < _MIN_STEPS:
            return False
        return (
            self.falls <= _MAX_RESET_SHARE * self.steps
            and self.rises >= _MIN_RISE_SHARE * self.steps
        )


def rates(times: Floats, values: Floats, hours: np.ndarray) -> tuple[Floats, Floats, np.ndarray]:
    """Growth per hour between consecutive points, at the later point; resets left out."""
    dy = np.diff(values)
    dt = np.diff(times)
    keep = dy >= 0
    return times[1:][keep], (dy[keep] / dt[keep]) * 3600.0, hours[1:][keep]
