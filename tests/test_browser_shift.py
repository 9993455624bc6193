"""Since when, the handover digest and the wall, in a real headless Chromium.

The wall is served by real `happyface serve` processes, killed and started again on the same
port while the page stays open, and cut off from the network; it must say so and recover by
itself. The screenshots in docs/dashboard.md come from these tests: with HF_SCREENSHOTS=docs/img
they are written there, else to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright import sync_api

from happyface.web import create_app
from tests.fixtures.access import USER_DN, proxy_headers
from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.shift_day import NOTE, NOW, make_day
from tests.fixtures.site import write_site
from tests.fixtures.web import INTERVAL, RUNS, populate

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
]


class ServedApp:
    """An app served by uvicorn in a thread on 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """Where the screenshots go: HF_SCREENSHOTS (docs/img to refresh the docs) or a temp folder."""
    return Path(os.environ.get("HF_SCREENSHOTS") or tmp_path)


def new_page(browser: Any, width: int = 1100, height: int = 800, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.add_init_script("window.hfPollMs = 300; window.hfWallCycleMs = 700;")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def test_durations_on_the_pages_and_the_wall_cycles(tmp_path: Path, chromium: Any) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - INTERVAL * (RUNS - 1) - timedelta(minutes=1)
    site = populate(tmp_path, base=base)
    with ServedApp(site.app()) as served:
        page = new_page(chromium)
        page.goto(served.url("/category/batch"))
        since = page.locator("#jobs .box-head .since")
        # a minute or two ago, depending on how long the machine took to get here
        expected = re.compile(rf"since {site.times[-1]:%H:%M} UTC \(\d min\)")
        sync_api.expect(since).to_have_text(expected, use_inner_text=True)
        page.goto(served.url("/"))
        assert "since" in page.locator(".troubled li", has_text="Running jobs").inner_text()
        page.goto(served.url("/module/queue"))
        assert "8 runs" in page.locator("table.history").inner_text()
        # a wall too small for both categories shows them in turn
        wall = new_page(chromium, width=700, height=260)
        wall.goto(served.url("/?wall=1"))
        assert wall.url == served.url("/wall")
        label = wall.locator("#wall-page")
        sync_api.expect(label).to_have_text("page 1 of 2")
        assert wall.locator("#wall-batch").is_visible()
        assert not wall.locator("#wall-storage").is_visible()
        sync_api.expect(label).to_have_text("page 2 of 2", timeout=15000)
        assert wall.locator("#wall-storage").is_visible()
        assert wall.locator("a, button, input, form").count() == 0  # nothing to click or fill
        assert page.errors == [] and wall.errors == []
    site.store.close()


def test_the_digest_after_a_scripted_day(tmp_path: Path, chromium: Any, images: Path) -> None:
    day = make_day(tmp_path / "site", free_port())
    app = create_app(day.site, day.store)
    app.state.dashboard.now = lambda: NOW
    with ServedApp(app) as served:
        page = new_page(chromium, extra_http_headers=proxy_headers(USER_DN))
        page.goto(served.url("/handover"))
        main = page.locator("main")
        text = main.inner_text()
        assert "0 of 2 modules have a problem, 1 cannot be read." in text
        still = page.locator("section[aria-label='Still open']").inner_text()
        assert "Transfers" in still and "1 h 50 min" in still and "door unreachable" in still
        ended = page.locator("section[aria-label='Ended']").inner_text()
        assert "Running jobs" in ended and ended.endswith("10:00 UTC, 2 h")
        assert "dCache door restarted, vendor called" in text and "2026-11-25 16:00 UTC" in text
        assert "batch node kernel update" in text and "dcache-door: unreachable" in text
        assert "VAULT" not in text
        page.click("details.note-form summary")
        page.fill("textarea[name=text]", NOTE)
        page.click("details.note-form button[type=submit]")
        sync_api.expect(page.locator("blockquote.shift-note p")).to_have_text(NOTE)
        page.screenshot(path=str(images / "handover.png"), full_page=True)
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible()
        assert not page.locator("form").first.is_visible()
        assert page.errors == []
    day.store.close()


WALL_SITE = """
[site]
title = "Wall site"
interval = "10s"
stale_after = "1h"

[site.web]
port = {port}

[[category]]
id = "batch"
title = "Batch system"

[[category]]
id = "storage"
title = "Storage"

[[module]]
id = "jobs"
type = "json_value"
category = "batch"
title = "Held jobs"
source = "values.json"
[module.settings]
values = {{ held = "$.held" }}
[[module.rules]]
metric = "held"
op = ">"
critical = 100

[[module]]
id = "pool"
type = "json_value"
category = "storage"
title = "Disk pool"
source = "values.json"
[module.settings]
values = {{ free = "$.free" }}
[[module.rules]]
metric = "free"
op = "<"
warning = 10
"""


def test_the_wall_survives_a_restart_and_a_lost_network(
    tmp_path: Path, chromium: Any, images: Path
) -> None:
    port = free_port()
    config = write_site(tmp_path, WALL_SITE.format(port=port))
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"held": 3, "free": 5}))
    wall = new_page(chromium, width=1280, height=720)
    status = wall.locator("#wall-batch .wall-status .word")
    lost = wall.locator("#connection")
    with happyface("-c", str(config), "serve") as process:
        wait_for(f"http://127.0.0.1:{port}/wall", process)
        wall.goto(f"http://127.0.0.1:{port}/wall")
        # before the first run the page waits for it and then reloads once, by design
        sync_api.expect(status).to_have_text("OK", timeout=30000)
        wall.evaluate("window.hfMarker = 'never reloaded'")
        process.kill()  # a crash: no goodbye
        process.wait()
        sync_api.expect(lost).to_be_visible(timeout=15000)
        assert lost.inner_text().startswith("Connection lost since ")
        assert status.inner_text() == "OK"  # what it showed stays until it knows better
    values.write_text(json.dumps({"held": 500, "free": 5}))
    with happyface("-c", str(config), "serve") as process:
        sync_api.expect(status).to_have_text("Problem", timeout=60000)
        sync_api.expect(lost).to_be_hidden()
        assert wall.evaluate("window.hfMarker") == "never reloaded"
        held = wall.locator("#wall-batch .wall-mods li")
        assert "Held jobs" in held.inner_text() and "since" in held.inner_text()
        wall.screenshot(path=str(images / "wall.png"))
        wall.context.set_offline(True)
        sync_api.expect(lost).to_be_visible(timeout=15000)
        wall.context.set_offline(False)
        sync_api.expect(lost).to_be_hidden(timeout=15000)
        assert wall.evaluate("window.hfMarker") == "never reloaded"
        assert process.poll() is None
    assert wall.errors == []
