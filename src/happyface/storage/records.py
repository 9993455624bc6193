"""The records the storage layer takes and gives back, and how their values are encoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from ..result import Link, Result, Table
from ..status import Status

#: where time is counted from: rollup buckets, packed days and run starts in packed days
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: the smallest step of a time; the end of a half-open range made inclusive
INSTANT = timedelta(microseconds=1)

RunState = Literal["running", "ok", "failed"]

# A scheduled run normally starts within moments of its slot; one started later than this was
# run late (at a takeover after a crash, or at a restart), which a reader may want to know.
LATE_AFTER = 5.0

# Statuses are stored as small integers; the codes are part of the schema, never renumber them.
STATUS_CODES: dict[Status, int] = {
    Status.HAPPY: 0,
    Status.NEUTRAL: 1,
    Status.UNHAPPY: 2,
    Status.NOINFO: 3,
    Status.ERROR: 4,
}
STATUS_OF_CODE: dict[int, Status] = {code: status for status, code in STATUS_CODES.items()}


@dataclass(frozen=True)
class ModuleRecord:
    """One module's outcome in a run, as the acquisition hands it to `Store.finish_run`."""

    module_id: str
    category_id: str
    status: Status
    message: str
    result: Result
    archive: str | None = None
    fetch_seconds: float = 0.0
    extract_seconds: float = 0.0
    error: str = ""
    #: why the extract could not understand its inputs (a format or parse error); "" otherwise
    format_error: str = ""


@dataclass(frozen=True)
class RunInfo:
    """One acquisition run: when it ran, and whether its results are visible."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    state: RunState
    error: str
    #: the scheduled time the run is for; None for a run started by hand (`happyface acquire`)
    slot: datetime | None = None

    @property
    def late(self) -> bool:
        """True when a scheduled run started well after its slot (a takeover or a restart)."""
        if self.slot is None:
            return False
        return (self.started_at - self.slot).total_seconds() > LATE_AFTER

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or None while it has not finished."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class ResultRow:
    """A stored result of one module in one run, as web pages, the API and alarms read it."""

    run_id: int
    module_id: str
    category_id: str
    time: datetime
    status: Status
    message: str
    metrics: dict[str, float] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    archive: str | None = None
    fetch_seconds: float = 0.0
    extract_seconds: float = 0.0
    error: str = ""


class Point(NamedTuple):
    """One point of a metric curve; for a rollup `value` is the mean of the bucket.

    A named tuple, not a frozen dataclass: a 30-day curve builds 2,880 of them, and a frozen
    dataclass took 4 µs each to build (a third of the curve), a tuple a tenth of that.
    """

    t: datetime
    value: float
    min: float
    max: float


def utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def details_payload(result: Result) -> dict[str, Any]:
    """The JSON document a result's tables, links and details are stored as.

    Not its metrics: those are stored as packed samples (see packing.py).
    """
    payload: dict[str, Any] = {}
    if result.tables:
        payload["tables"] = [t.to_json() for t in result.tables]
    if result.links:
        payload["links"] = [[link.title, link.url] for link in result.links]
    if result.details:
        payload["details"] = dict(result.details)
    return payload


def tables_from_json(items: list[dict[str, Any]]) -> list[Table]:
    """Tables back from their stored JSON form."""
    return [
        Table(
            name=t["name"],
            columns=tuple(t["columns"]),
            rows=tuple(tuple(r) for r in t["rows"]),
            title=t.get("title", ""),
        )
        for t in items
    ]


def links_from_json(items: list[list[str]]) -> list[Link]:
    """Links back from their stored `[title, url]` pairs."""
    return [Link(title=title, url=url) for title, url in items]
