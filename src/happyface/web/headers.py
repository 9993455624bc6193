"""Browser security headers on every answer: what a page may load, and who may frame it.

Pages load only HappyFace's own scripts, styles and images (everything is served locally, so
nothing else is ever needed), may not be framed (a framed dashboard lets another page steer
clicks onto the acknowledgement forms), and leak no address to other sites. Every answer,
whatever its type, forbids content sniffing, so a JSON or text answer is never run as a page.
An answer that already carries its own, stricter policy (archived files) keeps it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# one year, as browsers' preload lists expect; sent only when HappyFace itself serves TLS
HSTS = "max-age=31536000"

_EVERY_ANSWER = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
_HTML_ANSWERS = (
    (b"content-security-policy", PAGE_POLICY.encode("ascii")),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP answer of the app it wraps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = secured(list(message.get("headers", [])), tls)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secured(headers: list[tuple[bytes, bytes]], tls: bool) -> list[tuple[bytes, bytes]]:
    """`headers` with every security header they lack added (those present are kept)."""
    present = {name.lower() for name, _ in headers}
    wanted = list(_EVERY_ANSWER)
    if is_html(headers):
        wanted.extend(_HTML_ANSWERS)
    if tls:
        wanted.append((b"strict-transport-security", HSTS.encode("ascii")))
    return headers + [(name, value) for name, value in wanted if name not in present]


def is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the answer with these headers is an HTML page."""
    return any(n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers)
