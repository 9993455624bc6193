"""Helpers every built-in module type shares: reading an input safely, names, times, numbers."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from ..errors import ExtractError
from ..sources import Inputs, RawInput

#: the largest input a module parses; the fetcher caps sources too, but files and uploads
#: may bypass it, and parsing a document costs several times its size in memory
MAX_INPUT_BYTES = 32 * 1024 * 1024

_BAD_METRIC_CHARS = re.compile(r"[^A-Za-z0-9_.:/-]")
_METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$")


def read_input(inputs: Inputs, name: str = "main", max_bytes: int = MAX_INPUT_BYTES) -> RawInput:
    """The named input, refused with a readable ExtractError when missing, empty or too large."""
    raw = inputs.get(name)
    if raw is None:
        raise ExtractError(f"no input named {name!r} was fetched")
    size = len(raw.content)
    if size > max_bytes:
        raise ExtractError(
            f"input {name!r} is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.0f} MB "
            "a module parses; fix the producer or point the source at a smaller document"
        )
    if not raw.content.strip():
        raise ExtractError(f"input {name!r} is empty")
    return raw


def load_json(raw: RawInput) -> Any:
    """The input parsed as JSON; garbage, truncation or absurd nesting is an ExtractError."""
    try:
        return json.loads(raw.content)
    except RecursionError as exc:
        raise ExtractError("the JSON input is nested too deeply to read") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExtractError(f"the input is not valid JSON: {_first_line(exc)}") from exc


def json_shape(data: Any) -> str:
    """A few words on what a JSON document is, for a FormatError's "found ..." part."""
    if isinstance(data, dict):
        return f"an object with keys {', '.join(sorted(map(str, data))[:8]) or '(none)'}"
    return f"a JSON {type(data).__name__}"


def metric_name(*parts: str) -> str:
    """A valid metric name from free-form parts: odd characters become `_`."""
    name = ".".join(_BAD_METRIC_CHARS.sub("_", p) for p in parts)[:128]
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"[:128]


def to_float(value: Any) -> float | None:
    """A finite float from a number or numeric text; None when it is anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, dict):
        # Slurm wraps numbers as {"set": true, "infinite": false, "number": N}
        if not value.get("set", True) or value.get("infinite"):
            return None
        return to_float(value.get("number"))
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from epoch seconds, ISO 8601 or "YYYY-MM-DD HH:MM[:SS]" (naive is UTC)."""
    number = to_float(value)
    if number is not None:
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_hours(then: datetime, now: datetime) -> float:
    """Hours from `then` to `now`, treating a naive `now` as UTC."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now - then).total_seconds() / 3600.0


def checked_regex(pattern: str | None) -> str | None:
    """The pattern itself when it compiles (a settings validator); ValueError otherwise."""
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    return pattern


def checked_metric(name: str) -> str:
    """The name itself when it is a valid metric name (a settings validator); ValueError if not."""
    if not _METRIC_NAME.match(name):
        raise ValueError(f"{name!r} is not a metric name (letters, digits, _.:/-)")
    return name


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
