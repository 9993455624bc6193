"""The Gaussian segment cost for ruptures, in constant time per segment.

ruptures' own `CostNormal` estimates a covariance matrix per call (about 100 µs); for one
series the cost of a segment is its length times the log of its variance, which prefix sums
give in a few operations. PELT asks for a cost about n²/2 times, so this is what makes
segmenting affordable at every run. It plugs into ruptures as a custom cost (`custom_cost=`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ruptures.base import BaseCost

# a segment's variance is never taken as below this (standardised units): flat stretches of a
# series that moves in steps (a count of pools) would otherwise cost minus infinity
_MIN_VARIANCE = 1e-4


class GaussianCost(BaseCost):
    """−2 log-likelihood of a segment under a normal law with its own mean and variance."""

    model = "gaussian_1d"
    min_size = 2

    def __init__(self) -> None:
        self.signal = np.zeros((0, 1))  # ruptures reads the length from it
        self._sums = np.zeros(1)
        self._squares = np.zeros(1)

    def fit(self, signal: Any) -> GaussianCost:
        """Take the signal (one column) and prepare its prefix sums."""
        values = np.asarray(signal, dtype=np.float64).reshape(-1)
        self.signal = values.reshape(-1, 1)
        self._sums = np.concatenate(([0.0], np.cumsum(values)))
        self._squares = np.concatenate(([0.0], np.cumsum(values * values)))
        return self

    def error(self, start: int, end: int) -> float:
        """The cost of `signal[start:end]`."""
        n = end - start
        total = self._sums[end] - self._sums[start]
        squares = self._squares[end] - self._squares[start]
        variance = max((squares - total * total / n) / n, _MIN_VARIANCE)
        return n * math.log(variance)
