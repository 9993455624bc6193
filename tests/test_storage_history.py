"""Storage over time: the run lock, killed runs, metric curves and rollups, retention."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from happyface import Result, Status, StorageError
from happyface.acquisition.maintenance import Maintenance
from happyface.archive.runs import Archive
from happyface.config.settings import SiteSettings
from happyface.storage import ModuleRecord, Point, Retention, Store, open_store
from happyface.storage.changes import ChangePoint

T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def run_with(store: Store, t: datetime, metrics: dict[str, dict[str, float]]) -> int:
    """Store a finished run at `t` whose modules report `metrics` ({module: {name: value}})."""
    run_id = store.begin_run(t, "host-a", {"site": "test"})
    records = [
        ModuleRecord(m, "cat", Status.HAPPY, "", Result(metrics=values))
        for m, values in metrics.items()
    ]
    store.finish_run(run_id, records, {"cat": Status.HAPPY}, t + timedelta(seconds=5))
    return run_id


# -- the lock -------------------------------------------------------------------------------


def test_the_lock_between_two_stores(database_url: str) -> None:
    a, b = open_store(database_url), open_store(database_url)
    try:
        assert a.acquire_lock("host-a:1", 60, T0)
        assert not b.acquire_lock("host-b:1", 60, T0 + timedelta(seconds=59))
        assert a.acquire_lock("host-a:1", 60, T0 + timedelta(seconds=30))  # already ours
        assert a.renew_lock("host-a:1", 60, T0 + timedelta(seconds=60))
        assert not b.acquire_lock("host-b:1", 60, T0 + timedelta(seconds=119))
        assert b.acquire_lock("host-b:1", 60, T0 + timedelta(seconds=120))  # a's expired
        assert not a.renew_lock("host-a:1", 60, T0 + timedelta(seconds=121))
        a.release_lock("host-a:1")  # not a's any more: nothing happens
        assert not a.acquire_lock("host-a:1", 60, T0 + timedelta(seconds=122))
        b.release_lock("host-b:1")
        assert a.acquire_lock("host-a:1", 60, T0 + timedelta(seconds=123))
    finally:
        a.close()
        b.close()


CONTENDER = """
import sys, time
from datetime import datetime, UTC
from happyface.storage import open_store
url, holder, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
store = open_store(url)
time.sleep(max(0.0, start - time.time()))
print(store.acquire_lock(holder, 60, datetime(2024, 3, 1, tzinfo=UTC)))
store.close()
"""


def test_only_one_of_several_processes_gets_the_lock(database_url: str) -> None:
    open_store(database_url).close()  # the schema exists before they race
    import time

    start = time.time() + 2.0  # all processes ask at the same moment
    contenders = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, database_url, f"host-{i}", str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    answers = [p.communicate(timeout=60)[0].strip() for p in contenders]
    assert all(p.returncode == 0 for p in contenders)
    assert sorted(answers) == ["False"] * 5 + ["True"]


def test_runs_of_a_killed_process_are_abandoned_by_the_next_lock_holder(store: Store) -> None:
    assert store.acquire_lock("host-a:1", 60, T0)
    killed = store.begin_run(T0, "host-a:1", {})
    assert killed is not None
    # only the lock's holder may abandon: host b does not hold it while a's lock lives
    assert store.abandon_stale_runs("host-b:1", T0 + timedelta(seconds=30)) == 0
    assert store.run(killed).state == "running"  # type: ignore[union-attr]
    assert store.acquire_lock("host-b:1", 60, T0 + timedelta(seconds=61))  # a's expired
    assert store.abandon_stale_runs("host-b:1", T0 + timedelta(seconds=61)) == 1
    run = store.run(killed)
    assert run is not None and run.state == "failed"
    assert run.error == "interrupted: the process ended mid-run"
    assert store.latest_run() is None
    assert store.abandon_stale_runs("host-b:1", T0 + timedelta(seconds=62)) == 0


def test_a_run_its_own_holder_left_running_is_abandoned_at_its_next_run(store: Store) -> None:
    """E.g. the database went away mid-run: the same holder's next run fails the leftover."""
    assert store.acquire_lock("host-a:1", 60, T0)
    leftover = store.begin_run(T0, "host-a:1", {})
    assert store.acquire_lock("host-a:1", 60, T0 + timedelta(minutes=15))
    assert store.abandon_stale_runs("host-a:1", T0 + timedelta(minutes=15)) == 1
    assert store.run(leftover).state == "failed"  # type: ignore[arg-type, union-attr]


# -- curves and rollups ---------------------------------------------------------------------


