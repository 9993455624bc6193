"""Declarative rating rules for any module: "metric > warning: neutral, > critical: unhappy"."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .result import Result
from .status import Status

Operator = Literal[">", ">=", "<", "<=", "==", "!="]

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class Rule(BaseModel):
    """One threshold check on a metric of the module's result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(description="name of the metric the module produces")
    op: Operator = Field(">", description="how the value compares to the thresholds")
    warning: float | None = Field(None, description="crossing it makes the module neutral")
    critical: float | None = Field(None, description="crossing it makes the module unhappy")
    message: str = Field("", description="shown when the rule fires; {metric} and {value} expand")
    missing: Literal["error", "noinfo", "ignore"] = Field(
        "error", description="what a missing metric means"
    )

    @model_validator(mode="after")
    def _needs_a_threshold(self) -> Rule:
        if self.warning is None and self.critical is None:
            raise ValueError(f"rule on {self.metric!r} needs `warning` or `critical` (or both)")
        return self


@dataclass(frozen=True)
class Verdict:
    """What one rule said about one result."""

    status: Status
    message: str


def evaluate(rule: Rule, metrics: Mapping[str, float]) -> Verdict | None:
    """The rule's verdict on these metrics; None when it has nothing to say."""
    value = metrics.get(rule.metric)
    if value is None:
        if rule.missing == "ignore":
            return None
        status = Status.ERROR if rule.missing == "error" else Status.NOINFO
        return Verdict(status, f"metric {rule.metric!r} is missing")
    compare = _COMPARE[rule.op]
    for threshold, status in ((rule.critical, Status.UNHAPPY), (rule.warning, Status.NEUTRAL)):
        if threshold is not None and compare(value, threshold):
            text = rule.message or f"{rule.metric} = {value:g} ({rule.op} {threshold:g})"
            return Verdict(status, text.format(metric=rule.metric, value=value))
    return None


def rate(result: Result, rules: Iterable[Rule]) -> tuple[Status, str]:
    """The final status and message of a result after its rules.

    An errored result stays an error: rules never turn a failure into a rating. Otherwise the
    worst of the module's own status and every rule's verdict wins; a result with neither is
    happy.
    """
    if result.status is Status.ERROR:
        return Status.ERROR, result.message
    verdicts = [v for v in (evaluate(r, result.metrics) for r in rules) if v is not None]
    statuses = [v.status for v in verdicts]
    if result.status is not None:
        statuses.append(result.status)
    status = max(statuses, key=lambda s: s.severity) if statuses else Status.HAPPY
    messages = [result.message] if result.message else []
    messages += [v.message for v in verdicts if v.status is status]
    return status, "; ".join(messages)
