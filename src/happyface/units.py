"""Units of metrics: the small vocabulary modules declare, and numbers written for people.

A module type says what its metrics measure (`metric_units`, globs allowed); messages, tables,
charts and the API then write `1.5 TB`, `2 h 10 min`, `54 %` or `9,164` instead of
`1.50e+13`. The stored values stay in the unit's base (bytes, seconds, a 0–1 fraction).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase

#: the units a metric may declare, with what they mean
UNITS: dict[str, str] = {
    "count": "a number of things: 9,164",
    "bytes": "an amount of data, shown as 1.5 TB (powers of 1000)",
    "seconds": "a duration, shown as 2 h 10 min",
    "hours": "a duration given in hours, shown as 2 h 10 min",
    "days": "a duration given in days, shown as 3 d 4 h",
    "fraction": "a share from 0 to 1, shown as 54 %",
    "percent": "a share from 0 to 100, shown as 54 %",
    "bytes/s": "a data rate, shown as 120 MB/s",
}
#: besides those, any `<things>/s` is a rate: `jobs/s`, `files/s`, `requests/s`
_RATE = re.compile(r"^[a-z][a-z_]{0,30}/s$")
_BYTE_PREFIXES = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_DURATION_PARTS = (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0))
_TO_SECONDS = {"seconds": 1.0, "hours": 3600.0, "days": 86400.0}
#: significant digits a plain number shows at the least detail
BASE_DIGITS = 3
#: beyond this much detail a float has nothing more to show
MAX_DETAIL = 14


def is_unit(text: str) -> bool:
    """Whether `text` is a unit of the vocabulary (or a `<things>/s` rate)."""
    return text in UNITS or bool(_RATE.match(text))


def unit_problem(text: str) -> str | None:
    """Why `text` is no unit, or None when it is one."""
    if is_unit(text):
        return None
    known = ", ".join(UNITS)
    return f"unknown unit {text!r}; use one of {known}, or a rate such as jobs/s"


def axis_of(unit: str) -> str:
    """The y-axis a unit is drawn on: durations share one, a fraction and a percent too."""
    if unit in _TO_SECONDS:
        return "seconds"
    return "percent" if unit == "fraction" else unit


def axis_scale(unit: str) -> float:
    """The factor from a unit to its axis' (`axis_of`): hours to seconds, a fraction to %."""
    return 100.0 if unit == "fraction" else _TO_SECONDS.get(unit, 1.0)


def unit_of(metric: str, declared: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """The unit of a metric from (pattern, unit) declarations, the first match winning; "" none."""
    pairs = declared.items() if isinstance(declared, Mapping) else declared
    return next((unit for pattern, unit in pairs if fnmatchcase(metric, pattern)), "")


def humanise(value: float, unit: str = "", detail: int = 0) -> str:
    """A number as a person reads it in its unit; more `detail` shows more digits."""
    if not math.isfinite(value):
        return str(value)
    if unit in ("bytes", "bytes/s"):
        return _bytes(value, detail) + ("/s" if unit == "bytes/s" else "")
    if unit in _TO_SECONDS:
        return duration(value * _TO_SECONDS[unit], detail)
    if unit == "fraction":
        return _percent(value * 100, detail)
    if unit == "percent":
        return _percent(value, detail)
    text = plain(value, BASE_DIGITS + detail)
    return f"{text} {unit}" if _RATE.match(unit) else text


def distinct(values: Sequence[float], unit: str = "") -> list[str]:
    """The values written with the least detail at which unequal neighbours read differently.

    "30 % > 30 %" or ticks "0.05 0.05 0.05" say nothing; this adds digits until they differ.
    """
    for detail in range(MAX_DETAIL + 1):
        texts = [humanise(v, unit, detail) for v in values]
        pairs = zip(texts, values, strict=True)
        if all(a != b or x == y for (a, x), (b, y) in itertools.pairwise(pairs)):
            return texts
    return texts


def plain(value: float, digits: int = BASE_DIGITS) -> str:
    """A number with `digits` significant digits (and all whole ones), grouped, no exponent."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def duration(seconds: float, detail: int = 0) -> str:
    """Seconds as `2 h 10 min`, `45 s` or `250 ms`: the two largest parts, more with detail."""
    if seconds < 0:
        return "−" + duration(-seconds, detail)
    if seconds < 1:
        return f"{plain(seconds * 1000, BASE_DIGITS + detail)} ms" if seconds else "0 s"
    if seconds < 60:
        return f"{plain(seconds, 2 + detail)} s"
    shown = 2 + detail
    first = next(i for i, (_, size) in enumerate(_DURATION_PARTS) if seconds >= size)
    parts = _DURATION_PARTS[first : first + shown]
    smallest = parts[-1][1]
    if len(parts) < shown:  # more detail than whole seconds: seconds with decimals
        rest = seconds - math.floor(seconds / 60) * 60
        whole = _split(seconds - rest, parts[:-1])
        return " ".join([*whole, f"{plain(rest, 2 + detail)} s"] if rest else whole)
    return " ".join(_split(round(seconds / smallest) * smallest, parts)) or "0 s"


def _split(seconds: float, parts: Sequence[tuple[str, float]]) -> list[str]:
    out = []
    for name, size in parts:
        count = math.floor(seconds / size + 1e-9)
        seconds -= count * size
        if count:
            out.append(f"{count} {name}")
    return out


def _bytes(value: float, detail: int) -> str:
    power = 0
    while abs(value) >= 1000 and power < len(_BYTE_PREFIXES) - 1:
        value /= 1000
        power += 1
    return f"{plain(value, 2 + detail if power else BASE_DIGITS + detail)} {_BYTE_PREFIXES[power]}"


def _percent(value: float, detail: int) -> str:
    """54 %, 0.4 %, 54.3 % with detail: whole percents unless the value is smaller."""
    if value == 0:
        return "0 %"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(detail, -magnitude if magnitude < 0 else 0)
    text = f"{value:,.{decimals}f}"
    return f"{text} %"
