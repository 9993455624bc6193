"""The finished answers of the last second, sent again to anonymous viewers without the app.

A cached page still costs the whole app once per request: routing, three middlewares, the
handler's look-ups, a response object; about 240 µs of CPU against nginx's 35 µs for the
same bytes, while uvicorn alone needs about 55 µs (docs/design.md, "Serving"). This layer,
outside every other, keeps the answer the app sent, headers and body as they left it, and
sends it again for the same request within `ttl` seconds, which brings a busy dashboard's
cost close to uvicorn's own.

Only what is certainly the same for everyone who asks is kept:
- requests of anonymous viewers (no verified certificate, no bearer JWT or login session,
  decided by the access control's own `personal`), without `If-None-Match` (those are
  answered by web/negotiate.py);
- answers the per-run cache produced (web/negotiate.py marks them), status 200, that set no
  cookie and carry no form token of the browser that asked;
- likewise live answers (`/metrics`, web/livetail.py), whose few live lines are made again
  each time one is sent, so they are as right as the app's own answer would be.
The key holds everything else such an answer depends on: method, path, query, host, scheme,
whether gzip is accepted, whether the browser has its form-token cookie yet.

A second is already how long the newest run is remembered (web/pages/routes.py), so a new run
shows at most that much later. A form sent to this process (an acknowledgement, a downtime)
forgets everything at once, so the page it returns to shows the change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .access import AccessControl
from .access.middleware import CSRF_COOKIE, CSRF_KEY
from .livetail import LIVE, LiveBody
from .negotiate import REUSABLE, accepts_gzip

#: seconds an answer is sent again
TTL = 1.0
#: answers kept at most; within a second only the busiest addresses come back
MAX_ANSWERS = 256
_SAFE = ("GET", "HEAD")


@dataclass(frozen=True)
class _Sent:
    """One answer as it left the app, and until when it may be sent again."""

    start: Message
    body: Message
    until: float

    async def send(self, send: Send) -> None:
        await send(self.start)
        await send(self.body)


@dataclass(frozen=True)
class _SentLive:
    """A live answer (web/livetail.py) as it left the app: its head, and how to remake its body."""

    start: Message
    live: LiveBody
    until: float

    async def send(self, send: Send) -> None:
        body = self.live.render()
        length = (b"content-length", str(len(body)).encode("ascii"))
        await send({**self.start, "headers": [*self.start["headers"], length]})
        await send({"type": "http.response.body", "body": body})

    @classmethod
    def of(cls, start: Message, live: LiveBody, until: float) -> _SentLive:
        """`start` without its length: each body made again has its own."""
        headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"content-length"]
        return cls({**start, "headers": headers}, live, until)


class RecentAnswers:
    """ASGI middleware sending the app's recent public answers again (see the module doc)."""

    def __init__(
        self, app: ASGIApp, control: AccessControl, ttl: float = TTL, max_answers: int = MAX_ANSWERS
    ) -> None:
        self.app = app
        self.control = control
        self.ttl = ttl
        self.max_answers = max_answers
        self._answers: dict[Hashable, _Sent | _SentLive] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in _SAFE:
            self.forget()  # a form may have changed what the pages show
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        sent = self._recent(key)
        if sent is not None:
            await sent.send(send)
            return
        await self._answer_and_keep(key, scope, receive, send)

    def forget(self) -> None:
        with self._lock:
            self._answers.clear()

    def _key(self, scope: Scope) -> Hashable | None:
        """What the answer depends on, or None when it must not be shared."""
        headers = dict(scope["headers"])  # names come in lower case (ASGI)
        if b"if-none-match" in headers or self.control.personal(scope):
            return None
        cookie = CSRF_COOKIE in cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
        gzip = accepts_gzip(headers.get(b"accept-encoding", b"").decode("latin-1"))
        host = headers.get(b"host", b"")
        return (
            scope["method"],
            scope["path"],
            scope["query_string"],
            host,
            scope["scheme"],
            gzip,
            cookie,
        )

    def _recent(self, key: Hashable) -> _Sent | _SentLive | None:
        with self._lock:
            sent = self._answers.get(key)
        return sent if sent is not None and time.monotonic() < sent.until else None

    async def _answer_and_keep(
        self, key: Hashable, scope: Scope, receive: Receive, send: Send
    ) -> None:
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)
            await send(message)

        await self.app(scope, receive, keep)
        if not _shareable(scope, messages):
            return
        until = time.monotonic() + self.ttl
        live = scope.get(LIVE)
        if isinstance(live, LiveBody):
            self._keep(key, _SentLive.of(messages[0], live, until))
        else:
            self._keep(key, _Sent(messages[0], messages[1], until))

    def _keep(self, key: Hashable, sent: _Sent | _SentLive) -> None:
        with self._lock:
            if len(self._answers) >= self.max_answers:
                now = time.monotonic()
                self._answers = {k: v for k, v in self._answers.items() if v.until > now}
                if len(self._answers) >= self.max_answers:
                    return
            self._answers[key] = sent


def _shareable(scope: Scope, messages: list[Message]) -> bool:
    """Whether the app's answer is the same for every anonymous viewer asking the same."""
    if not (scope.get(REUSABLE) or scope.get(LIVE)) or len(messages) != 2:
        return False
    start, body = messages
    if start.get("status") != 200 or body.get("more_body", False):
        return False
    if any(name == b"set-cookie" for name, _ in start.get("headers", [])):
        return False
    token = str(scope.get(CSRF_KEY, "")).encode()
    return not token or token not in body.get("body", b"")
