"""The alarm pages: states and notification log (`/alarms`), downtimes (`/downtimes`).

One view function per page gives the data; the handler renders it as HTML or JSON. These
pages show what is in force now, so they are built for each request and never cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...alarms import Subject, alarm_states, downtimes, notification_log
from ...config.alarms import AlarmConfig
from ..access import Viewer, viewer_of
from ..access.account import with_account
from ..access.deps import require_csrf
from ..cache import Rendered
from ..errors import bad_parameter
from ..render import render_html, render_json
from ..viewdata import SiteRef, fields_of
from .alarm_data import (
    AlarmFilter,
    AlarmFrame,
    AlarmLinks,
    AlarmsView,
    DowntimeEntry,
    DowntimesView,
    LogEntry,
    LogPages,
    StateRow,
    SubjectRef,
)
from .forms import (
    CSRF_MARK,
    post_acknowledge,
    post_cancel,
    post_schedule,
    post_withdraw,
    with_csrf,
)
from .views import Permissions, display_name, downtime_view, permissions_of
from .visibility import AlarmSight

if TYPE_CHECKING:
    from ...alarms import Downtime, Notification
    from ...alarms.records import NotificationState
    from ..pages.routes import Dashboard

PER_PAGE = 50
#: the log is read newest first up to this many entries, then filtered and paginated
MAX_LOG = 5000
STATES: tuple[NotificationState, ...] = ("pending", "sent", "failed", "suppressed")
DEFAULT_DAYS = 30


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


def log_entry(n: Notification, config: AlarmConfig) -> LogEntry:
    """One line of the notification log."""
    return LogEntry(
        id=n.id,
        time=n.created_at,
        alarm=n.alarm_id,
        subject=SubjectRef(n.subject.kind, n.subject.id),
        transition=n.event,
        channel=n.channel_id,
        recipients=recipients(config, n.channel_id),
        state=n.state,
        attempts=n.attempts,
        sent_at=n.sent_at,
        next_attempt_at=n.next_attempt_at,
        # the last error of a failed or retried delivery; why a suppressed one was not sent
        last_error=n.reason,
        title=n.message.title,
    )


def state_rows(dash: Dashboard, viewer: Viewer, sight: AlarmSight, subject: str) -> list[StateRow]:
    """The detector state of each alarm and subject the viewer may see, troubled first.

    A category whose members the viewer does not all see gets its state replayed from what
    they see (alarmreplay), so this page and the overview never disagree.
    """
    states = {
        key: state
        for key, state in alarm_states(dash.store).items()
        if sight.sees(key[1].kind, key[1].id) and (not subject or key[1].id == subject)
    }
    partial = [(a, s.id) for a, s in states if not sight.sees_alarm_of(s)]
    scoped = dash.access.store_for(dash.store, viewer)
    rules = dash.site.alarms.alarms
    replayed = dash.alarms.replays.get(scoped, viewer.key, rules, partial) if partial else {}
    rows = []
    for (alarm_id, subj), state in states.items():
        level, since, stage = state.confirmed, state.notified_at, state.stage
        if not sight.sees_alarm_of(subj):
            found = replayed.get((alarm_id, subj.id))
            if found is None:  # an alarm no longer configured: nothing to replay
                continue
            # escalation follows the notifications, which this viewer does not see
            level, since, stage = found.level, found.since, 0
        rows.append(
            StateRow(
                alarm=alarm_id,
                subject=SubjectRef(subj.kind, subj.id),
                state=level.value,
                bad=level.is_bad,
                since=since if level.is_bad else None,
                stage=stage,
                url=_subject_url(dash, subj.kind, subj.id),
            )
        )
    return sorted(rows, key=lambda r: (not r.bad, r.subject.id, r.alarm))


def _subject_url(dash: Dashboard, kind: str, ident: str) -> str:
    if kind == "source":
        return dash.urls.source(ident)
    return dash.urls.category(ident) if kind == "category" else dash.urls.module(ident)


def alarms_view(dash: Dashboard, viewer: Viewer, params: Mapping[str, str]) -> AlarmsView:
    """The alarm states and one page of the notification log, filtered by subject and state."""
    subject = params.get("subject", "").strip()
    state = _state_filter(params)
    page = _page_number(params)
    sight = dash.alarms.sight_of(viewer)
    # filtered in the query too, so the count and the cap are those of what the viewer sees
    allowed = None if sight.everything else notification_subjects(sight)
    log = notification_log(
        dash.store, subject_id=subject or None, state=state, limit=MAX_LOG, subjects=allowed
    )
    shown = [n for n in log if sight.sees_alarm_of(n.subject)]
    start = (page - 1) * PER_PAGE
    entries = [log_entry(n, dash.site.alarms) for n in shown[start : start + PER_PAGE]]
    filters = [("subject", subject), ("state", state or "")]
    more = len(shown) > start + PER_PAGE
    return AlarmsView(
        **fields_of(_frame(dash, "Alarms")),
        filter=AlarmFilter(subject=subject, state=state or "", states=list(STATES)),
        states=state_rows(dash, viewer, sight, subject),
        log=entries,
        pages=LogPages(
            page=page,
            total=len(shown),
            capped=len(log) >= MAX_LOG,
            previous=dash.urls.alarms([*filters, ("page", str(page - 1))]) if page > 1 else "",
            next=dash.urls.alarms([*filters, ("page", str(page + 1))]) if more else "",
        ),
        json=dash.urls.alarms([*filters, ("page", str(page))], json=True),
    )


def notification_subjects(sight: AlarmSight) -> list[Subject]:
    """The subjects whose notifications the viewer may read."""
    modules = [Subject("module", m) for m in sight.modules]
    return modules + [Subject("category", c) for c in sorted(sight.whole)]


def _frame(dash: Dashboard, title: str) -> AlarmFrame:
    return AlarmFrame(
        site=SiteRef(dash.site.settings.title, dash.urls.overview()),
        title=title,
        links=AlarmLinks(alarms=dash.urls.alarms(), downtimes=dash.urls.downtimes()),
    )


def _origin(dash: Dashboard, window: Downtime) -> str:
    if window.source == "manual":
        return "entered by hand"
    config = next((d for d in dash.site.alarms.downtimes if d.id == window.source), None)
    return "imported from a feed" if config is not None and config.feed else "configured"


def downtime_entry(
    dash: Dashboard, window: Downtime, now: datetime, sight: AlarmSight, perm: Permissions
) -> DowntimeEntry | None:
    """One downtime with the subjects it covers that the viewer sees; None if not theirs to see."""
    if not sight.sees_downtime(window):
        return None
    manual = window.source == "manual"
    cancel = manual and perm.admin and sight.may_cancel(window)
    return DowntimeEntry(
        **fields_of(downtime_view(window)),
        origin=_origin(dash, window),
        current=window.covers(now),
        covers=sorted(sight.named(window.subjects)),
        created_by=display_name(window.created_by, perm.identified) if window.created_by else "",
        cancel_url=dash.urls.cancel_downtime(window.id) if cancel else "",
    )


def downtimes_view(dash: Dashboard, viewer: Viewer, params: Mapping[str, str]) -> DowntimesView:
    """The downtimes in force now and those starting within `days` (default 30)."""
    text = params.get("days", str(DEFAULT_DAYS))
    if not text.isdigit() or not 0 < int(text) <= 366:
        raise bad_parameter("days", text, "a number of days from 1 to 366")
    now = dash.now()
    perm = permissions_of(dash.site, viewer)
    sight = dash.alarms.sight_of(viewer)
    windows = downtimes(dash.site, dash.store, now, now + timedelta(days=int(text)))
    entries = [downtime_entry(dash, w, now, sight, perm) for w in windows]
    shown = [e for e in entries if e is not None]
    return DowntimesView(
        **fields_of(_frame(dash, "Downtimes")),
        now=now,
        days=int(text),
        current=[e for e in shown if e.current],
        upcoming=[e for e in shown if not e.current],
        can_schedule=perm.admin,
        schedule_url=dash.urls.downtimes(),
        known=sight.ids,
        json=dash.urls.downtimes(json=True),
    )


ViewFunction = Callable[["Dashboard", Viewer, Mapping[str, str]], AlarmsView | DowntimesView]


async def render_page(
    dash: Dashboard, request: Request, build: ViewFunction, template: str
) -> Response:
    """Build a page's view data for this viewer, and render it as HTML or JSON."""
    params = {k: v for k, v in request.query_params.items()}
    viewer = viewer_of(request)
    view = await run_in_threadpool(build, dash, viewer, params)
    headers = (("Cache-Control", "no-cache"),)
    if request.url.path.endswith(".json"):
        item = Rendered(render_json(view), "application/json", headers=headers)
    else:
        tab = await run_in_threadpool(dash.tab, viewer)
        body = render_html(dash.env, template, view, tab_statuses=tab)
        page = Rendered(body, "text/html; charset=utf-8", headers=headers)
        item = with_csrf(with_account(page, request, dash.access, dash.urls.prefix), request)
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
