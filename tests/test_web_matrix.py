"""Meta²-monitoring: the `happyface` module type, and the matrix over real HappyFace processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface.cli.assembly import build_service
from happyface.config.load import load_site
from happyface.errors import ExtractError
from happyface.modules.happyface_instance import HappyFaceInstance, HappyFaceInstanceSettings
from happyface.plugins import Registry
from happyface.sources import RawInput, Source
from happyface.status import Status
from happyface.storage import ModuleRecord, open_store
from happyface.web import create_app
from tests.fixtures.processes import count_runs, free_port, happyface, stop, wait_for
from tests.fixtures.site import write_site
from tests.fixtures.web import Client

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
XML = b"""<?xml version="1.0" encoding="utf-8"?>
<happyface>
 <title>Old &amp; proud</title>
 <category><name>Batch_System</name><title>Batch</title><status>0.5</status><type>rated</type>
  <link>http://old.example.org/?date=2026-11-25&amp;time=11:50&amp;category=Batch_System</link>
  <module><name>q</name><title>Q</title><type>rated</type><status>0.5</status>
   <time>2026-11-25 11:50</time><link>x</link></module>
 </category>
 <category><name>Storage_Element</name><title>SE</title><status>-1</status><type>rated</type>
  <link>http://old.example.org/se</link></category>
</happyface>
"""


def module(**settings: Any) -> HappyFaceInstance:
    sources = {"main": Source(url="http://old.example.org/")}
    return HappyFaceInstance(HappyFaceInstanceSettings(**settings), sources)


def raw(content: bytes) -> dict[str, RawInput]:
    return {"main": RawInput("http://old.example.org/", content, NOW)}


def test_the_type_builds_the_status_url() -> None:
    assert module().sources()["main"].url == "http://old.example.org/api/v1/status"
    xml = module(format="xml").sources()["main"].url
    assert xml == "http://old.example.org/category?action=getxml"


def test_classic_xml_maps_onto_common_columns() -> None:
    columns = {"batch": ["Batch_System", "Jobs"], "storage": ["Storage_Element"], "net": ["X"]}
    result = module(format="xml", columns=columns).extract(raw(XML), NOW)
    assert result.status is Status.ERROR  # storage failed at the other site: worst column
    assert result.metrics == {
        "batch": 0.5,
        "storage": -1.0,
        "net": -2.0,
        "stale": 0.0,
        "age_seconds": 600.0,
    }
    cells = {c["name"]: c for c in result.details["columns"]}
    assert cells["batch"]["url"].endswith("category=Batch_System")
    assert cells["net"]["note"] == "not reported by the instance"
    assert result.details["instance"]["title"] == "Old & proud"


def test_old_data_is_stale() -> None:
    result = module(format="xml", stale_after=300).extract(raw(XML), NOW)
    assert result.status is Status.ERROR and "stale" in result.message
    assert result.details["instance"]["stale"] is True


@pytest.mark.parametrize("body", [b"<other/>", b"not xml", b"{}"])
def test_garbage_is_an_extract_error(body: bytes) -> None:
    with pytest.raises(ExtractError):
        module(format="xml").extract(raw(body), NOW)
    with pytest.raises(ExtractError):
        module().extract(raw(body), NOW)


INSTANCE = """
[site]
title = "{title}"
interval = "1h"

[site.web]
port = {port}

[[category]]
id = "{category}"
title = "The host"

[[module]]
id = "host_health"
type = "host_health"
category = "{category}"
title = "Disk and load"
"""

WATCHER = """
[site]
title = "Watcher"
interval = "1h"

[[category]]
id = "sites"
title = "Sites"
{modules}
"""

WATCHED = """
[[module]]
id = "{id}"
type = "happyface"
category = "sites"
title = "{id}"
sources.main = {{ url = "http://127.0.0.1:{port}/", timeout = 10 }}
[module.settings]
format = "{fmt}"
columns = {{ host = ["{category}"], storage = ["none"] }}
"""
SITES = [("alpha", "host", "json"), ("beta", "machine", "json"), ("gamma", "server", "xml")]


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three real `happyface serve` processes on loopback, each with a run stored."""
    with ExitStack() as stack:
        running: dict[str, Any] = {}
        for name, category, _ in SITES:
            folder = tmp_path_factory.mktemp(name)
            port = free_port()
            write_site(folder, INSTANCE.format(title=name.title(), port=port, category=category))
            process = stack.enter_context(happyface("-c", str(folder / "happyface.toml"), "serve"))
            running[name] = {"port": port, "process": process, "db": folder / "happyface.db"}
        for entry in running.values():
            wait_for(f"http://127.0.0.1:{entry['port']}/", entry["process"])
            _wait_for_a_run(entry["db"])
        yield running


