"""A day of one metric's hourly aggregates packed into one value: the hourly rollups' rows.

A row per series and hour cost about 100 bytes on PostgreSQL (a tuple header, four numbers,
the key and its index entry) for a few bytes of numbers. A row per series and day holds the
day's hours in one binary value:

    3 bytes   which hours of the day have runs: bit i (little-endian) is hour i
    4 bytes   the struct format character of each column: n, sum, min, max
    then      the column n (one value per hour present, in hour order), then sum, min, max

Each column takes the narrowest of the formats packing.py gives single values (2- or 4-byte
integers, 4-byte floats, doubles) that gives every one of its values back exactly, so an
aggregate read back is the one written.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence

HOURS_PER_DAY = 24
_MASK_BYTES = 3
_HEADER = _MASK_BYTES + 4

HourAggregates = dict[int, list[float]]  # hour of the day (0-23) -> [n, sum, min, max]


def pack_hours(hours: Mapping[int, Sequence[float]]) -> bytes:
    """The packed value of a day's hours (hour of the day -> n, sum, min, max)."""
    present = sorted(hours)
    if not present or present[0] < 0 or present[-1] >= HOURS_PER_DAY:
        raise ValueError(f"hours of a day must be 0-23, got {present}")
    mask = sum(1 << hour for hour in present)
    columns = [[float(hours[hour][k]) for hour in present] for k in range(4)]
    formats = "".join(column_format(values) for values in columns)
    body = struct.pack(_body_format(formats, len(present)), *_cast(columns, formats))
    return mask.to_bytes(_MASK_BYTES, "little") + formats.encode("ascii") + body


def unpack_hours(blob: bytes) -> HourAggregates:
    """The hours packed in `blob`: hour of the day -> [n, sum, min, max]."""
    mask = int.from_bytes(blob[:_MASK_BYTES], "little")
    present = [hour for hour in range(HOURS_PER_DAY) if mask >> hour & 1]
    formats = blob[_MASK_BYTES:_HEADER].decode("ascii")
    values = struct.unpack_from(_body_format(formats, len(present)), blob, _HEADER)
    count = len(present)
    return {
        hour: [float(values[k * count + i]) for k in range(4)] for i, hour in enumerate(present)
    }


def column_format(values: Sequence[float]) -> str:
    """The narrowest struct format that gives every one of `values` back exactly.

    Whole numbers (but a negative zero) take an integer format while all of them fit; else
    float32 when every value survives the round trip; else doubles. Checked a column at a
    time in C (min, max, one pack): a day is written for every series at once.
    """
    floats = [float(v) for v in values]
    if all(map(float.is_integer, floats)) and not _negative_zero(floats):
        low, high = min(floats), max(floats)
        if low >= -(2**15) and high < 2**15:
            return "h"
        if low >= -(2**31) and high < 2**31:
            return "i"
    return "f" if _float32_exact(floats) else "d"


def _negative_zero(values: list[float]) -> bool:
    return any(v == 0 and math.copysign(1.0, v) < 0 for v in values)


def _float32_exact(values: list[float]) -> bool:
    fmt = f"<{len(values)}f"
    try:
        return struct.unpack(fmt, struct.pack(fmt, *values)) == tuple(values)
    except OverflowError:  # beyond float32's range
        return False


def _body_format(formats: str, count: int) -> str:
    return "<" + "".join(f"{count}{f}" for f in formats)


def _cast(columns: list[list[float]], formats: str) -> list[float | int]:
    """The values in column order, integers where the column's format is an integer one."""
    flat: list[float | int] = []
    for values, fmt in zip(columns, formats, strict=True):
        flat += [int(v) for v in values] if fmt in "hi" else values
    return flat
