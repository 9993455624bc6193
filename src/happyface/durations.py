"""Durations as the configuration writes them: 900, "15m", "30min", "1h30m", "2d"."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

# the longer units first, so that "30min" and "5ms" are not read as minutes and a rest
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|ms|d|h|m|s)")
_UNIT = {"d": 86400.0, "h": 3600.0, "min": 60.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string like "1h30m"; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as 900 or "15m", got a boolean')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f'{value!r} is not a duration; write e.g. 900, "90s", "15m", "1h30m"')
        seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    else:
        raise ValueError(f'expected a duration such as 900 or "15m", got {type(value).__name__}')
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
