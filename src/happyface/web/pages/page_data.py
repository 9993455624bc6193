"""The typed view data of the dashboard pages: overview, category, module and matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..alarms.alarm_data import AlarmMark
from ..viewdata import StatusView
from ..viewframe import Frame
from .box_data import Brief, ModuleBox, OverviewTroubled, Troubled
from .change_data import ChangeItem
from .since import SinceView
from .source_data import SourceLink, SourceNotice, SourceView


@dataclass(frozen=True)
class CategoryCard:
    """A category on the overview: its status, the count of each status, its modules."""

    id: str
    title: str
    description: str
    status: StatusView
    url: str
    counts: list[tuple[str, int]]
    modules: list[Brief]
    alarm: AlarmMark | None = None
    since: SinceView | None = None


@dataclass(frozen=True)
class OverviewView(Frame):
    """Every category with its status, and the troubled modules first."""

    categories: list[CategoryCard]
    troubled: list[OverviewTroubled]
    source_notices: list[SourceNotice] = field(default_factory=list)
    changes: list[ChangeItem] = field(default_factory=list)


@dataclass(frozen=True)
class CategoryHead:
    """The category a category page shows."""

    id: str
    title: str
    description: str
    algorithm: str
    status: StatusView
    alarm: AlarmMark | None = None
    since: SinceView | None = None


@dataclass(frozen=True)
class CategoryView(Frame):
    """A category's modules as boxes, and the troubled ones to jump to."""

    category: CategoryHead
    modules: list[ModuleBox]
    troubled: list[Troubled]


@dataclass(frozen=True)
class IntervalView:
    """The interval a module page shows history for; `from_` is "from" in JSON."""

    from_: datetime
    to: datetime
    from_text: str
    to_text: str


@dataclass(frozen=True)
class Segment:
    """A stretch of one status on the timeline, placed in percent of its width."""

    x: float
    width: float
    from_: datetime
    to: datetime
    status: StatusView
    level: int


@dataclass(frozen=True)
class Share:
    """How much of the interval one status held, in percent."""

    status: StatusView
    percent: float


@dataclass(frozen=True)
class Timeline:
    segments: list[Segment]
    counts: list[Share]


@dataclass(frozen=True)
class Chart:
    """A metric's plot links; for a metric a rule fired on, the reason and since when."""

    metric: str
    page: str
    json: str
    png: str
    reason: str = ""
    status: str = ""
    since: datetime | None = None


@dataclass(frozen=True)
class ValueRow:
    """One metric of the shown result, in its unit; `fired` is the status a rule gave it."""

    metric: str
    value: float
    text: str
    unit: str
    fired: str
    limit: str
    plot: str


@dataclass(frozen=True)
class Charts:
    """The metrics drawn on the page, the others linked, and the status plot."""

    shown: list[Chart]
    more: list[Chart]
    status_plot: str


@dataclass(frozen=True)
class HistoryEntry:
    """Earlier results of the module: one run, or consecutive runs with the same status and
    message (`runs` of them, from `time` to `until`; the link opens the newest)."""

    time: datetime
    status: StatusView
    message: str
    error: str
    url: str
    until: datetime | None = None
    runs: int = 1


@dataclass(frozen=True)
class PageLinks:
    """Previous and next page of a paginated table; empty where there is none."""

    previous: str
    next: str


@dataclass(frozen=True)
class ModuleView(Frame):
    """One module at one run: its box, status timeline, metric charts and history."""

    module: ModuleBox
    interval: IntervalView
    timeline: Timeline
    charts: Charts
    history: list[HistoryEntry]
    table_links: dict[str, PageLinks]
    source_links: list[SourceLink] = field(default_factory=list)
    #: the result's metrics in their units, those a rule fired on first
    values: list[ValueRow] = field(default_factory=list)
    changes: list[ChangeItem] = field(default_factory=list)


#: the pages built per run and marked with the alarm state (handlers.PAGES)
DashboardView = OverviewView | CategoryView | ModuleView | SourceView


@dataclass(frozen=True)
class MatrixCell:
    """One instance's status for one common column."""

    status: StatusView
    url: str
    title: str


@dataclass(frozen=True)
class MatrixRow:
    """One watched instance: whether it could be read, and its cells."""

    id: str
    title: str
    url: str
    module_url: str
    state: str
    status: StatusView
    reason: str
    age: float | None
    cells: list[MatrixCell]


@dataclass(frozen=True)
class MatrixView(Frame):
    """Rows of instances, columns of common category names, a status in every cell."""

    columns: list[str]
    rows: list[MatrixRow]
