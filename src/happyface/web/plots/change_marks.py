"""The changes a chart marks on a metric curve: read from the store, written in the curve's unit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ...instants import Interval
from ..pages.change_data import level_text
from .plot_data import ChangeMark

if TYPE_CHECKING:
    from ...storage.changes import ChangePoint
    from ..access import ScopedStore

#: a chart marks at most this many changes of a curve, the newest
MAX_MARKS = 200


def change_marks(
    store: ScopedStore, module: str, metric: str, interval: Interval, unit: str
) -> list[ChangeMark]:
    """The stored changes of the series in the interval, oldest first, as the viewer may see."""
    found = store.changes(interval.start, interval.end, [module], metric, limit=MAX_MARKS)
    return [mark_of(c, unit, interval.end) for c in reversed(found)]


def mark_of(change: ChangePoint, unit: str, end: datetime) -> ChangeMark:
    spread = change.kind == "variance"
    before = level_text(change, change.sd_before if spread else change.before, unit)
    after = level_text(change, change.sd_after if spread else change.after, unit)
    what = "spread" if spread else "level"
    return ChangeMark(
        at_ms=int(change.at.timestamp() * 1000),
        kind=change.kind,
        direction=change.direction,
        before=before,
        after=after,
        text=f"{what} {change.direction} {before} → {after}, since {_since(change.at, end)}",
    )


def _since(at: datetime, end: datetime) -> str:
    """The change's time: the clock alone on the interval's last day, else with the date."""
    return f"{at:%H:%M}" if at.date() == end.date() else f"{at:%Y-%m-%d %H:%M}"
