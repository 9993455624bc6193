"""A result's details are stored once per content and go when no result references them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from happyface import Result, Status
from happyface.storage import ModuleRecord, Retention, Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
CONFIG = {"categories": [{"id": "storage", "title": "Storage"}]}


def run_with(store: Store, day: int, note: str) -> int:
    t = T0 + timedelta(days=day)
    result = Result(status=Status.HAPPY, metrics={"free": float(day)}, details={"note": note})
    record = ModuleRecord("pools", "storage", Status.HAPPY, "fine", result)
    run_id = store.begin_run(t, "h", CONFIG)
    assert run_id is not None
    store.finish_run(run_id, [record], {"storage": Status.HAPPY}, t)
    return run_id


def stored_details(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM result_details")).scalar_one())


def test_details_are_stored_once_per_content_and_deleted_with_their_last_result(
    store: Store,
) -> None:
    notes = ["a", "a", "b", "b"]
    ids = [run_with(store, day, note) for day, note in enumerate(notes)]
    assert stored_details(store) == 2
    assert [store.results(i)[0].details for i in ids] == [{"note": n} for n in notes]

    counts = store.cleanup(T0 + timedelta(days=4), Retention(results_days=2.5))
    assert (counts["runs"], counts["results"], counts["details"]) == (2, 2, 1)
    assert stored_details(store) == 1
    assert store.results(ids[2])[0].details == {"note": "b"}

    again = run_with(store, 5, "a")  # a content seen before, whose row has gone: stored anew
    assert store.results(again)[0].details == {"note": "a"}
    assert stored_details(store) == 2
