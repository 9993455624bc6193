"""The request handlers: parse, find the run, build the view data, render, cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ...config.site import Site
from ..access import ANONYMOUS, AccessControl, Viewer, viewer_of
from ..access.account import with_account
from ..alarms.forms import with_csrf
from ..alarms.views import AlarmMarks, decorate
from ..cache import Memo, PageCache, Rendered, to_response
from ..errors import WebError, not_found
from ..looplag import LoopLag
from ..outagelog import OutageLog
from ..plots.curves import choices, parse_curves, parse_interval, plot_view
from ..plots.plot_data import PlotPage
from ..render import environment, has_template, render_html, render_json
from ..urls import Urls
from ..viewdata import NoRunView, SiteRef, StatusView, fields_of
from .archived_files import headers as archived_headers
from .archived_files import media_type as archived_media_type
from .module_boxes import ArchiveReader, BoxContext
from .module_page import module_view
from .page_data import DashboardView
from .source_page import source_view
from .tab import TabCache, tab_statuses
from .timemachine import Moment, parse_time_query, resolve
from .views import ViewContext, category_view, overview_view
from .wall import WallView, wall_view

if TYPE_CHECKING:
    from ...storage import RunInfo, Store

MAX_QUERY = 4096
#: larger ids cannot be stored (SQLite and PostgreSQL integers are 64-bit): no such run
MAX_RUN_ID = 2**62
PAST_MAX_AGE = 300
PAGES: dict[str, tuple[str, Callable[..., DashboardView | WallView]]] = {
    "overview": ("overview.html", lambda ctx, moment, ident, params: overview_view(ctx, moment)),
    "category": (
        "category.html",
        lambda ctx, moment, ident, params: category_view(ctx, moment, ident),
    ),
    "module": ("module.html", module_view),
    "source": ("source.html", source_view),
    "wall": ("wall.html", lambda ctx, moment, ident, params: wall_view(ctx, moment)),
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dashboard:
    """The dashboard of one site: its store, templates, URLs and page cache."""

    def __init__(
        self,
        site: Site,
        store: Store,
        archive: ArchiveReader | None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.site = site
        self.store = store
        self.archive = archive
        self.urls = Urls(site.settings.web.base_url)
        self.env = environment(self.urls, [type(m.module) for m in site.modules])
        self.env.globals["matrix_link"] = self._matrix_link()
        self.cache = PageCache()
        self.latest: Memo[RunInfo | None] = Memo(store.latest_run, ttl=1.0)
        self.now = now
        self.boxes = BoxContext(site, self.urls, archive, lambda name: has_template(self.env, name))
        self.access = AccessControl(site)
        self.alarms = AlarmMarks(site, store, self.access, lambda: self.now())
        self.loop_lag = LoopLag()
        self.outages = OutageLog()
        self.tabs = TabCache()

    def context(self, now: datetime, viewer: Viewer = ANONYMOUS) -> ViewContext:
        """What view functions read, scoped to what `viewer` may see (anonymous by default)."""
        site = self.access.site_for(viewer)
        store = self.access.store_for(self.store, viewer)
        return ViewContext(site, store, self.urls, replace(self.boxes, site=site), now)

    def tab(self, viewer: Viewer) -> list[StatusView]:
        """The statuses the browser tab sums up on pages without the category navigation:
        the newest run's, kept per run and group set."""
        run = self.latest.get()
        key = (run.id if run is not None else None, viewer.key)
        found = self.tabs.get(key)
        if found is None:
            found = tab_statuses(self.context(self.now(), viewer), run)
            self.tabs.put(key, found)
        return found

    async def newest(self) -> RunInfo | None:
        """The newest run, from memory when asked within the last second."""
        fresh, value = self.latest.peek()
        if fresh:
            return value
        value = await run_in_threadpool(self.latest.get)
        self.outages.answered()
        return value

    async def page(self, request: Request, kind: str, ident: str = "") -> Response:
        """An overview, category or module page, as HTML or (`.json`) as JSON."""
        fmt = "json" if request.url.path.endswith(".json") else "html"
        ident = ident.removesuffix(".json")
        params = query_params(request)
        if kind == "overview" and params.get("wall") == "1":
            return RedirectResponse(self.urls.wall(), status_code=302)
        now = self.now()
        latest = await self.newest()
        if latest is None:
            return self._no_run(fmt)
        query = parse_time_query(params, self.site.settings.interval, now)
        stale = (now - latest.started_at).total_seconds() > self.site.settings.stale_after
        viewer = viewer_of(request)
        # acknowledgements and downtimes change between runs: their version is part of the key
        alarms = await self.alarms.cache_key(viewer)
        key = (kind, ident, fmt, latest.id, stale, query.at is None, request.url.query, viewer.key)
        cached = self.cache.get((key, alarms))
        if cached is None:
            cached = await run_in_threadpool(
                self._build_page, kind, ident, fmt, params, query, latest, now, viewer
            )
            self.cache.put((key, alarms), cached)
        answer = with_account(cached, request, self.access, self.urls.prefix)
        return to_response(with_csrf(answer, request))

    def _build_page(
        self,
        kind: str,
        ident: str,
        fmt: str,
        params: Mapping[str, str],
        query: Any,
        latest: RunInfo,
        now: datetime,
        viewer: Viewer,
    ) -> Rendered:
        def first_link(when: datetime) -> str:
            return self.urls.page(kind, ident, when, None)

        moment: Moment = resolve(self.store, query, latest, now, first_link)
        template, build = PAGES[kind]
        view = build(self.context(now, viewer), moment, ident, params)
        back = self.urls.page(kind, ident, None, None)
        if not isinstance(view, WallView):  # the wall shows no acknowledgements or forms
            view = decorate(view, self.alarms.marks(moment, now, viewer, back))
        cache_control = "no-cache" if moment.live else f"public, max-age={PAST_MAX_AGE}"
        headers = (("Cache-Control", cache_control),)
        if fmt == "json":
            return Rendered(render_json(view), "application/json", headers=headers)
        return Rendered(
            render_html(self.env, template, view), "text/html; charset=utf-8", headers=headers
        )

    def _no_run(self, fmt: str) -> Response:
        """The friendly page of a new site whose first run has not landed yet."""
        if fmt == "json":
            return JSONResponse({"run": None, "message": "no run yet"})
        view = NoRunView(
            site=SiteRef(self.site.settings.title, self.urls.overview()),
            interval=self.site.settings.interval,
            live_url=self.urls.live(None),
        )
        body = render_html(self.env, "norun.html", view)
        return Response(
            body, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    def _matrix_link(self) -> str:
        """The matrix page's URL for the navigation, when the site watches other instances."""
        from .matrix import TYPE  # the matrix page builds on this module

        watches = any(m.config.type == TYPE for m in self.site.modules)
        return self.urls.matrix() if watches else ""

    async def live(self, request: Request) -> Response:
        """The tiny answer the live view polls: is there a newer run than the one shown?"""
        shown = request.query_params.get("run", "")
        latest = await self.newest()
        now = self.now()
        body: dict[str, Any] = {"run": None, "changed": shown != "", "stale": False}
        if latest is not None:
            body = {
                "run": latest.id,
                "changed": shown != str(latest.id),
                "time": latest.started_at.isoformat(),
                "stale": (now - latest.started_at).total_seconds() > self.site.settings.stale_after,
            }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def plot(self, request: Request, fmt: str) -> Response:
        """The plot page, its JSON data, or the same plot as a PNG or SVG image."""
        params = query_params(request)
        curves_asked = request.query_params.getlist("m")
        now = self.now()
        latest = await self.newest()
        interval_text = (params.get("from", ""), params.get("to", ""))
        interval = parse_interval(*interval_text, now)
        # relative intervals move with the clock: such answers are kept a minute at most
        minute = int(now.timestamp() // 60) if interval.relative else 0
        viewer = viewer_of(request)
        key = ("plot", fmt, latest.id if latest else None, minute, request.url.query, viewer.key)
        cached = self.cache.get(key)
        if cached is None:
            cached = await run_in_threadpool(self._build_plot, fmt, curves_asked, interval, viewer)
            self.cache.put(key, cached)
        return to_response(cached)

    def _build_plot(
        self, fmt: str, curves_asked: list[str], interval: Any, viewer: Viewer
    ) -> Rendered:
        site = self.access.site_for(viewer)
        store = self.access.store_for(self.store, viewer)
        if fmt == "html" and not curves_asked:
            view = plot_view(store, site, self.urls, [], interval)
        else:
            curves = parse_curves(curves_asked, site, store)
            view = plot_view(store, site, self.urls, curves, interval)
        if fmt == "json":
            return Rendered(render_json(view), "application/json")
        if fmt in ("png", "svg"):
            from ..plots.image import render_image  # matplotlib loads only when an image is asked

            body, media = render_image(view, fmt, self.site.settings.title)
            return Rendered(body, media)
        page = PlotPage(
            **fields_of(view),
            site=SiteRef(self.site.settings.title, self.urls.overview()),
            choices=choices(site, store),
            selected=curves_asked,
        )
        body = render_html(self.env, "plot.html", page, tab_statuses=self.tab(viewer))
        return Rendered(body, "text/html; charset=utf-8")

    async def archived(
        self,
        run_id: int,
        module_id: str,
        name: str,
        viewer: Viewer = ANONYMOUS,
        fetch_dest: str = "",
    ) -> Response:
        """One archived raw input: an image if its bytes say so, else plain text."""
        body = await run_in_threadpool(self._archived, run_id, module_id, name, viewer)
        media = archived_media_type(body, fetch_dest)
        return Response(body, media_type=media, headers=archived_headers(media))

    def _archived(self, run_id: int, module_id: str, name: str, viewer: Viewer) -> bytes:
        if run_id > MAX_RUN_ID:
            raise not_found("archived input", f"{run_id}/{module_id}/{name}")
        row = self.access.store_for(self.store, viewer).result(run_id, module_id)
        if row is None or not row.archive or self.archive is None:
            raise not_found("archived input", f"{run_id}/{module_id}/{name}")
        try:
            return self.archive.open(row.archive, name)
        except Exception:  # missing, pruned or a name that tries to leave the archive
            raise not_found("archived input", f"{run_id}/{module_id}/{name}") from None


def query_params(request: Request) -> dict[str, str]:
    """The query parameters, refused when absurdly long."""
    if len(request.url.query) > MAX_QUERY:
        raise WebError("This address is too long to be a dashboard link.")
    return dict(request.query_params)


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel background tasks and wait until each has stopped."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
