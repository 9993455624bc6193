"""`/handover` (page and JSON) and the shift note form (`POST /handover/note`).

The digest is built for the viewer who asks, like every page. A shift note may be written by
those who may acknowledge (`[site.web] acknowledge_groups`): the same CSRF and permission
checks as the alarm forms, and a redirect back so reloading never posts twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...storage.shift_notes import MAX_NOTE, ShiftNote
from ..access import Viewer, viewer_of
from ..access.account import with_account
from ..access.deps import forbidden, require_csrf
from ..alarms.forms import form_of, form_permissions, with_csrf
from ..alarms.views import permissions_of
from ..cache import Rendered
from ..errors import WebError
from ..render import render_html, render_json
from ..viewdata import SiteRef
from .handover import digest_of, parse_since
from .handover_data import HandoverDigest, HandoverView, NoteForm
from .routes import query_params

if TYPE_CHECKING:
    from .routes import Dashboard


def digest_for(dash: Dashboard, viewer: Viewer, since: datetime, until: datetime) -> HandoverDigest:
    """The digest of [since, until] as `viewer` may see it."""
    sight = dash.alarms.sight_of(viewer)
    return digest_of(dash.site, dash.store, dash.access, sight, viewer, dash.urls, (since, until))


def handover_view(dash: Dashboard, viewer: Viewer, params: Mapping[str, str]) -> HandoverView:
    """The handover page: since `?since=` (default: the shift's start) until `?until=` or now."""
    now = dash.now()
    until = parse_since(params.get("until", ""), now, now)
    since = parse_since(
        params.get("since", ""), until, dash.site.settings.shifts.current_start(until)
    )
    perm = permissions_of(dash.site, viewer)
    return HandoverView(
        site=SiteRef(dash.site.settings.title, dash.urls.overview()),
        title="Handover",
        digest=digest_for(dash, viewer, since, until),
        since_text=params.get("since", ""),
        json=dash.urls.handover(since, until if params.get("until") else None, json=True),
        home=dash.urls.overview(),
        note=NoteForm(
            action=dash.urls.shift_note(),
            allowed=perm.acknowledge,
            why_not="" if perm.acknowledge else "Those who may acknowledge problems write notes.",
        ),
    )


async def handover_page(dash: Dashboard, request: Request) -> Response:
    """The digest as HTML or (`.json`) JSON; never cached, as it measures up to now."""
    params = query_params(request)
    viewer = viewer_of(request)
    view = await run_in_threadpool(handover_view, dash, viewer, params)
    headers = (("Cache-Control", "no-cache"),)
    if request.url.path.endswith(".json"):
        item = Rendered(render_json(view), "application/json", headers=headers)
    else:
        tab = await run_in_threadpool(dash.tab, viewer)
        body = render_html(dash.env, "handover.html", view, tab_statuses=tab)
        page = Rendered(body, "text/html; charset=utf-8", headers=headers)
        item = with_csrf(with_account(page, request, dash.access, dash.urls.prefix), request)
    return Response(item.body, media_type=item.media_type, headers=dict(item.headers))


async def post_note(dash: Dashboard, request: Request) -> Response:
    """Store a shift note, then show the digest again."""
    perm = form_permissions(dash, request)
    if not perm.acknowledge:
        raise forbidden(f"{perm.name} is not in a group allowed to write shift notes.")
    text = (await form_of(request)).get("text", "").strip()
    if not text:
        raise WebError("A shift note needs some text.", hint="Say what the next shift should know.")
    if len(text) > MAX_NOTE:
        raise WebError(f"A shift note is at most {MAX_NOTE} characters long.")
    note = ShiftNote(dash.now(), perm.name, text)
    await run_in_threadpool(dash.store.add_shift_note, note)
    return RedirectResponse(dash.urls.handover(), status_code=303)


def add_handover_routes(app: FastAPI, dash: Dashboard) -> None:
    """Register the digest's page and JSON, and the note form (CSRF-guarded)."""

    async def page(request: Request) -> Response:
        return await handover_page(dash, request)

    async def note(request: Request) -> Response:
        return await post_note(dash, request)

    for path in ("/handover", "/handover.json"):
        app.add_route(path, page, ["GET", "HEAD"], None, False)
    app.add_api_route(
        "/handover/note",
        note,
        methods=["POST"],
        dependencies=[Depends(require_csrf)],
        include_in_schema=False,
    )
