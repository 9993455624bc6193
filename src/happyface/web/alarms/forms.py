"""The alarm forms: acknowledge, withdraw, schedule and cancel a downtime (POST, then redirect).

Every form is guarded twice: `require_csrf` proves the browser meant it, and the viewer's
groups (`[site.web] acknowledge_groups`, `downtime_groups`) say whether they may. The user
recorded is the verified DN. Bad input is a friendly 4xx page; success redirects back (303),
so reloading the page never posts twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from markupsafe import escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...alarms import (
    Acknowledgement,
    Subject,
    acknowledge,
    active_acknowledgements,
    cancel_downtime,
    manual_downtime,
    schedule_downtime,
    withdraw_acknowledgement,
)
from ...durations import parse_duration
from ...errors import HappyFaceError
from ...status import Status
from ..access import Viewer, csrf_token_of, viewer_of
from ..access.deps import forbidden
from ..cache import Rendered
from ..errors import WebError, not_found
from ..pages.timemachine import parse_instant
from .views import Permissions, permissions_of
from .visibility import AlarmSight

if TYPE_CHECKING:
    from ..pages.routes import Dashboard

#: stands for the viewer's CSRF token in cached pages; replaced in each answer
CSRF_MARK = "hf-csrf-token-placeholder"
MAX_COMMENT = 2000
MAX_SUBJECTS = 50
_SPLIT = re.compile(r"[\s,]+")


def with_csrf(item: Rendered, request: Request) -> Rendered:
    """The answer with this browser's CSRF token in its forms (a page may be cached for many)."""
    mark = CSRF_MARK.encode()
    if mark not in item.body:
        return item
    token = str(escape(csrf_token_of(request))).encode()
    return replace(item, body=item.body.replace(mark, token))


def form_permissions(dash: Dashboard, request: Request) -> Permissions:
    """The viewer's permissions; a 403 for an anonymous viewer."""
    viewer = viewer_of(request)
    if viewer.identity is None:
        raise login_needed(dash, request)
    return permissions_of(dash.site, viewer)


def login_needed(dash: Dashboard, request: Request) -> WebError:
    """The 403 of an anonymous viewer, saying how to be known here: the Log in page where
    OpenID Connect is set up, else a grid certificate."""
    if dash.access.tokens.login is None:
        return forbidden(
            "This needs your grid certificate: load it into your browser and open the "
            "dashboard again."
        )
    referer = urlsplit(request.headers.get("referer", ""))
    back = referer.path if referer.netloc == request.url.netloc and referer.path else "/"
    login = f"{dash.urls.prefix}/login?back={quote(back)}"
    return WebError(
        "Log in to do this.", status=403, title="Not allowed", links=(("Log in", login),)
    )


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's text fields."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def back_to(dash: Dashboard, fields: Mapping[str, str], fallback: str) -> RedirectResponse:
    """Redirect to the page the form was on, if it is one of ours; else to `fallback`."""
    back = fields.get("back", "")
    prefix = dash.urls.prefix + "/"
    ours = back.startswith(prefix) and not back.startswith("//") and "\\" not in back
    return RedirectResponse(back if ours else fallback, status_code=303)


def parse_expiry(text: str, now: datetime) -> datetime | None:
    """An expiry: empty (until it recovers), a duration from now ("4h") or an ISO time."""
    value = text.strip()
    if not value:
        return None
    try:
        moment = now + timedelta(seconds=parse_duration(value))
    except ValueError:
        moment = parse_instant(value, "expires")
    except OverflowError:
        raise WebError(
            f"The expiry {value!r} is too far away.",
            hint="Leave it empty to keep the acknowledgement until the problem is over.",
        ) from None
    if moment <= now:
        raise WebError(
            f"The expiry {value!r} is not in the future.",
            hint="Give a duration such as 4h or 2d, or a later time; leave it empty to keep "
            "the acknowledgement until the problem is over.",
        )
    return moment


def subject_of(dash: Dashboard, request: Request, fields: Mapping[str, str]) -> Subject:
    """The module, category or source the form names, if it exists and the viewer sees it."""
    kind, ident = fields.get("kind", ""), fields.get("id", "").strip()
    viewer = viewer_of(request)
    if kind == "source":
        if not source_seen(dash, viewer, ident):
            raise not_found("source", ident)
        return Subject("source", ident)
    if kind not in ("module", "category"):
        raise WebError(f"Cannot acknowledge a {kind!r}: only a module, a category or a source.")
    known = dash.site.module(ident) if kind == "module" else dash.site.category(ident)
    if known is None or not dash.alarms.sight_of(viewer).sees(kind, ident):
        raise not_found(kind, ident)
    return Subject("module" if kind == "module" else "category", ident)


def source_seen(dash: Dashboard, viewer: Viewer, key: str) -> bool:
    """Whether the newest run read the source and the viewer sees its page (a module reading
    it, seen in full: the source page's own visibility)."""
    latest = dash.store.latest_run()
    if latest is None or not key:
        return False
    scoped = dash.access.store_for(dash.store, viewer)
    return any(s.key == key for s in scoped.run_sources(latest.id))


def comment_of(fields: Mapping[str, str]) -> str:
    """The comment: what is being done; required, and not a novel."""
    comment = fields.get("comment", "").strip()
    if not comment:
        raise WebError(
            "An acknowledgement needs a comment: say what is being done about it.",
            hint="The next shift reads it to know whether to act.",
        )
    if len(comment) > MAX_COMMENT:
        raise WebError(f"The comment is longer than {MAX_COMMENT} characters.")
    return comment


def page_of(dash: Dashboard, subject: Subject) -> str:
    """The page an acknowledgement of `subject` is seen on."""
    if subject.kind == "category":
        return dash.urls.category(subject.id)
    if subject.kind == "source":
        return dash.urls.source(subject.id)
    return dash.urls.module(subject.id)


