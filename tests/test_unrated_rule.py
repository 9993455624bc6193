"""One rule for modules that are not rated, and every place that shows a category follows it.

"News" holds one unrated module that shows a warning; "batch" a happy rated module beside an
unrated one with a problem. Real runs are acquired from local files, and the overview, the
category pages, the API, the classic XML, /metrics, the matrix (another instance reading this
one's XML) and the statuses the alarms observe must all say the same.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from prometheus_client.parser import text_string_to_metric_families

from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.run import Runner, RunOutcome
from happyface.config.load import load_site
from happyface.modules.happyface_instance import HappyFaceInstance, HappyFaceInstanceSettings
from happyface.sources import RawInput, Source
from happyface.status import Status
from happyface.storage import open_store
from happyface.web import create_app
from tests.fixtures.site import write_site
from tests.fixtures.web import Client

SITE = """
[site]
title = "Unrated"
interval = "15m"
database = "sqlite:///site.db"

[[category]]
id = "news"
title = "News and services"

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "feed"
type = "json_value"
category = "news"
title = "Site news"
kind = "unrated"
source = "values.json"
[module.settings]
values = { items = "$.items" }
[[module.rules]]
metric = "items"
op = ">"
warning = 1

[[module]]
id = "jobs"
type = "json_value"
category = "batch"
title = "Jobs"
source = "values.json"
[module.settings]
values = { running = "$.running" }

[[module]]
id = "queue"
type = "json_value"
category = "batch"
title = "Queue"
kind = "unrated"
source = "values.json"
[module.settings]
values = { queued = "$.queued" }
[[module.rules]]
metric = "queued"
op = ">"
critical = 10
"""

#: what every place must show
EXPECTED = {"news": Status.NEUTRAL, "batch": Status.NEUTRAL}


@pytest.fixture
async def acquired(tmp_path: Path) -> AsyncIterator[tuple[Client, RunOutcome]]:
    folder = tmp_path / "site"
    write_site(folder, SITE)
    (folder / "values.json").write_text(json.dumps({"items": 3, "running": 5, "queued": 40}))
    site = load_site(folder / "happyface.toml")
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    outcome = await Runner(site, store, fetcher, holder="test").run()
    assert outcome is not None
    app = create_app(site, store)
    app.state.dashboard.now = lambda: outcome.started_at + timedelta(minutes=1)
    yield Client(app), outcome
    await fetcher.aclose()
    store.close()


def test_the_statuses_alarms_observe_follow_the_rule(
    acquired: tuple[Client, RunOutcome],
) -> None:
    _, outcome = acquired
    modules = {r.module_id: r.status for r in outcome.records}
    assert modules == {"feed": Status.NEUTRAL, "jobs": Status.HAPPY, "queue": Status.UNHAPPY}
    assert outcome.categories == EXPECTED


def test_overview_category_pages_and_api_agree(acquired: tuple[Client, RunOutcome]) -> None:
    client, _ = acquired
    overview = client.get("/overview.json").json()
    assert {c["id"]: c["status"]["value"] for c in overview["categories"]} == EXPECTED
    # listed as needing attention exactly where they keep their category from being happy
    assert sorted(t["id"] for t in overview["troubled"]) == ["feed", "queue"]
    for category, status in EXPECTED.items():
        page = client.get(f"/category/{category}.json").json()
        assert page["category"]["status"]["value"] == status
        assert client.get(f"/api/v1/categories/{category}").json()["status"] == status
    api = client.get("/api/v1/status").json()
    assert {c["id"]: c["status"] for c in api["categories"]} == EXPECTED
    html = client.get("/category/news").text
    assert "Warning" in html and "No data" not in html


def test_classic_xml_metrics_and_matrix_agree(acquired: tuple[Client, RunOutcome]) -> None:
    client, outcome = acquired
    xml = client.get("/category?action=getxml")
    tree = ElementTree.fromstring(xml.content)
    scores = {c.findtext("name"): c.findtext("status") for c in tree.iter("category")}
    assert scores == {name: str(s.score) for name, s in EXPECTED.items()}
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    shown = {s.labels["category"]: s.value for s in families["happyface_category_status"].samples}
    assert shown == {name: s.score for name, s in EXPECTED.items()}
    # another instance reads this one's XML for its matrix
    watcher = HappyFaceInstance(
        HappyFaceInstanceSettings(format="xml", columns={"news": ["news"], "batch": ["batch"]}),
        {"main": Source(url="http://127.0.0.1/")},
    )
    raw = RawInput("http://127.0.0.1/", xml.content, outcome.started_at)
    result = watcher.extract({"main": raw}, outcome.started_at + timedelta(minutes=1))
    assert {c["name"]: c["status"] for c in result.details["columns"]} == EXPECTED
