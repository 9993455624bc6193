"""The demo site's sources: served on loopback, changing with time, read by their module types."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import tomli_w

from happyface import Result, Source, Status
from happyface.config.load import load_site
from happyface.demo import DemoSources, demo_module_configs
from happyface.demo.launch import backfill, backfill_times
from happyface.demo.shifts import DROP_BEFORE_START, RECOVERY_BEFORE_START
from happyface.demo.sources import ENDPOINTS, SHIFTING
from happyface.modules.common import metric_name
from happyface.plugins import Registry
from happyface.rules import Rule, rate
from happyface.storage import open_store
from tests.fixtures.modules import raw

NOW = datetime(2024, 6, 1, 13, 0, tzinfo=UTC)


@pytest.fixture
def sources():
    demo = DemoSources(clock=lambda: NOW, slow_seconds=0.5).start()
    yield demo
    demo.stop()


def _extract(entry: dict, body: bytes, now: datetime = NOW) -> Result:
    cls = Registry().get(entry["type"])
    module = cls(cls.Settings(**entry["settings"]), {"main": Source(url="http://127.0.0.1/x")})
    return module.extract({"main": raw(body, now)}, now)


def _url(entry: dict) -> str:
    url = entry.get("source") or entry["sources"]["main"]["url"]
    # a `happyface` module names the other instance; it reads that instance's status API
    return url + "api/v1/status" if entry["type"] == "happyface" else url


def test_every_module_reads_its_source(sources):
    configs = demo_module_configs(sources.base_url)
    assert len({c["id"] for c in configs}) == len(configs)
    with httpx.Client(timeout=10) as client:
        for entry in configs:
            response = client.get(_url(entry))
            if entry["id"] == "batch_accounting":
                assert response.status_code == 500
                continue
            assert response.status_code == 200, entry["id"]
            result = _extract(entry, response.content)
            rules = [Rule(**r) for r in entry.get("rules", [])]
            status, _ = rate(result, rules)
            assert status is not Status.ERROR, (entry["id"], result.message)
            assert result.metrics, entry["id"]


def test_configs_use_the_known_categories_and_have_a_broken_and_a_slow_source(sources):
    configs = demo_module_configs(sources.base_url)
    assert {c["category"] for c in configs} == {"batch", "storage", "news", "sites"}
    urls = {_url(c) for c in configs}
    assert f"{sources.base_url}/broken" in urls and f"{sources.base_url}/slow" in urls
    for entry in configs:
        assert entry["title"] and entry["description"] and entry["instruction"]
        Registry().get(entry["type"]).Settings(**entry["settings"])  # valid settings


def test_every_endpoint_answers(sources):
    with httpx.Client(base_url=sources.base_url, timeout=10) as client:
        for path, (content_type, _) in ENDPOINTS.items():
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"] == content_type
        assert client.get("/broken").status_code == 500
        assert client.get("/nothing").status_code == 404


def test_the_slow_source_is_slow_but_does_not_block_others(sources):
    results: dict[str, float] = {}

    def fetch_slow() -> None:
        start = time.monotonic()
        assert httpx.get(f"{sources.base_url}/slow", timeout=10).status_code == 200
        results["slow"] = time.monotonic() - start

    thread = threading.Thread(target=fetch_slow)
    thread.start()
    time.sleep(0.05)
    start = time.monotonic()
    assert httpx.get(f"{sources.base_url}/news.rss", timeout=10).status_code == 200
    results["fast"] = time.monotonic() - start
    thread.join()
    assert results["slow"] >= 0.45 and results["fast"] < 0.4


def test_the_site_changes_every_minute_and_is_deterministic():
    demo = DemoSources()
    for path in ("/jobs/gridka.xml", "/dcache/info.xml", "/jobs/condor.json", SHIFTING):
        demo.clock = lambda: NOW
        first = demo.respond(path)[2]
        assert demo.respond(path)[2] == first
        demo.clock = lambda: NOW + timedelta(minutes=1)
        assert demo.respond(path)[2] != first, path


def test_news_sometimes_reports_an_outage():
    demo, outages = DemoSources(), 0
    configs = {c["id"]: c for c in demo_module_configs("http://127.0.0.1:1")}
    for hour in range(12):
        now = NOW + timedelta(hours=hour)
        demo.clock = lambda now=now: now
        result = _extract(configs["news"], demo.respond("/news.rss")[2], now)
        outages += result.status is Status.UNHAPPY
    assert 0 < outages < 12


def test_stop_releases_the_port_and_serves_loopback_only():
    demo = DemoSources().start()
    url = demo.base_url
    demo.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    with pytest.raises(ValueError, match="loopback"):
        DemoSources(host="0.0.0.0")


def test_the_job_table_lists_the_stuck_workflow_the_instruction_sends_a_shifter_to(sources):
    """The jobs instruction says: open the job table, look for a common user. At a time when
    GridKa's atlas production is inefficient, its listed jobs show that user."""
    bad_time = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    entry = next(c for c in demo_module_configs(sources.base_url) if c["id"] == "jobs_gridka")
    sources.clock = lambda: bad_time
    body = httpx.get(_url(entry), timeout=10).content
    result = _extract(entry, body, bad_time)
    jobs = next(t for t in result.tables if t.name == "jobs")
    group_at, user_at, flag_at = (jobs.columns.index(c) for c in ("group", "user", "inefficient"))
    atlas = [row for row in jobs.rows if str(row[group_at]).startswith("atlas")]
    stuck = [row for row in atlas if row[flag_at]]
    assert len(stuck) >= 10, "the problem group's inefficient jobs are listed"
    users = {row[user_at] for row in stuck}
    assert users == {"atlasprd017"}, users
    assert {row[group_at] for row in jobs.rows} >= {"cmsprd", "atlasprd", "lhcbprd", "alice"}


