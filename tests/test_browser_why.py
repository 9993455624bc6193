"""The why-first pages in a real headless Chromium, served by a real `happyface serve` process."""

from __future__ import annotations

import io
import statistics
from collections.abc import Iterator
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright import sync_api

from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.why_site import RUNS, WhySite, why_site, write_run

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
]


class Served:
    """The why site served by `happyface serve --no-acquire` on a loopback port."""

    def __init__(self, site: WhySite, port: int) -> None:
        self.site = site
        self.port = port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    site = why_site(tmp_path)
    port = free_port()
    args = ["-c", str(site.config), "serve", "--no-acquire", "--host", "127.0.0.1"]
    with happyface(*args, "--port", str(port)) as process:
        wait_for(f"http://127.0.0.1:{port}/", process)
        yield Served(site, port)
    site.store.close()


@pytest.fixture
def page(served: Served) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.add_init_script("window.hfPollMs = 250;")
        tab = context.new_page()
        tab.errors = []
        tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
        tab.on("pageerror", lambda e: tab.errors.append(str(e)))
        yield tab
        browser.close()


def test_the_module_page_leads_with_why(served: Served, page: Any) -> None:
    page.goto(served.url("/module/atlas"))
    first = page.locator("main > section").first
    assert "panel why" in (first.get_attribute("class") or "")
    reason = first.locator(".reason").first
    assert reason.locator(".why").inner_text() == (
        "atlas: 54 % of the running jobs are inefficient, the limit is 50 %"
    )
    chart = page.locator("figure.chart").first
    assert chart.get_attribute("data-metric") == "inefficient_fraction"
    sync_api.expect(chart.locator("svg .curve")).to_have_count(1)
    # the limits drawn as lines, with their values in the unit; the start of the streak marked
    limits = chart.locator("svg .threshold text").all_text_contents()
    assert sorted(limits) == ["critical > 50 %", "warning > 30 %"]
    since = served.site.firing_since.strftime("%H:%M")
    assert chart.locator("svg .since-marker text").text_content() == f"firing since {since}"
    ticks = chart.locator("svg .axis.y-left .tick").all_text_contents()
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks) and all("%" in t for t in ticks)
    fired = page.locator("table.values tbody tr").first
    assert "fired" in (fired.get_attribute("class") or "")
    assert "54 %" in fired.inner_text() and "above the limit of 50 %" in fired.inner_text()
    assert page.errors == []


def test_two_units_get_two_axes_and_the_tooltip_speaks_units(served: Served, page: Any) -> None:
    page.goto(served.url("/plot?m=atlas:inefficient_fraction&m=atlas:running&from=-4h"))
    chart = page.locator("figure.chart")
    sync_api.expect(chart.locator("svg .curve")).to_have_count(2)
    assert chart.locator("svg .axis.y-left").get_attribute("data-unit") == "percent"
    assert chart.locator("svg .axis.y-right").get_attribute("data-unit") == "count"
    right = chart.locator("svg .axis.y-right .tick").all_text_contents()
    assert right and all("," in t or len(t) <= 3 for t in right)  # 1,500, not 1500 or 1.5e3
    box = chart.locator(":scope > svg").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    tip = chart.locator(".tip").inner_text()
    assert "inefficient_fraction = 54 %" in tip and "running = 1,516" in tip
    assert page.errors == []


def test_the_curve_picker_is_grouped_and_searchable(served: Served, page: Any) -> None:
    page.goto(served.url("/plot"))
    groups = page.locator("#curves optgroup")
    assert groups.evaluate_all("gs => gs.map(g => g.label)") == [
        "ATLAS jobs",
        "Disk space",
        "Every status",
    ]
    page.fill("#curve-search", "fraction")
    visible = page.locator("#curves option:not([hidden])")
    assert visible.evaluate_all("os => os.map(o => o.value)") == [
        "atlas:inefficient_fraction",
        "space:free_fraction",
    ]
    assert page.locator("#curves optgroup[hidden]").count() == 1  # "Every status" has none
    assert page.locator("#curve-count").inner_text() == "2 curves match"
    page.fill("#curve-search", "atlas run")  # words in any order, module or metric
    assert visible.evaluate_all("os => os.map(o => o.value)") == ["atlas:running"]


def test_every_status_reads_apart_in_grey(served: Served, page: Any) -> None:
    page.goto(served.url("/plot?m=mixed:status&from=-3h10m"))
    chart = page.locator("figure.chart")
    sync_api.expect(chart.locator("svg .seg")).to_have_count(6)
    # the page as grey print shows it: Pillow's luminance ("L") of a screenshot
    shot = Image.open(io.BytesIO(page.screenshot())).convert("L")
    textures: dict[str, tuple[float, float]] = {}
    for seg in chart.locator("svg .seg").all():
        status = (seg.get_attribute("class") or "").split("s-")[-1]
        b = seg.bounding_box()
        # the middle of the band, clear of its label: the texture itself
        box = (int(b["x"] + 3), int(b["y"] + 2), int(b["x"] + 18), int(b["y"] + b["height"] - 2))
        crop = shot.crop(box)
        pixels = [crop.getpixel((x, y)) for x in range(crop.width) for y in range(crop.height)]
        textures[status] = (statistics.fmean(pixels), statistics.pstdev(pixels))
    assert set(textures) == {"happy", "neutral", "unhappy", "error", "noinfo"}
    for (a, ta), (b, tb) in combinations(textures.items(), 2):
        apart = abs(ta[0] - tb[0]) > 12 or abs(ta[1] - tb[1]) > 12
        assert apart, f"{a} {ta} and {b} {tb} look alike in grey"
    words = chart.locator("svg .seg-label").all_text_contents()
    assert {"OK", "Warning", "Problem", "Error", "No data"} <= set(words)


def test_the_tab_shows_the_worst_status_and_follows_the_live_view(
    served: Served, page: Any
) -> None:
    page.goto(served.url("/category/storage"))
    assert page.title() == "✖ 1 problem — Storage · GridKa"
    icon = page.locator("link[rel=icon]")
    assert icon.get_attribute("href") == "/static/favicon-unhappy.svg"
    site = served.site
    write_run(site.store, site.site, site.times[-1] + timedelta(seconds=30), RUNS, healthy=True)
    # atlas recovered; the unrated "mixed" shows a Warning in this run, and counts as one
    sync_api.expect(page).to_have_title("⚠ 1 warning — Storage · GridKa", timeout=10000)
    assert icon.get_attribute("href") == "/static/favicon-neutral.svg"
    assert page.errors == []
