"""The alarm pages: states and notification log (`/alarms`), downtimes (`/downtimes`).

One view function per page gives the data; the handler renders it as HTML or JSON. These
pages show what is in force now, so they are built for each request and never cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..alarms import alarm_states, downtimes, notification_log
from ..alarms.config import AlarmConfig, matches
from .access import Viewer, viewer_of
from .access.deps import require_csrf
from .alarmforms import (
    CSRF_MARK,
    post_acknowledge,
    post_cancel,
    post_schedule,
    post_withdraw,
    with_csrf,
)
from .alarmview import Permissions, display_name, downtime_view, permissions_of
from .cache import Rendered
from .errors import bad_parameter
from .render import render_html, render_json

if TYPE_CHECKING:
    from ..alarms import Downtime, Notification
    from ..alarms.records import NotificationState
    from .handlers import Dashboard

PER_PAGE = 50
#: the log is read newest first up to this many entries, then filtered and paginated
MAX_LOG = 5000
STATES: tuple[NotificationState, ...] = ("pending", "sent", "failed", "suppressed")
DEFAULT_DAYS = 30
Visible = Callable[[str, str], bool]


def _page_number(params: Mapping[str, str]) -> int:
    text = params.get("page", "1")
    if not text.isdigit() or not 0 < int(text) <= MAX_LOG // PER_PAGE:
        raise bad_parameter("page", text, f"a page number from 1 to {MAX_LOG // PER_PAGE}")
    return int(text)


def _state_filter(params: Mapping[str, str]) -> NotificationState | None:
    state = params.get("state", "")
    found = next((s for s in STATES if s == state), None)
    if state and found is None:
        raise bad_parameter("state", state, "one of " + ", ".join(STATES))
    return found


def recipients(config: AlarmConfig, channel_id: str) -> str:
    """Who a channel reaches, as far as it can be shown (webhook URLs may hold tokens)."""
    channel = next((c for c in config.channels if c.id == channel_id), None)
    if channel is None:
        return "(channel no longer configured)"
    if channel.type == "email":
        return ", ".join(channel.to)
    if channel.type == "apprise":
        return f"{len(channel.urls)} Apprise URL(s)"
    return "webhook"


def log_entry(n: Notification, config: AlarmConfig) -> dict[str, Any]:
    """One line of the notification log."""
    return {
        "id": n.id,
        "time": n.created_at,
        "alarm": n.alarm_id,
        "subject": {"kind": n.subject.kind, "id": n.subject.id},
        "transition": n.event,
        "channel": n.channel_id,
        "recipients": recipients(config, n.channel_id),
        "state": n.state,
        "attempts": n.attempts,
        "sent_at": n.sent_at,
        "next_attempt_at": n.next_attempt_at,
        # the last error of a failed or retried delivery; why a suppressed one was not sent
        "last_error": n.reason,
        "title": n.message.title,
    }


def state_rows(dash: Dashboard, visible: Visible, subject: str) -> list[dict[str, Any]]:
    """The detector state of each alarm and subject the viewer may see, troubled first."""
    rows = []
    for (alarm_id, subj), state in alarm_states(dash.store).items():
        if not visible(subj.kind, subj.id) or (subject and subj.id != subject):
            continue
        rows.append(
            {
                "alarm": alarm_id,
                "subject": {"kind": subj.kind, "id": subj.id},
                "state": state.confirmed.value,
                "bad": state.confirmed.is_bad,
                "since": state.notified_at if state.confirmed.is_bad else None,
                "stage": state.stage,
                "url": _subject_url(dash, subj.kind, subj.id),
            }
        )
    return sorted(rows, key=lambda r: (not r["bad"], r["subject"]["id"], r["alarm"]))


def _subject_url(dash: Dashboard, kind: str, ident: str) -> str:
    return dash.urls.category(ident) if kind == "category" else dash.urls.module(ident)


def alarms_view(dash: Dashboard, viewer: Viewer, params: Mapping[str, str]) -> dict[str, Any]:
    """The alarm states and one page of the notification log, filtered by subject and state."""
    subject = params.get("subject", "").strip()
    state = _state_filter(params)
    page = _page_number(params)
    visible = dash.alarms.visible_to(viewer)
    log = notification_log(dash.store, subject_id=subject or None, state=state, limit=MAX_LOG)
    shown = [n for n in log if visible(n.subject.kind, n.subject.id)]
    start = (page - 1) * PER_PAGE
    entries = [log_entry(n, dash.site.alarms) for n in shown[start : start + PER_PAGE]]
    filters = [("subject", subject), ("state", state or "")]
    more = len(shown) > start + PER_PAGE
    return {
        **_frame(dash, "Alarms"),
        "filter": {"subject": subject, "state": state or "", "states": list(STATES)},
        "states": state_rows(dash, visible, subject),
        "log": entries,
        "pages": {
            "page": page,
            "total": len(shown),
            "capped": len(log) >= MAX_LOG,
            "previous": dash.urls.alarms([*filters, ("page", str(page - 1))]) if page > 1 else "",
            "next": dash.urls.alarms([*filters, ("page", str(page + 1))]) if more else "",
        },
        "json": dash.urls.alarms([*filters, ("page", str(page))], json=True),
    }


def _frame(dash: Dashboard, title: str) -> dict[str, Any]:
    return {
        "site": {"title": dash.site.settings.title, "home": dash.urls.overview()},
        "title": title,
        "links": {"alarms": dash.urls.alarms(), "downtimes": dash.urls.downtimes()},
    }


def _origin(dash: Dashboard, window: Downtime) -> str:
    if window.source == "manual":
        return "entered by hand"
    config = next((d for d in dash.site.alarms.downtimes if d.id == window.source), None)
    return "imported from a feed" if config is not None and config.feed else "configured"


def visible_ids(dash: Dashboard, visible: Visible) -> list[str]:
    """The module and category ids the viewer sees in full."""
    names = [m.id for m in dash.site.modules if visible("module", m.id)]
    return names + [c.id for c in dash.site.categories if visible("category", c.id)]


def downtime_entry(
    dash: Dashboard, window: Downtime, now: datetime, known: list[str], perm: Permissions
) -> dict[str, Any] | None:
    """One downtime with the `known` subjects it covers; None if it covers none of them."""
    covered = sorted(n for n in known if matches(window.subjects, n))
    if not covered and not perm.admin:
        return None
    manual = window.source == "manual"
    return {
        **downtime_view(window),
        "origin": _origin(dash, window),
        "current": window.covers(now),
        "covers": covered,
        "created_by": display_name(window.created_by, perm.identified) if window.created_by else "",
        "cancel_url": dash.urls.cancel_downtime(window.id) if manual and perm.admin else "",
    }


def downtimes_view(dash: Dashboard, viewer: Viewer, params: Mapping[str, str]) -> dict[str, Any]:
    """The downtimes in force now and those starting within `days` (default 30)."""
    text = params.get("days", str(DEFAULT_DAYS))
    if not text.isdigit() or not 0 < int(text) <= 366:
        raise bad_parameter("days", text, "a number of days from 1 to 366")
    now = dash.now()
    perm = permissions_of(dash.site, viewer)
    known = visible_ids(dash, dash.alarms.visible_to(viewer))
    windows = downtimes(dash.site, dash.store, now, now + timedelta(days=int(text)))
    entries = [downtime_entry(dash, w, now, known, perm) for w in windows]
    shown = [e for e in entries if e is not None]
    return {
        **_frame(dash, "Downtimes"),
        "now": now,
        "days": int(text),
        "current": [e for e in shown if e["current"]],
        "upcoming": [e for e in shown if not e["current"]],
        "can_schedule": perm.admin,
        "schedule_url": dash.urls.downtimes(),
        "known": known,
        "json": dash.urls.downtimes(json=True),
    }


ViewFunction = Callable[["Dashboard", Viewer, Mapping[str, str]], dict[str, Any]]


async def render_page(
    dash: Dashboard, request: Request, build: ViewFunction, template: str
) -> Response:
    """Build a page's view data for this viewer, and render it as HTML or JSON."""
    params = {k: v for k, v in request.query_params.items()}
    view = await run_in_threadpool(build, dash, viewer_of(request), params)
    headers = (("Cache-Control", "no-cache"),)
    if request.url.path.endswith(".json"):
        item = Rendered(render_json(view), "application/json", headers=headers)
    else:
        body = render_html(dash.env, template, view)
        item = with_csrf(Rendered(body, "text/html; charset=utf-8", headers=headers), request)
    return Response(item.body, media_type=item.media_type, headers=dict(item.headers))


