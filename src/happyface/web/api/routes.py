"""The JSON API, version 1 (`/api/v1/...`): the dashboard's view data as typed, documented JSON.

The status answers (`/status`, `/categories`, `/modules`) are built from the same view data
as the pages, through the same time machine (`?at=`) and per-run cache. Histories (`/runs`,
a module's results, a metric's curve) read the store directly over an interval.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...instants import Interval
from ..access import Viewer, viewer_of
from ..cache import Rendered, to_response
from ..errors import not_found
from ..pages.routes import MAX_RUN_ID
from ..pages.run_at import At, origin_of
from ..plots.thresholds import metric_unit
from . import models as m
from .answers import answer_at, json_list, json_one
from .changes import change_routes
from .sources import source_routes
from .time_range import ALL, interval, iso_only
from .views import module_detail, run_model, snapshot

if TYPE_CHECKING:
    from ..pages.routes import Dashboard

PREFIX = "/api/v1"
OPENAPI_URL = PREFIX + "/openapi.json"
MAX_RESULTS = 1000
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.Error, "description": "a parameter cannot be understood"},
    404: {
        "model": m.Error,
        "description": "unknown id, no run yet, or a time before the first run",
    },
    503: {"model": m.Error, "description": "the database is not answering"},
}
Time = Annotated[datetime, BeforeValidator(iso_only)]
At_ = Annotated[
    Time | None,
    Query(
        alias="at",
        description="show the site as it was at this time (ISO 8601, naive is UTC; or -6h,"
        " -2d before now); omitted: the newest run",
    ),
]
From = Annotated[Time | None, Query(alias="from", description="start; default: a day before `to`")]
To = Annotated[Time | None, Query(alias="to", description="end; default: now")]
ModuleId = Annotated[str, Path(description="module instance id")]


def api_router(dash: Dashboard) -> APIRouter:
    """The routes of API v1 for one dashboard."""
    router = APIRouter(prefix=PREFIX, tags=["v1"], responses=ERRORS)
    _site_routes(router, dash)
    _status_routes(router, dash)
    _history_routes(router, dash)
    source_routes(router, dash)
    change_routes(router, dash)
    return router


def _site_routes(router: APIRouter, dash: Dashboard) -> None:
    @router.get("/site", response_model=m.Site, summary="The site and its newest run")
    async def site(request: Request) -> Response:
        latest = await dash.newest()
        now = dash.now()
        origin = origin_of(dash, request)
        settings = dash.site.settings
        model = m.Site(
            title=settings.title,
            api_version=m.API_VERSION,
            interval=settings.interval,
            stale_after=settings.stale_after,
            latest_run=run_model(latest) if latest else None,
            stale=latest is not None
            and (now - latest.started_at).total_seconds() > settings.stale_after,
            links={
                name: origin + url
                for name, url in (
                    ("dashboard", dash.urls.overview()),
                    ("status", dash.urls.api("/status")),
                    ("xml", dash.urls.status_xml()),
                    ("openapi", dash.urls.api("/openapi.json")),
                    ("metrics", dash.urls.metrics()),
                )
            },
        )
        return Response(model.model_dump_json(), media_type="application/json")


def _status_routes(router: APIRouter, dash: Dashboard) -> None:
    @router.get("/status", response_model=m.Snapshot, summary="Every category and module at a time")
    async def status(request: Request, at: At_ = None) -> Response:
        return await answer_at(dash, request, "status", at, lambda a: json_one(snapshot(a)))

    @router.get("/categories", response_model=list[m.Category], summary="The categories at a time")
    async def categories(request: Request, at: At_ = None) -> Response:
        return await answer_at(
            dash, request, "categories", at, lambda a: json_list(snapshot(a).categories)
        )

    @router.get(
        "/categories/{category_id}", response_model=m.Category, summary="One category at a time"
    )
    async def category(
        request: Request,
        category_id: Annotated[str, Path(description="category id")],
        at: At_ = None,
    ) -> Response:
        return await answer_at(
            dash,
            request,
            f"category/{category_id}",
            at,
            lambda a: json_one(_category(a, category_id)),
        )

    @router.get("/modules", response_model=list[m.ModuleStatus], summary="Every module at a time")
    async def modules(request: Request, at: At_ = None) -> Response:
        def build(a: At) -> Rendered:
            return json_list([x for c in snapshot(a).categories for x in c.modules])

        return await answer_at(dash, request, "modules", at, build)

    @router.get(
        "/modules/{module_id}", response_model=m.ModuleDetail, summary="One module at a time"
    )
    async def module(request: Request, module_id: ModuleId, at: At_ = None) -> Response:
        return await answer_at(
            dash,
            request,
            f"module/{module_id}",
            at,
            lambda a: json_one(module_detail(a, module_id)),
        )


def _category(at: At, category_id: str) -> m.Category:
    shown = snapshot(at)
    found = next((c for c in shown.categories if c.id == category_id), None)
    if found is None:
        raise not_found("category", category_id, [c.id for c in shown.categories])
    return found


def _history_routes(router: APIRouter, dash: Dashboard) -> None:
    store = dash.store

    @router.get("/runs", response_model=list[m.Run], summary="Runs over an interval, newest first")
    async def runs(
        start: From = None,
        end: To = None,
        limit: Annotated[int, Query(ge=1, le=MAX_RESULTS, description="most runs returned")] = 100,
        failed: Annotated[bool, Query(description="include failed and running runs")] = False,
    ) -> Response:
        span = interval(start, end, dash.now())
        found = (
            []
            if span.empty
            else await run_in_threadpool(store.runs, span.start, span.end, limit, failed)
        )
        return to_response(json_list([run_model(r) for r in found]))

    @router.get("/runs/{run_id}", response_model=m.RunDetail, summary="One run")
    async def run(
        request: Request, run_id: Annotated[int, Path(ge=1, le=MAX_RUN_ID, description="run id")]
    ) -> Response:
        scoped = dash.access.store_for(store, viewer_of(request))

        def build() -> m.RunDetail:
            info = scoped.run(run_id)
            if info is None:
                raise not_found("run", str(run_id))
            statuses = scoped.category_statuses(run_id) if info.state == "ok" else {}
            return m.RunDetail(**run_model(info).model_dump(), categories=statuses)

        return to_response(json_one(await run_in_threadpool(build)))

    @router.get(
        "/modules/{module_id}/results",
        response_model=m.Results,
        summary="A module's results over an interval",
    )
    async def results(
        request: Request,
        module_id: ModuleId,
        start: From = None,
        end: To = None,
        limit: Annotated[
            int, Query(ge=1, le=MAX_RESULTS, description="most results returned")
        ] = 100,
    ) -> Response:
        span = interval(start, end, dash.now())
        view = _View(dash, viewer_of(request))
        rows = await run_in_threadpool(_history, view, module_id, span, limit)
        return to_response(
            json_one(m.Results(module=module_id, start=span.start, end=span.end, results=rows))
        )

    @router.get(
        "/modules/{module_id}/metrics", response_model=m.MetricNames, summary="A module's metrics"
    )
    async def metric_names(request: Request, module_id: ModuleId) -> Response:
        names = await run_in_threadpool(_known_metrics, _View(dash, viewer_of(request)), module_id)
        return to_response(json_one(m.MetricNames(module=module_id, metrics=names)))

    @router.get(
        "/modules/{module_id}/metrics/{metric}",
        response_model=m.Series,
        summary="A metric over an interval (at most 2000 points)",
    )
    async def series(
        request: Request,
        module_id: ModuleId,
        metric: Annotated[str, Path(description="metric name")],
        start: From = None,
        end: To = None,
    ) -> Response:
        span = interval(start, end, dash.now())
        view = _View(dash, viewer_of(request))
        points = await run_in_threadpool(_series, view, module_id, metric, span)
        return to_response(
            json_one(
                m.Series(
                    module=module_id,
                    metric=metric,
                    unit=metric_unit(view.site, module_id, metric),
                    start=span.start,
                    end=span.end,
                    points=points,
                )
            )
        )


class _View:
    """The site and store as one viewer may see them (see happyface.web.access)."""

    def __init__(self, dash: Dashboard, viewer: Viewer) -> None:
        self.site = dash.access.site_for(viewer)
        self.store = dash.access.store_for(dash.store, viewer)


def _known_module(dash: _View, module_id: str) -> None:
    """Refuse a module the site has never had (neither configured nor with metrics)."""
    store = dash.store
    if (
        dash.site.module(module_id) is None
        and not store.metric_names(module_id)
        and not store.module_history(module_id, *ALL, limit=1)
    ):
        raise not_found("module", module_id, [x.id for x in dash.site.modules])


def _history(dash: _View, module_id: str, span: Interval, limit: int) -> list[m.Result]:
    _known_module(dash, module_id)
    if span.empty:
        return []
    rows = dash.store.module_history(module_id, span.start, span.end, limit)
    return [
        m.Result(
            run_id=r.run_id,
            time=r.time,
            status=r.status,
            score=r.status.score,
            message=r.message,
            error=r.error,
            metrics=r.metrics,
        )
        for r in rows
    ]


def _known_metrics(dash: _View, module_id: str) -> list[str]:
    _known_module(dash, module_id)
    return dash.store.metric_names(module_id)


def _series(dash: _View, module_id: str, metric: str, span: Interval) -> list[m.Point]:
    if metric not in _known_metrics(dash, module_id):
        raise not_found(
            f"metric of module {module_id!r}", metric, dash.store.metric_names(module_id)
        )
    if span.empty:
        return []
    points = dash.store.metric_series(module_id, metric, span.start, span.end, max_points=2000)
    return [m.Point(t=p.t, value=p.value, min=p.min, max=p.max) for p in points]
