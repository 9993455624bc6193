"""The `dcache_transfers` module type: slow and long transfers, grouped by pool and by host."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Status
from happyface.modules.dcache_transfers import DCacheTransfers
from happyface.plugins import Registry
from tests.fixtures.modules import (
    assert_clean_failure,
    data,
    huge_input,
    result_or_extract_error,
    run,
)


def test_registered_through_the_entry_point():
    assert Registry().get("dcache_transfers") is DCacheTransfers


def test_json_transfers_slow_and_long():
    result = run(DCacheTransfers, data("transfers.json"))
    assert result.metrics["transfers"] == 6
    # slow: the two on wn0042 and the dCache-API one; the 60 s one is too young to judge
    assert result.metrics["slow"] == 3
    assert result.metrics["long"] == 1  # 28000 s is over 6 h
    assert result.metrics["bad"] == 4
    assert result.status is None  # within warning = 5
    by_pool = dict(result.tables[0].rows)
    assert by_pool == {
        "f01-080-111-e_D_cms": 2,
        "f01-090-101-e_D_atlas": 1,
        "f01-070-101-e_D_lhcb": 1,
    }
    assert dict(result.tables[1].rows)["wn0042.gridka.example"] == 2
    assert "most on pool f01-080-111-e_D_cms" in result.message


def test_rating_on_the_number_of_bad_transfers():
    assert run(DCacheTransfers, data("transfers.json"), warning=2).status is Status.NEUTRAL
    assert (
        run(DCacheTransfers, data("transfers.json"), warning=1, critical=3).status is Status.UNHAPPY
    )
    assert (
        run(DCacheTransfers, data("transfers.json"), slow_mb_s=0.001, long_hours=10).status is None
    )


def test_text_transfers():
    result = run(DCacheTransfers, data("transfers.txt"))
    assert result.metrics == {
        "transfers": 3.0,
        "slow": 1.0,
        "long": 1.0,
        "bad": 2.0,
        "speed": 245020000.0,
        "bytes": 4209012000000.0,
    }


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "a b c", '{"transfers": 3}', "[1, 2]", "[{", "d p h c lots 1 2"],
)
def test_bad_input_is_an_extract_error(text):
    assert_clean_failure(DCacheTransfers, text)


def test_truncated_and_huge_inputs():
    body = data("transfers.json")
    assert_clean_failure(DCacheTransfers, body[: len(body) // 2])
    assert "MB" in assert_clean_failure(DCacheTransfers, huge_input(b"["))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape(body):
    result_or_extract_error(DCacheTransfers, body)


_VALUE = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
_ITEM = st.dictionaries(
    st.sampled_from(
        ["door", "pool", "host", "bytes", "speed", "age", "transferTime", "transferRate"]
    ),
    _VALUE | st.dictionaries(st.sampled_from(["number", "set"]), _VALUE),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ITEM, max_size=8))
def test_random_transfer_lists_never_escape(items):
    result_or_extract_error(DCacheTransfers, json.dumps({"transfers": items}))
