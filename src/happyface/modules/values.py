"""What `json_value` and `xml_value` share: turning matched values into one number per metric."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from ..errors import FormatError
from ..module import ModuleSettings
from ..result import Result, Table
from ..units import humanise, unit_of, unit_problem
from .common import to_float

Aggregate = Literal["first", "sum", "min", "max", "count"]

_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "first": lambda xs: xs[0],
    "sum": sum,
    "min": min,
    "max": max,
}


class ValueSettings(ModuleSettings):
    """Settings both value types have: how several matches become one number."""

    aggregate: Aggregate = Field(
        "first",
        description="how several matches of one expression become a number: first, sum, min, "
        "max, or count (the number of matches)",
    )
    units: dict[str, str] = Field(
        default_factory=dict,
        description='metric name (or glob) -> unit, e.g. {hit_ratio = "fraction", '
        'free = "bytes"}: values and reasons are written as 75 % or 1.5 TB',
    )

    @field_validator("units")
    @classmethod
    def _known_units(cls, units: dict[str, str]) -> dict[str, str]:
        return known_units(units)


def known_units(units: dict[str, str]) -> dict[str, str]:
    """`units` (metric name or glob -> unit), or a ValueError naming a unit not known."""
    for name, unit in units.items():
        problem = unit_problem(unit)
        if problem:
            raise ValueError(f"metric {name!r}: {problem}")
    return units


def number(value: Any) -> float | None:
    """A number from a matched value: numbers, numeric text, booleans (1/0); None otherwise."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return to_float(value)


def combine(matches: list[Any], aggregate: str) -> tuple[float | None, str]:
    """The metric value of a list of matches, or None and the reason there is none."""
    if aggregate == "count":
        return float(len(matches)), ""
    if not matches:
        return None, "no match"
    numbers = [n for n in (number(m) for m in matches) if n is not None]
    if not numbers:
        return None, f"not a number: {str(matches[0])[:60]!r}"
    return _AGGREGATES[aggregate](numbers), ""


def value_result(
    found: Iterable[tuple[str, str, float | None, str]],
    what: str,
    units: Mapping[str, str] | None = None,
) -> Result:
    """A Result of metrics (name, expression, value, problem), the problems in the message.

    A value some expressions miss is left to the rules; a document in which not one finds a
    value is not the document the settings describe, and a FormatError.
    """
    rows = list(found)
    metrics = {name: value for name, _, value, _ in rows if value is not None}
    problems = [f"{name}: {problem} for {expr!r}" for name, expr, _, problem in rows if problem]
    if rows and not metrics:
        raise FormatError(
            f"a document in which the {what} expressions find numbers",
            f"none of {len(rows)} does ({'; '.join(problems[:3])[:300]})",
        )
    message = "; ".join(problems) or ", ".join(
        f"{n} {humanise(v, unit_of(n, units or {}))}" for n, v in metrics.items()
    )
    table = Table(
        name="values",
        columns=("metric", what, "value", "problem"),
        rows=tuple(
            (n, e, None if v is None else humanise(v, unit_of(n, units or {})), p or None)
            for n, e, v, p in rows
        ),
        title="Values",
    )
    return Result(message=message, metrics=metrics, tables=(table,), details={"problems": problems})
