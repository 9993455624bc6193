"""Rollups written once a day, when complete: curves equal those folded from the raw samples,
before a day is written (computed on read) and after, across hour and day boundaries."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from happyface import Result, Status
from happyface.storage import ModuleRecord, Point, Retention, Store
from happyface.storage.packed_hours import pack_hours, unpack_hours
from happyface.storage.rollup import bucket_of, written_key
from happyface.storage.schema import meta, rollups_daily, rollups_hourly, series

T0 = datetime(2024, 3, 1, 22, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def run_at(store: Store, t: datetime, value: float) -> None:
    """A finished run at `t` whose one module reports `value`."""
    run_id = store.begin_run(t, "host-a", {"site": "test"})
    assert run_id is not None
    record = ModuleRecord("jobs", "cat", Status.HAPPY, "", Result(metrics={"running": value}))
    store.finish_run(run_id, [record], {"cat": Status.HAPPY}, t + timedelta(seconds=5))


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
    last_hours = T0 + timedelta(hours=23)  # 21:00 on day 2: one written hour and the open one
    assert_same(
        curve(store, last_hours, HOUR, 2), folded([x for x in raw if x[0] >= last_hours], HOUR)
    )
    # the open day is its written hours and the open hour: none of them deleted
    assert_same(curve(store, T0, DAY, 3), folded(raw, DAY))
    with store.engine.connect() as conn:
        marks = conn.execute(sa.select(meta.c.key).where(meta.c.key.like("%_written_until")))
        assert sorted(marks.scalars()) == sorted(
            written_key(t) for t in (rollups_hourly, rollups_daily)
        )
