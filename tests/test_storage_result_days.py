"""Results of ended days packed one row per (module, day): every read gives what it gave before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from happyface import Link, Result, Status, Table
from happyface.storage import ModuleRecord, Retention, Store, open_store
from happyface.storage.pack_days import DAYS_PER_CLEANUP
from happyface.storage.result_days import StoredResult, decode, encode, in_micros
from tests.test_storage_migration import migrate

T0 = datetime(2024, 3, 1, tzinfo=UTC)
STEP = timedelta(hours=3)  # eight runs a day
CONFIG = {"categories": [{"id": "storage", "title": "Storage"}]}
MODULES = ("pools", "ping", "news")


def records(i: int) -> list[ModuleRecord]:
    """Run `i`'s results: metrics that vary, details that change every other run, none."""
    pools = Result(
        metrics={"free_tb": float(i), "ratio": 0.1 + i / 7, "huge": 1e300},
        tables=[Table("pools", ("pool", "free"), (("p1", i // 2),))],
        links=[Link("dCache", "http://127.0.0.1/pools")],
        details={"note": f"döst {i // 2}"},
    )
    ping = Result(metrics={"rtt_ms": 12.5 + i})
    unhappy, happy, error = Status.UNHAPPY, Status.HAPPY, Status.ERROR
    return [
        ModuleRecord("pools", "storage", unhappy, f"pools {i}", pools, f"runs/{i}", 0.25, 1 / 3),
        ModuleRecord("ping", "storage", happy, "", ping, None, 0.125, 0.0, ""),
        ModuleRecord("news", "storage", error, "no answer", Result(), None, 30.0, 0.0, "timeout"),
    ]


def store_runs(store: Store, times: list[datetime], first: int = 0) -> list[int]:
    ids = []
    for n, t in enumerate(times):
        run_id = store.begin_run(t, "h", CONFIG)
        assert run_id is not None
        store.finish_run(run_id, records(first + n), {"storage": Status.UNHAPPY}, t)
        ids.append(run_id)
    return ids


def everything(store: Store, ids: list[int], until: datetime) -> dict[str, Any]:
    """What every reader of results answers, for the whole history."""
    return {
        "runs": [store.results(i) for i in ids],
        "brief": [store.results(i, payload=False) for i in ids],
        "some": [store.results(i, ["ping", "news"]) for i in ids],
        "one": [store.result(i, "pools") for i in ids],
        "history": {m: store.module_history(m, T0, until) for m in MODULES},
        "short history": store.module_history("pools", T0, until, limit=3),
        "metrics": store.metrics_between(T0, until, ["pools", "ping"]),
        "curve": store.metric_series("pools", "ratio", T0, until),
        "part of a day": store.metric_series("pools", "ratio", T0 + STEP, until - STEP),
        "hourly": store.metric_series("pools", "free_tb", T0, until, max_points=40),
        "statuses": store.status_series("news", T0, until),
    }


def counted(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_packing_ended_days_changes_no_answer(store: Store) -> None:
    times = [T0 + i * STEP for i in range(8 * 3 + 2)]  # three whole days and two runs
    ids = store_runs(store, times)
    until = times[-1]
    before = everything(store, ids, until)
    assert len(before["curve"]) == len(times) and len(before["history"]["pools"]) == len(times)

    store.cleanup(until, Retention())
    assert counted(store, "result_days") == 3 * len(MODULES)  # a row per module and ended day
    assert counted(store, "results") == 2 * len(MODULES)  # today's rows stay rows
    assert everything(store, ids, until) == before


def test_a_run_stored_late_for_a_packed_day_is_read_then_merged(store: Store) -> None:
    times = [T0 + i * STEP for i in range(8 * 2 + 1)]
    ids = store_runs(store, times)
    store.cleanup(times[-1], Retention())
    late = T0 + timedelta(hours=1)  # on the first day, packed already
    (late_id,) = store_runs(store, [late], first=99)
    ids.append(late_id)
    before = everything(store, ids, times[-1])
    assert [r.run_id for r in before["history"]["pools"]][-2:] == [late_id, ids[0]]
    assert store.result(late_id, "pools") is not None

    store.cleanup(times[-1], Retention())
    assert counted(store, "results") == len(MODULES)  # only today's run left as rows
    assert everything(store, ids, times[-1]) == before
    with store.engine.connect() as conn:
        first_day = conn.execute(sa.text("SELECT count FROM result_days ORDER BY day")).scalar()
    assert first_day == 8 + 1


def test_retention_takes_results_out_of_packed_days_with_their_runs(store: Store) -> None:
    times = [T0 + i * STEP for i in range(8 * 4)]
    ids = store_runs(store, times)
    now = T0 + timedelta(days=4)
    store.cleanup(now, Retention())  # all four days packed
    assert counted(store, "results") == 0

    counts = store.cleanup(now, Retention(results_days=2.5))  # the cut: day 1 at noon
    gone = [i for i, t in zip(ids, times, strict=True) if t < now - timedelta(days=2.5)]
    assert (counts["runs"], counts["results"]) == (len(gone), len(gone) * len(MODULES))
    assert counts["samples"] == len(gone) * 4  # three metrics of pools, one of ping
    assert all(store.results(i) == [] for i in gone)
    kept = ids[len(gone) :]
    assert [len(store.results(i)) for i in kept] == [len(MODULES)] * len(kept)
    # the details of pools change every other run: those only the deleted runs used went
    details = {r.details["note"] for i in kept for r in store.results(i, ["pools"])}
    assert counted(store, "result_details") == len(details)
    assert counted(store, "result_days") == 3 * len(MODULES)  # day 1 written anew, day 0 gone


@pytest.mark.parametrize("count", [0, 1, 300])
def test_the_packed_value_gives_every_column_back_exactly(count: int) -> None:
    rows = [
        StoredResult(
            module_id=7,
            run_id=1000 + 3 * i,
            category_id=2 + i % 2,
            status=i % 5,
            message=f'ünïcode {i}\n"quoted"',
            layout_id=None if i % 3 == 0 else 4,
            metrics=None if i % 3 == 0 else bytes(range(i % 256)) * 300,
            details_id=None if i % 4 == 0 else 9 + i,
            archive=None if i % 2 else f"runs/{i}.zip",
            fetch_seconds=in_micros(0.1 * i + 1e-9),
            extract_seconds=in_micros(1 / (i + 3)),
            error="" if i % 7 else "boom",
        )
        for i in range(count)
    ]
    started = {r.run_id: 1_700_000_000_000_000 + 900_000_000 * i for i, r in enumerate(rows)}
    assert decode(7, encode(list(reversed(rows)), started)) == (rows, started)


def test_a_packed_value_of_an_unknown_version_is_refused() -> None:
    import zlib

    data = zlib.decompress(encode([], {}))
    with pytest.raises(ValueError, match="version 9"):
        decode(1, zlib.compress(b"\x09" + data[1:]))


def test_downgrading_unpacks_every_day_and_upgrading_reads_it_again(database_url: str) -> None:
    times = [T0 + i * STEP for i in range(8 * 2 + 1)]
    store = open_store(database_url)
    try:
        ids = store_runs(store, times)
        store.cleanup(times[-1], Retention())
        assert counted(store, "result_days") == 2 * len(MODULES)
        before = everything(store, ids, times[-1])
    finally:
        store.close()
    migrate(database_url, "0012", down=True)
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("result_days")
        rows = conn.execute(sa.text("SELECT count(*) FROM results")).scalar()
    engine.dispose()
    assert rows == len(times) * len(MODULES)
    store = open_store(database_url)  # upgrades again: rows stay rows until packed
    try:
        assert everything(store, ids, times[-1]) == before
        store.cleanup(times[-1], Retention())
        assert everything(store, ids, times[-1]) == before
    finally:
        store.close()


def test_a_cleanup_packs_at_most_a_week_oldest_first(store: Store) -> None:
    """After an upgrade a long history is packed over several cleanups, not in one."""
    times = [T0 + timedelta(days=d, hours=12) for d in range(DAYS_PER_CLEANUP + 3)]
    ids = store_runs(store, times)
    now = times[-1] + timedelta(days=1)
    before = everything(store, ids, now)
    store.cleanup(now, Retention())
    with store.engine.connect() as conn:
        days = conn.execute(sa.text("SELECT DISTINCT day FROM result_days ORDER BY day"))
        packed = [day for (day,) in days]
    first = (T0 - datetime(1970, 1, 1, tzinfo=UTC)).days
    assert packed == list(range(first, first + DAYS_PER_CLEANUP))  # the oldest ones
    assert counted(store, "results") == 3 * len(MODULES)
    assert everything(store, ids, now) == before
    store.cleanup(now, Retention())
    assert counted(store, "results") == 0
    assert everything(store, ids, now) == before


def widths(i: int) -> list[ModuleRecord]:
    """Metrics of every width (2, 4 and 8 bytes) at uneven offsets; from run 16 on, some runs
    leave out `half` and another run is `tiny`, so that a day mixes layouts."""
    metrics = {"count": float(i), "half": i + 0.5, "third": i + 1 / 3, "tiny": 1e-3 * (i + 1)}
    if i >= 16 and i % 3:
        del metrics["half"]
    if i >= 16 and i % 3 != 1:
        del metrics["tiny"]
    result = Result(metrics=metrics)
    return [ModuleRecord("pools", "storage", Status.HAPPY, "", result)]


@pytest.mark.parametrize("metric", ["count", "half", "third", "tiny"])
def test_a_raw_curve_is_read_from_packed_days_exactly(store: Store, metric: str) -> None:
    """Two days of one layout (read whole) and a day of mixed layouts (read run by run)."""
    times = [T0 + i * STEP for i in range(8 * 3 + 1)]
    for i, t in enumerate(times):
        run_id = store.begin_run(t, "h", CONFIG)
        assert run_id is not None
        store.finish_run(run_id, widths(i), {"storage": Status.HAPPY}, t)
    expected = [
        (t, m[metric]) for t, m in ((t, widths(i)[0].result.metrics) for i, t in enumerate(times))
        if metric in m
    ]  # fmt: skip
    store.cleanup(times[-1], Retention())
    assert counted(store, "result_days") == 3
    curve = store.metric_series("pools", metric, T0, times[-1])
    assert [(p.t, p.value) for p in curve] == expected
    assert all(p.min == p.value == p.max for p in curve)
    part = store.metric_series("pools", metric, times[3], times[-3])
    assert [(p.t, p.value) for p in part] == [
        (t, v) for t, v in expected if times[3] <= t <= times[-3]
    ]