Handler = Callable[[Request], Awaitable[Response]]


def add_alarm_routes(app: FastAPI, dash: Dashboard) -> None:
    """Register the alarm pages and forms; templates find the CSRF mark as `csrf_token`."""
    dash.env.globals["csrf_token"] = CSRF_MARK

    def page(build: ViewFunction, template: str) -> Handler:
        async def handler(request: Request) -> Response:
            return await render_page(dash, request, build, template)

        return handler

    def form(post: Callable[[Dashboard, Request], Awaitable[Response]]) -> Handler:
        async def handler(request: Request) -> Response:
            return await post(dash, request)

        return handler

    for path in ("/alarms", "/alarms.json"):
        app.add_route(path, page(alarms_view, "alarms.html"), ["GET", "HEAD"], None, False)
    for path in ("/downtimes", "/downtimes.json"):
        app.add_route(path, page(downtimes_view, "downtimes.html"), ["GET", "HEAD"], None, False)
    guarded = [Depends(require_csrf)]
    posts: list[tuple[str, Handler]] = [
        ("/alarms/acknowledge", form(post_acknowledge)),
        ("/alarms/acknowledge/{ack_id:int}/withdraw", form(post_withdraw)),
        ("/downtimes", form(post_schedule)),
        ("/downtimes/{downtime_id:int}/cancel", form(post_cancel)),
    ]
    for path, endpoint in posts:
        app.add_api_route(
            path, endpoint, methods=["POST"], dependencies=guarded, include_in_schema=False
        )
