"""A module's history table: consecutive runs with the same status and message in one row.

A module that says the same thing for hours fills no page with copies of it: "14:00–15:45,
8 runs" is one row, and a change of status or message starts the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from .module_boxes import status_view
from .page_data import HistoryEntry

if TYPE_CHECKING:
    from ...storage import ResultRow
    from .views import ViewContext

#: runs read for the table (a bounded query) and rows shown after collapsing them
HISTORY_RUNS = 500
HISTORY_ROWS = 50


def collapsed_history(
    ctx: ViewContext, module_id: str, start: datetime, end: datetime
) -> list[HistoryEntry]:
    """The newest runs of the interval, newest first, repeated results collapsed."""
    rows = ctx.store.module_history(module_id, start, end, limit=HISTORY_RUNS)
    return collapse(rows, lambda t: ctx.urls.module(module_id, t))[:HISTORY_ROWS]


def collapse(rows: Sequence[ResultRow], url_of: Callable[[datetime], str]) -> list[HistoryEntry]:
    """Rows newest first, each stretch of equal status, message and error as one entry."""
    entries: list[HistoryEntry] = []
    newest: ResultRow | None = None
    oldest: ResultRow | None = None
    count = 0
    for row in sorted(rows, key=lambda r: r.time, reverse=True):
        if newest is not None and oldest is not None and _same(row, newest):
            oldest, count = row, count + 1
            continue
        if newest is not None and oldest is not None:
            entries.append(_entry(newest, oldest, count, url_of))
        newest, oldest, count = row, row, 1
    if newest is not None and oldest is not None:
        entries.append(_entry(newest, oldest, count, url_of))
    return entries


def _same(a: ResultRow, b: ResultRow) -> bool:
    return (a.status, a.message, a.error) == (b.status, b.message, b.error)


def _entry(
    newest: ResultRow, oldest: ResultRow, count: int, url_of: Callable[[datetime], str]
) -> HistoryEntry:
    return HistoryEntry(
        time=oldest.time,
        status=status_view(newest.status),
        message=newest.message,
        error=newest.error,
        url=url_of(newest.time),
        until=newest.time if count > 1 else None,
        runs=count,
    )
