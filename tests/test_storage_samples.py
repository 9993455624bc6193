"""Packed samples: every metric comes back exactly, in a few bytes."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from happyface.storage.packing import pack_metrics, parse_layout, value_format


def test_whole_numbers_take_two_or_four_bytes() -> None:
    assert [value_format(v) for v in (0.0, -7.0, 32767.0, 32768.0, -(2.0**31))] == [
        "h", "h", "h", "i", "i",
    ]  # fmt: skip
    assert value_format(2.0**52 + 1) == "d"  # beyond 32 bits: the double itself
    assert value_format(2.0**60) == "f"  # unless a 4-byte float holds it exactly


def test_a_fraction_takes_four_bytes_only_when_that_float_is_the_same_number() -> None:
    assert value_format(0.5) == "f" and value_format(123.25) == "f"
    assert value_format(0.4321) == "d"  # no 4-byte float equals it: kept exact
    assert value_format(-0.0) == "f"  # not the integer 0: the sign would be lost


def test_a_layout_names_each_value_and_its_width() -> None:
    layout, packed = pack_metrics({"ratio": 0.4321, "jobs": 3000.0, "half": 0.5})
    assert layout == "<fhd\nhalf\njobs\nratio"
    assert len(packed) == 4 + 2 + 8
    parsed = parse_layout(layout)
    assert parsed.value_of("jobs", packed) == 3000.0
    assert parsed.value_of("missing", packed) is None


finite = st.floats(allow_nan=False, allow_infinity=False)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,20}", fullmatch=True)


@given(st.dictionaries(names, finite, min_size=1, max_size=12))
def test_any_metrics_come_back_exactly(metrics: dict[str, float]) -> None:
    layout, packed = pack_metrics(metrics)
    back = parse_layout(layout).unpack(packed)
    assert list(back) == sorted(metrics)
    for name, value in metrics.items():
        assert struct.pack("<d", back[name]) == struct.pack("<d", value)  # -0.0 included
        one = parse_layout(layout).value_of(name, packed)
        assert one is not None and struct.pack("<d", one) == struct.pack("<d", value)
