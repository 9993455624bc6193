"""The daily cycle of a series, so that a busy afternoon is not taken for a change.

The profile is the mean deviation per hour of the day (UTC) from the series' centred 24-hour
mean: a moving mean over a whole day holds no cycle, so what is left is the cycle (and noise),
and a change of level only disturbs the half day on each side of it. Only points with a whole
day around them count. The profile is used only when every hour has enough such points and
the cycle explains a real share of the variance: otherwise estimating 24 means would add
noise instead of removing it.
"""

from __future__ import annotations

import numpy as np

from .window import Floats

_DAY = 86400.0
_HOURS = 24
_MIN_PER_HOUR = 3
# the share of the variance the cycle must explain to be worth subtracting
_MIN_EXPLAINED = 0.15


def daily_profile(times: Floats, values: Floats, hours: np.ndarray) -> Floats | None:
    """The mean deviation per hour of the day; zeros when there is no cycle worth removing.

    None while there are too few points to tell: the series cannot be judged yet.
    """
    if len(times) < 2 or times[-1] - times[0] < 2 * _DAY:
        return None
    sums = np.concatenate(([0.0], np.cumsum(values)))
    low = np.searchsorted(times, times - _DAY / 2)
    high = np.searchsorted(times, times + _DAY / 2)
    whole = (times - _DAY / 2 >= times[0]) & (times + _DAY / 2 <= times[-1])
    residual = (values - (sums[high] - sums[low]) / (high - low))[whole]
    hours = hours[whole]
    counts = np.bincount(hours, minlength=_HOURS)
    if counts.min() < _MIN_PER_HOUR:
        return None
    profile = np.bincount(hours, weights=residual, minlength=_HOURS) / counts
    profile -= profile.mean()
    total = float(np.var(residual))
    if total <= 0 or float(np.var(profile[hours])) < _MIN_EXPLAINED * total:
        return np.zeros(_HOURS)
    result: Floats = profile
    return result
