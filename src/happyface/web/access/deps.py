"""Dependencies for routes that change state: who may, and proof the browser meant it.

A valid certificate is not enough for a POST: a page on another site can make the browser
send one with the user's certificate (cross-site request forgery). `require_csrf` demands
both that the request comes from our own pages (`Sec-Fetch-Site`, `Origin`) and that it
repeats the token of our cookie in a form field or header (double submit). A request whose
viewer was verified by a bearer JWT (the access middleware checked it) needs neither: no other
site can make a browser send an Authorization header. Merely sending some other
`Authorization` header exempts nobody; a login session, being a cookie, is guarded like one.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request

from ..errors import WebError
from .middleware import CSRF_COOKIE, viewer_of
from .policy import Viewer

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def forbidden(message: str) -> WebError:
    return WebError(message, status=403, title="Not allowed")


def current_viewer(request: Request) -> Viewer:
    """The viewer of the request, as resolved by the access middleware."""
    return viewer_of(request)


def require_groups(*groups: str) -> Callable[[Request], Viewer]:
    """A dependency that admits only viewers in one of `groups`."""

    def check(request: Request) -> Viewer:
        viewer = viewer_of(request)
        if viewer.identity is None:
            raise forbidden("Log in (grid certificate, account or token) to do this.")
        if not viewer.groups.intersection(groups):
            raise forbidden(f"{viewer.name} is not in a group allowed to do this.")
        return viewer

    return check


async def require_csrf(request: Request) -> None:
    """Refuse a state-changing browser request that did not come from our own page."""
    if viewer_of(request).by_bearer:
        return
    check_origin(request)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "") or await _form_token(request)
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise forbidden(
            "This form has expired or did not come from this dashboard; "
            "reload the page and try again."
        )


def check_origin(request: Request) -> None:
    """Refuse requests a browser marks as coming from another site."""
    site = request.headers.get("sec-fetch-site", "")
    if site and site not in ("same-origin", "none"):
        raise forbidden("Requests from other sites may not change anything here.")
    origin = request.headers.get("origin", "")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise forbidden("Requests from other sites may not change anything here.")
    if origin == "null":
        raise forbidden("Requests from other sites may not change anything here.")


async def _form_token(request: Request) -> str:
    if not request.headers.get("content-type", "").startswith(_FORMS):
        return ""
    form = await request.form()
    value = form.get(CSRF_FIELD, "")
    return value if isinstance(value, str) else ""


CsrfDependency = Callable[[Request], Awaitable[None]]
