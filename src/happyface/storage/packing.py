"""A result's metrics packed into its own row: a few bytes a value, no row (and header) each.

A module's metrics are stored as one binary value of fixed-width numbers, in the order of a
*layout*: the metric names with the width each value took. Layouts repeat from run to run,
so they are stored once (`metric_layouts`) and referenced by a small id.

Every value comes back exactly as it went in: whole numbers as 2- or 4-byte integers while
they fit, fractions as 4-byte floats when that float is the same number, else as doubles.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

# one line of struct format characters, then one metric name a line (names hold no newline)
_INT16, _INT32, _FLOAT32, _DOUBLE = "h", "i", "f", "d"
_FLOAT32_MAX = 3.4e38


def value_format(value: float) -> str:
    """The narrowest struct format that gives `value` back exactly."""
    if value.is_integer() and not (value == 0 and math.copysign(1, value) < 0):
        if -(2**15) <= value < 2**15:
            return _INT16
        if -(2**31) <= value < 2**31:
            return _INT32
    if abs(value) < _FLOAT32_MAX and struct.unpack("<f", struct.pack("<f", value))[0] == value:
        return _FLOAT32
    return _DOUBLE


def pack_metrics(metrics: Mapping[str, float]) -> tuple[str, bytes]:
    """The layout text and the packed values of `metrics`, in name order."""
    names = sorted(metrics)
    formats = "".join(value_format(metrics[n]) for n in names)
    values = [
        int(metrics[n]) if f in (_INT16, _INT32) else metrics[n]
        for n, f in zip(names, formats, strict=True)
    ]
    return "\n".join(["<" + formats, *names]), struct.pack("<" + formats, *values)


@dataclass(frozen=True)
class Layout:
    """A parsed layout: names in order, the struct that unpacks them, each name's position."""

    names: tuple[str, ...]
    unpacker: struct.Struct
    fields: Mapping[str, tuple[int, struct.Struct]]

    def unpack(self, blob: bytes) -> dict[str, float]:
        """Every metric of a packed value, by name (in name order, floats)."""
        return {n: float(v) for n, v in zip(self.names, self.unpacker.unpack(blob), strict=True)}

    def value_of(self, name: str, blob: bytes) -> float | None:
        """One metric of a packed value, or None when the layout has no such metric."""
        found = self.fields.get(name)
        if found is None:
            return None
        offset, field = found
        return float(field.unpack_from(blob, offset)[0])


@lru_cache(maxsize=4096)
def parse_layout(text: str) -> Layout:
    """The Layout stored as `text` (cached: layouts are few and never change)."""
    formats, *names = text.split("\n")
    fields: dict[str, tuple[int, struct.Struct]] = {}
    offset = 0
    for name, char in zip(names, formats[1:], strict=True):
        field = struct.Struct("<" + char)
        fields[name] = (offset, field)
        offset += field.size
    return Layout(tuple(names), struct.Struct(formats), fields)
