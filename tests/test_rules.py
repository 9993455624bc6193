"""Declarative rules rate any module's metrics."""

import tomllib

import pytest
from pydantic import ValidationError

from happyface import Result, Rule, Status
from happyface.rules import MAX_REASONS, combined, evaluate, rate, wildcard_part


def test_thresholds_above() -> None:
    rules = [Rule(metric="queue", op=">", warning=10, critical=100)]
    assert rate(Result(metrics={"queue": 5}), rules)[0] is Status.HAPPY
    assert rate(Result(metrics={"queue": 50}), rules)[0] is Status.NEUTRAL
    status, message = rate(Result(metrics={"queue": 500}), rules)
    assert status is Status.UNHAPPY
    assert message == "queue is 500, above the limit of 100"


def test_thresholds_below() -> None:
    rules = [Rule(metric="free", op="<", warning=0.2, critical=0.05)]
    assert rate(Result(metrics={"free": 0.5}), rules)[0] is Status.HAPPY
    assert rate(Result(metrics={"free": 0.1}), rules)[0] is Status.NEUTRAL
    assert rate(Result(metrics={"free": 0.01}), rules)[0] is Status.UNHAPPY


def test_worst_of_module_status_and_rules() -> None:
    rules = [Rule(metric="x", warning=1)]
    assert rate(Result(status=Status.UNHAPPY, metrics={"x": 2}), rules)[0] is Status.UNHAPPY
    assert rate(Result(status=Status.HAPPY, metrics={"x": 2}), rules)[0] is Status.NEUTRAL


def test_rules_never_turn_an_error_into_a_rating() -> None:
    result = Result.error("source down")
    assert rate(result, [Rule(metric="x", critical=1)]) == (Status.ERROR, "source down")


def test_missing_metric_is_an_error_by_default() -> None:
    status, message = rate(Result(metrics={}), [Rule(metric="gone", critical=1)])
    assert status is Status.ERROR
    assert "'gone' is missing" in message
    ignored = Rule(metric="gone", critical=1, missing="ignore")
    assert rate(Result(), [ignored])[0] is Status.HAPPY


def test_custom_message_expands_value() -> None:
    rule = Rule(metric="load", critical=2, message="load is {value:.1f}")
    assert rate(Result(metrics={"load": 3.14}), [rule]) == (Status.UNHAPPY, "load is 3.1")


def test_a_rule_needs_a_threshold() -> None:
    with pytest.raises(ValidationError, match="needs `warning` or `critical`"):
        Rule(metric="x")


def test_result_drops_nan_and_refuses_bad_metrics() -> None:
    assert dict(Result(metrics={"a": float("nan"), "b": 1}).metrics) == {"b": 1.0}
    with pytest.raises(ValueError, match="not a valid name"):
        Result(metrics={"bad name": 1})
    with pytest.raises(ValueError, match="expected a number"):
        Result(metrics={"x": "1"})  # type: ignore[dict-item]


# -- families of metrics ------------------------------------------------------------------------

FRACTIONS = {"atlas.inefficient_fraction": 0.54, "cms.inefficient_fraction": 0.35, "cms.all": 9}


def test_a_glob_rates_each_match_and_names_it() -> None:
    rule = Rule(metric="*.inefficient_fraction", warning=0.3, critical=0.5)
    verdicts = evaluate(rule, FRACTIONS)
    assert [(v.status, v.message) for v in verdicts] == [
        (Status.UNHAPPY, "atlas.inefficient_fraction is 0.54, above the limit of 0.5"),
        (Status.NEUTRAL, "cms.inefficient_fraction is 0.35, above the limit of 0.3"),
    ]
    # the module's status is the worst match, and its reason names only the worst
    assert rate(Result(metrics=FRACTIONS), [rule]) == (
        Status.UNHAPPY,
        "atlas.inefficient_fraction is 0.54, above the limit of 0.5",
    )


def test_a_glob_matching_nothing_follows_missing() -> None:
    rule = Rule(metric="*.failed_fraction", critical=0.5)
    assert rate(Result(metrics=FRACTIONS), [rule]) == (
        Status.ERROR,
        "no metric matches '*.failed_fraction'",
    )
    noinfo = rule.model_copy(update={"missing": "noinfo"})
    assert rate(Result(metrics=FRACTIONS), [noinfo])[0] is Status.NOINFO
    ignored = rule.model_copy(update={"missing": "ignore"})
    assert rate(Result(metrics=FRACTIONS), [ignored])[0] is Status.HAPPY


