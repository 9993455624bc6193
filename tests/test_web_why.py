"""Why a module is not OK, first: the rules that fired, in units, since when, their charts first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from happyface import Result, Status
from happyface.config.load import load_site
from happyface.storage import ModuleRecord, open_store
from happyface.web import create_app
from happyface.web.urls import format_at
from tests.fixtures.web import Client
from tests.fixtures.why_site import FIRING_FROM, WhySite, why_site


@pytest.fixture(scope="module")
def why(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhySite]:
    site = why_site(tmp_path_factory.mktemp("why"))
    yield site
    site.store.close()


@pytest.fixture(scope="module")
def client(why: WhySite) -> Client:
    app = create_app(why.site, why.store)
    now = why.times[-1] + timedelta(minutes=1)
    app.state.dashboard.now = lambda: now
    return Client(app)


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1]


def test_the_module_page_leads_with_the_rule_that_fired(client: Client, why: WhySite) -> None:
    main = _main(client.get("/module/atlas").text)
    why_panel = main.split('class="panel why s-unhappy"')[1].split("</section>")[0]
    # the reason comes before the box, the instruction and the tables
    assert main.index('class="panel why') < main.index('class="box s-unhappy"')
    assert "atlas: 54 % of the running jobs are inefficient, the limit is 50 %" in why_panel
    since = format_at(why.firing_since).replace("T", " ").replace(":00Z", " UTC")
    assert "firing since <time datetime=" in why_panel and since[:16] in why_panel
    # the first chart on the page is that metric's, marked where the rule began to fire
    first_chart = re.search(r'<figure class="chart"[^>]*>', main)
    assert first_chart is not None
    assert 'data-metric="inefficient_fraction"' in first_chart.group(0)
    assert f'data-since="{why.firing_since.isoformat()}"' in first_chart.group(0)


def test_the_values_table_is_in_units_with_the_fired_value_highlighted(client: Client) -> None:
    html = client.get("/module/atlas").text
    values = html.split('id="values-h"')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>.*?</tr>", values, re.S)[1:]
    assert 'class="fired s-unhappy"' in rows[0] and "inefficient_fraction" in rows[0]
    assert "54 %" in rows[0] and "above the limit of 50 %" in rows[0]
    assert any("1,516" in r and "fired" not in r for r in rows)  # a count, grouped
    assert "0.542" not in values  # never the raw fraction


def test_the_module_json_gives_unit_next_to_value(client: Client) -> None:
    data = client.get("/module/atlas.json").json()
    (reason,) = data["module"]["reasons"]
    assert reason["metric"] == "inefficient_fraction" and reason["unit"] == "fraction"
    assert reason["value_text"] == "54 %" and reason["threshold_text"] == "50 %"
    assert reason["threshold"] == 0.5 and reason["status"]["value"] == "unhappy"
    values = {v["metric"]: v for v in data["values"]}
    assert values["running"]["unit"] == "count" and values["running"]["text"] == "1,516"


def test_a_category_box_leads_with_its_reason(client: Client) -> None:
    html = client.get("/category/batch").text
    box = html.split('id="atlas"')[1].split("</section>")[0]
    reasons = box.index('class="reasons')
    assert reasons < box.index('class="instruction"')
    assert "atlas: 54 % of the running jobs are inefficient, the limit is 50 %" in box


def test_a_past_run_before_the_rule_fired_gives_no_reason(client: Client, why: WhySite) -> None:
    at = format_at(why.times[FIRING_FROM - 1])
    data = client.get(f"/module/atlas.json?at={at}").json()
    assert data["module"]["status"]["value"] == "neutral"  # 31 %: above the warning only
    (reason,) = data["module"]["reasons"]
    assert reason["threshold_text"] == "30 %"
    assert reason["since"] == why.times[6].isoformat()  # the warning began a run earlier


def test_the_plot_json_carries_units_axes_and_limits(client: Client) -> None:
    data = client.get("/plot.json?m=atlas:inefficient_fraction&m=atlas:running&from=-4h").json()
    ratio, running = data["curves"]
    assert (ratio["unit"], ratio["axis"]) == ("fraction", "percent")
    assert (running["unit"], running["axis"]) == ("count", "count")
    limits = {(t["level"], t["value"], t["text"]) for t in ratio["thresholds"]}
    assert limits == {("warning", 0.3, "30 %"), ("critical", 0.5, "50 %")}
    assert running["thresholds"] == []


def test_three_units_make_a_taller_png_than_one(client: Client) -> None:
    one = client.get("/plot.png?m=atlas:running&from=-4h")
    three = client.get(
        "/plot.png?m=atlas:running&m=atlas:inefficient_fraction&m=space:free&from=-4h"
    )
    assert one.status_code == three.status_code == 200
    assert _png_height(three.content) > _png_height(one.content)  # stacked panels


def _png_height(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[20:24], "big")


def test_the_tab_title_and_icon_show_the_worst_status(client: Client) -> None:
    html = client.get("/category/storage").text
    assert "<title>✖ 1 problem — Storage · GridKa</title>" in html
    assert 'href="/static/favicon-unhappy.svg"' in html
    assert client.get("/static/favicon-unhappy.svg").status_code == 200


def test_at_takes_a_time_relative_to_now(client: Client, why: WhySite) -> None:
    data = client.get("/module/atlas.json?at=-2h").json()
    assert data["time"]["live"] is False
    shown = data["time"]["run_time"]
    assert shown == why.times[-9].isoformat()  # the run at or before two hours ago
    assert client.get("/category/batch?at=-forever").status_code == 400


def test_the_matrix_is_linked_only_where_there_is_one(client: Client, tmp_path: Path) -> None:
    assert "Sites matrix" not in client.get("/").text
    (tmp_path / "happyface.toml").write_text(MATRIX_SITE)
    site = load_site(tmp_path)
    html = Client(create_app(site, open_store(site.database_url))).get("/").text
    assert '<a class="matrix-link" href="/matrix">Sites matrix</a>' in html


MATRIX_SITE = """
[site]
title = "Watcher"
database = "sqlite:///m.db"

[[category]]
id = "sites"
title = "Sites"

[[module]]
id = "kit"
title = "KIT"
type = "happyface"
category = "sites"
source = "http://127.0.0.1:9/"
"""


def test_the_api_gives_each_metric_its_unit_and_written_value(client: Client) -> None:
    detail = client.get("/api/v1/modules/atlas").json()
    assert detail["units"]["inefficient_fraction"] == "fraction"
    assert detail["values"]["inefficient_fraction"] == "54 %"
    assert detail["values"]["running"] == "1,516" and detail["metrics"]["running"] == 1516
    series = client.get("/api/v1/modules/atlas/metrics/running").json()
    assert series["unit"] == "count"


def test_an_error_is_said_once(tmp_path: Path) -> None:
    story = why_site(tmp_path)
    started = story.times[-1] + timedelta(minutes=15)
    run_id = story.store.begin_run(started, "test", story.site.snapshot)
    failure = "source 'main': connection refused"
    # as a run records a failed module: its message is its error
    record = ModuleRecord(
        "atlas", "batch", Status.ERROR, failure, Result.error(failure), error=failure
    )
    story.store.finish_run(run_id, [record], {"batch": Status.ERROR}, started)
    app = create_app(story.site, story.store)
    app.state.dashboard.now = lambda: started + timedelta(minutes=1)
    box = Client(app).get("/category/batch").text.split('id="atlas"')[1].split("</section>")[0]
    assert box.count("connection refused") == 1 and 'class="error-detail"' in box
    assert 'class="reasons' not in box  # an error is never explained by a rating
    story.store.close()
