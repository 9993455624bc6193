"""Rendered pages kept in memory per (run, page, query): a run never changes once written.

Each answer is kept with what serving it again needs: its entity tag and, when that is worth
it, its gzip-compressed body, both made once by the thread that renders it (web/negotiate.py
chooses between them per request).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from starlette.responses import Response

from .negotiate import NegotiatedResponse

T = TypeVar("T")


@dataclass(frozen=True)
class Rendered:
    """One rendered answer: body, media type, HTTP status and extra headers."""

    body: bytes
    media_type: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    #: a strong entity tag of the body, quoted as the `ETag` header wants it
    etag: str = field(init=False, repr=False, compare=False)
    #: the body gzip-compressed, or None where that does not pay (small, or already compressed)
    gzipped: bytes | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", entity_tag(self.body))
        object.__setattr__(self, "gzipped", compressed(self.body, self.media_type))

    @property
    def size(self) -> int:
        """Bytes this answer holds in memory."""
        return len(self.body) + len(self.gzipped or b"")


#: below this, compressing saves less than the headers it adds cost
MIN_COMPRESSED = 1024
#: gzip's level: 9 takes no longer on pages this size and is as small; 6 is zlib's default
GZIP_LEVEL = 6
_TEXTUAL = ("text/", "application/json", "application/xml", "image/svg+xml")


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def compressed(body: bytes, media_type: str) -> bytes | None:
    """The body gzip-compressed when it is text of some size and shrinks; else None."""
    if len(body) < MIN_COMPRESSED or not media_type.startswith(_TEXTUAL):
        return None
    packed = gzip.compress(body, GZIP_LEVEL, mtime=0)  # no timestamp: equal bodies, equal bytes
    return packed if len(packed) < len(body) else None


def to_response(item: Rendered) -> Response:
    """A rendered (often cached) answer as a response that honours `If-None-Match` and
    `Accept-Encoding`."""
    return NegotiatedResponse(item)


class PageCache:
    """A bounded least-recently-used cache of rendered answers, safe across threads."""

    def __init__(self, max_entries: int = 512, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Rendered | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: Hashable, item: Rendered) -> None:
        if item.size > self.max_bytes // 4:
            return  # one huge answer must not flush everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._items[key] = item
            self._bytes += item.size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.size

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class Memo(Generic[T]):
    """One value recomputed at most once per `ttl` seconds.

    The newest run is asked for by every request; remembering it for a second spares the
    database most of that traffic and delays a new run on the live view by at most a second.
    """

    def __init__(self, compute: Callable[[], T], ttl: float = 1.0) -> None:
        self._compute = compute
        self._ttl = ttl
        self._value: T | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def peek(self) -> tuple[bool, T | None]:
        """(True, value) while the remembered value is fresh, without ever computing."""
        with self._lock:
            return time.monotonic() < self._expires, self._value

    def get(self) -> T:
        now = time.monotonic()
        with self._lock:
            if now < self._expires:
                return self._value  # type: ignore[return-value]
        value = self._compute()
        with self._lock:
            self._value, self._expires = value, now + self._ttl
        return value

    def reset(self) -> None:
        with self._lock:
            self._expires = 0.0
