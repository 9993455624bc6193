"""The classic XML export and the Prometheus metrics: formats old clients and scrapers read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

from prometheus_client.parser import text_string_to_metric_families

from happyface.config.load import load_site
from happyface.status import Status
from happyface.storage import open_store
from happyface.web import create_app
from happyface.web.exports.metrics import exposition
from happyface.web.exports.metrics_live import LOOP_LAG, RUN_AGE
from happyface.web.exports.xml import xml_text
from tests.fixtures.web import (
    BASE,
    INTERVAL,
    NOW,
    Client,
    WebSite,
    make_site,
    populate,
    web_registry,
    write_run,
)

CATEGORY_CHILDREN = ["name", "title", "status", "type", "link"]
MODULE_CHILDREN = ["name", "title", "type", "status", "time", "link"]


def parse(body: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(body)


def test_xml_has_exactly_the_classic_elements(web_client: Client) -> None:
    answer = web_client.get("/category?action=getxml")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<happyface>')
    root = parse(answer.content)
    assert root[0].tag == "title" and root.findtext("title") == "Test Site"
    for element in root.iter():
        assert element.attrib == {}  # child elements only, never attributes
    batch, storage = root.findall("category")
    assert [c.tag for c in batch if c.tag != "module"] == CATEGORY_CHILDREN
    assert batch.findtext("name") == "batch" and batch.findtext("type") == "rated"
    assert batch.findtext("status") == "0.0"  # jobs is unhappy in the newest run (i = 7)
    assert batch.findtext("link") == "http://test/category/batch?at=2026-11-25T11%3A45Z"
    jobs, queue = batch.findall("module")
    assert [c.tag for c in jobs] == MODULE_CHILDREN
    assert jobs.findtext("time") == "2026-11-25 11:45"
    assert jobs.findtext("link") == "http://test/category/batch?at=2026-11-25T11%3A45Z#jobs"
    assert queue.findtext("type") == "unrated" and queue.findtext("status") == "0.5"
    assert storage.findtext("status") == "1.0"


def test_xml_honours_date_time_and_at(web_client: Client) -> None:
    old = parse(web_client.get("/category?action=getxml&date=2026-11-25&time=11:20").content)
    # run 5 (11:15): transfers failed, so storage is an error (-1), never happy
    storage = old.findall("category")[1]
    assert storage.findtext("status") == "-1.0"
    assert storage.find("module").findtext("time") == "2026-11-25 11:15"  # type: ignore[union-attr]
    same = web_client.get("/status.xml?at=2026-11-25T11:20Z").content
    assert same == web_client.get("/category?action=getxml&date=2026-11-25&time=11:20").content
    assert web_client.get("/category?action=getxml&date=2026-02-30").status_code == 400
    assert web_client.get("/category?action=getxml&at=2020-01-01T00:00Z").status_code == 404


def test_category_without_action_goes_to_the_overview(web_client: Client) -> None:
    answer = web_client.get("/category?date=2026-11-25&time=10:20")
    assert answer.status_code == 301
    assert answer.headers["location"] == "/?date=2026-11-25&time=10%3A20"


def test_stale_live_xml_reports_no_information_but_past_views_do_not(web_site: WebSite) -> None:
    later = Client(web_site.app(NOW + timedelta(hours=3)))
    body = later.get("/category?action=getxml").content
    assert b"<!-- stale:" in body
    root = parse(body)
    statuses = {e.text for e in root.iter("status")}
    assert statuses == {"-2.0"}
    assert root.find("category/module/time").text == "2026-11-25 11:45"  # type: ignore[union-attr]
    past = parse(later.get("/category?action=getxml&at=2026-11-25T11:45Z").content)
    assert "-2.0" not in {e.text for e in past.iter("status")}


HOSTILE = "<b>&amp;</b> \"quoted\" 'single' ]]> \x01\x08\x0b\x1f \ufffe tab\there ünï 😀 --> <!--"


def _escape_toml(text: str) -> str:
    return "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)


def test_hostile_titles_stay_well_formed(tmp_path: Path) -> None:
    populated = populate(tmp_path, count=1)
    config = (tmp_path / "happyface.toml").read_text()
    for title in ("Batch system", "Test Site", "Running jobs"):
        config = config.replace(f'title = "{title}"', f'title = "{_escape_toml(HOSTILE)}"')
    (tmp_path / "happyface.toml").write_text(config)
    hostile = load_site(tmp_path, web_registry())
    write_run(populated.store, hostile, BASE + INTERVAL, 1)
    app = WebSite(hostile, populated.store, populated.archive, [], []).app(BASE + INTERVAL)
    root = parse(Client(app).get("/category?action=getxml").content)  # well-formed
    expected = "".join(c for c in HOSTILE if c not in "\x01\x08\x0b\x1f\ufffe")
    assert root.findtext("title") == expected
    assert root.findtext("category/title") == expected
    assert root.findtext("category/module/title") == expected
    populated.store.close()


def test_xml_text_drops_what_xml_cannot_carry() -> None:
    assert xml_text("a\x00b\x1bc\ud800d<&>") == "abcd&lt;&amp;&gt;"
    assert xml_text("\t\n\r ok") == "\t\n\r ok"


def test_xml_of_a_site_without_runs(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    store = open_store(site.database_url)
    root = parse(Client(create_app(site, store)).get("/category?action=getxml").content)
    assert root.findtext("title") == "Test Site" and root.find("category") is None
    store.close()


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        f.name: [(s.labels, s.value) for s in f.samples]
        for f in text_string_to_metric_families(text)
    }


def test_metrics_parse_as_prometheus_text(web_client: Client) -> None:
    answer = web_client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = _families(answer.text)
    modules = {labels["module"]: value for labels, value in families["happyface_module_status"]}
    assert modules == {"jobs": Status.UNHAPPY.score, "queue": 0.5, "transfers": 1.0}
    kinds = {s[0]["module"]: s[0]["kind"] for s in families["happyface_module_status"]}
    assert kinds["queue"] == "unrated"
    categories = dict((s[0]["category"], s[1]) for s in families["happyface_category_status"])
    assert categories == {"batch": 0.0, "storage": 1.0}
    assert families["happyface_run_duration_seconds"][0][1] == 20.0
    assert families["happyface_latest_run_age_seconds"][0][1] == 300.0
    assert families["happyface_stale"][0][1] == 0.0
    assert families["happyface_modules_errored"][0][1] == 0.0
    assert families["happyface_runs_failed_last_day"][0][1] == 0.0
    assert {s[0]["module"] for s in families["happyface_module_fetch_seconds"]} == set(modules)
    assert "happyface_module_extract_seconds" in families


def test_live_gauges_are_written_as_prometheus_client_writes_them() -> None:
    for value in (0.0, 0.059000000000000004, 1e-07, 7200.0, 7200.0, 123456789.5, 1e300, 0.0):
        for gauge in (LOOP_LAG, RUN_AGE):
            assert gauge.lines(value) == exposition([gauge.family(value)])


def test_metrics_count_failures_and_age(tmp_path: Path) -> None:
    populated = populate(tmp_path, count=6)  # the newest run (5) has transfers failing
    last = populated.times[-1]
    populated.store.record_failed_run(last + INTERVAL, last + INTERVAL, "database unreachable")
    later = last + timedelta(hours=2)
    families = _families(Client(populated.app(later)).get("/metrics").text)
    assert families["happyface_runs_failed_last_day"][0][1] == 1.0
    assert families["happyface_last_run_failed"][0][1] == 1.0
    assert families["happyface_latest_run_age_seconds"][0][1] == 7200.0
    assert families["happyface_stale"][0][1] == 1.0
    assert families["happyface_modules_errored"][0][1] == 1.0
    modules = {s[0]["module"]: s[1] for s in families["happyface_module_status"]}
    assert modules["transfers"] == -1.0
    populated.store.close()
