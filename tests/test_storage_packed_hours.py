"""A day of hourly aggregates packed into one value reads back exactly, in few bytes."""

from __future__ import annotations

import math

import pytest

from happyface.storage.packed_hours import column_format, pack_hours, unpack_hours


def test_every_aggregate_reads_back_exactly() -> None:
    hours = {
        0: [1, -0.0, -0.0, -0.0],
        5: [4, 1e300, -1e300, 1e300],
        6: [60, 2.0**24 + 1, 0.1, 2.0**31],
        23: [70000, 0.5, -(2.0**15), 3.4e38],
    }
    back = unpack_hours(pack_hours(hours))
    assert back == hours
    assert math.copysign(1, back[0][1]) == -1  # the sign of a negative zero too


def test_each_column_takes_the_narrowest_width_that_is_exact() -> None:
    assert column_format([1, 2, -(2.0**15)]) == "h"
    assert column_format([1, 2.0**15]) == "i"
    assert column_format([0.5, 2.0**20]) == "f"  # a whole number float32 holds exactly
    assert column_format([0.5, 2.0**31]) == "f"
    assert column_format([0.5, 2.0**24 + 1]) == "d"  # float32 would round it
    assert column_format([0.1]) == "d"
    assert column_format([float("nan")]) == "d"
    # a day of 4 runs an hour of counts below 10,000: 24 x (2 + 4 + 2 + 2) bytes and a header
    day = {h: [4, 4 * 9999.0, 0.0, 9999.0] for h in range(24)}
    assert len(pack_hours(day)) == 7 + 24 * 10


@pytest.mark.parametrize("hours", [{}, {24: [1, 1.0, 1.0, 1.0]}, {-1: [1, 1.0, 1.0, 1.0]}])
def test_hours_outside_a_day_are_refused(hours: dict[int, list[float]]) -> None:
    with pytest.raises(ValueError, match="hours of a day"):
        pack_hours(hours)