def test_the_other_instances_answer_their_status_api(sources):
    for entry in demo_module_configs(sources.base_url):
        if entry["type"] != "happyface":
            continue
        result = _extract(entry, httpx.get(_url(entry), timeout=10).content)
        assert result.status is not Status.ERROR, result.message
        columns = {metric_name(name) for name in entry["settings"]["columns"]}
        assert columns <= set(result.metrics), (columns, result.metrics)


def test_the_inbox_keeps_posted_notifications(sources):
    response = httpx.post(f"{sources.base_url}/alarm-inbox", json={"text": "jobs: Problem"})
    assert response.status_code == 204
    assert sources.inbox == [b'{"text":"jobs: Problem"}']
    assert httpx.post(f"{sources.base_url}/elsewhere", content=b"x").status_code == 404


def test_the_demo_history_holds_the_efficiency_drop_and_recovery_near_their_times(tmp_path):
    """The backfill (three hourly days, then a day of 15-minute runs) gives change detection
    enough history to find the efficiency's drop and recovery in the last day."""
    started = datetime.now(UTC)
    clock = [started]
    with DemoSources(clock=lambda: clock[0], slow_seconds=0.0, started=started) as history:
        entry = next(c for c in demo_module_configs(history.base_url) if c["id"] == SHIFTY)
        site_file = tmp_path / "happyface.toml"
        site_file.write_text(tomli_w.dumps(_one_module_site(entry)))
        site = load_site(site_file)
        assert asyncio.run(backfill(site, clock)) == len(backfill_times(started))
    store = open_store(site.database_url)
    try:
        found = store.changes(started - timedelta(days=5), started, metric="efficiency")
    finally:
        store.close()
    drop, recovery = started - DROP_BEFORE_START, started - RECOVERY_BEFORE_START
    assert [c.direction for c in reversed(found)] == ["drop", "rise"]
    rise, fall = found
    assert abs(fall.at - drop) <= timedelta(minutes=30) and fall.kind == "level"
    assert abs(rise.at - recovery) <= timedelta(minutes=30)
    assert fall.before == pytest.approx(0.9, abs=0.03)
    assert fall.after == pytest.approx(0.5, abs=0.03)


SHIFTY = "transfer_efficiency"


def _one_module_site(entry: dict) -> dict:
    return {
        "site": {
            "title": "demo history",
            "interval": "15m",
            "database": "sqlite:///hf.db",
            "archive": {"enabled": False},
        },
        "category": [{"id": entry["category"], "title": "Storage"}],
        "module": [entry],
    }


def test_the_demo_sources_stay_quiet_when_a_fetcher_hangs_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At Ctrl-C a run's fetches are cancelled mid-answer: that is no error to print."""
    from http.server import BaseHTTPRequestHandler

    from happyface.demo.sources import _Server

    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        for error in (BrokenPipeError(32, "Broken pipe"), ValueError("a real fault")):
            try:
                raise error
            except Exception:
                server.handle_error(None, ("127.0.0.1", 40000))
    finally:
        server.server_close()
    printed = capsys.readouterr().err
    assert "BrokenPipeError" not in printed
    assert "ValueError: a real fault" in printed  # anything else is still reported
