"""Rendered pages kept in memory per (run, page, query): a run never changes once written."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.responses import Response

T = TypeVar("T")


@dataclass(frozen=True)
class Rendered:
    """One rendered answer: body, media type, HTTP status and extra headers."""

    body: bytes
    media_type: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


def to_response(item: Rendered) -> Response:
    """A rendered (often cached) answer as a response."""
    return Response(
        item.body, status_code=item.status, media_type=item.media_type, headers=dict(item.headers)
    )


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
        if len(item.body) > self.max_bytes // 4:
            return  # one huge answer must not flush everything else
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = item
            self._bytes += len(item.body)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.body)

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
