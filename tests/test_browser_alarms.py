"""Acknowledging a problem through the real form, in headless Chromium over a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.storage import Store, open_store
from happyface.web import create_app
from tests.fixtures.access import proxy_headers
from tests.fixtures.web import INTERVAL, RUNS, web_registry, write_run
from tests.test_browser import ARGS, CHROMIUM, Served
from tests.test_web_alarms import ALARM_CONFIG, SHIFTER_DN

pytestmark = [
    pytest.mark.browser,
]


@dataclass
class LiveSite:
    """A site whose shifters may acknowledge, its runs ending a minute ago by the real clock."""

    site: Site
    store: Store

    def app(self) -> Any:
        return create_app(self.site, self.store)


@contextmanager
def live_alarm_site(folder: Path) -> Iterator[Served]:
    """The alarm test site served by uvicorn, its runs ending a minute ago by the real clock."""
    (folder / "happyface.toml").write_text(ALARM_CONFIG)
    site = load_site(folder, web_registry())
    store = open_store(site.database_url)
    base = datetime.now(UTC).replace(microsecond=0) - INTERVAL * (RUNS - 1) - timedelta(minutes=1)
    for i in range(RUNS):
        write_run(store, site, base + INTERVAL * i, i)
    with Served(LiveSite(site, store)) as server:  # type: ignore[arg-type]
        yield server
    store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with live_alarm_site(tmp_path) as server:
        yield server


def test_a_shifter_acknowledges_through_the_form(served: Served) -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        # the identity a trusted nginx on the loopback would pass on
        context = browser.new_context(extra_http_headers=proxy_headers(SHIFTER_DN))
        p = context.new_page()
        errors: list[str] = []
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.goto(served.url("/category/batch"))
        box = p.locator("#jobs")
        box.locator("summary", has_text="Acknowledge this problem").click()
        box.locator("textarea[name=comment]").fill("draining the broken worker node")
        box.locator("input[name=expires]").fill("2h")
        with p.expect_navigation():
            box.locator("button", has_text="Acknowledge").click()
        assert p.url == served.url("/category/batch")
        mark = p.locator("#jobs .ack-mark")
        sync_api.expect(mark).to_contain_text("draining the broken worker node")
        sync_api.expect(mark).to_contain_text(SHIFTER_DN)
        sync_api.expect(mark.locator(".ack-withdraw")).to_be_visible()
        p.goto(served.url("/"))
        sync_api.expect(p.locator(".troubled")).to_contain_text("draining the broken worker node")
        assert errors == []
        browser.close()


def test_a_new_run_does_not_wipe_a_half_typed_acknowledgement(served: Served) -> None:
    live: LiveSite = served.site  # type: ignore[assignment]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(extra_http_headers=proxy_headers(SHIFTER_DN))
        context.add_init_script("window.hfPollMs = 250;")
        p = context.new_page()
        p.goto(served.url("/category/batch"))
        box = p.locator("#jobs")
        box.locator("summary", has_text="Acknowledge this problem").click()
        box.locator("textarea[name=comment]").fill("half a thought")
        run = live.store.latest_run()
        assert run is not None
        write_run(live.store, live.site, run.started_at + timedelta(seconds=30), RUNS)
        p.wait_for_timeout(1500)  # several polls: each sees the new run
        assert box.locator("textarea[name=comment]").input_value() == "half a thought"
        box.locator("textarea[name=comment]").fill("")
        # once the form is left empty again, the page catches up with the new run
        sync_api.expect(box.locator(".box-head .badge .word")).to_have_text("OK", timeout=8000)
        browser.close()
