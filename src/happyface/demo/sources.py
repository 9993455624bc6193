"""The demo site's HTTP server: every simulated source on loopback, in a background thread."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import batch, instances, news, storage
from .shifts import efficiency_json

Clock = Callable[[], datetime]
Render = Callable[[datetime], bytes]

SLOW_SECONDS = 5.0

#: path -> (content type, body at a time)
ENDPOINTS: dict[str, tuple[str, Render]] = {
    "/jobs/gridka.xml": ("application/xml", lambda now: batch.jobinfo_xml("gridka", now)),
    "/jobs/t1_us.xml": ("application/xml", lambda now: batch.jobinfo_xml("t1_us", now)),
    "/jobs/condor.json": ("application/json", batch.condor_json),
    "/dcache/info.xml": ("application/xml", storage.info_xml),
    "/dcache/transfers.json": ("application/json", storage.transfers_json),
    "/news.rss": ("application/rss+xml", news.news_rss),
    "/status/ce.json": ("application/json", news.ce_status_json),
    "/slow": ("application/json", news.ce_status_json),
    "/instances/desy/api/v1/status": (
        "application/json",
        lambda now: instances.status_json("desy", now),
    ),
    "/instances/rwth/api/v1/status": (
        "application/json",
        lambda now: instances.status_json("rwth", now),
    ),
}
#: the transfer efficiency that shifts at known times before the demo's start
SHIFTING = "/transfers/efficiency.json"
#: where the demo's alarm channel posts its notifications (a webhook, as a chat server has)
INBOX = "/alarm-inbox"
MAX_POST = 64 * 1024
MAX_KEPT = 200


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DemoSources:
    """The simulated site's sources on 127.0.0.1, served concurrently from a background thread.

    `/broken` always answers HTTP 500 and `/slow` answers correctly after about five seconds,
    so the demo shows a failing and a slow source next to the healthy ones. `started` is when
    the demo started: the transfer efficiency shifts at times counted back from it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = _utc_now,
        slow_seconds: float = SLOW_SECONDS,
        started: datetime | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the demo sources serve on loopback only, not on {host!r}")
        self.host, self.port, self.clock, self.slow_seconds = host, port, clock, slow_seconds
        self.started = started or _utc_now()
        #: the notifications the demo's alarm channel posted, newest last
        self.inbox: list[bytes] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, the real port once started."""
        if self._server is None:
            raise RuntimeError("the demo sources are not started; call start() first")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> DemoSources:
        """Bind and serve in a daemon thread; returns self so `DemoSources().start()` reads well."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _handler(self))
        server.daemon_threads = True  # a /slow request never holds up stop()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="happyface-demo-sources", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; waiting /slow requests are cut short."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> DemoSources:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a request path (the server's only logic)."""
        path = path.split("?", 1)[0]
        if path == "/broken":
            return 500, "text/plain", b"500 Internal Server Error: the simulated producer crashed\n"
        if path == "/slow" and self._stopping.wait(self.slow_seconds):
            return 503, "text/plain", b"shutting down\n"
        if path in ENDPOINTS:
            content_type, render = ENDPOINTS[path]
            return 200, content_type, render(self.clock())
        if path == SHIFTING:
            return 200, "application/json", efficiency_json(self.clock(), self.started)
        if path == "/":
            listing = "\n".join(sorted([*ENDPOINTS, SHIFTING, "/broken", f"{INBOX} (POST)"])) + "\n"
            return 200, "text/plain", listing.encode()
        return 404, "text/plain", b"not found\n"

    def receive(self, path: str, body: bytes) -> bool:
        """Keep a notification posted to the inbox; False for any other path."""
        if path.split("?", 1)[0] != INBOX:
            return False
        self.inbox.append(body)
        del self.inbox[:-MAX_KEPT]
        return True


class _Server(ThreadingHTTPServer):
    # socketserver's backlog of 5 drops the SYNs of a run's concurrent fetches, and each
    # dropped one costs the client a one-second retransmission
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the fetcher hung up (a run cancelled by Ctrl-C closes its
        connections while answers are being written); report anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _handler(sources: DemoSources) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "HappyFaceDemo/1"

        def do_GET(self) -> None:
            status, content_type, body = sources.respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_POST)
            body = self.rfile.read(length)
            status = 204 if sources.receive(self.path, body) else 404
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # the demo's console belongs to the dashboard, not to access logs

    return Handler
