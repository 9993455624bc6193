"""Serving a rendered answer again: `ETag` and `304 Not Modified`, gzip when accepted.

A cached answer costs the server one dictionary lookup; what is left is what HTTP lets us
save on the wire. Each answer carries a strong entity tag of its body, so a browser that
revalidates (every answer of the newest run is `no-cache`) gets a bodiless 304 while the run
is unchanged. A client that accepts gzip gets the body compressed once when it was rendered
(a tag of its own, as each representation needs one), and every answer that has two
representations says so with `Vary: Accept-Encoding`, so no shared cache hands the
compressed one to a client that cannot read it.

Answers of a run are kept per viewer's sight (web/pages/routes.py keys its cache on it), so a tag
only ever matches a body this viewer may see; the access middleware marks such answers
`private` where sight differs between viewers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from .cache import Rendered

#: set in the ASGI scope when a whole 200 answer from the per-run cache went out (web/recent.py)
REUSABLE = "happyface.reusable"
#: what a cacheable answer says when its builder said nothing: keep it, but ask each time
DEFAULT_CACHE_CONTROL = "no-cache"
#: response headers a 304 repeats (RFC 9110, 15.4.5): what a cache needs to update its copy
_KEPT_BY_304 = frozenset({b"cache-control", b"etag", b"vary", b"expires", b"content-location"})


class NegotiatedResponse(Response):
    """A rendered answer sent in the representation the request asks for."""

    def __init__(self, item: Rendered) -> None:
        headers = dict(item.headers)
        cacheable = item.status == 200
        if cacheable:
            headers["ETag"] = item.etag
            if not any(name.lower() == "cache-control" for name in headers):
                headers["Cache-Control"] = DEFAULT_CACHE_CONTROL
        if item.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        super().__init__(item.body, item.status, headers, item.media_type)
        self.item = item

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = Headers(scope=scope)
        if self.item.gzipped is not None and accepts_gzip(asked.get("accept-encoding", "")):
            self._use_gzip(self.item.gzipped)
        etag = self.headers.get("etag")
        if etag is not None and matches(asked.get("if-none-match", ""), etag):
            await self._not_modified(send)
            return
        scope[REUSABLE] = self.status_code == 200
        await super().__call__(scope, receive, send)

    def _use_gzip(self, body: bytes) -> None:
        self.body = body
        self.headers["content-length"] = str(len(body))
        self.headers["content-encoding"] = "gzip"
        if "etag" in self.headers:
            self.headers["etag"] = gzip_tag(self.item.etag)

    async def _not_modified(self, send: Send) -> None:
        headers = [(n, v) for n, v in self.raw_headers if n in _KEPT_BY_304]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def gzip_tag(etag: str) -> str:
    """The tag of the gzip representation: a different one, as RFC 9110 asks of strong tags."""
    return etag[:-1] + '-gzip"'


@lru_cache(maxsize=64)  # browsers send a handful of distinct values, each many times
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether `Accept-Encoding` admits gzip with a quality above zero; gzip named outright
    decides over `*`."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        weights[coding.strip().lower()] = _quality(params)
    for name in ("gzip", "x-gzip", "*"):
        if name in weights:
            return weights[name] > 0
    return False


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0  # a malformed weight admits nothing rather than guessing
    return 1.0


def matches(if_none_match: str, etag: str) -> bool:
    """Whether `If-None-Match` names `etag`, weakly compared (RFC 9110, 13.1.2), or is `*`."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags
