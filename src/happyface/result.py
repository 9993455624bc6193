"""What a module's extract returns: an immutable, validated record of one observation."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .status import Status

Cell = str | int | float | bool | None

_METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$")


@dataclass(frozen=True)
class Link:
    """A link shown with a module: the source page, a wiki, a ticket."""

    title: str
    url: str


@dataclass(frozen=True)
class Table:
    """A detail table shown to admins: named columns and rows of plain cells."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(tuple(r) for r in self.rows))
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(
                    f"table {self.name!r}: row {i} has {len(row)} cells, expected {width}"
                )

    @classmethod
    def from_dicts(cls, name: str, records: Sequence[Mapping[str, Cell]], title: str = "") -> Table:
        """A table whose columns are the keys of the first record, in order."""
        columns = tuple(records[0]) if records else ()
        rows = tuple(tuple(r.get(c) for c in columns) for r in records)
        return cls(name=name, columns=columns, rows=rows, title=title)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
        }


@dataclass(frozen=True)
class Result:
    """One module's observation at one run.

    `status` may be left None: the module's rules (or, failing those, happy) decide it.
    `metrics` are the numbers kept as history and plotted; `details` is JSON for the
    module type's own detail view.
    """

    status: Status | None = None
    message: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    tables: tuple[Table, ...] = ()
    links: tuple[Link, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    #: the time the input itself claims (its generation or update time), where its format
    #: carries one; the source is stale when that is too old. The oldest, for several inputs.
    source_time: datetime | None = None

    def __post_init__(self) -> None:
        if self.source_time is not None and self.source_time.tzinfo is None:
            raise ValueError("source_time must carry its time zone (e.g. tzinfo=UTC)")
        if self.status is not None and not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "metrics", MappingProxyType(_checked_metrics(self.metrics)))
        object.__setattr__(self, "tables", tuple(self.tables))
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @classmethod
    def error(cls, message: str) -> Result:
        """A failed observation: fetching or understanding the inputs went wrong."""
        return cls(status=Status.ERROR, message=message)


def _checked_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    checked: dict[str, float] = {}
    for name, value in metrics.items():
        if not _METRIC_NAME.match(name):
            raise ValueError(f"metric name {name!r} is not a valid name (letters, digits, _.:/-)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"metric {name!r} is {type(value).__name__}, expected a number")
        if math.isnan(value) or math.isinf(value):
            continue  # a missing measurement is no sample, not a poisoned curve
        checked[name] = float(value)
    return checked
