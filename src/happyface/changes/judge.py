"""Whether a split of a series is a change worth telling, and what kind.

ruptures proposes where a series splits; this decides whether the two sides differ enough to
tell a shift crew: by a clear margin statistically (so noise is not reported), by at least
one noise standard deviation (so a tiny but certain drift is not), and by the site's minimum
relative size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .window import Floats

Kind = Literal["level", "variance"]

# a level change must stand this many standard errors clear of noise ...
_MIN_T = 4.5
# ... and be at least this many noise standard deviations of the level before
_MIN_EFFECT = 1.0
# a change of variance: the log ratio of the variances this many standard errors from 0
_MIN_LOG_RATIO_Z = 4.5
_MIN_SD_RATIO = 1.5


@dataclass(frozen=True)
class Sides:
    """The statistics of the two sides of a split."""

    before: float
    after: float
    sd_before: float
    sd_after: float
    n_before: int
    n_after: int

    @classmethod
    def of(cls, before: Floats, after: Floats) -> Sides:
        return cls(
            float(before.mean()),
            float(after.mean()),
            float(np.std(before, ddof=1)) if len(before) > 1 else 0.0,
            float(np.std(after, ddof=1)) if len(after) > 1 else 0.0,
            len(before),
            len(after),
        )

    @property
    def floor(self) -> float:
        """The smallest standard deviation believed: a flat series has none, but a step."""
        return max(1e-9, 1e-6 * max(abs(self.before), abs(self.after)))


@dataclass(frozen=True)
class Verdict:
    """A split judged to be a change."""

    kind: Kind
    significance: float  # level: step in noise SDs; variance: ratio of the SDs (>= 1)
    relative: float  # signed: (after - before) / |before|, or the SD ratio minus 1


def judge(sides: Sides, min_relative: float, min_points: int) -> Verdict | None:
    """The change between the two sides, or None when they do not differ enough."""
    # the level before is the yardstick (noise included): it needs more points than after
    if sides.n_before < 3 * min_points or sides.n_after < min_points:
        return None
    return _level(sides, min_relative) or _variance(sides, min_relative, min_points)


def _level(s: Sides, min_relative: float) -> Verdict | None:
    delta = s.after - s.before
    noise = max(s.sd_before, s.floor)
    # a few points after a change can look calm by chance: their noise is not taken as
    # smaller than the long stretch before showed
    after = max(s.sd_after, s.sd_before)
    error = max(math.sqrt(s.sd_before**2 / s.n_before + after**2 / s.n_after), s.floor)
    relative = delta / abs(s.before) if s.before else math.copysign(math.inf, delta)
    if abs(delta) / error < _MIN_T or abs(delta) / noise < _MIN_EFFECT:
        return None
    if abs(relative) < min_relative:
        return None
    return Verdict("level", abs(delta) / noise, relative)


def _variance(s: Sides, min_relative: float, min_points: int) -> Verdict | None:
    # a variance needs more points than a mean to be told apart from chance
    if min(s.n_before, s.n_after) < 4 * min_points or min(s.sd_before, s.sd_after) <= s.floor:
        return None
    ratio = s.sd_after / s.sd_before
    spread = math.sqrt(2 / (s.n_before - 1) + 2 / (s.n_after - 1))
    if abs(2 * math.log(ratio)) / spread < _MIN_LOG_RATIO_Z:
        return None
    if max(ratio, 1 / ratio) < _MIN_SD_RATIO or abs(ratio - 1) < min_relative:
        return None
    return Verdict("variance", max(ratio, 1 / ratio), ratio - 1)
