"""Answers whose body is a fixed part followed by a few lines made at each request.

`/metrics` is such an answer: everything but a handful of gauges (ages, the event loop's lag)
stays the same for a whole run, while those must be right at every scrape. The fixed part is
prepared once, gzip included, and each request only formats its tail and appends it.

Appending to gzip without compressing the whole body again: the fixed part is deflated once
and flushed to a byte boundary without ending the stream (`Z_SYNC_FLUSH`); each answer adds
the tail as a final *stored* (uncompressed) deflate block and the gzip trailer, whose CRC-32
continues from the fixed part's (RFC 1951, 3.2.4; RFC 1952, 2.3). The result is one ordinary
gzip member that any client reads; the tail, a few hundred bytes, goes uncompressed. A fixed
part can itself be a large part kept for long and a small one that changes more often
(`Stem.then`).

web/recent.py keeps such an answer like any other public one, but calls its tail again
each time it sends it (`LIVE` in the ASGI scope says how).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .cache import GZIP_LEVEL
from .negotiate import accepts_gzip

#: set in the ASGI scope to the `LiveBody` of a whole 200 answer to GET (web/recent.py)
LIVE = "happyface.live"
#: gzip header: deflate, no name or comment, no timestamp (equal parts, equal bytes), no OS
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#: a stored block holds at most this many bytes
_MAX_STORED = 0xFFFF


@dataclass(frozen=True)
class Stem:
    """The fixed part of a body, with what appending to its gzip needs."""

    body: bytes = b""
    #: raw deflate of `body`, flushed to a byte boundary, not final
    deflated: bytes = b""
    crc: int = 0

    def then(self, more: bytes) -> Stem:
        """This stem followed by `more`, of which only `more` is deflated now.

        Deflate streams flushed to a byte boundary join into one (each one's back-references
        stay within its own data), as pigz joins the parts it compresses in parallel.
        """
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        deflated = packer.compress(more) + packer.flush(zlib.Z_SYNC_FLUSH)
        return Stem(self.body + more, self.deflated + deflated, zlib.crc32(more, self.crc))


@lru_cache(maxsize=8)  # a few runs and viewers; the same bytes object hashes once
def stem_of(body: bytes) -> Stem:
    """`body` prepared as a fixed part (deflated once)."""
    return Stem().then(body)


def gzip_with_tail(stem: Stem, tail: bytes) -> bytes:
    """One gzip member of `stem.body + tail`: the stem as deflated once, the tail stored."""
    if len(tail) > _MAX_STORED:
        raise ValueError(f"a live tail of {len(tail)} bytes does not fit one stored block")
    stored = struct.pack("<BHH", 1, len(tail), len(tail) ^ 0xFFFF)  # final, uncompressed
    size = (len(stem.body) + len(tail)) & 0xFFFFFFFF
    trailer = struct.pack("<II", zlib.crc32(tail, stem.crc), size)
    return b"".join((_GZIP_HEADER, stem.deflated, stored, tail, trailer))


@dataclass(frozen=True)
class LiveBody:
    """How to make the body of one representation of a live answer, again at each request."""

    stem: Stem
    tail: Callable[[], bytes]
    gzip: bool

    def render(self) -> bytes:
        tail = self.tail()
        return gzip_with_tail(self.stem, tail) if self.gzip else self.stem.body + tail


class LiveResponse(Response):
    """A fixed part and a tail made now, gzip-compressed when the client accepts it."""

    def __init__(
        self,
        stem: Stem,
        tail: Callable[[], bytes],
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(b"", 200, {**(headers or {}), "Vary": "Accept-Encoding"}, media_type)
        self.stem = stem
        self.tail = tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gzip = accepts_gzip(Headers(scope=scope).get("accept-encoding", ""))
        live = LiveBody(self.stem, self.tail, gzip)
        self.body = live.render()
        self.headers["content-length"] = str(len(self.body))
        if gzip:
            self.headers["content-encoding"] = "gzip"
        if scope["method"] == "GET":  # a HEAD's kept answer would have no body to remake
            scope[LIVE] = live
        await super().__call__(scope, receive, send)
