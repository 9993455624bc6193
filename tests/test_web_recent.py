"""The layer that sends recent public answers again (web/recent.py), on a small ASGI app.

test_serving.py runs it inside a real `happyface serve`; here each rule of what may be kept
is checked on its own, with an app that counts how often it was asked.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from starlette.types import Message, Receive, Scope, Send

from happyface.web.access import AccessControl
from happyface.web.access.middleware import CSRF_KEY
from happyface.web.livetail import LIVE, LiveBody, stem_of
from happyface.web.negotiate import REUSABLE
from happyface.web.recent import RecentAnswers

TOKEN = "form-token-of-this-browser"


class _Control:
    """Identifies whoever sends an `x-dn` header; everyone else is anonymous."""

    def identify(self, scope: Scope) -> str | None:
        return dict(scope["headers"]).get(b"x-dn", b"").decode() or None

    def personal(self, scope: Scope) -> bool:
        return self.identify(scope) is not None


class _App:
    """Answers 200 with a counter; what it marks and sends is set per test."""

    def __init__(self) -> None:
        self.calls = 0
        self.reusable = True
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b"page"
        self.status = 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        scope[CSRF_KEY] = TOKEN
        scope[REUSABLE] = self.reusable
        start = {"type": "http.response.start", "status": self.status, "headers": self.headers}
        await send(start)
        await send({"type": "http.response.body", "body": self.body + b" %d" % self.calls})


def _layer(app: _App, ttl: float = 60.0) -> RecentAnswers:
    return RecentAnswers(app, cast(AccessControl, _Control()), ttl=ttl)


def _get(
    layer: RecentAnswers,
    path: str = "/",
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> bytes:
    return b"".join(m.get("body", b"") for m in _exchange(layer, path, method, headers))


def _start(layer: RecentAnswers) -> list[tuple[bytes, bytes]]:
    """The headers of a GET / as the layer sends them."""
    return list(_exchange(layer, "/", "GET", None)[0]["headers"])


def _exchange(
    layer: RecentAnswers, path: str, method: str, headers: dict[str, str] | None
) -> list[Message]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "scheme": "http",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(layer(scope, receive, send))
    return sent


def test_a_public_answer_is_sent_again_within_its_time() -> None:
    app = _App()
    layer = _layer(app)
    assert _get(layer) == _get(layer) == b"page 1"
    assert app.calls == 1
    assert _get(layer, "/other") == b"page 2"  # another address is another answer


def test_a_kept_answer_expires() -> None:
    app = _App()
    layer = _layer(app, ttl=0.0)
    _get(layer), _get(layer)
    assert app.calls == 2


def test_a_form_sent_forgets_every_kept_answer() -> None:
    app = _App()
    layer = _layer(app)
    _get(layer)
    _get(layer, "/ack", method="POST")
    assert _get(layer) == b"page 3" and app.calls == 3


def test_answers_of_identified_viewers_and_revalidations_are_never_kept() -> None:
    app = _App()
    layer = _layer(app)
    for headers in ({"x-dn": "/CN=Ada"}, {"If-None-Match": '"tag"'}):
        _get(layer, headers=headers), _get(layer, headers=headers)
    assert app.calls == 4
    assert _get(layer) == b"page 5"  # not an identified viewer's answer


def test_only_whole_public_answers_of_the_run_cache_are_kept() -> None:
    def twice(app: _App) -> int:
        layer = _layer(app)
        _get(layer), _get(layer)
        return app.calls

    unmarked = _App()
    unmarked.reusable = False
    assert twice(unmarked) == 2
    cookie = _App()
    cookie.headers = [(b"set-cookie", b"hf_csrf=new")]
    assert twice(cookie) == 2
    form = _App()
    form.body = f'<input name="csrf_token" value="{TOKEN}">'.encode()
    assert twice(form) == 2
    missing = _App()
    missing.status = 404
    assert twice(missing) == 2


def test_the_form_token_cookie_and_gzip_are_part_of_the_key() -> None:
    app = _App()
    layer = _layer(app)
    _get(layer)
    _get(layer, headers={"Cookie": "hf_csrf=abc"})
    _get(layer, headers={"Accept-Encoding": "gzip"})
    assert app.calls == 3


def test_a_live_answer_sent_again_makes_its_tail_again() -> None:
    tails = iter(b"tail %d" % n for n in range(100))

    async def live(scope: Scope, receive: Receive, send: Send) -> None:
        body = LiveBody(stem_of(b"fixed "), lambda: next(tails), gzip=False)
        scope[LIVE] = body
        headers = [(b"content-length", b"999"), (b"x-kept", b"yes")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body.render()})

    layer = RecentAnswers(live, cast(AccessControl, _Control()), ttl=60.0)
    assert [_get(layer) for _ in range(3)] == [b"fixed tail 0", b"fixed tail 1", b"fixed tail 2"]
    head = _start(layer)
    assert (b"x-kept", b"yes") in head and (b"content-length", b"12") in head
    assert [n for n, _ in head].count(b"content-length") == 1