async def post_acknowledge(dash: Dashboard, request: Request) -> Response:
    """Acknowledge a module's or category's problem, then show the page again."""
    perm = form_permissions(dash, request)
    if not perm.acknowledge:
        raise forbidden(f"{perm.name} is not in a group allowed to acknowledge problems.")
    fields = await form_of(request)
    subject = await run_in_threadpool(subject_of, dash, request, fields)
    comment = comment_of(fields)
    now = dash.now()
    expires = parse_expiry(fields.get("expires", ""), now)
    try:
        await run_in_threadpool(acknowledge, dash.store, subject, perm.name, comment, now, expires)
    except HappyFaceError as exc:
        raise WebError(str(exc)) from None
    dash.alarms.changed()
    return back_to(dash, fields, page_of(dash, subject))


async def post_withdraw(dash: Dashboard, request: Request) -> Response:
    """Withdraw an acknowledgement: its author or an admin."""
    perm = form_permissions(dash, request)
    ack_id = int(request.path_params["ack_id"])
    now = dash.now()
    current = await run_in_threadpool(active_acknowledgements, dash.store, now)
    ack = next((a for a in current if a.id == ack_id), None)
    if ack is None or not await run_in_threadpool(ack_seen, dash, viewer_of(request), ack):
        raise not_found("acknowledgement in force", str(ack_id))
    if not perm.may_withdraw(ack):
        raise forbidden("Only its author or an admin may withdraw an acknowledgement.")
    await run_in_threadpool(withdraw_acknowledgement, dash.store, ack_id, perm.name, now)
    dash.alarms.changed()
    return back_to(dash, await form_of(request), page_of(dash, ack.subject))


def ack_seen(dash: Dashboard, viewer: Viewer, ack: Acknowledgement) -> bool:
    """Whether the viewer sees the acknowledgement on the live pages (see alarmsight)."""
    sight, subject = dash.alarms.sight_of(viewer), ack.subject
    if subject.kind == "source":
        return source_seen(dash, viewer, subject.id)
    # how the category looks matters only to a viewer who misses one of its members
    partial = subject.kind == "category" and not sight.sees_alarm_of(subject)
    troubled = partial and troubled_now(dash, viewer, subject.id)
    return sight.sees_acknowledgement(subject, troubled)


def troubled_now(dash: Dashboard, viewer: Viewer, category_id: str) -> bool:
    """Whether the live overview shows the category not happy to this viewer."""
    latest = dash.store.latest_run()
    if latest is None:
        return False
    scoped = dash.access.store_for(dash.store, viewer)
    return scoped.category_statuses(latest.id).get(category_id, Status.NOINFO) is not Status.HAPPY


def admin_of(dash: Dashboard, request: Request) -> Permissions:
    """The permissions of a viewer who may manage downtimes; a 403 for anyone else."""
    perm = form_permissions(dash, request)
    if not perm.admin:
        raise forbidden(f"{perm.name} is not in a group allowed to manage downtimes.")
    return perm


def subjects_of(sight: AlarmSight, text: str) -> list[str]:
    """Module or category ids or patterns, each naming at least one the viewer sees.

    What the viewer does not see is answered like what does not exist. For a viewer who does
    not see everything, a pattern stands for the ids it names among those they see: it must
    not silence what they cannot see.
    """
    names = [n for n in _SPLIT.split(text.strip()) if n]
    if not names:
        raise WebError("Name at least one module or category the downtime is for.")
    if len(names) > MAX_SUBJECTS:
        raise WebError(f"A downtime names at most {MAX_SUBJECTS} modules or categories.")
    for name in names:
        if not sight.named([name]):
            raise not_found("module or category", name, sight.ids)
    if sight.everything:
        return names
    return sight.named(names)


def window_of(fields: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """The start (default: now) and end of a downtime; the end must be later and in the future."""
    start_text, end_text = fields.get("start", "").strip(), fields.get("end", "").strip()
    start = parse_instant(start_text, "start") if start_text else now
    if not end_text:
        raise WebError("A downtime needs an end time.")
    end = parse_instant(end_text, "end")
    if end <= start:
        raise WebError("A downtime must end after it starts.")
    if end <= now:
        raise WebError("This downtime would already be over; give an end in the future.")
    return start, end


async def post_schedule(dash: Dashboard, request: Request) -> Response:
    """Schedule a downtime by hand, then show the list of downtimes."""
    perm = admin_of(dash, request)
    fields = await form_of(request)
    subjects = subjects_of(dash.alarms.sight_of(viewer_of(request)), fields.get("subjects", ""))
    now = dash.now()
    start, end = window_of(fields, now)
    description = fields.get("description", "").strip()
    if not description:
        raise WebError("Describe the downtime: the badge on every page shows why.")
    await run_in_threadpool(
        schedule_downtime, dash.store, subjects, start, end, description, perm.name, now
    )
    dash.alarms.changed()
    return back_to(dash, fields, dash.urls.downtimes())


async def post_cancel(dash: Dashboard, request: Request) -> Response:
    """Cancel a downtime entered by hand, if it silences only what the viewer sees."""
    admin_of(dash, request)
    downtime_id = int(request.path_params["downtime_id"])
    window = await run_in_threadpool(manual_downtime, dash.store, downtime_id)
    sight = dash.alarms.sight_of(viewer_of(request))
    ours = window is not None and sight.may_cancel(window)
    if not ours or not await run_in_threadpool(cancel_downtime, dash.store, downtime_id):
        raise not_found("downtime entered by hand", str(downtime_id))
    dash.alarms.changed()
    return back_to(dash, await form_of(request), dash.urls.downtimes())
