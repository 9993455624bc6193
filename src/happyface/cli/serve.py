"""`happyface serve`: the scheduler and the web dashboard in one process."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import uvicorn

from ..acquisition.schedule import slot_of
from ..config.site import Site
from ..errors import StorageError
from .assembly import Service, build_service, record_unreachable

log = logging.getLogger("happyface.cli.serve")

# How long to wait before trying an unreachable database again at start-up.
RETRY_SECONDS = 30.0
# How long a thread keeps the GIL while another waits for it (Python's default: 5 ms). The
# event loop, which answers every request, shares the GIL with the threads that store runs
# and render pages, and waits this long at each turn: 1 ms keeps its lag under 20 ms while a
# large run is stored (bench/bench_loop_lag.py), for a little more switching between threads.
SWITCH_INTERVAL = 0.001
# Plain HTTP is uvicorn's httptools protocol (a C parser: about half the CPU per answer of
# h11, pure Python) writing each answer's head and body at once (web/joinedwrites.py; see
# docs/design.md, "Serving"). Served over TLS, HappyFace keeps its h11 protocol, which reads
# the client certificate.


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (another 10-20 % less CPU per answer), else
    None for asyncio's own: the dashboard and the scheduler work the same on both.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return None
    return uvloop.new_event_loop


async def serve_site(
    site: Site,
    host: str | None = None,
    port: int | None = None,
    acquire: bool = True,
    *,
    prelude: Callable[[], Awaitable[None]] | None = None,
    notices: Callable[[], Sequence[str]] | None = None,
) -> None:
    """Serve the dashboard, and acquire on schedule unless `acquire` is false.

    `prelude` runs while the dashboard already answers, before the first scheduled run (the
    demo fills its history so); `notices` are shown on every page while it returns any.
    """
    sys.setswitchinterval(SWITCH_INTERVAL)
    service = await _open_service(site, acquire)
    from ..web.app import create_app, served

    async def acquisition() -> None:
        if prelude is not None:
            await prelude()
        await service.scheduler.forever()

    background: list[Callable[[], Awaitable[None]]] = [acquisition] if acquire else []
    app = create_app(
        site, service.store, archive=service.archive, background=background, notices=notices
    )
    config = uvicorn.Config(
        served(app),
        host=host or site.settings.web.host,
        port=port if port is not None else site.settings.web.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # The client address must be the TCP peer: trusted_proxies is decided on it. Uvicorn's
        # proxy-header handling would rewrite it from X-Forwarded-For (for any peer listed in
        # FORWARDED_ALLOW_IPS, 127.0.0.1 by default), letting anyone pose as a trusted proxy.
        proxy_headers=False,
        forwarded_allow_ips=[],
        server_header=False,
        **_protocol_options(site),
    )
    scheme = "https" if site.settings.web.tls.certfile else "http"
    log.info("dashboard on %s://%s:%d/", scheme, config.host, config.port)
    try:
        await _serve_until_stopped(uvicorn.Server(config))
    finally:
        await service.aclose()


async def _serve_until_stopped(server: uvicorn.Server) -> None:
    """Serve; a stop that cancels this before uvicorn took the signals over shuts down the same
    graceful way (background tasks cancelled, the run recorded), not inside uvicorn's start-up.
    """
    serving = asyncio.create_task(server.serve())
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise


def _protocol_options(site: Site) -> dict[str, Any]:
    """Uvicorn's HTTP protocol: HTTPS with client certificates when configured, else plain."""
    tls = site.settings.web.tls
    if tls.certfile is None:
        from ..web.joinedwrites import JoinedWritesProtocol

        return {"http": JoinedWritesProtocol}
    from ..web.access.tls import TlsH11Protocol, server_context

    context = server_context(tls, site.root)
    return {"ssl_context_factory": lambda config, default: context, "http": TlsH11Protocol}


async def _open_service(site: Site, acquire: bool) -> Service:
    """Open the database, waiting while it is unreachable instead of exiting in a loop.

    Each slot spent waiting counts as one failed run, recorded once the database is back.
    """
    interval = site.settings.interval
    while True:
        started = datetime.now(UTC)
        try:
            return await asyncio.to_thread(build_service, site)
        except StorageError as exc:
            retry = min(RETRY_SECONDS, interval)
            log.error("%s; trying again in %g s", exc, retry)
            if acquire:  # spooled once per slot however often this tries
                slot = slot_of(started, interval)
                await asyncio.to_thread(record_unreachable, site, started, exc, slot)
            await asyncio.sleep(retry)
