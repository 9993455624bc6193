"""A notification's link opens the run that triggered it, whatever the fraction of its second."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from happyface.alarms.message import category_link
from happyface.result import Result
from happyface.status import Status
from happyface.storage import ModuleRecord, Store, open_store
from happyface.web import create_app
from tests.fixtures.alarm_day import BASE_URL, T0, load_day_site
from tests.fixtures.web import Client


def store_run(store: Store, at_offset: timedelta) -> int:
    started = T0 + at_offset
    run_id = store.begin_run(started, "test", {})
    record = ModuleRecord("dcache_pools", "storage", Status.UNHAPPY, "", Result(Status.UNHAPPY))
    store.finish_run(run_id, [record], {"storage": Status.UNHAPPY}, started + timedelta(seconds=2))
    return run_id


def test_each_run_s_link_opens_that_run(tmp_path: Path, database_url: str) -> None:
    site = load_day_site(tmp_path, 25, "http://127.0.0.1:9")
    store = open_store(database_url)
    try:
        # a run every 15 minutes, each started a fraction of a second after the minute
        offsets = [timedelta(minutes=15 * i, microseconds=250_000 + 100_000 * i) for i in range(4)]
        runs = [store_run(store, offset) for offset in offsets]
        client = Client(create_app(site, store))
        for run_id, offset in zip(runs, offsets, strict=True):
            link = category_link(BASE_URL, "storage", T0 + offset, "dcache_pools")
            assert link.startswith(f"{BASE_URL}/category/storage?at=")
            query = urlsplit(link).query
            answer = client.get(f"/category/storage.json?{query}")
            assert answer.status_code == 200, answer.text  # not "before the first run"
            assert answer.json()["time"]["run_id"] == run_id
    finally:
        store.close()
