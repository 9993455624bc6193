"""A transfer efficiency whose level shifts at known times, so "What changed" has a story.

Every other demo signal is a pure function of the time and repeats each day; a daily habit is
what change detection must ignore. This one drops once, some hours before the demo started,
and recovers later: the overview's panel and the chart markers show both on first start.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .signals import rng, wave

#: when the efficiency drops and recovers, counted back from the demo's start
DROP_BEFORE_START = timedelta(hours=18)
RECOVERY_BEFORE_START = timedelta(hours=8)
NORMAL, DROPPED = 0.9, 0.5
#: the run-to-run noise, a few percent: the shift is many times larger
NOISE = 0.02


def efficiency_at(now: datetime, start: datetime) -> float:
    """The share of successful transfers at `now`, for a demo started at `start`."""
    low = start - DROP_BEFORE_START <= now < start - RECOVERY_BEFORE_START
    base = DROPPED if low else NORMAL
    value = base + rng(now, "efficiency").gauss(0.0, NOISE) + 0.005 * wave(now, 6)
    return min(max(value, 0.0), 1.0)


def efficiency_json(now: datetime, start: datetime) -> bytes:
    """The transfer service's summary, as its JSON endpoint gives it."""
    efficiency = efficiency_at(now, start)
    transfers = 400 + rng(now, "transfers").randrange(100)
    document = {
        "efficiency": round(efficiency, 6),
        "transfers": transfers,
        "failed": round(transfers * (1 - efficiency)),
    }
    return json.dumps(document).encode()
