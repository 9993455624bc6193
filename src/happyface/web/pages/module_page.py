"""The view data of a module's page: everything about one module, for admins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ...rules import Rule
from ...status import Status
from ...units import humanise
from ..errors import bad_parameter
from ..plots.curves import AskedInterval, iso_second, parse_interval, status_segments
from ..plots.thresholds import metric_unit
from ..viewdata import fields_of
from .box_data import ModuleBox, Reason, TableView
from .change_data import module_changes
from .details import view_of
from .history_rows import collapsed_history
from .module_boxes import module_box, status_view, table_view
from .page_data import (
    Chart,
    Charts,
    IntervalView,
    ModuleView,
    PageLinks,
    Segment,
    Share,
    Timeline,
    ValueRow,
)
from .source_page import module_sources
from .timemachine import Moment
from .views import Durations, ViewContext, frame, modules_of, snapshot_of, unknown_at_run
from .why import by_metric, fired, run_rules, with_since

TABLE_ROWS = 100
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
    since = Durations.of(ctx, moment, [module_id]).of_module(module_id, row)
    box = module_box(meta, row, ctx.boxes, run.id, at, None, params, since)
    rules = run_rules(meta, ctx.site)
    if box.reasons:
        items = fired(rules, row)
        box = replace(
            box, reasons=with_since(box.reasons, items, ctx.store, module_id, run.started_at)
        )
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
        charts=_charts(ctx, module_id, interval, box.reasons),
        history=collapsed_history(ctx, module_id, interval.start, interval.end),
        table_links=_table_links(ctx, module_id, at, box.tables, detail.query()),
        values=_values(ctx, module_id, box, rules, interval),
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


def _charts(
    ctx: ViewContext, module_id: str, interval: AskedInterval, reasons: Sequence[Reason]
) -> Charts:
    """The metrics' charts, those a rule fired on first (with why and since when)."""
    start, end = iso_second(interval.start), iso_second(interval.end)
    why = by_metric(reasons)
    stored = ctx.store.metric_names(module_id)
    names = [m for m in why if m in stored] + [n for n in stored if n not in why]
    charts = [
        Chart(
            metric=n,
            page=ctx.urls.plot([f"{module_id}:{n}"], start, end),
            json=ctx.urls.plot_json([f"{module_id}:{n}"], start, end),
            png=ctx.urls.plot_png([f"{module_id}:{n}"], start, end),
            reason=why[n].text if n in why else "",
            status=why[n].status.value if n in why else "",
            since=why[n].since if n in why else None,
        )
        for n in names
    ]
    return Charts(
        shown=charts[:MAX_CHARTS],
        more=charts[MAX_CHARTS:],
        status_plot=ctx.urls.plot([f"{module_id}:status"], start, end),
    )


def _values(
    ctx: ViewContext,
    module_id: str,
    box: ModuleBox,
    rules: Sequence[Rule],
    interval: AskedInterval,
) -> list[ValueRow]:
    """The result's metrics written in their units, those a rule fired on first."""
    why = by_metric(box.reasons)
    start, end = iso_second(interval.start), iso_second(interval.end)
    rows = []
    for name, value in box.metrics.items():
        reason = why.get(name)
        unit = reason.unit if reason else metric_unit(ctx.site, module_id, name, rules)
        rows.append(
            ValueRow(
                metric=name,
                value=value,
                text=reason.value_text if reason else humanise(value, unit),
                unit=unit,
                fired=reason.status.value if reason else "",
                limit=f"{reason.relation} {reason.threshold_text}" if reason else "",
                plot=ctx.urls.plot([f"{module_id}:{name}"], start, end),
            )
        )
    return sorted(rows, key=lambda r: (r.metric not in why, r.metric))


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
