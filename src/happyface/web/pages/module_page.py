"""The view data of a module's page: everything about one module, for admins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ...status import Status
from ..errors import bad_parameter
from ..plots.curves import AskedInterval, iso_second, parse_interval, status_segments
from ..viewdata import fields_of
from .box_data import TableView
from .change_data import module_changes
from .details import view_of
from .module_boxes import module_box, status_view, table_view
from .page_data import (
    Chart,
    Charts,
    HistoryEntry,
    IntervalView,
    ModuleView,
    PageLinks,
    Segment,
    Share,
    Timeline,
)
from .source_page import module_sources
from .timemachine import Moment
from .views import ViewContext, frame, modules_of, snapshot_of, unknown_at_run

TABLE_ROWS = 100
HISTORY_ROWS = 50
MAX_CHARTS = 8


def module_view(
    ctx: ViewContext, moment: Moment, module_id: str, params: Mapping[str, str]
) -> ModuleView:
    """One module at one run: box, status timeline, metric charts, tables and history."""
    run = moment.run
    at = None if moment.live else run.started_at
    snapshot = snapshot_of(ctx, run.id)
    meta = next((m for m in modules_of(snapshot, None) if m["id"] == module_id), None)
    if meta is None:
        raise unknown_at_run(ctx, snapshot, "module", module_id)
    row = ctx.store.result(run.id, module_id)
    box = module_box(meta, row, ctx.boxes, run.id, at, table_rows=None, params=params)
    page, table_name = _page(params)
    # the type's view may narrow its tables by its own query parameters (the jobs filter)
    detail = view_of(box)
    if row is not None:
        tables = [
            table_view(t, page if t.name == table_name else 1, TABLE_ROWS)
            for t in detail.tables(row.tables)
        ]
        box = replace(box, tables=tables)
    # relative times count back from the shown run, so a past page keeps its meaning
    interval = parse_interval(
        params.get("from", ""), params.get("to", ""), run.started_at, default_from="-1d"
    )
    return ModuleView(
        **fields_of(frame(ctx, moment, snapshot, "module", module_id)),
        module=box,
        source_links=module_sources(ctx, run.id, module_id, at),
        interval=IntervalView(
            from_=interval.start,
            to=interval.end,
            from_text=interval.start_text,
            to_text=interval.end_text,
        ),
        timeline=_timeline(ctx, module_id, interval),
        charts=_charts(ctx, module_id, interval),
        history=_history(ctx, module_id, interval),
        table_links=_table_links(ctx, module_id, at, box.tables, detail.query()),
        changes=module_changes(ctx, run, module_id),
    )


def _page(params: Mapping[str, str]) -> tuple[int, str]:
    text = params.get("page", "1")
    if not text.isdigit() or not 0 < int(text) < 10**6:
        raise bad_parameter("page", text, "a page number such as 2")
    return int(text), params.get("table", "")


def _timeline(ctx: ViewContext, module_id: str, interval: AskedInterval) -> Timeline:
    """The status over the interval as segments placed in percent of its width."""
    series = ctx.store.status_series(module_id, interval.start, interval.end)
    segments = status_segments(series, interval.end, ctx.site.settings.interval)
    span = (interval.end - interval.start).total_seconds()

    def pct(t: datetime) -> float:
        return round(max(0.0, min(1.0, (t - interval.start).total_seconds() / span)) * 100, 3)

    return Timeline(
        segments=[
            Segment(
                x=pct(a),
                width=max(pct(b) - pct(a), 0.05),
                from_=a,
                to=b,
                status=status_view(s),
                level=s.severity,
            )
            for a, b, s in segments
        ],
        counts=_share(segments, span),
    )


def _share(segments: list[tuple[datetime, datetime, Status]], span: float) -> list[Share]:
    """How much of the interval each status held, in percent."""
    totals: dict[Status, float] = {}
    for a, b, s in segments:
        totals[s] = totals.get(s, 0.0) + (b - a).total_seconds()
    return [
        Share(status=status_view(s), percent=round(100 * t / span, 1))
        for s, t in sorted(totals.items(), key=lambda i: i[0].severity)
    ]


def _charts(ctx: ViewContext, module_id: str, interval: AskedInterval) -> Charts:
    start, end = iso_second(interval.start), iso_second(interval.end)
    names = ctx.store.metric_names(module_id)
    charts = [
        Chart(
            metric=n,
            page=ctx.urls.plot([f"{module_id}:{n}"], start, end),
            json=ctx.urls.plot_json([f"{module_id}:{n}"], start, end),
            png=ctx.urls.plot_png([f"{module_id}:{n}"], start, end),
        )
        for n in names
    ]
    return Charts(
        shown=charts[:MAX_CHARTS],
        more=charts[MAX_CHARTS:],
        status_plot=ctx.urls.plot([f"{module_id}:status"], start, end),
    )


def _history(ctx: ViewContext, module_id: str, interval: AskedInterval) -> list[HistoryEntry]:
    rows = ctx.store.module_history(module_id, interval.start, interval.end, limit=HISTORY_ROWS)
    rows = sorted(rows, key=lambda r: r.time, reverse=True)
    return [
        HistoryEntry(
            time=r.time,
            status=status_view(r.status),
            message=r.message,
            error=r.error,
            url=ctx.urls.module(module_id, r.time),
        )
        for r in rows
    ]


def _table_links(
    ctx: ViewContext,
    module_id: str,
    at: datetime | None,
    tables: list[TableView],
    keep: Sequence[tuple[str, str]] = (),
) -> dict[str, PageLinks]:
    """Previous/next page links of each paginated table, keeping the `keep` query (a filter)."""
    links: dict[str, PageLinks] = {}
    for t in tables:

        def page_url(n: int, name: str = t.name) -> str:
            return ctx.urls.module(module_id, at, None, [*keep, ("table", name), ("page", str(n))])

        links[t.name] = PageLinks(
            previous=page_url(t.page - 1) if t.page > 1 else "",
            next=page_url(t.page + 1) if t.page < t.pages else "",
        )
    return links
