"""Storage: runs and results, atomic visibility, time travel, config snapshots, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from happyface import Link, Result, Status, StorageError, Table
from happyface.storage import ModuleRecord, Store, open_store, rollup
from happyface.storage.schema import metadata
from tests.fixtures.postgres import PostgresServer, free_port

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = {"categories": [{"id": "batch", "title": "Batch", "modules": ["jobs", "queue"]}]}


def record(module: str, value: float = 1.0, status: Status = Status.HAPPY) -> ModuleRecord:
    """A module record with one metric, for tests that care about runs, not contents."""
    return ModuleRecord(
        module_id=module,
        category_id="batch",
        status=status,
        message=f"{module} ok",
        result=Result(status=status, metrics={"load": value}),
    )


def stored_run(store: Store, t: datetime, modules: tuple[str, ...] = ("jobs", "queue")) -> int:
    """Begin and finish one run at `t`; its id."""
    run_id = store.begin_run(t, "host-a", CONFIG)
    store.finish_run(run_id, [record(m) for m in modules], {"batch": Status.HAPPY}, t)
    return run_id


def count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_a_run_round_trips_everything_a_result_holds(store: Store) -> None:
    result = Result(
        status=Status.UNHAPPY,
        message="2 pools down",
        metrics={"pools_down": 2, "free_tb": 12.5},
        tables=(Table("pools", ("name", "free", "ok"), (("p1", 1.5, True), ("p2", None, False))),),
        links=(Link("dCache", "https://dcache.example.org/info"),),
        details={"pools": {"p1": [1, 2]}, "note": "ünïcode"},
    )
    rec = ModuleRecord(
        "dcache", "storage", Status.UNHAPPY, "2 pools down", result, "runs/1/dcache", 0.25, 0.5
    )
    cest = timezone(timedelta(hours=2))
    run_id = store.begin_run(T0.astimezone(cest), "host-a", CONFIG)
    store.finish_run(run_id, [rec], {"storage": Status.UNHAPPY}, T0 + timedelta(seconds=7))

    row = store.result(run_id, "dcache")
    assert row is not None
    assert (row.module_id, row.category_id, row.status) == ("dcache", "storage", Status.UNHAPPY)
    assert row.time == T0 and row.time.tzinfo is UTC
    assert row.metrics == {"pools_down": 2.0, "free_tb": 12.5}
    assert row.tables == list(result.tables)
    assert row.links == list(result.links)
    assert row.details == {"pools": {"p1": [1, 2]}, "note": "ünïcode"}
    assert (row.archive, row.fetch_seconds, row.extract_seconds) == ("runs/1/dcache", 0.25, 0.5)
    assert store.results(run_id) == [row]
    assert store.category_statuses(run_id) == {"storage": Status.UNHAPPY}
    info = store.run(run_id)
    assert info is not None and info.state == "ok" and info.duration == 7.0
    assert info.started_at.tzinfo is UTC


def test_a_running_run_is_never_visible(store: Store) -> None:
    done = stored_run(store, T0)
    running = store.begin_run(T0 + timedelta(minutes=15), "host-a", CONFIG)
    assert store.latest_run() == store.run(done)
    assert store.run_at(T0 + timedelta(hours=1)) == store.run(done)
    assert [r.id for r in store.runs()] == [done]
    assert [r.id for r in store.runs(include_failed=True)] == [running, done]  # for admins
    assert store.neighbours(done) == (None, None)
    assert store.results(running) == []
    run = store.run(running)
    assert run is not None and run.state == "running" and run.duration is None


def test_a_failure_inside_finish_run_leaves_nothing_visible(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored_run(store, T0)
    seen_meanwhile = []

    def fail_after_results(*args: object) -> None:
        # results and samples are written by now; another reader must not see them
        other = open_store(database_url)
        seen_meanwhile.append(other.latest_run())
        other.close()
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollup, "record_run", fail_after_results)
    run_id = store.begin_run(T0 + timedelta(minutes=15), "host-a", CONFIG)
    with pytest.raises(RuntimeError, match="disk full"):
        store.finish_run(run_id, [record("jobs", 5.0)], {"batch": Status.UNHAPPY}, T0)
    monkeypatch.undo()

    assert seen_meanwhile == [store.run(before)]
    assert store.latest_run() == store.run(before)
    assert store.results(run_id) == [] and store.category_statuses(run_id) == {}
    assert [p.value for p in store.metric_series("jobs", "load", T0, T0 + timedelta(1))] == [1.0]
    # the store is still usable, and the run can still be finished or failed
    store.finish_run(run_id, [record("jobs", 5.0)], {"batch": Status.UNHAPPY}, T0)
    assert store.latest_run() == store.run(run_id)


def test_a_database_error_inside_finish_run_rolls_back(store: Store) -> None:
    run_id = store.begin_run(T0, "host-a", CONFIG)
    with pytest.raises(StorageError, match=f"storing run {run_id}"):
        store.finish_run(run_id, [record("jobs"), record("jobs")], {}, T0)
    assert store.latest_run() is None and store.results(run_id) == []
    assert store.metric_names("jobs") == []
    store.finish_run(run_id, [record("jobs")], {}, T0)  # cached ids were not kept
    assert store.metric_names("jobs") == ["load"]


def test_finishing_a_run_that_is_not_running_is_refused(store: Store) -> None:
    run_id = store.begin_run(T0, "host-a", CONFIG)
    store.fail_run(run_id, T0, "fetch deadline")
    with pytest.raises(StorageError, match="is failed, not running"):
        store.finish_run(run_id, [record("jobs")], {}, T0)
    run = store.run(run_id)
    assert run is not None and (run.state, run.error) == ("failed", "fetch deadline")
    assert store.latest_run() is None


def test_record_failed_run(store: Store) -> None:
    ok = stored_run(store, T0)
    failed = store.record_failed_run(
        T0 + timedelta(minutes=15), T0 + timedelta(minutes=16), "database unreachable"
    )
    run = store.run(failed)
    assert run is not None and (run.state, run.error) == ("failed", "database unreachable")
    assert run.duration == 60.0
    assert store.latest_run() == store.run(ok)
    assert [r.id for r in store.runs()] == [ok]
    assert [r.id for r in store.runs(include_failed=True)] == [failed, ok]


def test_run_at_and_neighbours_at_the_boundaries(store: Store) -> None:
    first = stored_run(store, T0)
    store.record_failed_run(T0 + timedelta(minutes=15), T0 + timedelta(minutes=15), "down")
    second = stored_run(store, T0 + timedelta(minutes=30))
    third = stored_run(store, T0 + timedelta(minutes=45))
    run = store.run

    assert store.run_at(T0 - timedelta(microseconds=1)) is None
    assert store.run_at(T0) == run(first)
    assert store.run_at(T0 + timedelta(minutes=29, seconds=59)) == run(first)
    assert store.run_at(T0 + timedelta(minutes=30)) == run(second)
    assert store.run_at(T0 + timedelta(days=999)) == run(third)
    assert store.neighbours(first) == (None, run(second))
    assert store.neighbours(second) == (run(first), run(third))
    assert store.neighbours(third) == (run(second), None)
    assert store.neighbours(12345) == (None, None)
    assert store.first_run() == run(first) and store.latest_run() == run(third)
    window = store.runs(T0 + timedelta(minutes=30), T0 + timedelta(minutes=45))
    assert [r.id for r in window] == [third, second]
    assert [r.id for r in store.runs(limit=1)] == [third]


def test_module_history_and_statuses(store: Store) -> None:
    ids = []
    for i, status in enumerate([Status.HAPPY, Status.ERROR, Status.UNHAPPY]):
        t = T0 + timedelta(minutes=15 * i)
        run_id = store.begin_run(t, "host-a", CONFIG)
        store.finish_run(run_id, [record("jobs", i, status), record("queue")], {}, t)
        ids.append(run_id)
    end = T0 + timedelta(hours=1)
    assert store.status_series("jobs", T0, end) == [
        (T0, Status.HAPPY),
        (T0 + timedelta(minutes=15), Status.ERROR),
        (T0 + timedelta(minutes=30), Status.UNHAPPY),
    ]
    history = store.module_history("jobs", T0 + timedelta(minutes=1), end)
    assert [(r.run_id, r.metrics["load"]) for r in history] == [(ids[2], 2.0), (ids[1], 1.0)]
    assert len(store.module_history("jobs", T0, end, limit=1)) == 1
    assert store.status_series("nonexistent", T0, end) == []


def test_the_config_snapshot_is_stored_once_per_content(store: Store, database_url: str) -> None:
    same = {"categories": CONFIG["categories"], "title": "Site"}
    reordered = {"title": "Site", "categories": CONFIG["categories"]}
    runs = [store.begin_run(T0, "h", same), store.begin_run(T0, "h", reordered)]
    assert count(database_url, "config_versions") == 1
    changed = {**same, "title": "Site (new)"}
    runs.append(store.begin_run(T0, "h", changed))
    assert count(database_url, "config_versions") == 2
    assert [store.config_of(r) for r in runs] == [same, same, changed]
    assert store.config_of(store.record_failed_run(T0, T0, "down")) == {}


def test_a_configs_hash_names_its_content(store: Store) -> None:
    same = {"categories": CONFIG["categories"], "title": "Site"}
    reordered = {"title": "Site", "categories": CONFIG["categories"]}
    changed = {**same, "title": "Site (new)"}
    runs = [store.begin_run(T0, "h", c) for c in (same, reordered, changed)]
    hashes = [store.config_hash(r) for r in runs]
    assert hashes[0] is not None and hashes[0] == hashes[1] != hashes[2]
    assert store.config_hash(store.record_failed_run(T0, T0, "down")) is None
    assert store.config_hash(10**9) is None


def test_results_of_some_modules_and_without_their_payload(store: Store) -> None:
    run_id = stored_run(store, T0, ("jobs", "queue", "disk"))
    assert [r.module_id for r in store.results(run_id, ["queue", "jobs"])] == ["jobs", "queue"]
    assert store.results(run_id, []) == []
    full, light = store.results(run_id), store.results(run_id, payload=False)
    assert [(r.module_id, r.status, r.message, r.time) for r in light] == [
        (r.module_id, r.status, r.message, r.time) for r in full
    ]
    assert [r.metrics for r in full] == [{"load": 1.0}] * 3
    assert [r.metrics for r in light] == [{}] * 3


def test_the_migrations_build_exactly_the_declared_schema(store: Store, database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
    again = open_store(database_url)  # upgrading an up-to-date schema changes nothing
    assert again.latest_run() is None
    again.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'hf.db'}")
    store.close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'hf.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_an_unreachable_postgresql_is_a_storage_error_without_the_password() -> None:
    port = free_port()
    url = f"postgresql+psycopg://monitor:s3cr3t-pw@127.0.0.1:{port}/hf"
    with pytest.raises(StorageError) as caught:
        open_store(url)
    message = str(caught.value)
    assert message.startswith(f"database postgresql://monitor@127.0.0.1:{port}/hf is unreachable")
    assert "refused" in message.lower()
    assert "s3cr3t-pw" not in message


@pytest.mark.postgres
def test_a_wrong_password_is_a_storage_error_without_the_password(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.url("no_such_database").replace("postgres@", "postgres:s3cr3t-pw@")
    with pytest.raises(StorageError) as caught:
        open_store(url)
    assert "no_such_database" in str(caught.value)
    assert "s3cr3t-pw" not in str(caught.value)


def test_sqlite_in_a_directory_that_cannot_hold_it_is_a_storage_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(StorageError, match="is unreachable: unable to open database file"):
        open_store(f"sqlite:///{not_a_dir / 'hf.db'}")


def test_a_bad_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="not a database URL"):
        open_store("not a url")


def test_a_missing_driver_is_a_storage_error_naming_it() -> None:
    # no MySQL driver is installed with HappyFace or its test extras
    with pytest.raises(StorageError, match="driver 'MySQLdb' is not installed"):
        open_store("mysql://db.example.org/happyface")


def test_a_first_run_of_ten_thousand_new_series_is_stored(store: Store) -> None:
    # PostgreSQL refused to look up 10,000 new (module, metric) pairs in one IN list
    metrics = {f"metric{k:02}": float(k) + 0.5 for k in range(50)}
    records = [
        ModuleRecord(f"m{m:03}", "batch", Status.HAPPY, "ok", Result(metrics=metrics))
        for m in range(200)
    ]
    run_id = store.begin_run(T0, "host-a", CONFIG)
    store.finish_run(run_id, records, {"batch": Status.HAPPY}, T0)
    assert len(store.results(run_id)) == 200
    assert len(store.metric_names("m199")) == 50
    (point,) = store.metric_series("m199", "metric49", T0, T0 + timedelta(minutes=1))
    assert point.value == 49.5
