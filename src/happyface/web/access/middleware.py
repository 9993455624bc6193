"""The ASGI middleware that resolves the viewer of every request, whatever its route.

Being middleware, it runs before any route, also those added later, so no endpoint can forget
to identify its viewer: `viewer_of(request)` reads what it found, and a request it never saw
counts as anonymous. It also keeps shared caches from mixing viewers (`Cache-Control:
private` once anything is restricted) and gives browsers their CSRF token cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import WebError
from ..headers import is_html
from ..render import json_ready
from .control import AccessControl
from .jwtcheck import TokenRefused
from .policy import ANONYMOUS, Viewer
from .session import SESSION_COOKIE, SessionRefused, cookie_header

VIEWER_KEY = "happyface.viewer"
CSRF_COOKIE = "hf_csrf"
CSRF_KEY = "happyface.csrf"


def viewer_of(request: HTTPConnection) -> Viewer:
    """The viewer the middleware resolved for this request; anonymous if it did not run."""
    viewer = request.scope.get(VIEWER_KEY)
    return viewer if isinstance(viewer, Viewer) else ANONYMOUS


def csrf_token_of(request: HTTPConnection) -> str:
    """The CSRF token of this browser, to put into forms as `csrf_token`."""
    return str(request.scope.get(CSRF_KEY, ""))


#: how a refused request is answered: the app's error page or JSON, as for any WebError
Refusal = Callable[[Request, WebError], Response]


def json_refusal(request: Request, error: WebError) -> Response:
    return JSONResponse(json_ready(error.view()), status_code=error.status)


class AccessMiddleware:
    """Resolve the viewer once per request and put it into the ASGI scope."""

    def __init__(
        self, app: ASGIApp, control: AccessControl, refusal: Refusal = json_refusal
    ) -> None:
        self.app = app
        self.control = control
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            viewer = await self._viewer(scope)
        except TokenRefused as exc:
            await self._refuse(scope, exc)(scope, receive, send)
            return
        scope[VIEWER_KEY] = viewer
        cookie = HTTPConnection(scope).cookies.get(CSRF_COOKIE, "")
        scope[CSRF_KEY] = cookie or secrets.token_urlsafe(32)
        private = viewer.identity is not None or not self.control.policy(ANONYMOUS).unrestricted

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if private:
                    headers = _private(headers)
                if not cookie and is_html(headers):
                    headers.append((b"set-cookie", _cookie(scope, scope[CSRF_KEY])))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapped)

    async def _viewer(self, scope: Scope) -> Viewer:
        identity = self.control.identify(scope) or await self.control.tokens.identify(scope)
        if identity is None:
            return ANONYMOUS
        # group files are stat'ed and an authoriser may run: not on the event loop
        return Viewer(identity, await run_in_threadpool(self.control.groups.of, identity))

    def _refuse(self, scope: Scope, exc: TokenRefused) -> Response:
        """401 for a token or session that failed its checks; a bad session cookie is removed."""
        request = Request(scope)
        bearer = not isinstance(exc, SessionRefused)
        error = WebError(
            f"Your {'token' if bearer else 'login session'} was not accepted: {exc}.",
            status=401,
            title="Not logged in",
            hint="Get a new token from your issuer."
            if bearer
            else "Log in again; the old session has been removed.",
        )
        response = self.refusal(request, error)
        if bearer:
            response.headers["www-authenticate"] = 'Bearer error="invalid_token"'
        else:
            secure = scope.get("scheme") == "https"
            response.raw_headers.append(cookie_header(SESSION_COOKIE, "", secure=secure, max_age=0))
        return response


def _private(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Caching marked `private`: a shared cache must not hand one viewer's answer to another."""
    out = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
    values = [v for n, v in headers if n.lower() == b"cache-control"]
    for value in values or [b""]:
        value = value.replace(b"public", b"private")
        if b"private" not in value and b"no-store" not in value:
            value = b"private, " + value if value else b"private"
        out.append((b"cache-control", value))
    return out


def _cookie(scope: Any, token: str) -> bytes:
    # scripts never need the token (forms carry it), so a script injected anywhere cannot read it
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}".encode("latin-1")
