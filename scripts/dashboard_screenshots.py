"""Screenshots of the dashboard for docs/dashboard.md, taken in Chromium from a real server.

Run from the repository root: `python scripts/dashboard_screenshots.py [docs/img]`. It builds the
test suite's story site (a rule that began firing at a known run), serves it with
`happyface serve --no-acquire` on a free loopback port, and writes one PNG per page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright
from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.why_site import why_site

CHROMIUM = "/usr/bin/chromium"
#: file name, page, the element to picture, and the most of its height shown (pixels)
SHOTS = (
    ("module-why.png", "/module/atlas", "main", 1150),
    ("category-reasons.png", "/category/batch", "main", 900),
    ("plot-units.png", "/plot?m=atlas:inefficient_fraction&m=atlas:running&m=mixed:status"
     "&from=-3h10m", "figure.chart", 900),
)  # fmt: skip


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        site = why_site(Path(work))
        port = free_port()
        args = ["-c", str(site.config), "serve", "--no-acquire", "--host", "127.0.0.1"]
        with happyface(*args, "--port", str(port)) as process:
            wait_for(f"http://127.0.0.1:{port}/", process)
            _shoot(folder, f"http://127.0.0.1:{port}")
        site.store.close()


def _shoot(folder: Path, base: str) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        for name, path, selector, most in SHOTS:
            page.goto(base + path)
            page.wait_for_timeout(800)  # the charts draw after their data arrives
            box = page.locator(selector).first.bounding_box()
            assert box is not None, f"{path} has no {selector}"
            clip = {**box, "height": min(box["height"], most)}
            page.screenshot(path=str(folder / name), clip=clip, full_page=True)
            print(folder / name)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
