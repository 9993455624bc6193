"""The web while its database is out: each endpoint in its own format, a quiet log, /metrics."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from happyface import StorageError
from happyface.acquisition.extracts import EXTRACTS
from happyface.web.outagelog import OutageLog
from tests.fixtures.web import NOW, Client, WebSite, populate

DOWN = "database postgresql://hf@db.example/hf is unreachable: connection refused"


@pytest.fixture
def outage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    """A client of a site whose database stops answering once the app is built."""
    populated: WebSite = populate(tmp_path, count=2)

    def unreachable(*args: object, **kwargs: object) -> None:
        raise StorageError(DOWN)

    for name in ("latest_run", "runs", "results", "run_at", "neighbours"):
        monkeypatch.setattr(populated.store, name, unreachable)
    return Client(populated.app(NOW))


def _metrics(text: str) -> dict[str, float]:
    return {f.name: f.samples[0].value for f in text_string_to_metric_families(text) if f.samples}


def test_the_xml_export_reports_every_status_as_an_error_and_says_why(outage: Client) -> None:
    for path in ("/status.xml", "/category?action=getxml"):
        answer = outage.get(path)
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "text/xml; charset=utf-8"
        assert "<!-- the database is not answering" in answer.text
        root = ET.fromstring(answer.content)
        assert root.findtext("title") == "Test Site"
        assert [c.findtext("name") for c in root.iter("category")] == ["batch", "storage"]
        assert [m.findtext("name") for m in root.iter("module")] == ["jobs", "queue", "transfers"]
        assert {s.text for s in root.iter("status")} == {"-1.0"}
        assert all(m.findtext("link", "").startswith("http://test/") for m in root.iter("module"))


def test_metrics_say_the_database_is_down_with_503(outage: Client) -> None:
    answer = outage.get("/metrics")
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/plain")
    families = _metrics(answer.text)
    assert families["happyface_up"] == 0.0
    assert (
        "happyface_event_loop_lag_seconds" in families and "happyface_module_status" not in families
    )


def test_the_api_answers_json_and_pages_a_friendly_page(outage: Client) -> None:
    for path in ("/api/v1/status", "/api/v1/runs", "/overview.json", "/live"):
        answer = outage.get(path)
        assert answer.status_code == 503, path
        assert answer.json()["error"]["title"] == "The database is not answering"
    for path in ("/", "/category/batch", "/module/jobs"):
        answer = outage.get(path)
        assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/html")
        assert "cannot read its database" in answer.text and "unreachable" not in answer.text


def test_an_outage_logs_one_traceback_then_one_line_per_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    outages = OutageLog(min_gap=60, clock=lambda: clock[0])
    error = StorageError(DOWN)
    with caplog.at_level(logging.WARNING, logger="happyface.web"):
        for path in ("/", "/metrics", "/status.xml"):
            outages.failed(path, error)
        outages.answered()
        clock[0] = 30.0  # a second outage soon after: no second traceback yet
        outages.failed("/", error)
        outages.answered()
        clock[0] = 100.0
        outages.failed("/", error)
    with_traceback = [r for r in caplog.records if r.exc_info]
    assert len(with_traceback) == 2
    lines = [r.getMessage() for r in caplog.records if not r.exc_info]
    assert lines.count(f"/: 503: {DOWN}") == 3 and f"/metrics: 503: {DOWN}" in lines
    assert lines.count("the database answers again") == 2


def test_metrics_report_the_database_up_the_loop_lag_and_abandoned_extracts(
    web_site: WebSite,
) -> None:
    gate = threading.Event()

    async def abandon() -> None:
        with pytest.raises(TimeoutError):
            await EXTRACTS.run("stuck", 0.05, gate.wait, 10)

    asyncio.run(abandon())
    try:
        families = _metrics(Client(web_site.app(NOW)).get("/metrics").text)
        assert families["happyface_up"] == 1.0
        assert families["happyface_extracts_abandoned"] == 1.0
        assert families["happyface_event_loop_lag_seconds"] >= 0.0
    finally:
        gate.set()
    deadline = time.monotonic() + 5
    while EXTRACTS.abandoned() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert EXTRACTS.abandoned() == 0
