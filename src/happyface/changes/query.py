"""Reading stored changes for what shows them: panels, the API, the handover digest."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from ..storage.changes import ChangePoint

#: a change shown with the chart zoomed on it: this much before and after
ZOOM = timedelta(days=1)
#: what "recent" means for the overview's panel and /metrics
RECENT = timedelta(hours=24)


class ChangeReader(Protocol):
    """A store, or a viewer's scoped store: anything that reads changes."""

    def changes(
        self,
        since: datetime,
        until: datetime,
        module_ids: Collection[str] | None = None,
        metric: str | None = None,
        limit: int = 1000,
    ) -> list[ChangePoint]: ...


def changes_between(
    store: ChangeReader,
    since: datetime,
    until: datetime,
    scope: Collection[str] | None = None,
) -> list[ChangePoint]:
    """The changes that happened in [since, until] of the modules in `scope` (None: all).

    Newest first; through a scoped store, only modules the viewer sees in full.
    """
    return store.changes(since, until, scope)


def most_significant(changes: Sequence[ChangePoint], count: int) -> list[ChangePoint]:
    """The `count` largest changes, largest first (newest first among equals)."""
    ranked = sorted(changes, key=lambda c: (c.significance, c.at), reverse=True)
    return ranked[:count]


def series_label(metric: str) -> str:
    """How a series is named to people: the status series is 'status'."""
    return "status" if metric == "@status" else metric


def curve_of(module_id: str, metric: str) -> str:
    """The plot's curve name (`m=`) of a series."""
    return f"{module_id}:{series_label(metric)}"
