"""The routes of the exports: classic XML, JSON API, Prometheus metrics, matrix, uploads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..api.routes import api_router
from ..api.upload import upload
from ..pages.matrix import matrix_page
from ..pages.run_at import serve_at
from .metrics import metrics
from .xml import no_run_xml, render_xml

if TYPE_CHECKING:
    from ..pages.routes import Dashboard

Endpoint = Callable[[Request], Awaitable[Response]]


def add_export_routes(app: FastAPI, dash: Dashboard) -> None:
    """Register the export routes; only the JSON API appears in the OpenAPI schema."""
    app.include_router(api_router(dash))
    routes: list[tuple[str, Endpoint, list[str]]] = [
        ("/category", _classic(dash), ["GET", "HEAD"]),
        ("/status.xml", _xml(dash), ["GET", "HEAD"]),
        ("/metrics", _endpoint(metrics, dash), ["GET", "HEAD"]),
        ("/matrix", _endpoint(matrix_page, dash, "html"), ["GET", "HEAD"]),
        ("/matrix.json", _endpoint(matrix_page, dash, "json"), ["GET", "HEAD"]),
        ("/upload/{name}", _endpoint(upload, dash), ["POST"]),
    ]
    for path, endpoint, methods in routes:
        app.add_route(path, endpoint, methods=methods, include_in_schema=False)


def _endpoint(handler: Callable[..., Awaitable[Response]], dash: Dashboard, *args: str) -> Endpoint:
    """`handler(dash, request, *args)` as a route endpoint (a real coroutine function)."""

    async def endpoint(request: Request) -> Response:
        return await handler(dash, request, *args)

    return endpoint


def _xml(dash: Dashboard) -> Endpoint:
    title = dash.site.settings.title

    async def xml(request: Request) -> Response:
        return await serve_at(dash, request, "xml", render_xml, lambda: no_run_xml(title))

    return xml


def _classic(dash: Dashboard) -> Endpoint:
    """`/category?action=getxml` of HappyFace 3; `/category` without it goes to the overview."""
    xml = _xml(dash)

    async def classic(request: Request) -> Response:
        if request.query_params.get("action") == "getxml":
            return await xml(request)
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "action"]
        target = dash.urls.overview()
        if query:
            target += "?" + urlencode(query)
        return RedirectResponse(target, status_code=301)

    return classic
