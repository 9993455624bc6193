"""The changes part of API v1: `/changes` (site-wide) and `/modules/{id}/changes`.

Read from the stored change points; only modules the viewer sees in full are listed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...changes.query import ZOOM, curve_of, series_label
from ..access import viewer_of
from ..cache import to_response
from ..errors import not_found
from .answers import json_list
from .models import _Model
from .time_range import interval, iso_only

if TYPE_CHECKING:
    from ...storage.changes import ChangePoint
    from ..pages.routes import Dashboard

MAX_CHANGES = 1000
Time = Annotated[datetime, BeforeValidator(iso_only)]


class Change(_Model):
    """A change of level or variance found in a module's series."""

    module: str = Field(description="module instance id")
    metric: str = Field(description='metric name; "status" for the module\'s status')
    at: datetime = Field(description="time of the first run after the change (UTC)")
    found_at: datetime = Field(description="the run that confirmed the change")
    kind: str = Field(description="level (a change of the mean) or variance")
    direction: str = Field(description="rise or drop")
    measure: str = Field(description="value, or rate (per hour) for a counter")
    before: float = Field(description="mean before the change")
    after: float = Field(description="mean after the change, when it was confirmed")
    sd_before: float = Field(description="standard deviation before")
    sd_after: float = Field(description="standard deviation after")
    significance: float = Field(
        description="level: the step in standard deviations of the noise before; "
        "variance: the ratio of the standard deviations"
    )
    relative: float = Field(description="(after - before) / |before| (variance: of the SD)")
    plot: str = Field(description="the chart zoomed on the change")


def change_routes(router: APIRouter, dash: Dashboard) -> None:
    """Add `/changes` and `/modules/{module_id}/changes` to API v1."""

    @router.get(
        "/changes", response_model=list[Change], summary="Changes over an interval, site-wide"
    )
    async def changes(
        request: Request,
        since: Annotated[
            Time | None, Query(description="start (ISO 8601); default: a day before `until`")
        ] = None,
        until: Annotated[Time | None, Query(description="end; default: now")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES, description="most changes")] = 100,
    ) -> Response:
        span = interval(since, until, dash.now())
        scoped = dash.access.store_for(dash.store, viewer_of(request))
        found = await run_in_threadpool(scoped.changes, span.start, span.end, None, None, limit)
        return to_response(json_list([_model(dash, c) for c in found]))

    @router.get(
        "/modules/{module_id}/changes",
        response_model=list[Change],
        summary="A module's changes over an interval, of one metric if asked",
    )
    async def module_changes(
        request: Request,
        module_id: Annotated[str, Path(description="module instance id")],
        since: Annotated[Time | None, Query(description="start; default: 30 days before")] = None,
        until: Annotated[Time | None, Query(description="end; default: now")] = None,
        metric: Annotated[
            str | None, Query(description='only this metric ("status": the status)')
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES, description="most changes")] = 100,
    ) -> Response:
        viewer = viewer_of(request)
        if dash.access.site_for(viewer).module(module_id) is None:
            raise not_found("module", module_id)
        now = dash.now()
        window = timedelta(seconds=dash.site.settings.changes.window)
        span = interval(since or (until or now) - window, until, now)
        scoped = dash.access.store_for(dash.store, viewer)
        stored = "@status" if metric == "status" else metric
        found = await run_in_threadpool(
            scoped.changes, span.start, span.end, [module_id], stored, limit
        )
        return to_response(json_list([_model(dash, c) for c in found]))


def _model(dash: Dashboard, change: ChangePoint) -> Change:
    start = (change.at - ZOOM).isoformat(timespec="seconds")
    end = (change.at + ZOOM).isoformat(timespec="seconds")
    return Change(
        module=change.module_id,
        metric=series_label(change.metric),
        at=change.at,
        found_at=change.found_at,
        kind=change.kind,
        direction=change.direction,
        measure=change.measure,
        before=change.before,
        after=change.after,
        sd_before=change.sd_before,
        sd_after=change.sd_after,
        significance=change.significance,
        relative=change.relative,
        plot=dash.urls.plot([curve_of(change.module_id, change.metric)], start, end),
    )