def test_rollups_equal_the_aggregates_of_the_raw_samples(store: Store) -> None:
    rng = random.Random(7)
    raw: list[tuple[datetime, float]] = []
    t = T0 + timedelta(minutes=7)
    while t < T0 + timedelta(days=3):
        value = rng.choice([rng.randint(0, 500), round(rng.uniform(-5, 5), 3)])
        run_with(store, t, {"jobs": {"running": value}})
        raw.append((t, value))
        t += timedelta(minutes=rng.choice([10, 25, 40]))
    hours: dict[datetime, list[float]] = defaultdict(list)
    days: dict[datetime, list[float]] = defaultdict(list)
    for when, value in raw:
        hours[when.replace(minute=0, second=0)].append(value)
        days[when.replace(hour=0, minute=0, second=0)].append(value)
    end = T0 + timedelta(days=3)

    exact = store.metric_series("jobs", "running", T0, end)  # raw: everything fits
    assert exact == [Point(w, v, v, v) for w, v in raw]
    hourly = store.metric_series("jobs", "running", T0, end, max_points=len(raw) - 1)
    daily = store.metric_series("jobs", "running", T0, end, max_points=10)
    for points, expected in ((hourly, hours), (daily, days)):
        assert [p.t for p in points] == sorted(expected)
        for p in points:
            values = expected[p.t]
            assert p.value == pytest.approx(sum(values) / len(values))
            assert (p.min, p.max) == (min(values), max(values))


def test_metric_series_picks_the_finest_resolution_that_fits(store: Store) -> None:
    for i in range(2 * 96):  # two days of quarter-hour runs
        run_with(store, T0 + i * QUARTER, {"jobs": {"running": i}, "queue": {"idle": 1}})
    end = T0 + timedelta(days=2) - timedelta(seconds=1)
    for max_points, count, step in (
        (2000, 192, QUARTER),
        (192, 192, QUARTER),
        (191, 48, timedelta(hours=1)),
        (48, 48, timedelta(hours=1)),
        (47, 2, timedelta(days=1)),
        (1, 2, timedelta(days=1)),  # nothing fits: the coarsest there is
    ):
        points = store.metric_series("jobs", "running", T0, end, max_points=max_points)
        assert len(points) == count, max_points
        assert points[1].t - points[0].t == step
    assert store.metric_names("jobs") == ["running"]
    assert store.metric_series("jobs", "missing", T0, end) == []
    assert store.metric_series("jobs", "running", end, T0) == []
    before = T0 - timedelta(hours=3)  # raw (a few buckets), but no run in the window
    assert store.metric_series("jobs", "running", before, T0 - timedelta(seconds=1)) == []
    assert len(store.metric_series("jobs", "running", before, T0)) == 1


# -- retention ------------------------------------------------------------------------------


def test_cleanup_keeps_each_level_as_long_as_retention_says(store: Store) -> None:
    # one run a day for 100 days, two metrics
    ids = [
        run_with(store, T0 + timedelta(days=d), {"jobs": {"running": d, "held": 1}})
        for d in range(100)
    ]
    failed = store.record_failed_run(T0 + timedelta(days=5), T0 + timedelta(days=5), "down")
    now = T0 + timedelta(days=99, hours=12)
    retention = Retention(results_days=60, samples_days=10, hourly_days=30, daily_days=0)

    counts = store.cleanup(now, retention)

    # days 0..39 are older than 60 days (39 runs + the failed one); their samples go with them
    assert counts == {
        "runs": 40 + 1,
        "results": 40,
        "categories": 40,
        "samples": 2 * 40,
        "details": 0,
        "hourly": 2 * 69,  # whole days: day 69 holds the cut (12:00) and stays
        "daily": 0,
        "configs": 0,
        "periods": 0,
        "changes": 0,
    }
    assert store.run(failed) is None and store.run(ids[39]) is None
    assert store.first_run() == store.run(ids[40])
    assert len(store.results(ids[40])) == 1
    # raw samples are part of the results: kept as long as they are, whatever samples_days says
    old = store.metric_series("jobs", "running", T0 + timedelta(days=41), now, max_points=5000)
    assert old == [Point(T0 + timedelta(days=d), d, d, d) for d in range(41, 100)]
    # before the results' cut, only the daily rollups are complete
    assert len(store.metric_series("jobs", "running", T0 + timedelta(days=30), now, 5000)) == 70
    recent = store.metric_series("jobs", "running", now - timedelta(days=5), now, 5000)
    assert [p.t for p in recent] == [T0 + timedelta(days=d) for d in range(95, 100)]
    # daily rollups are kept forever
    ancient = store.metric_series("jobs", "running", T0, now, max_points=5000)
    assert [p.value for p in ancient] == list(range(100))
    assert store.cleanup(now, retention) == dict.fromkeys(counts, 0)