def test_glob_syntax_and_the_matched_part() -> None:
    metrics = {"pool.p1.free_ratio": 0.01, "pool.p2.free_ratio": 0.5, "pool.p10.free_ratio": 0.0}
    single = Rule(metric="pool.p?.free_ratio", op="<", critical=0.05, message="p{match} is full")
    assert [v.message for v in evaluate(single, metrics)] == ["p1 is full"]
    ranged = Rule(metric="pool.p[!2]*.free_ratio", op="<", critical=0.05, message="{match}")
    assert [v.message for v in evaluate(ranged, metrics)] == ["1", "10"]
    assert wildcard_part("rated.*.ratio", "rated.cms.prod.ratio") == "cms.prod"
    assert wildcard_part("total", "total") == "total"


def test_a_long_family_of_reasons_is_cut() -> None:
    metrics = {f"g{i:02}.x": 1.0 for i in range(25)}
    status, message = rate(Result(metrics=metrics), [Rule(metric="*.x", critical=0)])
    assert status is Status.UNHAPPY
    reasons = message.split("; ")
    assert len(reasons) == MAX_REASONS + 1
    assert reasons[0] == "g00.x is 1, above the limit of 0" and reasons[-1] == "and 15 more"


# -- how reasons show numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "threshold", "text"),
    [
        (0.30001, 0.3, "x is 0.30001, above the limit of 0.3"),  # never "30% > 30%"
        (0.5368421, 0.5, "x is 0.537, above the limit of 0.5"),
        (1020, 1000, "x is 1,020, above the limit of 1,000"),  # whole numbers stay whole
        (999.99999, 999.9, "x is 1,000, above the limit of 999.9"),
        (2.0004, 2, "x is 2.0004, above the limit of 2"),
        (1.7e15, 5e13, "x is 1,700,000,000,000,000, above the limit of 50,000,000,000,000"),
    ],
)
def test_value_and_threshold_are_shown_alike_and_apart(value, threshold, text) -> None:
    assert rate(Result(metrics={"x": value}), [Rule(metric="x", critical=threshold)])[1] == text


def test_a_message_shows_numbers_like_the_default_unless_it_says_how() -> None:
    rule = Rule(metric="days", op="<", critical=7, message="{value} days left (< {threshold})")
    assert rate(Result(metrics={"days": 6.9999}), [rule])[1] == "6.9999 days left (< 7)"
    percent = Rule(metric="f", critical=0.3, message="{match}: {value:.0%} {op} {threshold:.0%}")
    assert rate(Result(metrics={"f": 0.31}), [percent])[1] == "f: 31% > 30%"


def test_a_message_that_cannot_be_filled_in_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"cannot be filled in .*\{metric\}, \{value\}"):
        Rule(metric="x", critical=1, message="{group} is slow")
    with pytest.raises(ValidationError, match="cannot be filled in"):
        Rule(metric="x", critical=1, message="{value:d}")


@pytest.mark.parametrize(
    ("op", "warning", "critical", "words"),
    [(">", 10, 5, "must not be below `warning`"), ("<", 0.05, 0.2, "must not be above")],
)
def test_thresholds_in_the_wrong_order_are_refused(op, warning, critical, words) -> None:
    with pytest.raises(ValidationError, match=words):
        Rule(metric="x", op=op, warning=warning, critical=critical)
    Rule(metric="x", op="==", warning=warning, critical=critical)  # no order for equality


def test_infinite_thresholds_are_refused() -> None:
    with pytest.raises(ValidationError):
        Rule(metric="x", critical=float("inf"))


# -- a site's rules with a type's defaults ------------------------------------------------------


def test_a_site_rule_replaces_the_default_on_its_metric_only() -> None:
    defaults = (Rule(metric="a", critical=1), Rule(metric="*.b", critical=1))
    mine = Rule(metric="*.b", critical=5)
    assert combined([mine], defaults, keep_defaults=True) == (mine, defaults[0])
    assert combined([], defaults, keep_defaults=True) == defaults
    assert combined([mine], defaults, keep_defaults=False) == (mine,)


def test_a_rule_reads_back_from_its_toml() -> None:
    rule = Rule(metric="*.x", op="<", warning=0.5, message='say "{value}"', missing="ignore")
    back = tomllib.loads(f"r = {rule.as_toml()}")["r"]
    assert Rule(**back) == rule
