"""Rollups written once a day, when complete: curves equal those folded from the raw samples,
before a day is written (computed on read) and after, across hour and day boundaries."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from happyface import Result, Status
from happyface.storage import ModuleRecord, Point, Retention, Store, open_store
from happyface.storage import retention as retaining
from happyface.storage import write as storing
from happyface.storage.packed_hours import pack_hours, unpack_hours
from happyface.storage.rollup import bucket_of, open_day, written_key, written_until
from happyface.storage.schema import meta, rollups_daily, rollups_hourly, series

T0 = datetime(2024, 3, 1, 22, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def run_at(store: Store, t: datetime, value: float, write_days: bool = True) -> None:
    """A finished run at `t` whose one module reports `value` (see run_with)."""
    run_with(store, t, {"running": value}, write_days)


def run_with(store: Store, t: datetime, metrics: dict[str, float], write_days: bool = True) -> None:
    """A finished run at `t` whose one module reports `metrics`; then, as the runner does,
    the days it completes are written (unless not `write_days`: as if the process died
    between the two transactions)."""
    run_id = store.begin_run(t, "host-a", {"site": "test"})
    assert run_id is not None
    record = ModuleRecord("jobs", "cat", Status.HAPPY, "", Result(metrics=metrics))
    due = store.finish_run(run_id, [record], {"cat": Status.HAPPY}, t + timedelta(seconds=5))
    if due is not None and write_days:
        store.write_ended_days(due)


def folded(raw: list[tuple[datetime, float]], width: timedelta) -> list[Point]:
    """The buckets of `width` folded from (time, value) samples in Python: the expectation."""
    seconds = width.total_seconds()
    buckets: dict[datetime, list[float]] = defaultdict(list)
    for t, value in raw:
        buckets[datetime.fromtimestamp(t.timestamp() // seconds * seconds, UTC)].append(value)
    return [Point(t, sum(v) / len(v), min(v), max(v)) for t, v in sorted(buckets.items())]


def curve(store: Store, since: datetime, width: timedelta, count: int) -> list[Point]:
    """The curve over `count` times `width` from `since`, read at the level of that width."""
    until = since + count * width - timedelta(seconds=1)
    seconds = int(width.total_seconds())
    buckets = bucket_of(until, seconds) - bucket_of(since, seconds) + 1
    points = store.metric_series("jobs", "running", since, until, max_points=buckets)
    assert len(points) <= buckets  # more would be raw samples: too few runs for the test
    return points


def stored_buckets(store: Store, table: sa.Table) -> list[int]:
    """The buckets written: days, or the hours packed in the hourly rows of days."""
    with store.engine.connect() as conn:
        if table is rollups_daily:
            return list(conn.execute(sa.select(table.c.bucket).order_by(table.c.bucket)).scalars())
        rows = conn.execute(sa.select(table.c.day, table.c.hours))
        return sorted(day * 24 + hour for day, blob in rows for hour in unpack_hours(blob))


def assert_same(points: list[Point], expected: list[Point]) -> None:
    assert [p.t for p in points] == [p.t for p in expected]
    for p, e in zip(points, expected, strict=True):
        assert p.value == pytest.approx(e.value)
        assert (p.min, p.max) == (e.min, e.max)


def test_a_curve_across_bucket_boundaries_equals_the_one_folded_from_raw(store: Store) -> None:
    raw: list[tuple[datetime, float]] = []
    # from 22:10 on day 1 to 01:20 on day 2, at uneven steps: every bucket boundary crossed
    steps = (10, 25, 40, 55, 70, 95, 110, 118, 125, 150, 185, 200)
    for i, minutes in enumerate(steps):
        t = T0 + timedelta(minutes=minutes)
        run_at(store, t, minutes * (-1.5 if i % 3 else 1.25))
        raw.append((t, minutes * (-1.5 if i % 3 else 1.25)))
        if i < 5:
            continue  # too few runs: the curve would be the raw samples
        # the open hour and day are computed on read, the complete ones stored: same curve
        assert_same(curve(store, T0, HOUR, 4), folded(raw, HOUR))
        assert_same(curve(store, T0, DAY, 3), folded(raw, DAY))
    # written once each, when complete: day 1 with its hours 22 and 23, not the open day 2
    first_hour = bucket_of(T0, 3600)
    assert stored_buckets(store, rollups_hourly) == [first_hour, first_hour + 1]
    assert stored_buckets(store, rollups_daily) == [bucket_of(T0, 86400)]


def test_a_run_stored_for_a_past_bucket_is_folded_into_it(store: Store) -> None:
    raw = [(T0 + timedelta(minutes=m), float(m % 97)) for m in range(0, 30 * 60, 10)]
    for t, value in raw:
        run_at(store, t, value)
    late = (T0 + timedelta(hours=3, minutes=35), 1000.0)  # its hour and day are written
    run_at(store, *late)
    raw.append(late)
    assert_same(curve(store, T0, HOUR, 30), folded(raw, HOUR))
    assert_same(curve(store, T0, DAY, 2), folded(raw, DAY))


def test_buckets_folded_run_by_run_before_the_upgrade_are_replaced_when_complete(
    store: Store,
) -> None:
    raw = [(T0 + timedelta(minutes=m), float(m)) for m in (5, 10, 15, 20)]
    for t, value in raw:
        run_at(store, t, value)
    # as an older store left it: no marks, and the open hour and day folded so far, stored
    with store.engine.begin() as conn:
        conn.execute(sa.delete(meta).where(meta.c.key.like("%_written_until")))
        series_id = conn.execute(sa.select(series.c.id)).scalar_one()
        day, hours = bucket_of(T0, 86400), pack_hours({22: [4, 50.0, 5.0, 20.0]})
        conn.execute(sa.insert(rollups_hourly).values(series_id=series_id, day=day, hours=hours))
        row = {"series_id": series_id, "bucket": day, "n": 4, "sum": 50.0}
        conn.execute(sa.insert(rollups_daily).values({**row, "min": 5.0, "max": 20.0}))
    assert_same(curve(store, T0, HOUR, 2), folded(raw, HOUR))
    for minutes in (50, 65, 24 * 60 + 10):  # the first run after the upgrade, then the next
        raw.append((T0 + timedelta(minutes=minutes), float(minutes)))
        run_at(store, *raw[-1])
        first_hours = [x for x in raw if x[0] < T0 + 2 * HOUR]
        assert_same(curve(store, T0, HOUR, 2), folded(first_hours, HOUR))
        assert_same(curve(store, T0, DAY, 3), folded(raw, DAY))


def test_retention_keeps_what_the_open_buckets_are_computed_from(store: Store) -> None:
    raw = [(T0 + timedelta(minutes=m), float(m % 71)) for m in range(0, 24 * 60 + 50, 20)]
    for t, value in raw:
        run_at(store, t, value)
    now = raw[-1][0] + timedelta(minutes=1)  # 22:41 on day 2, in the open hour 22
    short = Retention(results_days=0.01, hourly_days=0.01, daily_days=0)  # about 15 minutes
    store.cleanup(now, short)
    last_hours = T0 + timedelta(hours=23)  # 21:00 on day 2: two hours of the open day
    assert_same(
        curve(store, last_hours, HOUR, 2), folded([x for x in raw if x[0] >= last_hours], HOUR)
    )
    # the open day is computed from its runs' raw samples: none of them deleted
    assert_same(curve(store, T0, DAY, 3), folded(raw, DAY))
    with store.engine.connect() as conn:
        marks = conn.execute(sa.select(meta.c.key).where(meta.c.key.like("%_written_until")))
        assert sorted(marks.scalars()) == sorted(
            written_key(t) for t in (rollups_hourly, rollups_daily)
        )


def metric_curve(
    store: Store, metric: str, since: datetime, width: timedelta, count: int
) -> list[Point]:
    until = since + count * width - timedelta(seconds=1)
    return store.metric_series("jobs", metric, since, until, max_points=count)


def test_a_backfill_into_a_written_day_is_folded_into_its_row(store: Store) -> None:
    day1 = datetime(2024, 3, 1, tzinfo=UTC)
    raw = [(day1 + timedelta(hours=6, minutes=m), float(m % 13)) for m in range(0, 6 * 60, 10)]
    for t, value in raw:
        run_with(store, t, {"running": value})
    next_day = (day1 + DAY + timedelta(hours=1), 3.0)  # begins day 2: day 1 is written
    run_with(store, next_day[0], {"running": next_day[1]})
    raw.append(next_day)
    hours_before = stored_buckets(store, rollups_hourly)
    assert hours_before == [bucket_of(day1, 3600) + h for h in range(6, 12)]
    # runs stored late for day 1: into an hour it has, an hour it had none in, and with a
    # metric it had no row for
    late = [(day1 + timedelta(hours=7, minutes=15), -40.5), (day1 + timedelta(hours=3), 99.0)]
    for t, value in late:
        run_with(store, t, {"running": value, "queued": value * 2})
    raw += late
    first_hour = bucket_of(day1, 3600)
    # 'running' gains hour 3; 'queued' has a row of its own with hours 3 and 7
    assert stored_buckets(store, rollups_hourly) == sorted(
        [*hours_before, first_hour + 3, first_hour + 3, first_hour + 7]
    )
    assert_same(metric_curve(store, "running", day1, HOUR, 26), folded(raw, HOUR))
    assert_same(metric_curve(store, "running", day1, DAY, 2), folded(raw, DAY))
    queued = [(t, value * 2) for t, value in late]
    assert_same(metric_curve(store, "queued", day1, DAY, 1), folded(queued, DAY))
    with store.engine.connect() as conn:
        query = sa.select(rollups_hourly.c.hours).join(series).where(series.c.name == "queued")
        assert unpack_hours(conn.execute(query).scalar_one()) == {
            3: [1, 198.0, 198.0, 198.0],
            7: [1, -81.0, -81.0, -81.0],
        }


def test_days_without_runs_between_two_runs_are_written_when_the_next_run_begins(
    store: Store,
) -> None:
    day1 = datetime(2024, 3, 1, tzinfo=UTC)
    since = day1 + timedelta(hours=18)
    times = [since + timedelta(minutes=m) for m in range(0, 3 * 60, 5)]
    times += [day1 + 2 * DAY + timedelta(hours=5, minutes=m) for m in range(0, 2 * 60, 5)]
    raw: list[tuple[datetime, float]] = []
    for i, t in enumerate(times):
        raw.append((t, float((i * 7) % 23) - 4.5))
        run_at(store, t, raw[-1][1])
        if len(raw) > 37:  # more runs than hours: the hourly curve is read from the rollups
            assert_same(curve(store, since, HOUR, 37), folded(raw, HOUR))
        if len(raw) > 3:
            assert_same(curve(store, day1, DAY, 3), folded(raw, DAY))
    first_hour = bucket_of(day1, 3600)
    assert stored_buckets(store, rollups_hourly) == [first_hour + h for h in (18, 19, 20)]
    assert stored_buckets(store, rollups_daily) == [bucket_of(day1, 86400)]
    # no run since day 3: retention writes it before anything may go
    store.cleanup(day1 + 3 * DAY + timedelta(hours=1), Retention(results_days=365))
    assert stored_buckets(store, rollups_hourly)[3:] == [first_hour + 48 + h for h in (5, 6)]
    assert stored_buckets(store, rollups_daily) == [bucket_of(day1, 86400) + d for d in (0, 2)]
    assert_same(curve(store, since, HOUR, 37), folded(raw, HOUR))
    assert_same(curve(store, day1, DAY, 3), folded(raw, DAY))


def test_an_hour_whose_runs_differ_in_their_metrics_is_folded_from_all_of_them(
    store: Store,
) -> None:
    day1 = datetime(2024, 3, 1, 10, tzinfo=UTC)
    running: list[tuple[datetime, float]] = []
    queued: list[tuple[datetime, float]] = []
    for i in range(24):  # every other run also reports 'queued': two layouts in each hour
        t = day1 + timedelta(minutes=10 * i)
        running.append((t, float(i) + 0.25))
        metrics = {"running": running[-1][1]}
        if i % 2:
            queued.append((t, -3.0 * i))
            metrics["queued"] = queued[-1][1]
        run_with(store, t, metrics)
    run_with(store, day1 + DAY, {"running": 1.0})  # writes the day
    assert_same(metric_curve(store, "running", day1, HOUR, 4), folded(running, HOUR))
    assert_same(metric_curve(store, "queued", day1, HOUR, 4), folded(queued, HOUR))


@pytest.mark.parametrize("recovered_by", ["the next run", "the cleanup"])
def test_a_day_left_unwritten_by_a_process_dying_after_its_run_is_written_later(
    store: Store, recovered_by: str
) -> None:
    day1 = datetime(2024, 3, 1, tzinfo=UTC)
    since = day1 + timedelta(hours=20)
    raw = [(since + timedelta(minutes=m), float(m % 7) - 2.5) for m in range(0, 4 * 60, 15)]
    for t, value in raw:
        run_at(store, t, value)
    # the first run of day 2 is stored (its own transaction), then the process dies
    raw.append((day1 + DAY + timedelta(minutes=5), 9.0))
    run_at(store, *raw[-1], write_days=False)
    assert stored_buckets(store, rollups_hourly) == stored_buckets(store, rollups_daily) == []
    assert_same(curve(store, since, HOUR, 5), folded(raw, HOUR))  # computed from raw meanwhile
    if recovered_by == "the next run":
        raw.append((day1 + DAY + timedelta(minutes=20), -1.0))
        run_at(store, *raw[-1])
    else:
        store.cleanup(day1 + DAY + timedelta(hours=1), Retention(results_days=365))
    first_hour = bucket_of(since, 3600)
    assert stored_buckets(store, rollups_hourly) == [first_hour + h for h in range(4)]
    assert stored_buckets(store, rollups_daily) == [bucket_of(day1, 86400)]
    assert_same(curve(store, since, HOUR, 5), folded(raw, HOUR))
    assert_same(curve(store, day1, DAY, 2), folded(raw, DAY))


def waiting_on_a_lock(url: str, thread: threading.Thread) -> None:
    """Return once `thread` is done or a session of the database at `url` waits for a lock."""
    engine = sa.create_engine(url)
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        deadline = time.monotonic() + 60  # not an expectation: only never to hang
        while thread.is_alive() and time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(waiting).scalar_one():
                    return
            time.sleep(0.01)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_cleanup_does_not_write_a_day_whose_run_is_being_stored(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a run's transaction and the cleanup's interleave (a SQLite writer takes
    the lock at BEGIN): the day the cleanup writes must hold the run that was being stored
    while it began, or that run's sample never reaches the day's rollups."""
    store = open_store(postgres_url)
    day1 = datetime(2024, 3, 1, tzinfo=UTC)
    raw = [(day1 + timedelta(hours=22), 1.0), (day1 + timedelta(hours=23, minutes=59), 5.0)]
    failed: list[BaseException] = []

    def clean() -> None:
        try:
            store.cleanup(day1 + DAY + timedelta(minutes=30), Retention(results_days=365))
        except BaseException as exc:
            failed.append(exc)

    cleanup = threading.Thread(target=clean)
    original: Callable[..., None] = storing.write_source_quality

    def then_the_cleanup(*args: Any) -> None:  # the run's last step, before its commit
        original(*args)
        cleanup.start()
        waiting_on_a_lock(postgres_url, cleanup)

    try:
        run_at(store, *raw[0])
        monkeypatch.setattr(storing, "write_source_quality", then_the_cleanup)
        run_at(store, *raw[1])  # stored late, committed after the cleanup began
        cleanup.join()
        assert failed == []
        assert stored_buckets(store, rollups_daily) == [bucket_of(day1, 86400)]
        assert_same(curve(store, day1, DAY, 1), folded(raw, DAY))
    finally:
        store.close()


