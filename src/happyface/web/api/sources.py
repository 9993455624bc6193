"""The data-quality part of API v1: `/sources` and `/sources/{key}` (with its history).

A source is listed only for a viewer who sees at least one module reading it (the scoped
store leaves the others out), and its URL is shown as the API shows URLs: scheme, host and
port, never a path, query or credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BeforeValidator, Field
from starlette.requests import Request
from starlette.responses import Response

from ...quality import Quality
from ...redact import redact_url
from ..cache import Rendered
from ..errors import not_found
from ..pages.run_at import At
from .answers import answer_at, json_list, json_one
from .models import _Model
from .time_range import iso_only

if TYPE_CHECKING:
    from ...storage.quality.read import SourceState
    from ..pages.routes import Dashboard

MAX_HISTORY = 1000
At_ = Annotated[
    Annotated[datetime, BeforeValidator(iso_only)] | None,
    Query(alias="at", description="the sources as they were at this time; omitted: the newest run"),
]


class SourceRun(_Model):
    """A source in one run."""

    run_id: int = Field(description="id of the run")
    time: datetime = Field(description="time of the run (UTC)")
    state: Quality = Field(description="fresh, stale, format_changed, unparseable or unreachable")
    since: datetime = Field(description="when the source entered this state")
    message: str = Field(description="why it is not fresh")
    latency: float | None = Field(description="seconds the fetch took; null without an answer")
    bytes: int | None = Field(description="size of the answer")
    source_time: datetime | None = Field(description="the time the document itself carries")


class Source(SourceRun):
    """A source as the run shown saw it, and the modules that read it."""

    key: str = Field(description="the source's key, as in /source/KEY")
    url: str = Field(description="where it is read from: scheme, host and port only")
    last_good: datetime | None = Field(description="the last run in which it was read well")
    modules: list[str] = Field(description="the modules reading it (that the viewer sees)")
    no_data: list[str] = Field(description="modules shown as no data because of it")
    appeared: list[str] = Field(description="structure paths new since the last good document")
    disappeared: list[str] = Field(description="structure paths of the last good document gone")
    page: str = Field(description="absolute URL of the source's page")


class SourceDetail(Source):
    """A source with its history up to the run shown, newest first."""

    history: list[SourceRun]


def source_routes(router: APIRouter, dash: Dashboard) -> None:
    """Add `/sources` and `/sources/{key}` to API v1."""

    @router.get("/sources", response_model=list[Source], summary="Every source's data quality")
    async def sources(request: Request, at: At_ = None) -> Response:
        return await answer_at(
            dash, request, "sources", at, lambda a: json_list([_source(a, s) for s in _states(a)])
        )

    @router.get(
        "/sources/{key}", response_model=SourceDetail, summary="One source with its history"
    )
    async def source(
        request: Request,
        key: Annotated[str, Path(description="source key", max_length=200)],
        at: At_ = None,
        limit: Annotated[int, Query(ge=1, le=MAX_HISTORY, description="most runs")] = 100,
    ) -> Response:
        def build(a: At) -> Rendered:
            return json_one(source_detail(a, key, limit))

        return await answer_at(dash, request, f"source/{key}/{limit}", at, build)


def _states(at: At) -> list[SourceState]:
    return at.ctx.store.run_sources(at.moment.run.id)


def source_detail(at: At, key: str, limit: int) -> SourceDetail:
    """One source at the run shown, with its history; 404 when the viewer sees no such source."""
    states = _states(at)
    found = next((s for s in states if s.key == key), None)
    if found is None:
        raise not_found("source", key, [s.key for s in states])
    history = at.ctx.store.source_history(key, at.moment.run.id, limit)
    return SourceDetail(**_source(at, found).model_dump(), history=[_run(h) for h in history])


def _run(state: SourceState) -> SourceRun:
    return SourceRun(
        run_id=state.run_id,
        time=state.time,
        state=state.state,
        since=state.since,
        message=state.message,
        latency=state.latency,
        bytes=state.size,
        source_time=state.source_time,
    )


def _source(at: At, state: SourceState) -> Source:
    return Source(
        **_run(state).model_dump(),
        key=state.key,
        url=redact_url(state.url),
        last_good=state.last_good_at,
        modules=list(state.modules),
        no_data=sorted(state.greyed),
        appeared=list(state.appeared),
        disappeared=list(state.disappeared),
        page=at.absolute(at.ctx.urls.source(state.key, at.moment.run.started_at)),
    )
