"""The app factory: routes, error pages, static files and the background tasks' lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ..config.site import Site
from ..errors import StorageError
from .access import AccessMiddleware, viewer_of
from .access.account import ACCOUNT_MARK
from .access.loginroutes import add_login_routes
from .alarms.pages import add_alarm_routes
from .api.models import API_VERSION
from .api.routes import OPENAPI_URL
from .errors import WebError, internal_error, storage_unavailable
from .exports.routes import add_export_routes
from .headers import SecurityHeadersMiddleware, secured
from .outage import outage_answer
from .pages.handover_routes import add_handover_routes
from .pages.module_boxes import ArchiveReader
from .pages.routes import Dashboard, cancel_all
from .recent import RecentAnswers
from .render import json_ready, render_html
from .viewdata import ErrorPage, SiteRef, StatusView

if TYPE_CHECKING:
    from ..storage import Store

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
Background = Callable[[], Awaitable[None]]


def create_app(
    site: Site,
    store: Store,
    *,
    archive: ArchiveReader | None = None,
    background: Sequence[Background] = (),
    notices: Callable[[], Sequence[str]] | None = None,
) -> FastAPI:
    """The web app of one site; each `background` coroutine runs for the app's lifetime.

    `notices` gives lines every page shows on top for as long as it returns them.
    """
    dash = Dashboard(site, store, archive)
    if notices is not None:
        dash.env.globals["site_notices"] = notices
    app = FastAPI(
        title=site.settings.title,
        lifespan=_lifespan([*background, dash.loop_lag.watch]),
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        version=API_VERSION,
    )
    app.state.dashboard = dash
    _routes(app, dash)
    add_export_routes(app, dash)
    add_alarm_routes(app, dash)
    add_login_routes(app, dash.access)
    dash.env.globals["account_link"] = ACCOUNT_MARK
    add_handover_routes(app, dash)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _error_pages(app, dash)
    # outermost, so every route (also those added later) knows its viewer
    app.add_middleware(
        AccessMiddleware,
        control=dash.access,
        refusal=lambda request, error: _error_response(dash, request, error),
    )
    # outside even that, so also answers the access layer makes itself carry the headers
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def served(app: FastAPI) -> ASGIApp:
    """What the server runs: `app` behind the layer that sends recent public answers again.

    It wraps the whole app, outside even Starlette's own middleware, which costs a cached
    answer as much CPU as everything else on that path together (web/recent.py).
    """
    dash: Dashboard = app.state.dashboard
    return RecentAnswers(app, control=dash.access)


async def _run(job: Background) -> None:
    await job()


def _lifespan(
    background: Sequence[Background],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(_run(job), name=getattr(job, "__name__", "background"))
            for job in background
        ]
        for task in tasks:
            task.add_done_callback(_report_crash)
        try:
            yield
        finally:
            await cancel_all(tasks)

    return lifespan


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s stopped", task.get_name(), exc_info=task.exception())


def _routes(app: FastAPI, dash: Dashboard) -> None:
    async def overview(request: Request) -> Response:
        return await dash.page(request, "overview")

    async def category(request: Request) -> Response:
        return await dash.page(request, "category", request.path_params["ident"])

    async def module(request: Request) -> Response:
        return await dash.page(request, "module", request.path_params["ident"])

    async def source(request: Request) -> Response:
        return await dash.page(request, "source", request.path_params["ident"])

    async def wall(request: Request) -> Response:
        return await dash.page(request, "wall")

    def plot(fmt: str) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            return await dash.plot(request, fmt)

        return handler

    async def archived(request: Request) -> Response:
        p = request.path_params
        dest = request.headers.get("sec-fetch-dest", "")
        return await dash.archived(p["run"], p["module"], p["name"], viewer_of(request), dest)

    routes: list[tuple[str, Callable[[Request], Awaitable[Response]]]] = [
        ("/", overview),
        ("/overview.json", overview),
        ("/category/{ident}", category),
        ("/module/{ident}", module),
        ("/source/{ident}", source),
        ("/wall", wall),
        ("/wall.json", wall),
        ("/plot", plot("html")),
        ("/plot.json", plot("json")),
        ("/plot.png", plot("png")),
        ("/plot.svg", plot("svg")),
        ("/live", dash.live),
        ("/archive/{run:int}/{module}/{name}", archived),
    ]
    for path, endpoint in routes:
        app.add_route(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.endswith(".json")
        or path in ("/live", "/metrics")
        or path.startswith(("/api/", "/upload/"))
    )


def _error_response(
    dash: Dashboard, request: Request, error: WebError, tab: Sequence[StatusView] = ()
) -> Response:
    if _wants_json(request):
        return JSONResponse(json_ready(error.view()), status_code=error.status)
    view = ErrorPage(error.view().error, SiteRef(dash.site.settings.title, dash.urls.overview()))
    return Response(
        render_html(dash.env, "error.html", view, tab_statuses=list(tab)),
        status_code=error.status,
        media_type="text/html; charset=utf-8",
    )


def _error_pages(app: FastAPI, dash: Dashboard) -> None:
    async def tab(request: Request) -> list[StatusView]:
        """The tab's statuses for a page that failed for a reason other than the store."""
        if _wants_json(request):
            return []
        try:
            return await run_in_threadpool(dash.tab, viewer_of(request))
        except StorageError:
            return []  # the error page still answers while the database does not

    async def web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return _error_response(dash, request, exc, await tab(request))

    async def storage_error(request: Request, exc: Exception) -> Response:
        dash.outages.failed(request.url.path, exc)
        special = outage_answer(dash, request)
        return special or _error_response(dash, request, storage_unavailable())

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = (
            "There is no page at this address." if exc.status_code == 404 else (str(exc.detail))
        )
        error = WebError(message, status=exc.status_code)
        return _error_response(dash, request, error, await tab(request))

    async def crash(request: Request, exc: Exception) -> Response:
        log.error("page %s failed", request.url.path, exc_info=exc)
        response = _error_response(dash, request, internal_error())
        # Starlette answers a crash outside every middleware: add their headers here
        tls = request.url.scheme == "https"
        response.raw_headers[:] = secured(list(response.raw_headers), tls)
        return response

    app.add_exception_handler(WebError, web_error)
    app.add_exception_handler(StorageError, storage_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, crash)