@pytest.mark.postgres
def test_the_runner_writing_ended_days_during_a_later_cleanup_leaves_the_marks_ahead(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner writes the days before its run's (a day late, say) while the cleanup of the
    day after writes those and one more: the marks stay where the later one put them."""
    store = open_store(postgres_url)
    day1 = datetime(2024, 3, 1, tzinfo=UTC)
    failed: list[BaseException] = []

    def write_days() -> None:
        try:
            store.write_ended_days(day1 + DAY + timedelta(hours=23))
        except BaseException as exc:
            failed.append(exc)

    runner = threading.Thread(target=write_days)
    original: Callable[..., None] = retaining.complete_before

    def then_the_runner(*args: Any) -> None:  # the cleanup's write, before its commit
        original(*args)
        runner.start()
        waiting_on_a_lock(postgres_url, runner)

    try:
        run_at(store, day1 + 22 * HOUR, 1.0)
        run_at(store, day1 + DAY + 23 * HOUR, 2.0, write_days=False)
        monkeypatch.setattr(retaining, "complete_before", then_the_runner)
        store.cleanup(day1 + 2 * DAY + timedelta(minutes=30), Retention(results_days=365))
        runner.join()
        assert failed == []
        marks = store.read("reading the marks", written_until)
        assert open_day(marks) == bucket_of(day1 + 2 * DAY, 86400)
    finally:
        store.close()
