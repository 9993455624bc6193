"""Numbers written for people: units, humanised values, and neighbours that read differently."""

from __future__ import annotations

import pytest

from happyface import Result, Status
from happyface.modules.dcache_pools import DCachePools
from happyface.modules.jobs import Jobs
from happyface.plugins import Registry
from happyface.reasons import shown_pair
from happyface.rules import Rule, combined, rate
from happyface.units import axis_of, distinct, humanise, is_unit, unit_of


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.5e12, "bytes", "1.5 TB"),
        (512, "bytes", "512 B"),
        (1.2e8, "bytes/s", "120 MB/s"),
        (7800, "seconds", "2 h 10 min"),
        (45, "seconds", "45 s"),
        (0.25, "seconds", "250 ms"),
        (2.5, "hours", "2 h 30 min"),
        (3.2, "days", "3 d 5 h"),
        (0.54, "fraction", "54 %"),
        (0.004, "fraction", "0.4 %"),
        (54, "percent", "54 %"),
        (9164, "count", "9,164"),
        (3.25, "jobs/s", "3.25 jobs/s"),
        (1.5e13, "", "15,000,000,000,000"),  # never 1.50e+13
        (0.0512, "", "0.0512"),
    ],
)
def test_humanise(value: float, unit: str, text: str) -> None:
    assert humanise(value, unit) == text


def test_neighbours_get_the_digits_that_tell_them_apart() -> None:
    assert distinct([0.05, 0.0505, 0.051, 0.0515], "") == ["0.05", "0.0505", "0.051", "0.0515"]
    assert distinct([0.3004, 0.3], "fraction") == ["30.04 %", "30.00 %"]
    assert distinct([0, 2e12, 4e12], "bytes") == ["0 B", "2 TB", "4 TB"]
    assert distinct([0.5, 0.5], "fraction") == ["50 %", "50 %"]  # equal values may read alike


def test_a_message_format_spec_still_tells_value_from_limit() -> None:
    value, limit = shown_pair(0.3004, 0.3, "fraction")
    assert f"{value:.0%} > {limit:.0%}" == "30.04% > 30.00%"  # never "30% > 30%"
    assert f"{value} > {limit}" == "30.04 % > 30.00 %"


def test_units_are_a_small_vocabulary() -> None:
    assert all(is_unit(u) for u in ("count", "bytes", "fraction", "jobs/s", "bytes/s"))
    assert not is_unit("furlongs") and not is_unit("TB")
    assert axis_of("fraction") == axis_of("percent") and axis_of("hours") == "seconds"
    assert axis_of("count") != axis_of("fraction")
    assert unit_of("pool.a.free_ratio", {"*free_ratio": "fraction", "*": "bytes"}) == "fraction"
    assert unit_of("x", {}) == ""


def test_every_built_in_type_declares_known_units() -> None:
    registry = Registry()
    for name in registry.names():
        units = registry.get(name).metric_units
        assert all(is_unit(u) for u in units.values() if u), name


def test_a_rule_names_a_unknown_unit_as_a_mistake() -> None:
    with pytest.raises(ValueError, match="unknown unit 'TB'"):
        Rule(metric="free", op="<", warning=1e12, unit="TB")


def test_a_rule_takes_its_metric_unit_and_the_reason_reads_in_it() -> None:
    rules = combined((), Jobs.default_rules, True, Jobs.metric_units)
    status, message = rate(Result(metrics={"rated.atlas.inefficient_fraction": 823 / 1516}), rules)
    assert status is Status.UNHAPPY
    assert message == "atlas: 54 % of the running jobs are inefficient, the limit is 50 %"
    own = combined((Rule(metric="free_ratio", op="<", warning=0.5),), (), True, {})
    assert rate(Result(metrics={"free_ratio": 0.25}), own)[1] == (
        "free_ratio is 0.25, below the limit of 0.5"
    )
    with_unit = combined(
        (Rule(metric="free_ratio", op="<", warning=0.5),), (), True, DCachePools.metric_units
    )
    assert rate(Result(metrics={"free_ratio": 0.25}), with_unit)[1] == (
        "free_ratio is 25 %, below the limit of 50 %"
    )


def test_the_message_is_the_rule_that_fired_and_nothing_else() -> None:
    rules = [Rule(metric="hit_ratio", op="<", warning=0.8, unit="fraction")]
    result = Result(message="running 9,164, hit_ratio 75 %", metrics={"hit_ratio": 0.75})
    assert rate(result, rules)[1] == "hit_ratio is 75 %, below the limit of 80 %"
    assert rate(Result(message="all fine", metrics={"hit_ratio": 0.9}), rules)[1] == "all fine"
