"""How many fetches may be open at once: overall and per host, below the HTTP pool's size.

httpx's pool re-examines every queued request against every connection whenever one arrives or
closes, which grows with the square of the queue: a run of 2,000 modules spent its time there
and most fetches missed their deadline without a byte sent. So fetches wait for a slot here,
before their deadline starts, and the pool is as large as the slots: it never queues. The
per-host bound keeps one run from opening hundreds of connections to a single server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
# sockets are files: leave room for the database, logs, archives and the web server
_OTHER_FILES = 256


class FetchSlots:
    """Semaphores bounding open fetches, one overall and one per (host, port)."""

    def __init__(self, total: int, per_host: int) -> None:
        self.total = total
        self.per_host = per_host
        self._overall = asyncio.Semaphore(total)
        self._hosts: dict[tuple[str, int | None], asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Hold one slot for a fetch of `url` (its host's first, so no waiter blocks others)."""
        key = host_of(url)
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = asyncio.Semaphore(self.per_host)
        async with host, self._overall:
            yield


@functools.lru_cache(maxsize=16384)  # asked twice per fetch, of the same few URLs every run
def host_of(url: str) -> tuple[str, int | None]:
    """The (host, port) a URL connects to; a URL that cannot be split counts as one host."""
    try:
        parts = urlsplit(url)
        return (parts.hostname or "", parts.port)
    except ValueError:
        return ("", None)


def raise_open_file_limit(connections: int) -> None:
    """Let the process hold `connections` sockets besides its other files, if the system allows.

    The soft limit is often 1,024 while the hard one is far higher; raising the soft one up to
    the hard one needs no privilege.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + _OTHER_FILES
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < wanted:
        log.warning(
            "only %d open files allowed (ulimit -n); %d fetch connections need about %d",
            target, connections, wanted,
        )  # fmt: skip
