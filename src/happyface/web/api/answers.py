"""The JSON bodies of API v1's answers, and an answer at a run through the time machine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from ..cache import Rendered
from ..errors import WebError
from ..pages.run_at import Builder, serve_at
from .models import Error
from .time_range import at_query

if TYPE_CHECKING:
    from ..pages.routes import Dashboard

MEDIA_TYPE = "application/json"


def json_one(model: BaseModel) -> Rendered:
    return Rendered(model.model_dump_json().encode(), MEDIA_TYPE)


def json_list(models: Sequence[BaseModel]) -> Rendered:
    body = b"[" + b",".join(x.model_dump_json().encode() for x in models) + b"]"
    return Rendered(body, MEDIA_TYPE)


def no_run() -> Rendered:
    error = WebError("There is no run yet: the first run has not finished.", status=404)
    return Rendered(json_one(Error(error=error.view().error)).body, MEDIA_TYPE, status=404)


async def answer_at(
    dash: Dashboard,
    request: Request,
    name: str,
    at: datetime | None,
    build: Builder,
) -> Response:
    """The answer `name` at the run `at` resolves to (the newest without it), cached per run."""
    query = at_query(at, dash.site.settings.interval)
    return await serve_at(dash, request, ("api", name), build, no_run, query)
