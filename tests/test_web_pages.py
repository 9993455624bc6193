"""The dashboard's pages: overview, category, module, archive, as HTML and JSON."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from happyface.web.urls import format_at
from tests.fixtures.web import BASE, INTERVAL, NOW, Client, WebSite, populate


def test_overview_lists_categories_and_troubled_modules_worst_first(web_client: Client) -> None:
    page = web_client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "Batch system" in html and "Storage" in html
    attention = html.split('id="attention-h"')[1].split("</section>")[0]
    assert attention.index("Running jobs") < attention.index("Queue")  # unhappy before neutral
    assert 'href="/category/batch#jobs"' in attention  # one click to the module
    assert "Run of" in html and "2026-11-25 11:45 UTC" in html
    assert 'data-live="1"' in html and "Back to live" not in html


def test_overview_json_is_the_same_view_data(web_client: Client) -> None:
    data = web_client.get("/overview.json").json()
    statuses = {c["id"]: c["status"]["value"] for c in data["categories"]}
    assert statuses == {"batch": "unhappy", "storage": "happy"}
    assert [m["id"] for m in data["troubled"]] == ["jobs", "queue"]
    assert data["time"]["live"] is True


def test_status_is_readable_without_colour(web_client: Client) -> None:
    html = web_client.get("/category/batch").text
    # a distinct shape per status, drawn once and used by reference, and always a word
    for status in ("happy", "neutral", "unhappy", "error", "noinfo"):
        assert f'<symbol id="i-{status}"' in html
    assert '<use href="#i-unhappy"/>' in html and ">Problem</span>" in html
    assert '<use href="#i-neutral"/>' in html and ">Warning</span>" in html


def test_category_shows_boxes_with_prominent_instruction(web_client: Client) -> None:
    html = web_client.get("/category/batch").text
    jobs = html.split('id="jobs"')[1].split("</section>")[0]
    assert "109 jobs running" not in jobs and "107 jobs running" in jobs
    assert 'class="instruction"' in jobs and "Call the batch admin on duty" in jobs
    assert "How many jobs run" in jobs  # the description
    assert 'href="https://wiki.example.org/batch"' in jobs
    assert 'href="javascript:x"' not in html  # unsafe links are shown, never followed
    assert "230 more rows on the module page" in jobs  # 20 of 250 rows on the category page
    assert "<main" in html and "<nav" in html and 'lang="en"' in html


def test_type_template_renders_the_details(web_client: Client) -> None:
    html = web_client.get("/category/batch").text
    queue = html.split('id="queue"')[1].split("</section>")[0]
    assert 'class="keyvalue"' in queue and "longest wait" in queue and "3 h" in queue


def test_errored_module_shows_error_and_archived_inputs(web_client: Client) -> None:
    html = web_client.get("/category/storage?date=2026-11-25&time=11:20").text
    box = html.split('id="transfers"')[1].split("</section>")[0]
    assert "Technical error" in box and "ExtractError: input is not XML" in box
    assert "Check the dCache door" in box
    links = re.findall(r'href="(/archive/[^"]+)"', box)
    assert links
    raw = web_client.get(links[0].replace("&amp;", "&"))
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"


def test_archive_refuses_unknown_and_traversal(web_client: Client, web_site: WebSite) -> None:
    run = web_site.ids[5]
    for url in (
        f"/archive/{run}/transfers/..%2F..%2Fetc%2Fpasswd",
        f"/archive/{run}/nope/x",
        f"/archive/{run}/transfers/missing.txt",
        "/archive/999/jobs/x",
        "/archive/99999999999999999999999/jobs/x",
    ):
        answer = web_client.get(url)
        assert answer.status_code == 404, url
        assert "Traceback" not in answer.text


def test_module_page_has_timeline_charts_tables_history(web_client: Client) -> None:
    html = web_client.get("/module/jobs").text
    assert 'class="timeline"' in html and 'class="seg s-unhappy"' in html
    assert 'data-src="/plot.json?m=jobs%3Arunning' in html
    assert "rows 1–100 of 250" in html and "page 1 of 3" in html
    assert 'class="data sortable"' in html
    history = html.split('id="hist-h"')[1]
    assert history.count("<tr>") == 1 + 8  # header and the eight runs of the last day


def test_module_table_pages(web_client: Client) -> None:
    html = web_client.get("/module/jobs?table=jobs&page=3").text
    assert "rows 201–250 of 250" in html and "job249" in html and "job0<" not in html
    assert web_client.get("/module/jobs?page=x").status_code == 400


def test_unknown_ids_are_friendly_404(web_client: Client) -> None:
    for url in ("/category/nope", "/module/nope", "/nothing/here", "/category/batch.json/x"):
        answer = web_client.get(url)
        assert answer.status_code == 404, url
        assert "Go to the overview" in answer.text
        assert "Traceback" not in answer.text


def test_no_run_yet(tmp_path: Path) -> None:
    site = populate(tmp_path, count=0)
    client = Client(site.app(NOW))
    page = client.get("/")
    assert page.status_code == 200 and "No run yet" in page.text
    assert client.get("/category/batch").status_code == 200
    assert client.get("/overview.json").json() == {"run": None, "message": "no run yet"}
    assert client.get("/live?run=").json()["run"] is None


def test_stale_banner_when_the_newest_run_is_old(web_site: WebSite) -> None:
    late = Client(web_site.app(web_site.times[-1] + INTERVAL * 4))
    html = late.get("/").text
    assert 'class="banner stale"' in html and "The data is old" in html
    fresh = Client(web_site.app(NOW)).get("/").text
    assert 'class="banner stale"' not in fresh


def test_live_endpoint_tells_of_a_newer_run(web_client: Client, web_site: WebSite) -> None:
    newest = web_site.ids[-1]
    assert web_client.get(f"/live?run={newest}").json()["changed"] is False
    assert web_client.get(f"/live?run={web_site.ids[0]}").json() == {
        "run": newest,
        "changed": True,
        "time": web_site.times[-1].isoformat(),
        "stale": False,
    }


def test_static_link_shows_the_run_it_names(web_client: Client, web_site: WebSite) -> None:
    at = format_at(web_site.times[3])
    html = web_client.get(f"/category/batch?at={at}").text
    assert f'href="/category/batch?at={at.replace(":", "%3A")}"' in html
    assert "103 jobs running" in html and "You are looking at the past" in html
    assert BASE.strftime("%Y") in html


def test_a_page_reads_the_runs_statuses_once_and_its_configuration_once_per_version(
    web_fresh: WebSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    store = web_fresh.store
    for name in ("config_of", "category_statuses"):
        original = getattr(store, name)

        def counted(*args: object, _name: str = name, _original: Any = original) -> Any:
            reads.append(_name)
            return _original(*args)

        monkeypatch.setattr(store, name, counted)
    client = Client(web_fresh.app(NOW))
    parsed = 0
    for url in ("/", "/category/batch", "/module/jobs", "/?other=query"):
        reads.clear()
        assert client.get(url).status_code == 200
        assert reads.count("category_statuses") == 1, url
        parsed += reads.count("config_of")
    # the stored configuration is read once: every later page of its runs reuses it
    assert parsed == 1


def test_a_page_reads_the_results_it_shows_only(
    web_fresh: WebSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[object, ...]] = []
    original = web_fresh.store.results

    def counted(*args: object) -> Any:
        asked.append(args)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(web_fresh.store, "results", counted)
    client = Client(web_fresh.app(NOW))
    members = [m.id for m in web_fresh.site.modules_of("batch")]
    newest = web_fresh.ids[-1]
    assert client.get("/category/batch").status_code == 200
    assert asked == [(newest, members, True)]
    asked.clear()
    assert client.get("/").status_code == 200
    # every module's status and message, without the details nobody sees on the overview
    assert asked == [(newest, None, False)]


def test_a_page_missing_from_the_shown_runs_configuration(web_fresh: WebSite) -> None:
    site, store = web_fresh.site, web_fresh.store
    old = dict(site.snapshot)
    old["categories"] = [c for c in old["categories"] if c["id"] != "storage"]
    old["modules"] = [m for m in old["modules"] if m["id"] == "jobs"]
    started = BASE - INTERVAL
    run_id = store.begin_run(started, "test", old)
    store.finish_run(run_id, [], {}, started + INTERVAL / 60)
    client = Client(web_fresh.app(NOW))
    at = format_at(started)
    for url, now in (
        ("/category/storage", "/category/storage"),
        ("/module/queue", "/module/queue"),
    ):
        page = client.get(f"{url}?at={at}")
        assert page.status_code == 404 and "did not exist at the time shown" in page.text
        assert f'href="{now}"' in page.text
    page = client.get(f"/module/nope?at={at}")
    assert page.status_code == 404 and "jobs" in page.text and "queue" not in page.text
