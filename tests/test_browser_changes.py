"""Changes on the charts, in a real headless Chromium served by a real `happyface serve`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright import sync_api

from happyface.storage.changes import ChangePoint
from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.why_site import FIRING_FROM, WhySite, why_site

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WhySite, int]]:
    """The why site, with the jump of atlas' inefficient share stored as a change."""
    site = why_site(tmp_path)
    at = site.firing_since
    jump = ChangePoint(
        "atlas", "inefficient_fraction", at, at, "level", "value", 0.3, 0.54, 0.01, 0.01, 12, 0.8
    )
    site.store.add_changes([jump])
    port = free_port()
    args = ["-c", str(site.config), "serve", "--no-acquire", "--host", "127.0.0.1"]
    with happyface(*args, "--port", str(port)) as process:
        wait_for(f"http://127.0.0.1:{port}/", process)
        yield site, port
    site.store.close()


def test_a_chart_marks_a_change_and_tells_its_levels(served: tuple[WhySite, int]) -> None:
    site, port = served
    url = f"http://127.0.0.1:{port}/plot?m=atlas:inefficient_fraction&m=atlas:running&from=-4h"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        chart = page.locator("figure.chart")
        marks = chart.locator("svg .change-mark")
        sync_api.expect(marks).to_have_count(1)
        mark = marks.first
        assert mark.get_attribute("data-key") == "atlas:inefficient_fraction"
        assert mark.locator("line").get_attribute("stroke-dasharray")
        assert mark.locator("polygon").count() == 1
        said = f"level rise 30 % → 54 %, since {_clock(site.times[FIRING_FROM])}"
        tip = chart.locator(".tip")
        mark.locator("polygon").hover()
        sync_api.expect(tip).to_have_text(f"ATLAS jobs: inefficient_fraction: {said}")
        page.mouse.move(5, 5)
        tip.evaluate("t => { t.textContent = ''; }")
        mark.focus()  # a keyboard reaches the marker too: it is focusable
        sync_api.expect(tip).to_have_text(f"ATLAS jobs: inefficient_fraction: {said}")
        assert said in (mark.get_attribute("aria-label") or "")
        assert errors == []
        browser.close()


def _clock(at: datetime) -> str:
    """The change's time as the marker says it: with the date when not of the plot's last day."""
    return f"{at:%H:%M}" if at.date() == datetime.now(UTC).date() else f"{at:%Y-%m-%d %H:%M}"
