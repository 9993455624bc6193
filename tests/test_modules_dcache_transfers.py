"""The `dcache_transfers` module type: slow and long transfers, grouped by pool and by host."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import RawInput, Result, Rule, Source, Status
from happyface.acquisition.fetch import Fetcher
from happyface.errors import FormatError
from happyface.modules.dcache_transfers import DCacheTransfers
from happyface.modules.dcacherates import dcache_version, unit_for
from happyface.plugins import Registry
from tests.fixtures.modules import (
    NOW,
    assert_clean_failure,
    data,
    huge_input,
    rated,
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
    assert rated(DCacheTransfers, data("transfers.json"))[0] is Status.HAPPY  # not more than 5
    by_pool = dict(result.tables[0].rows)
    assert by_pool == {
        "f01-080-111-e_D_cms": 2,
        "f01-090-101-e_D_atlas": 1,
        "f01-070-101-e_D_lhcb": 1,
    }
    assert dict(result.tables[1].rows)["wn0042.gridka.example"] == 2
    assert "most on pool f01-080-111-e_D_cms" in result.message


def test_rating_on_the_number_of_bad_transfers():
    two = Rule(metric="bad", warning=2)
    status, message = rated(DCacheTransfers, data("transfers.json"), rules=(two,))
    assert status is Status.NEUTRAL and message == "bad is 4, above the limit of 2"
    one_three = Rule(metric="bad", warning=1, critical=3)
    assert rated(DCacheTransfers, data("transfers.json"), rules=(one_three,))[0] is Status.UNHAPPY
    lenient = rated(
        DCacheTransfers, data("transfers.json"), rules=(one_three,), slow_mb_s=0.001, long_hours=10
    )
    assert lenient[0] is Status.HAPPY


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


# -- the unit of transferRate (dCache's REST API) ------------------------------------------------

MiB = 1024.0**2


def from_dcache(content: bytes, server: str, **settings: Any) -> Result:
    """The module's result for an answer that came with this `Server` header."""
    module = DCacheTransfers(DCacheTransfers.Settings(**settings), {})
    answer = RawInput(url="http://127.0.0.1/api/v1/transfers", content=content, fetched_at=NOW)
    return module.extract({"main": replace(answer, server=server)}, NOW)


def current_transfer(mib_per_s: float, seconds: float) -> bytes:
    """dCache's documented transfer, as a current release reports one at this speed."""
    answer = json.loads(data("dcache_transfers_userguide.json"))
    item = answer["items"][0]
    item["bytesTransferred"] = int(mib_per_s * MiB * seconds)
    item["transferTime"] = int(seconds * 1000)
    item["transferRate"] = item["bytesTransferred"] / MiB / seconds
    return json.dumps(answer).encode()


def test_a_current_dcache_reports_mib_per_second():
    fast = current_transfer(250.0, 600)  # 250 MiB/s for ten minutes: nothing slow
    result = from_dcache(fast, "dCache/9.2.14")
    assert result.metrics["speed"] == pytest.approx(250 * MiB)
    assert result.metrics["slow"] == 0
    assert "MiB/s (dCache 9.2.14)" in result.details["rate_unit"]
    # without a Server header, a current release is assumed
    assert from_dcache(fast, "").metrics["slow"] == 0


def test_the_documented_answer_of_an_older_dcache_is_in_kib_per_second():
    # dCache's user guide: 16384 bytes in 8021 ms reported as transferRate 2 (KiB/s, rounded)
    documented = data("dcache_transfers_userguide.json")
    assert from_dcache(documented, "dCache/5.2.0").metrics["speed"] == 2 * 1024
    assert from_dcache(documented, "dCache/7.0.0").metrics["speed"] == 2 * 1024
    assert from_dcache(documented, "dCache/7.0.1").metrics["speed"] == 2 * MiB


def test_the_rate_unit_setting_overrides_the_server():
    documented = data("dcache_transfers_userguide.json")
    result = from_dcache(documented, "dCache/9.2.14", rate_unit="KiB/s")
    assert result.metrics["speed"] == 2 * 1024
    assert "KiB/s (setting)" in result.details["rate_unit"]


@pytest.mark.parametrize(
    ("server", "unit"),
    [
        ("dCache/3.2.10", "KiB/s"),
        ("dCache/5.2.37", "KiB/s"),
        ("dCache/5.2.38", "MiB/s"),
        ("dCache/6.0.31", "KiB/s"),
        ("dCache/6.0.32", "MiB/s"),
        ("dCache/6.1.21", "MiB/s"),
        ("dCache/6.2.12", "KiB/s"),
        ("dCache/6.2.13", "MiB/s"),
        ("dCache/7.0.0", "KiB/s"),
        ("dCache/7.1.0", "MiB/s"),
        ("dCache/8.2.5", "MiB/s"),
        ("dCache/10.0.0-SNAPSHOT", "MiB/s"),
    ],
)
def test_the_unit_follows_the_release_that_changed_it(server, unit):
    version = dcache_version(server)
    assert version is not None and unit_for(version) == unit


def test_a_transfer_without_a_mover_is_not_slow():
    # dCache reports transferRate 0 while a transfer waits for a mover (no bytes, no time yet)
    answer = json.loads(data("dcache_transfers_userguide.json"))
    waiting = answer["items"][0]
    for key in ("bytesTransferred", "transferTime", "moverId", "moverStatus"):
        waiting.pop(key)
    waiting["transferRate"] = 0.0
    result = from_dcache(json.dumps(answer).encode(), "dCache/9.2.14", min_age_s=0)
    assert (result.metrics["transfers"], result.metrics["slow"]) == (1, 0)


def test_the_documented_empty_answer_and_a_paged_one():
    empty = from_dcache(data("dcache_transfers_userguide_empty.json"), "dCache/9.2.14")
    assert empty.metrics["transfers"] == 0 and not empty.details["paged"]
    answer = json.loads(data("dcache_transfers_userguide.json"))
    answer["nextOffset"] = 1
    paged = from_dcache(json.dumps(answer).encode(), "dCache/9.2.14")
    assert paged.details["paged"] and "only the first page" in paged.message


def test_entries_that_are_no_transfers_are_a_format_error():
    with pytest.raises(FormatError, match="expected transfers with fields"):
        run(DCacheTransfers, json.dumps({"items": [{"name": "pool1", "groups": ["default"]}]}))


async def test_the_version_comes_from_a_real_server_header():
    body = data("dcache_transfers_userguide.json")
    with serving(body, "dCache/6.2.12") as url:
        async with Fetcher() as fetcher:
            answer = await fetcher.fetch(Source(url=url), NOW)
    assert answer.server == "dCache/6.2.12"
    module = DCacheTransfers(DCacheTransfers.Settings(), {})
    assert module.extract({"main": answer}, NOW).metrics["speed"] == 2 * 1024


@contextmanager
def serving(body: bytes, server: str) -> Iterator[str]:
    """A local HTTP server answering every GET with `body` and this `Server` header."""

    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return server

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/api/v1/transfers"
    finally:
        httpd.shutdown()
        httpd.server_close()
