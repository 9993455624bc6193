"""The typed view data of a plot: the same for the page, the JSON, the PNG and the SVG."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..viewdata import SiteRef
from .thresholds import Threshold


@dataclass(frozen=True)
class ChangeMark:
    """A detected change on a curve: where its marker goes and what it says on hover.

    `before` and `after` are levels (or spreads) in the curve's unit, as people read them.
    """

    at_ms: int
    kind: str  # level or variance
    direction: str  # rise or drop
    before: str
    after: str
    text: str  # "level drop 80 % → 40 %, since 12:15"


@dataclass(frozen=True)
class MetricCurve:
    """A metric's points as [t_ms, value, min, max], its unit and the limits rules set on it.

    Curves of one `axis` share a y-axis; curves of different units never do.
    """

    key: str
    module: str
    metric: str
    kind: Literal["metric"]
    points: list[tuple[int, float, float, float]]
    label: str
    unit: str = ""
    axis: str = ""
    thresholds: list[Threshold] = field(default_factory=list)
    changes: list[ChangeMark] = field(default_factory=list)


@dataclass(frozen=True)
class StatusCurve:
    """A module's status as segments [start_ms, end_ms, status]."""

    key: str
    module: str
    metric: str
    kind: Literal["status"]
    segments: list[tuple[int, int, str]]
    label: str


@dataclass(frozen=True)
class PlotLinks:
    page: str
    json: str
    png: str
    svg: str
    static: str


@dataclass(frozen=True)
class PlotView:
    """The curves over an interval; `from_` is "from" in JSON."""

    from_: str
    to: str
    from_ms: int
    to_ms: int
    from_text: str
    to_text: str
    curves: list[MetricCurve | StatusCurve]
    links: PlotLinks


@dataclass(frozen=True)
class Choice:
    """A curve one can add on the plot page; `metric` is its name within its module."""

    value: str
    label: str
    metric: str = ""


@dataclass(frozen=True)
class ChoiceGroup:
    """The curves of one module, grouped in the plot page's picker."""

    module: str
    title: str
    choices: list[Choice]


@dataclass(frozen=True)
class PlotPage(PlotView):
    """The plot page: the plot and the form to choose curves."""

    site: SiteRef
    choices: list[ChoiceGroup]
    selected: list[str]
