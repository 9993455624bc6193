"""Deterministic "live" numbers: smooth waves over the day plus seeded noise per 15-minute slot.

Every value is a pure function of the time, so a demo run at a given minute always sees the same
site, every minute sees slightly different numbers, and tests can fix the clock.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import datetime

SLOT_SECONDS = 900


def slot(now: datetime) -> int:
    """The index of the 15-minute slot `now` falls in."""
    return int(now.timestamp() // SLOT_SECONDS)


def rng(now: datetime, *key: object) -> random.Random:
    """A random generator seeded by the slot and a key: stable within a slot, new in the next."""
    text = "/".join(str(k) for k in (slot(now), *key))
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def wave(now: datetime, period_hours: float, phase: float = 0.0) -> float:
    """A sine between -1 and 1 with this period; it moves a little every minute."""
    return math.sin(2 * math.pi * (now.timestamp() / 3600 / period_hours + phase))


def level(now: datetime, base: float, swing: float, period_hours: float, *key: object) -> float:
    """`base` moved by a wave of relative size `swing` and a few percent of per-slot noise."""
    noise = rng(now, "level", *key).uniform(-0.05, 0.05)
    return max(base * (1 + swing * wave(now, period_hours, _phase(key)) + noise), 0.0)


def _phase(key: tuple[object, ...]) -> float:
    digest = hashlib.sha256("/".join(map(str, key)).encode()).digest()
    return digest[0] / 255