def _change(module: str, at: datetime) -> ChangePoint:
    return ChangePoint(module, "running", at, at, "level", "value", 10, 5, 1, 1, 8.0, -0.5)


def test_changes_go_with_the_runs_they_were_found_in(store: Store) -> None:
    for d in range(10):
        run_with(store, T0 + timedelta(days=d), {"jobs": {"running": d}})
    store.add_changes([_change("jobs", T0 + timedelta(days=d, hours=1)) for d in (1, 3, 8)])
    now = T0 + timedelta(days=9, hours=12)

    counts = store.cleanup(now, Retention(results_days=5, hourly_days=0, daily_days=0))

    assert counts["changes"] == 2
    kept = store.changes(T0, now)
    assert [c.at for c in kept] == [T0 + timedelta(days=8, hours=1)]
    keep_all = Retention(results_days=0, hourly_days=0, daily_days=0)
    assert store.cleanup(now + timedelta(days=900), keep_all)["changes"] == 0
    assert len(store.changes(T0, now)) == 1


def test_cleanup_with_zeros_keeps_everything(store: Store) -> None:
    run_with(store, T0, {"jobs": {"running": 1}})
    keep_all = Retention(results_days=0, samples_days=0, hourly_days=0, daily_days=0)
    assert sum(store.cleanup(T0 + timedelta(days=5000), keep_all).values()) == 0
    assert store.latest_run() is not None


def test_fractional_retention_days_as_the_settings_allow(store: Store) -> None:
    run_with(store, T0, {"jobs": {"running": 1}})
    settings = SiteSettings.model_validate({"title": "t", "retention": {"results_days": 0.5}})
    counts = Maintenance(settings, store, archive=None).clean(T0 + timedelta(days=1))
    assert counts["samples"] == 1 and counts["runs"] == 1


def test_an_archive_that_cannot_be_cleaned_is_logged_not_raised(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Archive, older_than: datetime) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Archive, "cleanup", refuse)
    settings = SiteSettings(title="t")
    counts = Maintenance(settings, store, Archive(tmp_path)).clean(T0)
    assert "archived runs" not in counts and counts["runs"] == 0


def test_retention_is_documented_and_strict() -> None:
    assert all(f.description for f in Retention.model_fields.values())
    with pytest.raises(ValueError, match="extra"):
        Retention(result_days=3)  # type: ignore[call-arg]


def test_a_database_failure_in_cleanup_is_raised_by_clean_and_logged_by_the_scheduler(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def down(now: datetime, retention: Retention) -> dict[str, int]:
        raise StorageError("database sqlite:///x.db is unreachable: disk I/O error")

    monkeypatch.setattr(store, "cleanup", down)
    maintenance = Maintenance(SiteSettings(title="t"), store, archive=None)
    with pytest.raises(StorageError, match="unreachable"):
        maintenance.clean(T0)  # `happyface cleanup` shows this and exits 1
    maintenance.last_clean = None
    maintenance.maybe_clean(T0)  # the scheduler goes on
    assert "cleanup failed: database sqlite:///x.db is unreachable" in caplog.text


def test_a_curve_of_exactly_its_cap_in_runs_is_raw_and_reads_each_packed_late_and_hot_run(
    store: Store,
) -> None:
    """The runs in the span are counted no further than the cap: cap runs read raw, every one
    of them (packed days, a late row of a packed day, today's rows); one more goes to rollups."""
    raw = [(T0 + i * QUARTER, float(i % 11)) for i in range(3 * 96)]  # three days
    for t, value in raw[:-10]:
        run_with(store, t, {"jobs": {"running": value}})
    store.cleanup(raw[-10][0], Retention(results_days=365))  # the first two days packed
    late = (T0 + timedelta(hours=5, minutes=7), 42.0)  # stored after its day was packed
    run_with(store, late[0], {"jobs": {"running": late[1]}})
    for t, value in raw[-10:]:
        run_with(store, t, {"jobs": {"running": value}})
    raw = sorted([*raw, late])
    since, until = raw[1][0], raw[-2][0]  # the first and last run left out
    inside = raw[1:-1]
    exact = store.metric_series("jobs", "running", since, until, max_points=len(inside))
    assert exact == [Point(t, v, v, v) for t, v in inside]
    fewer = store.metric_series("jobs", "running", since, until, max_points=len(inside) - 1)
    assert len(fewer) == 72 and fewer[1].t - fewer[0].t == timedelta(hours=1)
