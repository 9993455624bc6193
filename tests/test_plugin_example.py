"""A third-party module type, installed as its own distribution, shows like a built-in one.

`happyface-example` (tests/plugin_example) is installed into the test environment by
scripts/venv. A real `happyface serve` acquires a site using it from a local HTTP server, and
every page shows it through the type's own template, view hook and default rule.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.site import write_site

QUEUES = {
    "queues": [
        {"name": "short", "waiting": 12, "oldest_minutes": 5},
        {"name": "long", "waiting": 40, "oldest_minutes": 300},
        {"name": "idle", "waiting": 0, "oldest_minutes": 0},
    ]
}

SITE = """
[site]
title = "A site with a plugin"
interval = "1h"

[site.web]
port = {port}

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "board"
type = "example_queues"
category = "batch"
title = "Queue board"
instruction = "Ask the batch admins why jobs wait."
source = "{source}"
"""


class QueuesPage(BaseHTTPRequestHandler):
    """The status page the example type reads, on 127.0.0.1."""

    def do_GET(self) -> None:
        body = json.dumps(QUEUES).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), QueuesPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/queues.json"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def served(source: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `happyface serve` on the site, after its first run."""
    folder = tmp_path_factory.mktemp("plugin")
    port = free_port()
    config = write_site(folder, SITE.format(port=port, source=source))
    base = f"http://127.0.0.1:{port}"
    with happyface("-c", str(config), "serve") as process:
        wait_for(f"{base}/", process)
        deadline = time.monotonic() + 30
        while not _has_result(f"{base}/module/board.json") and time.monotonic() < deadline:
            time.sleep(0.3)
        yield base


def _has_result(url: str) -> bool:
    """Whether the first run is stored: the module page has the module's box, with a time."""
    response = httpx.get(url, timeout=10)
    box = response.json().get("module") if response.status_code == 200 else None
    return bool(box and box["time"])


def get(url: str) -> httpx.Response:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response


def between(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def test_it_is_a_separate_installed_distribution() -> None:
    try:
        dist = distribution("happyface-example")
    except PackageNotFoundError:
        pytest.fail("happyface-example is not installed: run scripts/venv")
    points = [p for p in dist.entry_points if p.group == "happyface.modules"]
    assert [(p.name, p.value) for p in points] == [
        ("example_queues", "happyface_example.queues:Queues")
    ]
    home = Path(str(dist.locate_file("happyface_example")))
    assert "src/happyface" not in str(home.resolve())
    listed = subprocess.run(
        [sys.executable, "-m", "happyface", "modules"], capture_output=True, text=True, check=True
    )
    assert "example_queues" in listed.stdout and "Batch queues from a JSON" in listed.stdout


def test_the_overview_counts_it_and_shows_its_default_rule(served: str) -> None:
    html = get(f"{served}/").text
    attention = between(html, 'id="attention-h"', "</section>")
    assert "Queue board" in attention and "a job has waited 300 min" in attention
    overview = get(f"{served}/overview.json").json()
    assert {c["id"]: c["status"]["value"] for c in overview["categories"]} == {"batch": "unhappy"}


def test_the_category_box_shows_its_own_template(served: str) -> None:
    box = between(get(f"{served}/category/batch").text, 'id="board"', "</section>")
    board = between(box, '<ul class="queue-board"', "</ul>")
    assert board.index(">long</a>") < board.index(">short</a>") < board.index(">idle</a>")
    assert '<a href="/module/board?queue=long">long</a>' in board
    assert '<meter min="0" max="40" value="12">' in board
    assert "40 waiting, the oldest for 300 min" in board
    assert "<table" not in box  # the table is for the module page
    assert "Ask the batch admins why jobs wait." in box


def test_the_module_page_and_its_own_query_parameter(served: str) -> None:
    page = get(f"{served}/module/board").text
    assert '<ul class="queue-board"' in page and 'aria-label="Queues"' in page
    narrowed = get(f"{served}/module/board?queue=long").text
    assert "Only queue <strong>long</strong>." in narrowed
    table = between(narrowed, 'aria-label="Queues"', "</table>")
    assert "long" in table and "short" not in table
    assert httpx.get(f"{served}/module/board?queue=a%0Ab", timeout=10).status_code == 400


def test_the_json_carries_its_view_and_the_xml_its_status(served: str) -> None:
    box = get(f"{served}/module/board.json?queue=short").json()["module"]
    assert box["type"] == "example_queues" and box["status"]["value"] == "unhappy"
    assert box["template"] == "happyface_example/queues.html"
    assert [q["name"] for q in box["view"]["queues"]] == ["long", "short", "idle"]
    assert box["view"]["chosen"] == "short"
    assert [t["rows"] for t in box["tables"]] == [[["short", 12, 5]]]
    xml = get(f"{served}/category?action=getxml").text
    assert "<name>board</name>" in xml and "<status>0.0</status>" in xml