def _wait_for_a_run(database: Path) -> None:
    deadline = time.monotonic() + 60
    while count_runs(database) < 1:
        assert time.monotonic() < deadline, f"no run in {database}"
        time.sleep(0.3)


def test_matrix_over_three_real_instances_one_stopped(
    instances: dict[str, Any], tmp_path: Path
) -> None:
    stop(instances["beta"]["process"])
    modules = "".join(
        WATCHED.format(id=name, port=instances[name]["port"], fmt=fmt, category=category)
        for name, category, fmt in SITES
    )
    config = write_site(tmp_path, WATCHER.format(modules=modules))
    site = load_site(config.parent, Registry())

    async def acquire() -> Any:
        service = build_service(site)
        try:
            await service.acquire_once()
        finally:
            await service.aclose()

    asyncio.run(acquire())
    store = open_store(site.database_url)
    try:
        client = Client(create_app(site, store))
        view = client.get("/matrix.json").json()
        page = client.get("/matrix")
    finally:
        store.close()
    assert view["columns"] == ["host", "storage"]
    rows = {r["id"]: r for r in view["rows"]}
    assert rows["alpha"]["state"] == "ok" and rows["gamma"]["state"] == "ok"
    assert rows["alpha"]["title"] == "Alpha" and rows["gamma"]["title"] == "Gamma"
    assert rows["beta"]["state"] == "unreachable"
    assert rows["beta"]["status"]["value"] == "error"
    assert "refused" in rows["beta"]["reason"].lower() or "connect" in rows["beta"]["reason"]
    alpha_host = rows["alpha"]["cells"][0]
    assert alpha_host["status"]["value"] in ("happy", "neutral", "unhappy")
    assert alpha_host["url"].startswith(
        f"http://127.0.0.1:{instances['alpha']['port']}/category/host?at="
    )
    assert rows["gamma"]["cells"][0]["url"].startswith(
        f"http://127.0.0.1:{instances['gamma']['port']}/category/server?at="
    )
    assert rows["alpha"]["cells"][1]["status"]["value"] == "noinfo"  # mapped to nothing there
    assert page.status_code == 200 and "Unreachable" in page.text and "Gamma" in page.text


def test_a_stale_instance_has_no_happy_cell(tmp_path: Path) -> None:
    watched = WATCHED.format(id="old", port=9, fmt="xml", category="Batch_System")
    site = load_site(write_site(tmp_path, WATCHER.format(modules=watched)).parent, Registry())
    # what the instance said is "neutral" for its batch column, but its data is a day old
    result = module(format="xml", stale_after=300, columns={"batch": ["Batch_System"]}).extract(
        raw(XML), NOW + timedelta(days=1)
    )
    assert result.details["instance"]["stale"] and result.status is Status.ERROR
    store = open_store(site.database_url)
    try:
        run_id = store.begin_run(NOW, "test", site.snapshot)
        record = ModuleRecord("old", "sites", Status.ERROR, result.message, result)
        store.finish_run(run_id, [record], {"sites": Status.ERROR}, NOW)
        client = Client(create_app(site, store))
        view = client.get("/matrix.json", params={"at": "2026-11-25T12:00Z"}).json()
        page = client.get("/matrix", params={"at": "2026-11-25T12:00Z"}).text
    finally:
        store.close()
    (row,) = view["rows"]
    assert row["state"] == "stale"
    (cell,) = [c for c, name in zip(row["cells"], view["columns"], strict=True) if name == "batch"]
    assert cell["status"]["value"] == "stale" and cell["status"]["word"] == "Stale"
    assert "last reported: Warning" in cell["title"]
    assert 'class="s-neutral"' not in page and 'class="s-happy"' not in page
    assert '<td class="s-stale"' in page
