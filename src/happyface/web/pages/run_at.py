"""Answers about the site at one run, for the exports: the time machine, then the page cache.

The XML export, the JSON API and the matrix all show "the site at a time". They share the
dashboard's time machine (`date`/`time`/`at`/`s`) and its per-run cache, so a run's answer is
built once and then served from memory until a newer run lands.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..access import Viewer, viewer_of
from ..access.account import with_account
from ..cache import Rendered, to_response
from ..urls import absolute
from .routes import PAST_MAX_AGE, query_params
from .timemachine import Moment, TimeQuery, parse_time_query, resolve
from .views import ViewContext

if TYPE_CHECKING:
    from ...storage import RunInfo
    from .routes import Dashboard


@dataclass(frozen=True)
class At:
    """What a builder gets: the view context, the resolved run, and this server's origin."""

    ctx: ViewContext
    moment: Moment
    origin: str
    stale: bool

    def absolute(self, url: str) -> str:
        """A URL built by `Urls` made absolute, for clients that read exports elsewhere."""
        return absolute(self.origin, url)


Builder = Callable[[At], Rendered]


def origin_of(dash: Dashboard, request: Request) -> str:
    """scheme://host[:port] for links that leave the page: the base URL, else the request's."""
    base = dash.site.settings.web.base_url
    if base:
        scheme, _, rest = base.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
    return f"{request.url.scheme}://{request.url.netloc}"


async def serve_at(
    dash: Dashboard,
    request: Request,
    name: Hashable,
    build: Builder,
    empty: Callable[[], Rendered],
    query: TimeQuery | None = None,
) -> Response:
    """The answer `build` gives for the run the request asks for, cached per run and query.

    `empty` answers a site without any run yet; `query` replaces the time parsed from the
    request's own parameters (the API takes a typed `at`).
    """
    now = dash.now()
    if query is None:
        query = parse_time_query(query_params(request), dash.site.settings.interval, now)
    latest = await dash.newest()
    if latest is None:
        return to_response(empty())
    stale = (now - latest.started_at).total_seconds() > dash.site.settings.stale_after
    origin = origin_of(dash, request)
    viewer = viewer_of(request)
    key = (name, latest.id, stale, query.at is None, request.url.query, origin, viewer.key)
    cached = dash.cache.get(key)
    if cached is None:
        cached = await run_in_threadpool(
            _build, dash, query, latest, now, origin, stale, build, viewer
        )
        dash.cache.put(key, cached)
    return to_response(with_account(cached, request, dash.access, dash.urls.prefix))


def _build(
    dash: Dashboard,
    query: TimeQuery,
    latest: RunInfo,
    now: datetime,
    origin: str,
    stale: bool,
    build: Builder,
    viewer: Viewer,
) -> Rendered:
    moment = resolve(dash.store, query, latest, now, lambda when: dash.urls.overview(when))
    rendered = build(At(dash.context(now, viewer), moment, origin, stale and moment.live))
    cache_control = "no-cache" if moment.live else f"public, max-age={PAST_MAX_AGE}"
    return Rendered(
        rendered.body,
        rendered.media_type,
        rendered.status,
        (*rendered.headers, ("Cache-Control", cache_control)),
    )
