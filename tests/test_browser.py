"""The dashboard in a real headless Chromium, served by a real uvicorn over a test database."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright import sync_api

from tests.fixtures.web import INTERVAL, RUNS, WebSite, populate, write_run

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A uvicorn server of a site's app in a thread, on loopback."""

    def __init__(self, site: WebSite) -> None:
        self.site = site
        self.port = free_port()
        config = uvicorn.Config(site.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    # runs up to a minute ago, so the live view is fresh by the real clock
    base = datetime.now(UTC).replace(microsecond=0) - INTERVAL * (RUNS - 1) - timedelta(minutes=1)
    site = populate(tmp_path, base=base)
    with Served(site) as server:
        yield server
    site.store.close()


@pytest.fixture
def page(served: Served) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 900, "height": 600})
        context.add_init_script("window.hfPollMs = 250;")  # poll fast: the test need not wait 10 s
        tab = context.new_page()
        tab.errors = []  # type: ignore[attr-defined]
        tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))  # type: ignore[attr-defined]
        tab.on("pageerror", lambda e: tab.errors.append(str(e)))  # type: ignore[attr-defined]
        yield tab
        browser.close()


def test_live_view_picks_up_a_new_run_in_place(served: Served, page: object) -> None:
    p: sync_api.Page = page  # type: ignore[assignment]
    p.goto(served.url("/category/batch"))
    badge = p.locator("#jobs .box-head .badge .word")
    assert badge.inner_text() == "Problem"
    p.evaluate("window.scrollTo(0, 400); window.hfMarker = 'still here';")
    before = p.evaluate("window.scrollY")
    assert before > 0
    site = served.site
    write_run(site.store, site.site, site.times[-1] + timedelta(seconds=30), RUNS)
    sync_api.expect(badge).to_have_text("OK", timeout=8000)
    assert p.evaluate("window.hfMarker") == "still here"  # no reload happened
    assert p.evaluate("window.scrollY") == before
    assert re.fullmatch(r"updated \d\d:\d\d:\d\d UTC", p.locator("#updated").inner_text())
    assert p.errors == []  # type: ignore[attr-defined]


def _click_and_wait(p: sync_api.Page, selector: str) -> None:
    """Click a link and wait until the browser shows another URL."""
    before = p.url
    p.click(selector)
    p.wait_for_function(f"location.href !== {before!r}")
    p.wait_for_load_state()


def test_time_machine_steps_by_run(served: Served, page: object) -> None:
    p: sync_api.Page = page  # type: ignore[assignment]
    p.goto(served.url("/category/batch"))
    shown = p.locator(".timebar .shown time")
    live_time = shown.inner_text()
    _click_and_wait(p, "a.prev-run")
    assert "at=" in p.url
    assert "You are looking at the past" in p.locator("#bars").inner_text()
    one_back = shown.inner_text()
    assert one_back != live_time
    _click_and_wait(p, "a.prev-run")
    assert shown.inner_text() not in (one_back, live_time)
    _click_and_wait(p, "a.next-run")
    assert shown.inner_text() == one_back
    _click_and_wait(p, "a.next-run")  # the newest run is the live view
    assert p.url == served.url("/category/batch")
    assert shown.inner_text() == live_time
    assert p.evaluate("document.body.dataset.live") == "1"
    assert p.errors == []  # type: ignore[attr-defined]


def test_plot_renders_curves_with_points(served: Served, page: object) -> None:
    p: sync_api.Page = page  # type: ignore[assignment]
    p.goto(served.url("/plot?m=jobs:running&m=transfers:rate_mb&m=transfers:status&from=-1d"))
    curve = p.locator("figure.chart svg path.curve").first
    curve.wait_for(timeout=5000)
    assert int(curve.get_attribute("data-points") or 0) == RUNS
    assert (curve.get_attribute("d") or "").count("L") == RUNS - 1
    assert p.locator("figure.chart svg path.curve").count() == 2
    assert p.locator("figure.chart svg rect.seg").count() >= 3  # happy, error, happy
    p.locator("figure.chart > svg").scroll_into_view_if_needed()
    box = p.locator("figure.chart > svg").bounding_box()
    assert box is not None
    p.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    p.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=4)
    sync_api.expect(p.locator("figure.chart .tip")).to_contain_text("Running jobs: running =")
    assert p.errors == []  # type: ignore[attr-defined]


def test_no_console_errors_and_fits_a_phone(served: Served, page: object) -> None:
    p: sync_api.Page = page  # type: ignore[assignment]
    at = (served.site.times[5] + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%MZ")
    paths = [
        "/",
        "/category/batch",
        "/category/storage",
        "/module/jobs",
        "/module/queue",
        f"/category/storage?at={at}",
        "/plot?m=jobs:running&from=-1d",
        "/plot",
        "/category/nope",
        "/alarms",
        "/downtimes",
        "/handover",
        "/wall",
    ]
    for width in (900, 375):
        p.set_viewport_size({"width": width, "height": 700})
        for path in paths:
            answer = p.goto(served.url(path))
            assert answer is not None and answer.status == (404 if "nope" in path else 200), path
            p.wait_for_timeout(400)  # charts load and live polls run; errors would show now
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (path, width, overflow)
    # the 404 page logs its own status as a failed resource; nothing else may fail
    real = [e for e in p.errors if "404" not in e]  # type: ignore[attr-defined]
    assert real == []


@pytest.fixture
def detail_served(tmp_path: Path) -> Iterator[Served]:
    from tests.fixtures.details import build

    built = build(tmp_path)
    site = WebSite(built.site, built.store, built.archive, [], built.runs)
    with Served(site) as server:
        yield server
    built.store.close()


def test_detail_views_show_archived_images_and_run_no_feed_script(detail_served: Served) -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        p = browser.new_page()
        dialogs: list[str] = []
        p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for at in ("", "?at=2024-06-01T12:30Z"):
            p.goto(detail_served.url(f"/module/load{at}"))
            p.wait_for_load_state("networkidle")
            sizes = p.eval_on_selector_all(".plot-image img", "els => els.map(e => e.naturalWidth)")
            assert sizes == [120, 200], (at, sizes)  # the PNG or GIF, and the SVG, all decoded
        p.goto(detail_served.url("/module/feed"))
        p.goto(detail_served.url("/module/gridka?group=cms"))
        assert p.locator("table.jobs tbody tr").count() > 0
        opened = p.goto(detail_served.url("/archive/2/load/transfers.svg"))
        assert opened is not None and opened.headers["content-type"].startswith("text/plain")
        browser.close()
        assert dialogs == []


PHONE_PAGES = ["/module/gridka", "/module/gridka?group=cms", "/module/condor", "/module/farm",
               "/module/load", "/module/feed", "/category/batch"]  # fmt: skip


def test_pages_with_job_tables_fit_a_phone(detail_served: Served) -> None:
    """A wide table scrolls inside its box; the page itself is never wider than a phone."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        p = browser.new_page(viewport={"width": 390, "height": 800})
        wide, tables = {}, 0
        for path in PHONE_PAGES:
            p.goto(detail_served.url(path))
            p.wait_for_load_state("networkidle")
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                wide[path] = overflow
            tables += p.locator(".table-wrap").count()
        browser.close()
    assert wide == {}
    assert tables > 0  # the check looked at wide tables
