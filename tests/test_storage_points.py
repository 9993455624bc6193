"""A curve held as columns reads as the list of points it stands for."""

from __future__ import annotations

from array import array
from datetime import UTC, datetime, timedelta

from happyface.storage import Point
from happyface.storage.points import Points

T0 = datetime(2024, 3, 1, 0, 0, 0, 999, tzinfo=UTC)
POINTS = [Point(T0 + timedelta(minutes=15 * i), i / 3, i / 3 - 1, i / 3 + 1) for i in range(7)]


def test_points_read_as_the_list_they_hold() -> None:
    points = Points.of(POINTS)
    assert list(points) == POINTS and len(points) == len(POINTS)
    assert [points[i] for i in range(-7, 7)] == POINTS + POINTS
    assert list(reversed(points)) == POINTS[::-1]
    for part in (slice(None, None, 3), slice(2, -1), slice(None, None, -1)):
        assert list(points[part]) == POINTS[part]
    assert points == POINTS and points != POINTS[1:] and points != 7
    assert POINTS == points  # noqa: SIM300 (the list's side: compared the other way round)
    assert Points.of([]) == [] and Points.of([]) != ""  # a string is a sequence, not a curve


def test_a_raw_sample_is_its_own_mean_minimum_and_maximum() -> None:
    micros = [1_709_251_200_000_999, 1_709_252_100_000_000]
    points = Points(array("q", micros), array("d", [1.5, -2.0]))
    assert list(points) == [
        Point(datetime(2024, 3, 1, 0, 0, 0, 999, tzinfo=UTC), 1.5, 1.5, 1.5),
        Point(datetime(2024, 3, 1, 0, 15, tzinfo=UTC), -2.0, -2.0, -2.0),
    ]


def test_times_in_milliseconds_need_no_datetimes() -> None:
    points = Points.of(POINTS)
    epoch, ms = datetime(1970, 1, 1, tzinfo=UTC), timedelta(milliseconds=1)
    assert points.millis() == [(p.t - epoch) // ms for p in POINTS]
    assert points.millis()[0] == 1_709_251_200_000  # the 999 microseconds rounded down
