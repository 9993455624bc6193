"""The dCache module types reading the info service XML: `dcache_pools` and `dcache_movers`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Rule, Status
from happyface.errors import FormatError
from happyface.modules.dcache_movers import DCacheMovers
from happyface.modules.dcache_pools import DCachePools
from happyface.plugins import Registry
from tests.fixtures.modules import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    assert_clean_failure,
    data,
    hostile_xml,
    huge_input,
    rated,
    result_or_extract_error,
    run,
)

TYPES = [DCachePools, DCacheMovers]
TiB = 1024**4


def test_registered_through_the_entry_points():
    registry = Registry()
    assert registry.get("dcache_pools") is DCachePools
    assert registry.get("dcache_movers") is DCacheMovers


def test_pools_overall_space_counts_enabled_pools():
    result = run(DCachePools, data("dcache_info.xml"))
    assert result.metrics["pools"] == 8  # the disabled lhcb pool is left out
    assert result.metrics["total"] == 1550 * TiB
    assert result.metrics["removable"] == 80 * TiB
    # free + removable over total
    assert result.metrics["free_ratio"] == pytest.approx((276 + 80) / 1550)
    assert result.metrics["pools_full"] == 2 and result.metrics["pools_low"] == 2
    assert result.metrics["pool.f01-080-112-e_D_cms.free_ratio"] < 0.02
    # two full pools are within the default rule (more than 2)
    assert rated(DCachePools, data("dcache_info.xml"))[0] is Status.HAPPY


def test_pools_per_group_metrics_use_the_reported_group_space():
    result = run(DCachePools, data("dcache_info.xml"))
    assert result.metrics["group.cms-disk.total"] == 600 * TiB
    assert result.metrics["group.cms-disk.free"] == 44 * TiB
    assert result.metrics["group.atlas-tape.precious"] == 70 * TiB


def test_pools_rating_on_full_pools_and_overall_ratio():
    one_full = Rule(metric="pools_full", critical=1)
    status, message = rated(DCachePools, data("dcache_info.xml"), rules=(one_full,))
    assert status is Status.UNHAPPY
    assert message == "pools_full is 2, above the limit of 1"
    more_free = Rule(metric="free_ratio", op="<", warning=0.3, critical=0.1)
    status, message = rated(DCachePools, data("dcache_info.xml"), rules=(more_free,))
    assert status is Status.NEUTRAL and "free_ratio is 0.23, below the limit of 0.3" in message


def test_pools_restricted_to_pool_groups():
    result = run(DCachePools, data("dcache_info.xml"), pool_groups=["cms-disk"])
    assert result.metrics["pools"] == 3
    assert result.metrics["free_ratio"] == pytest.approx(44 / 600)
    assert "group.atlas-disk.total" not in result.metrics
    status, message = rated(DCachePools, data("dcache_info.xml"), pool_groups=["cms-disk"])
    assert status is Status.NEUTRAL and "free_ratio is 0.0733, below the limit of 0.15" in message


def test_pools_without_removable_as_free():
    result = run(DCachePools, data("dcache_info.xml"), pool_groups=["cms-tape"])
    strict = run(
        DCachePools, data("dcache_info.xml"), pool_groups=["cms-tape"], removable_is_free=False
    )
    assert result.metrics["free_ratio"] == pytest.approx(0.62)
    assert strict.metrics["free_ratio"] == pytest.approx(0.02)


def test_pools_table_lists_the_fullest_first():
    table = run(DCachePools, data("dcache_info.xml")).tables[0]
    assert table.rows[0][0] == "f01-080-112-e_D_cms" and table.rows[0][-1] == "full"
    assert table.rows[-1][-1] == "not rated"


def test_pools_settings_refuse_inverted_thresholds():
    with pytest.raises(ValueError, match="must not be above `low_free_ratio`"):
        DCachePools.Settings(low_free_ratio=0.05, full_free_ratio=0.2)


def test_movers_sum_queues_over_pools():
    result = run(DCacheMovers, data("dcache_info.xml"))
    assert result.metrics["regular.active"] == 405
    assert result.metrics["regular.queued"] == 170
    assert result.metrics["restore.queued"] == 35
    assert result.metrics["pools_with_queued"] == 5
    assert result.metrics["pools_congested"] == 2  # the cms restore pool and f01-080-112
    status, message = rated(DCacheMovers, data("dcache_info.xml"))
    assert status is Status.NEUTRAL  # restore: 35 queued for 30 active
    assert "rated.restore.ratio is 1.17, above the limit of 0.5" in message


def test_movers_rating_thresholds_and_queue_choice():
    assert rated(DCacheMovers, data("dcache_info.xml"), queues=["regular"])[0] is Status.HAPPY
    stricter = Rule(metric="rated.*.ratio", warning=0.5, critical=1.0)
    critical = rated(DCacheMovers, data("dcache_info.xml"), queues=["restore"], rules=(stricter,))
    assert critical[0] is Status.UNHAPPY
    assert rated(DCacheMovers, data("dcache_info.xml"), min_queued=100)[0] is Status.HAPPY
    congested = run(DCacheMovers, data("dcache_info.xml"), congested_ratio=2.0)
    assert congested.metrics["pools_congested"] == 0


def test_movers_table_lists_the_longest_queues_first():
    table = run(DCacheMovers, data("dcache_info.xml")).tables[0]
    assert table.rows[0] == ("f01-080-112-e_D_cms", "regular", 100, 100, 120)


@pytest.mark.parametrize("module_type", TYPES)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        '{"pools": []}',
        "<dCache xmlns='http://www.dcache.org/2008/01/Info'><pools><pool>",
        "<html><title>503 Service Unavailable</title></html>",
        "<dCache><pools><pool/></pools></dCache>",
    ],
)
def test_bad_input_is_an_extract_error(module_type, text):
    assert_clean_failure(module_type, text)


@pytest.mark.parametrize("module_type", TYPES)
def test_truncated_huge_and_hostile_inputs(module_type):
    body = data("dcache_info.xml")
    assert_clean_failure(module_type, body[: len(body) // 3])
    assert "MB" in assert_clean_failure(module_type, huge_input(b"<dCache>"))
    for template in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        assert "unsafe" in assert_clean_failure(module_type, hostile_xml(template, "dCache"))


@pytest.mark.parametrize("module_type", TYPES)
def test_pools_with_odd_numbers_still_give_a_result(module_type):
    odd = data("dcache_info.xml").replace(b">0</metric>", b">n/a</metric>", 5)
    odd = odd.replace(b'type="integer">2341', b'type="integer">-7')
    assert run(module_type, odd).metrics


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape(body):
    for module_type in TYPES:
        result_or_extract_error(module_type, body)


_NODES = st.sampled_from(
    [
        "dCache",
        "pools",
        "pool",
        "space",
        "metric",
        "queues",
        "queue",
        "poolgroups",
        "poolgroup",
        "poolgroupref",
        "pools",
        "poolref",
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            _NODES,
            st.sampled_from(["", ' name="total"', ' name="p1"', ' type="store"']),
            st.sampled_from(["", "12", "-1", "1e400", "x", "nan"]),
        ),
        max_size=30,
    )
)
def test_random_info_like_xml_never_escapes(parts):
    body = (
        "<dCache>"
        + "".join(
            f"<{t}{a}>{v}" + ("" if i % 3 else f"</{t}>") for i, (t, a, v) in enumerate(parts)
        )
        + "</dCache>"
    )
    for module_type in TYPES:
        result_or_extract_error(module_type, body)


# -- an answer without the part the module reads ----------------------------------------------

INFO = "http://www.dcache.org/2008/01/Info"


@pytest.mark.parametrize("module_type", TYPES)
def test_info_without_a_pools_section_names_what_is_missing(module_type):
    # /info/doors, a wrong path: a <dCache> document, but no pools in it
    doors = f'<dCache xmlns="{INFO}"><doors><door name="webdav"/></doors></dCache>'
    with pytest.raises(FormatError, match="with a <pools> section, found <doors>"):
        run(module_type, doors)


@pytest.mark.parametrize("module_type", TYPES)
def test_an_empty_pool_list_or_an_unknown_pool_group_is_an_error(module_type):
    empty = f'<dCache xmlns="{INFO}"><pools/></dCache>'
    assert "lists no pools" in assert_clean_failure(module_type, empty)
    words = assert_clean_failure(module_type, data("dcache_info.xml"), pool_groups=["cms-dsik"])
    assert "no pool is in the pool groups ['cms-dsik']" in words and "cms-disk" in words


def test_movers_without_any_queue_are_an_error():
    bare = f'<dCache xmlns="{INFO}"><pools><pool name="p1"/></pools></dCache>'
    with pytest.raises(FormatError, match="mover <queues>"):
        run(DCacheMovers, bare)


def test_pools_none_of_which_reports_space_are_unhappy():
    disabled = (
        f'<dCache xmlns="{INFO}"><pools><pool name="p1">'
        '<metric name="enabled" type="boolean">false</metric></pool></pools></dCache>'
    )
    status, message = rated(DCachePools, disabled)
    assert status is Status.UNHAPPY
    assert message == "no pool reports space: 0 of 1 listed pools report space"


# -- pool space from the REST API ---------------------------------------------------------------


def test_rest_pool_group_space():
    result = run(DCachePools, data("dcache_poolgroup_space.json"))
    assert result.metrics["pools"] == 3  # the fourth has no cost data: not heard from
    assert result.metrics["total"] == 400e12
    assert result.metrics["free"] == 66e12 and result.metrics["used"] == 334e12
    assert result.metrics["free_ratio"] == pytest.approx((66 + 30.5) / 400)
    assert result.metrics["pools_full"] == 1  # f01-080-112: 1.5 % free
    assert result.details["pools_without_space"] == ["f01-080-114-e_D_cms"]
    rows = {r[0]: r for r in result.tables[0].rows}
    assert rows["f01-080-114-e_D_cms"][-1] == "not rated"


def test_rest_pool_list_is_refused_with_the_path_to_use():
    listing = json.dumps([{"name": "pool1", "groups": ["default"], "links": ["default-link"]}])
    with pytest.raises(FormatError) as caught:
        run(DCachePools, listing)
    words = str(caught.value)
    assert "found the pool list of /api/v1/pools" in words
    assert "/api/v1/poolgroups/<group>/space" in words


@pytest.mark.parametrize(
    ("body", "fmt", "words"),
    [
        ('{"items": []}', "auto", "(costDataForPools), found an object with keys items"),
        ("[]", "rest", "(costDataForPools), found a JSON list"),
        (f'<dCache xmlns="{INFO}"/>', "rest", "not valid JSON"),
    ],
)
def test_other_answers_are_no_rest_pool_space(body, fmt, words):
    assert words in assert_clean_failure(DCachePools, body, format=fmt)


def test_pool_groups_cannot_select_within_a_rest_answer():
    words = assert_clean_failure(
        DCachePools, data("dcache_poolgroup_space.json"), pool_groups=["cms-disk"]
    )
    assert "select it by URL" in words


@pytest.mark.parametrize("module_type", TYPES)
def test_the_freshest_pool_heartbeat_dates_the_info(module_type):
    from datetime import timedelta

    from tests.fixtures.modules import NOW

    result = run(module_type, data("dcache_info.xml"))
    assert result.source_time == NOW - timedelta(seconds=2.341)
    silent = data("dcache_info.xml").replace(b">2341<", b">7200000<")
    assert run(module_type, silent).source_time == NOW - timedelta(hours=2)
    # a heartbeat from the future is passed on as such: the judge calls it a clock fault
    ahead = data("dcache_info.xml").replace(b">2341<", b">-600000<")
    assert run(module_type, ahead).source_time == NOW + timedelta(minutes=10)
    without = data("dcache_info.xml").replace(b'name="last-heartbeat"', b'name="x"')
    assert run(module_type, without).source_time is None
