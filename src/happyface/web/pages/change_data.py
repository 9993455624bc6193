"""The "What changed" panel: stored changes as the overview and a module page show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...changes.query import RECENT, ZOOM, curve_of, most_significant, series_label
from ...units import humanise, plain
from ..plots.thresholds import metric_unit

if TYPE_CHECKING:
    from ...config.site import Site
    from ...storage.changes import ChangePoint
    from ...storage.records import RunInfo
    from ..urls import Urls
    from .views import ViewContext

#: the overview lists this many changes of the last day, the largest first
OVERVIEW_COUNT = 10
#: a module page lists its changes of this long before the shown run
MODULE_SPAN = timedelta(days=30)


@dataclass(frozen=True)
class ChangeItem:
    """One change as a line of the panel."""

    module: str
    metric: str
    at: datetime
    kind: str
    direction: str
    before: str
    after: str
    relative: str
    plot: str


def overview_changes(ctx: ViewContext, run: RunInfo) -> list[ChangeItem]:
    """The most significant changes site-wide in the day before the run."""
    found = ctx.store.changes(run.started_at - RECENT, run.started_at)
    return [change_item(ctx.site, ctx.urls, c) for c in most_significant(found, OVERVIEW_COUNT)]


def module_changes(ctx: ViewContext, run: RunInfo, module_id: str) -> list[ChangeItem]:
    """The module's changes in the 30 days before the run, newest first."""
    found = ctx.store.changes(run.started_at - MODULE_SPAN, run.started_at, [module_id])
    return [change_item(ctx.site, ctx.urls, c) for c in found]


def level_text(change: ChangePoint, value: float, unit: str) -> str:
    """A level (or spread) of the series in the metric's unit; a counter's rate per hour."""
    if change.measure == "rate":
        return f"{plain(value)}/h"
    return humanise(value, unit)


def change_item(site: Site, urls: Urls, change: ChangePoint) -> ChangeItem:
    """A change as a panel, the digest and the API's page show it: levels in the metric's unit."""
    spread = change.kind == "variance"
    status = change.metric.startswith("@")  # the status series has no unit
    unit = "" if status else metric_unit(site, change.module_id, change.metric)
    before = change.sd_before if spread else change.before
    after = change.sd_after if spread else change.after
    start = (change.at - ZOOM).isoformat(timespec="minutes")
    end = (change.at + ZOOM).isoformat(timespec="minutes")
    return ChangeItem(
        module=change.module_id,
        metric=series_label(change.metric) + (" (spread)" if spread else ""),
        at=change.at,
        kind=change.kind,
        direction=change.direction,
        before=level_text(change, before, unit),
        after=level_text(change, after, unit),
        relative=f"{change.relative:+.0%}" if abs(change.relative) < 1e6 else "",
        plot=urls.plot([curve_of(change.module_id, change.metric)], start, end),
    )
