"""The ASGI middleware that resolves the viewer of every request, whatever its route.

Being middleware, it runs before any route, also those added later, so no endpoint can forget
to identify its viewer: `viewer_of(request)` reads what it found, and a request it never saw
counts as anonymous. It also keeps shared caches from mixing viewers (`Cache-Control:
private` once anything is restricted) and gives browsers their CSRF token cookie.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..headers import is_html
from .control import AccessControl
from .policy import ANONYMOUS, Viewer

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


class AccessMiddleware:
    """Resolve the viewer once per request and put it into the ASGI scope."""

    def __init__(self, app: ASGIApp, control: AccessControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        viewer = await self._viewer(scope)
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
        identity = self.control.identify(scope)
        if identity is None:
            return ANONYMOUS
        # group files are stat'ed and an authoriser may run: not on the event loop
        return Viewer(identity, await run_in_threadpool(self.control.groups.of, identity))


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
