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
from .units import unit_of, unit_problem

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
        "threshold)`; `{metric}`, `{value}`, `{threshold}`, `{op}`, `{match}` (the part of "
        "the metric name the glob's wildcards stand for) and `{summary}` (the module's own "
        "message) are filled in",
    )
    missing: Literal["error", "noinfo", "ignore"] = Field(
        "error", description="what a missing metric (or a glob matching none) means"
    )
    unit: str = Field(
        "",
        description="the unit of the metric and its thresholds (`count`, `bytes`, `seconds`, "
        "`hours`, `fraction`, `percent`, `bytes/s` or a rate such as `jobs/s`), for writing "
        "them as `1.5 TB` or `54 %`; empty: the unit the module type declares for the metric",
    )

    @model_validator(mode="after")
    def _known_unit(self) -> Rule:
        problem = unit_problem(self.unit) if self.unit else None
        if problem:
            raise ValueError(f"rule on {self.metric!r}: {problem}")
        return self

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
    """What one rule said about one metric of a result: the status, the reason in words, and
    (when the metric was there) which metric, its value and the threshold it crossed."""

    status: Status
    message: str
    metric: str = ""
    value: float | None = None
    threshold: float | None = None


def matching(rule: Rule, metrics: Mapping[str, float]) -> list[str]:
    """The names of the metrics the rule judges, in name order."""
    if not rule.is_glob:
        return [rule.metric] if rule.metric in metrics else []
    return sorted(name for name in metrics if fnmatchcase(name, rule.metric))


def evaluate(rule: Rule, metrics: Mapping[str, float], summary: str = "") -> list[Verdict]:
    """The rule's verdicts on these metrics, one per metric it names that crosses a threshold.

    `summary` is the module's own message, for a rule message that quotes it.
    """
    names = matching(rule, metrics)
    if not names:
        return _missing(rule)
    return [v for name in names if (v := _judge(rule, name, metrics[name], summary)) is not None]


def rate(result: Result, rules: Iterable[Rule]) -> tuple[Status, str]:
    """The final status and message of a result after its rules.

    An errored result stays an error: rules never turn a failure into a rating. Otherwise the
    worst of the module's own status and every rule's verdict wins; a result with neither is
    happy. The message says why: the reasons of the rules that gave the final status, and
    the module's own message only where the module's own rating gave it (or nothing fired).
    """
    if result.status is Status.ERROR:
        return Status.ERROR, result.message
    verdicts = [v for rule in rules for v in evaluate(rule, result.metrics, result.message)]
    statuses = [v.status for v in verdicts]
    if result.status is not None:
        statuses.append(result.status)
    status = max(statuses, key=lambda s: s.severity) if statuses else Status.HAPPY
    reasons = _reasons([v.message for v in verdicts if v.status is status])
    own = result.message and (result.status is status or not reasons)
    return status, "; ".join([result.message] * bool(own) + reasons)


def combined(
    own: Sequence[Rule],
    defaults: Sequence[Rule],
    keep_defaults: bool,
    units: Mapping[str, str] | None = None,
) -> tuple[Rule, ...]:
    """The rules that rate an instance: the site's own, then the type's defaults they leave.

    A rule the site writes on a `metric` (the same text, glob included) replaces every default
    rule on it; the type's other defaults still apply unless `keep_defaults` is false. A rule
    without a `unit` takes the one the type declares for its metric (`units`, by pattern).
    """
    replaced = {rule.metric for rule in own}
    kept = [rule for rule in defaults if rule.metric not in replaced] if keep_defaults else []
    return tuple(with_unit(rule, units or {}) for rule in (*own, *kept))


def with_unit(rule: Rule, units: Mapping[str, str]) -> Rule:
    """The rule with the unit its metric is declared in, unless it names one itself."""
    unit = rule.unit or unit_of(rule.metric, units)
    return rule if unit == rule.unit else rule.model_copy(update={"unit": unit})


def wildcard_part(pattern: str, name: str) -> str:
    """What the wildcards of `pattern` stand for in `name`: `atlas` in `atlas.ratio` (`*.ratio`)."""
    starts = [pattern.find(c) for c in _WILDCARDS if c in pattern]
    if not starts:
        return name
    last = max(pattern.rfind(c) for c in "*?]")
    suffix = len(pattern) - last - 1
    return name[min(starts) : len(name) - suffix]


def _judge(rule: Rule, name: str, value: float, summary: str) -> Verdict | None:
    compare = _COMPARE[rule.op]
    for threshold, status in ((rule.critical, Status.UNHAPPY), (rule.warning, Status.NEUTRAL)):
        if threshold is not None and compare(value, threshold):
            shown, limit = shown_pair(value, threshold, rule.unit)
            if not rule.message:
                text = default_text(name, rule.op, shown, limit)
            else:
                match = wildcard_part(rule.metric, name)
                text = expand(
                    rule.message,
                    metric=name,
                    value=shown,
                    threshold=limit,
                    op=rule.op,
                    match=match,
                    summary=summary,
                )
            return Verdict(status, text, name, value, threshold)
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
