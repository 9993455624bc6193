"""How a metric sample is packed for SQLite: exact whole numbers, fractions to seven digits."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from happyface.storage.schema import pack_sample, unpack_sample


def test_whole_numbers_are_stored_as_exact_integers() -> None:
    assert pack_sample(3000.0) == 3000
    assert isinstance(pack_sample(3000.0), int)
    assert unpack_sample(pack_sample(-7.0)) == -7.0
    assert unpack_sample(pack_sample(2.0**52)) == 2.0**52


def test_fractions_take_four_bytes_and_keep_seven_digits() -> None:
    packed = pack_sample(0.4321)
    assert isinstance(packed, bytes) and len(packed) == 4
    assert unpack_sample(packed) == 0.4321
    assert unpack_sample(pack_sample(123.4567)) == 123.4567


def test_values_beyond_a_four_byte_float_stay_doubles() -> None:
    assert pack_sample(1.5e300) == 1.5e300
    assert pack_sample(2.0**60 + 0.5) == 2.0**60  # integral at this size: a double, exact


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30))
def test_any_value_comes_back_within_seven_significant_digits(value: float) -> None:
    back = unpack_sample(pack_sample(value))
    assert back == pytest.approx(value, rel=1e-6, abs=1e-38)
    assert math.isfinite(back)
