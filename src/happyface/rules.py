"""Declarative rating rules for any module: "metric > warning: neutral, > critical: unhappy".

A rule names one metric or, with a glob (`*.inefficient_fraction`), a family of them; each
metric it names is judged on its own, and the reason says which one crossed which threshold.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .reasons import default_text, expand, message_problem, shown_pair
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
_WILDCARDS = "*?["
#: reasons of one status shown in a module's message; the rest are counted
MAX_REASONS = 10


class Rule(BaseModel):
    """One threshold check on a metric, or on each metric of a family, of the module's result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(
        description="name of the metric the module produces, or a glob naming a family of "
        'them (`"*.inefficient_fraction"`, `"pool.*.free_ratio"`): each match is rated on '
        "its own and named in the reason",
        min_length=1,
    )
    op: Operator = Field(">", description="how the value compares to the thresholds")
    warning: float | None = Field(
        None, allow_inf_nan=False, description="crossing it makes the module neutral"
    )
    critical: float | None = Field(
        None, allow_inf_nan=False, description="crossing it makes the module unhappy"
    )
    message: str = Field(
        "",
        description="the reason shown when the rule fires, instead of `metric = value (op "
        "threshold)`; `{metric}`, `{value}`, `{threshold}`, `{op}` and `{match}` (the part of "
        "the metric name the glob's wildcards stand for) are filled in",
    )
    missing: Literal["error", "noinfo", "ignore"] = Field(
        "error", description="what a missing metric (or a glob matching none) means"
    )

    @model_validator(mode="after")
    def _needs_a_threshold(self) -> Rule:
        if self.warning is None and self.critical is None:
            raise ValueError(f"rule on {self.metric!r} needs `warning` or `critical` (or both)")
        return self

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> Rule:
        if self.warning is None or self.critical is None or self.op in ("==", "!="):
            return self
        upward = self.op in (">", ">=")
        if (self.critical < self.warning) if upward else (self.critical > self.warning):
            side = "below" if upward else "above"
            raise ValueError(
                f"rule on {self.metric!r}: with op {self.op!r} `critical` ({self.critical:g}) "
                f"must not be {side} `warning` ({self.warning:g}), or it could never warn"
            )
        return self

    @model_validator(mode="after")
    def _message_expands(self) -> Rule:
        problem = message_problem(self.message)
        if problem:
            raise ValueError(f"rule on {self.metric!r}: {problem}")
        return self

    @property
    def is_glob(self) -> bool:
        """Whether `metric` names a family of metrics rather than one."""
        return any(c in self.metric for c in _WILDCARDS)

    def as_toml(self) -> str:
        """The rule as a TOML inline table, with only what differs from the defaults."""
        fields = self.model_dump(exclude_defaults=True)
        parts = [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
        return "{ " + ", ".join(parts) + " }"


@dataclass(frozen=True)
class Verdict:
    """What one rule said about one metric of a result."""

    status: Status
    message: str


def matching(rule: Rule, metrics: Mapping[str, float]) -> list[str]:
    """The names of the metrics the rule judges, in name order."""
    if not rule.is_glob:
        return [rule.metric] if rule.metric in metrics else []
    return sorted(name for name in metrics if fnmatchcase(name, rule.metric))


def evaluate(rule: Rule, metrics: Mapping[str, float]) -> list[Verdict]:
    """The rule's verdicts on these metrics, one per metric it names that crosses a threshold."""
    names = matching(rule, metrics)
    if not names:
        return _missing(rule)
    return [v for name in names if (v := _judge(rule, name, metrics[name])) is not None]


def rate(result: Result, rules: Iterable[Rule]) -> tuple[Status, str]:
    """The final status and message of a result after its rules.

    An errored result stays an error: rules never turn a failure into a rating. Otherwise the
    worst of the module's own status and every rule's verdict wins; a result with neither is
    happy. The message is the module's own, followed by the reasons for the final status.
    """
    if result.status is Status.ERROR:
        return Status.ERROR, result.message
    verdicts = [v for rule in rules for v in evaluate(rule, result.metrics)]
    statuses = [v.status for v in verdicts]
    if result.status is not None:
        statuses.append(result.status)
    status = max(statuses, key=lambda s: s.severity) if statuses else Status.HAPPY
    messages = [result.message] if result.message else []
    messages += _reasons([v.message for v in verdicts if v.status is status])
    return status, "; ".join(messages)


def combined(
    own: Sequence[Rule], defaults: Sequence[Rule], keep_defaults: bool
) -> tuple[Rule, ...]:
    """The rules that rate an instance: the site's own, then the type's defaults they leave.

    A rule the site writes on a `metric` (the same text, glob included) replaces every default
    rule on it; the type's other defaults still apply unless `keep_defaults` is false.
    """
    if not keep_defaults:
        return tuple(own)
    replaced = {rule.metric for rule in own}
    return (*own, *(rule for rule in defaults if rule.metric not in replaced))


def wildcard_part(pattern: str, name: str) -> str:
    """What the wildcards of `pattern` stand for in `name`: `atlas` in `atlas.ratio` (`*.ratio`)."""
    starts = [pattern.find(c) for c in _WILDCARDS if c in pattern]
    if not starts:
        return name
    last = max(pattern.rfind(c) for c in "*?]")
    suffix = len(pattern) - last - 1
    return name[min(starts) : len(name) - suffix]


def _judge(rule: Rule, name: str, value: float) -> Verdict | None:
    compare = _COMPARE[rule.op]
    for threshold, status in ((rule.critical, Status.UNHAPPY), (rule.warning, Status.NEUTRAL)):
        if threshold is not None and compare(value, threshold):
            shown, limit = shown_pair(value, threshold)
            if not rule.message:
                return Verdict(status, default_text(name, rule.op, shown, limit))
            match = wildcard_part(rule.metric, name)
            text = expand(
                rule.message, metric=name, value=shown, threshold=limit, op=rule.op, match=match
            )
            return Verdict(status, text)
    return None


def _missing(rule: Rule) -> list[Verdict]:
    if rule.missing == "ignore":
        return []
    status = Status.ERROR if rule.missing == "error" else Status.NOINFO
    if rule.is_glob:
        return [Verdict(status, f"no metric matches {rule.metric!r}")]
    return [Verdict(status, f"metric {rule.metric!r} is missing")]


def _reasons(texts: list[str]) -> list[str]:
    """The reasons to show: a family of a hundred metrics crossing a threshold is one line."""
    if len(texts) <= MAX_REASONS:
        return texts
    return [*texts[:MAX_REASONS], f"and {len(texts) - MAX_REASONS} more"]
