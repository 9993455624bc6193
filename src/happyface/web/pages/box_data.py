"""The typed view data of a module's box, and of the short forms the lists show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..alarms.alarm_data import AlarmMark
from ..viewdata import StatusView
from .since import SinceView


@dataclass(frozen=True)
class BoxLink:
    """A link a module gives; `href` is empty when the URL is not safe to follow."""

    title: str
    url: str
    href: str


@dataclass(frozen=True)
class SourceRef:
    """One source a module reads; `href` as for BoxLink."""

    name: str
    url: str
    href: str


@dataclass(frozen=True)
class ArchiveFile:
    """One archived raw input of a module in a run."""

    name: str
    url: str


@dataclass(frozen=True)
class Timing:
    """Seconds a module spent fetching and reading its sources."""

    fetch: float
    extract: float


@dataclass(frozen=True)
class TableView:
    """One page of a detail table, with the counts to link the other pages."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    total: int
    page: int
    pages: int
    first_row: int
    more: int
    numeric: list[bool]


@dataclass(frozen=True)
class Reason:
    """A rule that fired: in words, and as the metric's value against the limit it crossed.

    `since` is the first run of the current streak in which the rule fired (the module page
    looks it up; None elsewhere), `since_before` that the streak began before the history read.
    """

    status: StatusView
    text: str
    metric: str
    unit: str
    value: float
    value_text: str
    threshold: float
    threshold_text: str
    relation: str
    since: datetime | None = None
    since_before: bool = False


@dataclass(frozen=True)
class ModuleBox:
    """One module at one run: status, message, instruction, details, sources, archive.

    `view` is what the type's detail template (`template`) reads; it belongs to the module
    type and is opaque here. `alarm` is set when the page's alarm marks are added.
    """

    id: str
    title: str
    type: str
    category: str
    kind: str
    status: StatusView
    troubled: bool
    withheld: bool
    message: str
    instruction: str
    instruction_prominent: bool
    description: str
    sources: list[SourceRef]
    url: str
    category_url: str
    time: datetime | None
    error: str
    links: list[BoxLink]
    tables: list[TableView]
    details: dict[str, Any]
    template: str | None
    view: object
    archive: list[ArchiveFile]
    metrics: dict[str, float]
    timing: Timing | None
    alarm: AlarmMark | None = None
    #: the rules that fired, worst first: what the box leads with
    reasons: list[Reason] = field(default_factory=list)
    #: what the message says besides the reasons (the module's own words), "" when nothing
    message_rest: str = ""
    since: SinceView | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Brief:
    """The few fields of a box the lists of modules show."""

    id: str
    title: str
    category: str
    status: StatusView
    message: str
    instruction: str
    url: str
    category_url: str
    kind: str
    #: since when the module shows its status; None when unknown
    since: SinceView | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Troubled(Brief):
    """A module that needs attention, in a category's jump list."""

    alarm: AlarmMark | None = None


@dataclass(frozen=True)
class OverviewTroubled(Brief):
    """A module that needs attention, in the overview's list, which names its category."""

    category_title: str
    alarm: AlarmMark | None = None
