"""The daily cycle of a series, so that a busy afternoon is not taken for a change.

The profile is the mean deviation per hour of the day (UTC) from the series' centred 24-hour
mean: a moving mean over a whole day holds no cycle, so what is left is the cycle (and noise),
and a change of level only disturbs the half day on each side of it. Only points with a whole
day around them count. A cycle is believed only when it repeats: the profiles of the even and
of the odd days must agree (a change of level, or one wild run, disturbs one day, not both),
and it must explain a real share of the variance; otherwise estimating 24 means would add
noise instead of removing it. So a series is judged once it has three days of history.
"""

from __future__ import annotations

import numpy as np

from .window import Floats

_DAY = 86400.0
_HOURS = 24
_MIN_PER_HOUR = 2
# the share of the variance the cycle must explain to be worth subtracting
_MIN_EXPLAINED = 0.15
# the correlation the even and the odd days' profiles must have to count as a cycle
_MIN_AGREEMENT = 0.5


def daily_profile(times: Floats, values: Floats, hours: np.ndarray) -> Floats | None:
    """The mean deviation per hour of the day; zeros when there is no cycle worth removing.

    None while there are too few points to tell: the series cannot be judged yet.
    """
    if len(times) < 2 or times[-1] - times[0] < 3 * _DAY:
        return None
    sums = np.concatenate(([0.0], np.cumsum(values)))
    low = np.searchsorted(times, times - _DAY / 2)
    high = np.searchsorted(times, times + _DAY / 2)
    whole = (times - _DAY / 2 >= times[0]) & (times + _DAY / 2 <= times[-1])
    residual = (values - (sums[high] - sums[low]) / (high - low))[whole]
    # one wild run must not become an hour's habit: residuals are clipped at 4 robust SDs
    # (a flat series has none, so its odd runs leave no cycle at all)
    spread = 4 * 1.4826 * float(np.median(np.abs(residual)))
    residual = np.clip(residual, -spread, spread)
    hours = hours[whole]
    odd = (times[whole] // _DAY).astype(np.intp) % 2 == 1
    halves = [_mean_by_hour(hours[side], residual[side]) for side in (odd, ~odd)]
    if any(h is None for h in halves):
        return None
    profile = _mean_by_hour(hours, residual)
    assert profile is not None and halves[0] is not None and halves[1] is not None
    total = float(np.var(residual))
    if total <= 0 or float(np.var(profile[hours])) < _MIN_EXPLAINED * total:
        return np.zeros(_HOURS)
    if not _agree(halves[0], halves[1]):
        return np.zeros(_HOURS)
    result: Floats = profile
    return result


def _mean_by_hour(hours: np.ndarray, residual: Floats) -> Floats | None:
    """The mean residual per hour of the day, centred; None when an hour has too few."""
    counts = np.bincount(hours, minlength=_HOURS)
    if counts.min() < _MIN_PER_HOUR:
        return None
    means: Floats = np.bincount(hours, weights=residual, minlength=_HOURS) / counts
    return means - means.mean()


def _agree(first: Floats, second: Floats) -> bool:
    """True when two days' profiles have the same shape (a flat one has none)."""
    if float(np.std(first)) == 0 or float(np.std(second)) == 0:
        return False
    return float(np.corrcoef(first, second)[0, 1]) >= _MIN_AGREEMENT
