"""Declarative rules rate any module's metrics."""

import pytest
from pydantic import ValidationError

from happyface import Result, Rule, Status
from happyface.rules import rate


def test_thresholds_above() -> None:
    rules = [Rule(metric="queue", op=">", warning=10, critical=100)]
    assert rate(Result(metrics={"queue": 5}), rules)[0] is Status.HAPPY
    assert rate(Result(metrics={"queue": 50}), rules)[0] is Status.NEUTRAL
    status, message = rate(Result(metrics={"queue": 500}), rules)
    assert status is Status.UNHAPPY
    assert "queue = 500" in message


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
