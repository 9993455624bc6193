"""The page policy in a real Chromium: every page kind works under it, and nobody may frame us.

The Content-Security-Policy allows only the dashboard's own scripts, styles and images, so an
inline `style=` or script anywhere would break a page silently; the browser reports each such
violation as a `securitypolicyviolation` event, which the tests collect from the first moment of
every document. Framing is tried from a page of another origin on the same host (same site) and
from another site (`localhost` against `127.0.0.1`).
"""

from __future__ import annotations

import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from tests.fixtures.web import WebSite
from tests.test_browser import ARGS, CHROMIUM, Served, free_port
from tests.test_browser_alarms import live_alarm_site

pytestmark = [
    pytest.mark.browser,
]

# installed before any script of a document runs, so no violation can happen unseen
WATCH_VIOLATIONS = """
window.hfViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.hfViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                           (e.sourceFile || "") + ":" + e.lineNumber);
});
"""
ALARM_PAGES = ["/", "/category/batch", "/module/jobs", "/module/queue",
               "/plot?m=jobs:running", "/plot", "/alarms", "/downtimes", "/category/nope",
               "/module/jobs?at=-1h"]  # fmt: skip
DETAIL_PAGES = ["/module/load", "/module/feed", "/module/gridka?group=cms",
                "/module/load?at=2024-06-01T12:30Z"]  # fmt: skip


@pytest.fixture
def alarm_served(tmp_path: Path) -> Iterator[Served]:
    with live_alarm_site(tmp_path) as server:
        yield server


@pytest.fixture
def detail_served(tmp_path: Path) -> Iterator[Served]:
    from tests.fixtures.details import build

    built = build(tmp_path)
    with Served(WebSite(built.site, built.store, built.archive, [], built.runs)) as server:
        yield server
    built.store.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def violations_on(browser: Any, served: Served, paths: list[str]) -> dict[str, list[str]]:
    """The policy violations of each page, after it loaded and its scripts ran a while."""
    context = browser.new_context(viewport={"width": 900, "height": 700})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for path in paths:
        answer = page.goto(served.url(path))
        assert answer is not None and "default-src 'self'" in answer.headers.get(
            "content-security-policy", ""
        ), path
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # live polls and charts have run
        seen = page.evaluate("window.hfViolations")
        if seen:
            found[path] = seen
    context.close()
    return found


def test_every_page_kind_keeps_the_policy(
    alarm_served: Served, detail_served: Served, browser: Any
) -> None:
    assert violations_on(browser, alarm_served, ALARM_PAGES) == {}
    assert violations_on(browser, detail_served, DETAIL_PAGES) == {}


def test_the_policy_is_enforced_so_the_watch_would_see_a_violation(
    browser: Any, alarm_served: Served
) -> None:
    """The control: an inline script injected into a page is refused and reported."""
    page = browser.new_context().new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    page.goto(alarm_served.url("/"))
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.hfRan = 1'; document.body.append(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("window.hfRan") is None
    assert any("script-src" in v for v in page.evaluate("window.hfViolations"))


def test_status_icons_keep_their_colours_without_inline_styles(
    browser: Any, alarm_served: Served
) -> None:
    """The icons' colours moved from style= into the stylesheet: they must still be drawn."""
    from matplotlib.image import imread

    page = browser.new_page(viewport={"width": 900, "height": 700})
    page.goto(alarm_served.url("/category/batch"))
    icon = page.locator(".badge .icon").first
    pixels = imread(io.BytesIO(icon.screenshot()), format="png")[..., :3]
    spread = pixels.max(axis=2) - pixels.min(axis=2)  # 0 for grey, black and white
    assert (spread > 0.3).mean() > 0.2, "the icon is drawn without its status colour"


class FramingPage(http.server.BaseHTTPRequestHandler):
    """Serves one page that frames the dashboard URL given in `target`."""

    target = ""

    def do_GET(self) -> None:
        body = f'<html><body><iframe id="f" src="{self.target}"></iframe></body></html>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def framing_server() -> Iterator[tuple[int, type[FramingPage]]]:
    handler = type("Framing", (FramingPage,), {})
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port, handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_no_other_page_can_frame_the_dashboard(
    browser: Any,
    alarm_served: Served,
    framing_server: tuple[int, type[FramingPage]],
    host: str,
) -> None:
    """Same site (another port of 127.0.0.1) and another site (localhost): both refused."""
    port, handler = framing_server
    handler.target = alarm_served.url("/alarms")
    page = browser.new_page()
    page.goto(f"http://{host}:{port}/")
    page.wait_for_timeout(1000)
    frame = page.frame_locator("#f")
    assert frame.locator("main, nav, form").count() == 0
    assert all("alarms" not in (f.title() or "").lower() for f in page.frames[1:])
