"""Incremental change detection on one series: a cheap test per run, ruptures on evidence.

Each run adds one point. A two-sided CUSUM of the newest point against the level since the
last confirmed change (the reference) costs a few microseconds; only when it crosses its
threshold, for as many runs as a change needs to be told, is the recent stretch segmented
with ruptures (binary segmentation with a penalty, Gaussian cost: a change in mean or
variance; PELT gave the same splits at five times the CPU), and each proposed split is
judged (`judge.py`) against the whole reference. A confirmed change becomes the new
reference's start, so a change is found once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count, pairwise

import numpy as np
import ruptures as rpt

from .cost import GaussianCost
from .counter import CounterCheck, rates
from .judge import Kind, Sides, judge
from .profile import daily_profile
from .tuning import Tuning
from .window import Floats, Window

# CUSUM: drift allowance and thresholds, in reference standard deviations
_K = 0.5
_H = 4.0
_K_WIDER = 1.0
_K_NARROWER = 0.5
_H_VAR = 10.0
# ruptures looks at this many newest points: enough to place a change found within hours
_TAIL = 64
_STAGGER = count()
# the daily profile is estimated again after this many new points
_PROFILE_EVERY = 12


@dataclass(frozen=True)
class Shift:
    """A confirmed change of one series, in the detector's terms (times in epoch seconds)."""

    at: float  # time of the first point after the change
    kind: Kind
    measure: str  # "value", or "rate" (per hour) for a counter
    before: float
    after: float
    sd_before: float
    sd_after: float
    significance: float
    relative: float


class SeriesDetector:
    """The state of one series between runs: its window, reference, and evidence so far."""

    def __init__(self, tuning: Tuning, anchor: float = -math.inf) -> None:
        self.tuning = tuning
        self.window = Window(tuning.window)
        self.counter = CounterCheck()
        self.anchor = anchor  # the last confirmed change: the reference starts here
        self._high = self._low = self._wider = self._narrower = 0.0
        self._profile: Floats | None = None
        # series refresh their profiles in turn, not all in the same run
        self._phase = next(_STAGGER) % _PROFILE_EVERY
        self._runs = 0
        self._cooling = 0
        self._streak = 0

    def load(self, t: float, value: float) -> None:
        """Take a point of stored history without judging it (warming up after a start)."""
        if math.isfinite(value) and self.window.append(t, value):
            self.counter.add(value)

    def add(self, t: float, value: float) -> Shift | None:
        """Take one run's point; the change it confirms, if any."""
        if not math.isfinite(value) or not self.window.append(t, value):
            return None
        self.counter.add(value)
        self._runs += 1
        times, values, hours, measure = self._series()
        if len(times) == 0 or times[-1] != t or times[-1] - times[0] < self.tuning.warmup:
            return None  # a reset, or too little history to know the series' habits
        detrended = self._detrended(times, values, hours)
        if detrended is None:
            return None  # the daily cycle is not known yet
        start = int(np.searchsorted(times, self.anchor))
        if len(times) - start < 3 * self.tuning.confirm:
            return None
        if not self._evidence(detrended[start:]) or self._cooling > 0:
            self._cooling -= 1
            return None
        shift = self._segment(times, detrended, start, measure)
        if shift is not None:
            self._confirm(shift.at)
        else:  # evidence that is not (yet) a change: look again in a few runs, not every run
            self._cooling = self.tuning.confirm // 2
        return shift

    def _series(self) -> tuple[Floats, Floats, np.ndarray, str]:
        times, values, hours = self.window.times, self.window.values, self.window.hours
        if self.counter.is_counter:
            return (*rates(times, values, hours), "rate")
        return times, values, hours, "value"

    def _detrended(self, times: Floats, values: Floats, hours: np.ndarray) -> Floats | None:
        if self._profile is None or (self._runs + self._phase) % _PROFILE_EVERY == 0:
            self._profile = daily_profile(times, values, hours)
        if self._profile is None:
            return None
        detrended: Floats = values - self._profile[hours]
        return detrended

    def _evidence(self, segment: Floats) -> bool:
        """Advance the CUSUMs by the newest point; True when they cross their thresholds."""
        reference = segment[: -self.tuning.confirm]
        sd = max(float(np.std(reference)), 1e-9, 1e-6 * abs(float(reference.mean())))
        z = (float(segment[-1]) - float(reference.mean())) / sd
        self._high = max(0.0, self._high + z - _K)
        self._low = max(0.0, self._low - z - _K)
        square = min(z * z, 25.0)
        self._wider = max(0.0, self._wider + square - 1 - _K_WIDER)
        self._narrower = max(0.0, self._narrower + 1 - square - _K_NARROWER)
        over = max(self._high, self._low) > _H or max(self._wider, self._narrower) > _H_VAR
        self._streak = self._streak + 1 if over else 0
        # a change is told only once `confirm` runs of the new level are in: segmenting
        # before that would find nothing to tell and cost as much
        return self._streak >= self.tuning.confirm - 1

    def _segment(self, times: Floats, values: Floats, start: int, measure: str) -> Shift | None:
        """Segment the newest stretch with ruptures; the first split judged a change."""
        first = max(start, len(values) - _TAIL)
        reference = values[start:first] if first - start > 1 else values[start:]
        scale = max(float(np.std(reference)), 1e-9, 1e-6 * abs(float(reference.mean())))
        tail = (values[first:] - float(reference.mean())) / scale
        confirm = self.tuning.confirm
        splits = rpt.Binseg(custom_cost=GaussianCost(), min_size=confirm, jump=1)
        splits.fit(tail.reshape(-1, 1))
        ends = splits.predict(pen=self.tuning.penalty)
        for split, end in pairwise(ends):
            cut = first + split
            sides = Sides.of(values[start:cut], values[cut : first + end])
            verdict = judge(sides, self.tuning.min_relative, confirm)
            if verdict is not None and verdict.kind == "level":
                cut = _sharpened(values, start, cut, first + end, confirm)
                sides = Sides.of(values[start:cut], values[cut : first + end])
            if verdict is not None:
                return Shift(
                    float(times[cut]),
                    verdict.kind,
                    measure,
                    sides.before,
                    sides.after,
                    sides.sd_before,
                    sides.sd_after,
                    verdict.significance,
                    verdict.relative,
                )
        return None

    def _confirm(self, at: float) -> None:
        self.anchor = at
        self._high = self._low = self._wider = self._narrower = 0.0
        self._streak = 0


def _sharpened(values: Floats, start: int, cut: int, end: int, reach: int) -> int:
    """The best place for a change of mean within `reach` points of `cut`.

    The Gaussian cost also rewards a split that isolates a few calm or wild points, which can
    move a step of the mean by a few runs; least squares over the two sides (the maximum
    likelihood of one change of mean) puts it back.
    """
    low, high = max(start + 2, cut - reach), min(end - 2, cut + reach)
    if high <= low:
        return cut
    segment = values[start:end]
    sums = np.cumsum(segment)
    n = len(segment)
    k = np.arange(low, high + 1) - start
    left = sums[k - 1]
    right = sums[-1] - left
    # the between-sides sum of squares: maximal where the sum of squared errors is minimal
    gain = left**2 / k + right**2 / (n - k)
    return int(low + np.argmax(gain))
