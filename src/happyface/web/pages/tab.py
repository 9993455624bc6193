"""The browser tab's mark on pages without the category navigation.

The overview, category, module, source and matrix pages derive the tab's title mark and
favicon from their navigation. Every other page (plot, alarms, downtimes, handover, errors)
asks here for the same statuses: those of the newest run's categories the viewer sees.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING

from ...status import Status
from ..viewdata import StatusView
from .module_boxes import status_view
from .views import ViewContext, categories_of, snapshot_of

if TYPE_CHECKING:
    from ...storage import RunInfo


def tab_statuses(ctx: ViewContext, run: RunInfo | None) -> list[StatusView]:
    """Each category's status at `run`, as the navigation shows it; none before the first run."""
    if run is None:
        return []
    statuses = ctx.store.category_statuses(run.id)
    categories = categories_of(snapshot_of(ctx, run.id))
    return [status_view(statuses.get(c["id"], Status.NOINFO)) for c in categories]


class TabCache:
    """Tab statuses kept per (run, group set): a run's statuses never change once written."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, list[StatusView]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> list[StatusView] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, statuses: list[StatusView]) -> None:
        with self._lock:
            self._items[key] = statuses
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
