"""A module opened after being hidden shows only the history of its open time.

`moved` ran three times in the hidden category `vault`, then was moved to the open category
`batch`; `opened` was hidden itself, then made open. Each run stores its configuration, and
the runs of a version that withheld the module stay withheld from those it withheld them from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface import Result, Status
from happyface.archive.runs import Archive
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.sources import RawInput
from happyface.storage import ModuleRecord, Store, open_store
from happyface.web import create_app
from happyface.web.access.policy import Policy
from happyface.web.access.scope import ScopedStore
from tests.fixtures.web import BASE, INTERVAL, Client, web_registry

SITE = """
[site]
title = "History site"
interval = "15m"
database = "sqlite:///history.db"

[access.groups.admins]
dns = ["/CN=Ada Admin"]

[[category]]
id = "batch"
title = "Batch"

[[category]]
id = "vault"
title = "Vault"
access = "hidden"
allow = ["admins"]

[[module]]
id = "moved"
type = "probe"
category = "{moved_category}"
title = "Moved"

[[module]]
id = "opened"
type = "probe"
category = "batch"
title = "Opened"
access = "{opened_access}"
allow = ["admins"]
"""
HIDDEN_PHASE, OPEN_PHASE = 3, 3
#: what a module said and measured while hidden: never shown to an anonymous viewer
SECRET_MESSAGE, SECRET_VALUE = "SAID-WHILE-HIDDEN", 737373.0
MODULES = ("moved", "opened")


@dataclass
class History:
    hidden: Site
    now_open: Site
    store: Store
    archive: Archive
    runs: list[tuple[int, datetime]]  # (run id, start), oldest first

    def app(self) -> Any:
        app = create_app(self.now_open, self.store, archive=self.archive)
        app.state.dashboard.now = lambda: self.runs[-1][1] + INTERVAL
        return app

    def file(self, run_id: int, module_id: str) -> str:
        """The name of the archived input of a module in a run."""
        row = self.store.result(run_id, module_id)
        assert row is not None and row.archive is not None
        return next(n for n in self.archive.list(row.archive) if n.startswith("main"))

    def scoped(self, *groups: str) -> ScopedStore:
        return ScopedStore(self.store, Policy(self.now_open, frozenset(groups)))


def _site(folder: Path, moved_category: str, opened_access: str) -> Site:
    text = SITE.format(moved_category=moved_category, opened_access=opened_access)
    (folder / "happyface.toml").write_text(text)
    return load_site(folder, web_registry())


def _run(store: Store, site: Site, archive: Archive, started: datetime, secret: bool) -> int:
    message, value = (SECRET_MESSAGE, SECRET_VALUE) if secret else ("open now", 2.0)
    records = []
    for instance in site.modules:
        raw = RawInput("http://x", f"{message} RAW".encode(), started, "text/plain")
        relpath = archive.store(started, instance.id, {"main": raw})
        result = Result(status=Status.HAPPY, message=message, metrics={"value": value})
        category = instance.config.category
        records.append(
            ModuleRecord(instance.id, category, Status.HAPPY, message, result, archive=relpath)
        )
    run_id = store.begin_run(started, "test", site.snapshot)
    statuses = {c.id: Status.HAPPY for c in site.categories}
    store.finish_run(run_id, records, statuses, started + timedelta(seconds=10))
    return run_id


@pytest.fixture
def history(tmp_path: Path, database_url: str) -> Iterator[History]:
    """Both phases written to SQLite and to PostgreSQL."""
    hidden = _site(tmp_path, "vault", "hidden")
    now_open = _site(tmp_path, "batch", "open")
    store = open_store(database_url)
    archive = Archive(tmp_path / "archive")
    runs = []
    for i in range(HIDDEN_PHASE + OPEN_PHASE):
        started = BASE + INTERVAL * i
        site = hidden if i < HIDDEN_PHASE else now_open
        runs.append((_run(store, site, archive, started, i < HIDDEN_PHASE), started))
    yield History(hidden, now_open, store, archive, runs)
    store.close()


@pytest.mark.parametrize("module", MODULES)
def test_the_api_history_leaves_out_the_hidden_time(history: History, module: str) -> None:
    client = Client(history.app())
    span = {"start": BASE.isoformat(), "end": (history.runs[-1][1] + INTERVAL).isoformat()}
    results = client.get(f"/api/v1/modules/{module}/results", params=span)
    assert results.status_code == 200
    open_runs = [run_id for run_id, _ in history.runs[HIDDEN_PHASE:]]
    assert sorted(r["run_id"] for r in results.json()["results"]) == open_runs
    series = client.get(f"/api/v1/modules/{module}/metrics/value", params=span)
    assert [p["value"] for p in series.json()["points"]] == [2.0] * OPEN_PHASE
    for answer in (results, series):
        assert SECRET_MESSAGE not in answer.text and "737373" not in answer.text


@pytest.mark.parametrize("module", MODULES)
def test_the_module_page_and_the_past_runs_leave_out_the_hidden_time(
    history: History, module: str
) -> None:
    app = history.app()
    client, urls = Client(app), app.state.dashboard.urls
    page = client.get(urls.module(module))
    assert page.status_code == 200 and "open now" in page.text
    assert SECRET_MESSAGE not in page.text and "737373" not in page.text
    hidden_run, hidden_start = history.runs[0]
    past = client.get(urls.module(module, at=hidden_start + timedelta(minutes=1)))
    assert SECRET_MESSAGE not in past.text and "737373" not in past.text
    hidden_input = urls.archive(hidden_run, module, history.file(hidden_run, module))
    assert client.get(hidden_input).status_code == 404
    open_run, _ = history.runs[-1]
    open_input = urls.archive(open_run, module, history.file(open_run, module))
    assert client.get(open_input).status_code == 200


@pytest.mark.parametrize("module", MODULES)
def test_rollups_that_hold_hidden_runs_are_left_out(history: History, module: str) -> None:
    """Hourly buckets: 10:00 holds hidden and open runs (left out), 11:00 only open ones."""
    end = history.runs[-1][1] + INTERVAL
    points = history.scoped().metric_series(module, "value", BASE, end, max_points=2)
    assert [(p.t, p.value) for p in points] == [(BASE + timedelta(hours=1), 2.0)]
    statuses = history.scoped().status_series(module, BASE, end)
    assert [t for t, _ in statuses] == [start for _, start in history.runs[HIDDEN_PHASE:]]


@pytest.mark.parametrize("module", MODULES)
def test_those_it_was_never_hidden_from_see_all_of_it(history: History, module: str) -> None:
    admin = history.scoped("authenticated", "admins")
    end = history.runs[-1][1] + INTERVAL
    rows = admin.module_history(module, BASE, end)
    assert len(rows) == HIDDEN_PHASE + OPEN_PHASE
    assert len(admin.metric_series(module, "value", BASE, end)) == HIDDEN_PHASE + OPEN_PHASE
    assert admin.result(history.runs[0][0], module) is not None
    assert history.scoped().result(history.runs[0][0], module) is None
