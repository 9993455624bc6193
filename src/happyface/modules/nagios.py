"""The `nagios` module type: host and service states from Nagios status.dat or the Icinga 2 API."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput
from ..status import Status
from .common import checked_regex, load_json, read_input
from .nagiosformats import HOST_STATES, SERVICE_STATES, Check, read_icinga_json, read_status_dat

#: the problem table is for reading; a site with more problems than this has one big problem
MAX_PROBLEM_ROWS = 1000
_STATE_NAMES = set(SERVICE_STATES) | set(HOST_STATES)
Handling = Literal["ok", "neutral", "count"]


class NagiosSettings(ModuleSettings):
    """Settings of the `nagios` module type."""

    format: Literal["auto", "status_dat", "icinga"] = Field(
        "auto", description="input format; auto tells Icinga 2 API JSON from a status.dat"
    )
    unhappy_states: list[str] = Field(
        default_factory=lambda: ["CRITICAL", "DOWN"],
        description="states that make the module unhappy",
    )
    neutral_states: list[str] = Field(
        default_factory=lambda: ["WARNING", "UNKNOWN", "UNREACHABLE"],
        description="states that make the module neutral",
    )
    acknowledged: Handling = Field(
        "neutral",
        description="an acknowledged problem counts as ok, at most neutral, or as its state",
    )
    in_downtime: Handling = Field(
        "ok", description="a problem in scheduled downtime counts as ok, at most neutral, or as is"
    )
    hosts: str | None = Field(
        None, description="regular expression a host name must contain to be watched; null: all"
    )
    services: str | None = Field(
        None, description="regular expression a service name must contain to be watched; null: all"
    )

    @field_validator("unhappy_states", "neutral_states")
    @classmethod
    def _known_states(cls, states: list[str]) -> list[str]:
        upper = [s.upper() for s in states]
        unknown = sorted(set(upper) - _STATE_NAMES)
        if unknown:
            raise ValueError(f"unknown state(s) {unknown}; known: {sorted(_STATE_NAMES)}")
        return upper

    _regex = field_validator("hosts", "services")(checked_regex)

    @model_validator(mode="after")
    def _disjoint(self) -> NagiosSettings:
        both = set(self.unhappy_states) & set(self.neutral_states)
        if both:
            raise ValueError(f"state(s) {sorted(both)} are both unhappy and neutral")
        return self


class Nagios(Module[NagiosSettings]):
    """Nagios or Icinga host and service states: counts per state and the open problems."""

    Settings = NagiosSettings
    metric_units: ClassVar[Mapping[str, str]] = {"problems*": "count"}

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        every = _read(read_input(inputs), self.settings.format)
        checks = [c for c in every if self._watched(c)]
        if not checks:
            # a query or filter that matches nothing would otherwise read as "all fine"
            raise ExtractError(
                "the answer lists no host or service"
                if not every
                else f"none of {len(every)} hosts and services matches the `hosts` and "
                "`services` filters"
            )
        rated = [(c, self._rating(c)) for c in checks]
        problems = [(c, st) for c, st in rated if c.state not in ("OK", "UP")]
        status = max((st for _, st in rated if st), key=lambda s: s.severity, default=None)
        return Result(
            status=status,
            message=_message(checks, problems, status),
            metrics=_metrics(checks, problems),
            tables=(_problem_table(problems),),
            details={
                "hosts": sum(c.is_host for c in checks),
                "services": sum(not c.is_host for c in checks),
                "problems": len(problems),
                "problems_shown": min(len(problems), MAX_PROBLEM_ROWS),
            },
        )

    def _watched(self, check: Check) -> bool:
        s = self.settings
        if s.hosts is not None and not re.search(s.hosts, check.host):
            return False
        # host checks pass the service filter: a down host matters to every service on it
        return (
            check.is_host or s.services is None or re.search(s.services, check.service) is not None
        )

    def _rating(self, check: Check) -> Status | None:
        """What this check says about the site: None when it says nothing bad."""
        s = self.settings
        status = (
            Status.UNHAPPY
            if check.state in s.unhappy_states
            else Status.NEUTRAL
            if check.state in s.neutral_states
            else None
        )
        for flag, handling in (
            (check.in_downtime, s.in_downtime),
            (check.acknowledged, s.acknowledged),
        ):
            if status is None or not flag:
                continue
            if handling == "ok":
                status = None
            elif handling == "neutral":
                status = Status.NEUTRAL
        return status


def _read(raw: RawInput, fmt: str) -> list[Check]:
    if fmt == "auto":
        fmt = "icinga" if raw.content.lstrip()[:1] in (b"{", b"[") else "status_dat"
    if fmt == "icinga":
        return read_icinga_json(load_json(raw))
    if b"\x00" in raw.content[:4096]:
        raise ExtractError("the input is binary data, not a Nagios status file")
    return read_status_dat(raw.text)


def _metrics(checks: list[Check], problems: list[tuple[Check, Status | None]]) -> dict[str, float]:
    services = Counter(c.state for c in checks if not c.is_host)
    hosts = Counter(c.state for c in checks if c.is_host)
    metrics = {f"services.{s.lower()}": float(services[s]) for s in SERVICE_STATES}
    metrics |= {f"hosts.{s.lower()}": float(hosts[s]) for s in HOST_STATES}
    metrics["problems"] = float(len(problems))
    metrics["problems.rated"] = float(sum(st is not None for _, st in problems))
    metrics["problems.acknowledged"] = float(sum(c.acknowledged for c, _ in problems))
    metrics["problems.in_downtime"] = float(sum(c.in_downtime for c, _ in problems))
    return metrics


def _message(
    checks: list[Check], problems: list[tuple[Check, Status | None]], status: Status | None
) -> str:
    hosts = sum(c.is_host for c in checks)
    summary = f"{hosts} hosts, {len(checks) - hosts} services, {len(problems)} problems"
    worst = [c for c, st in problems if st is status and status is not None]
    if not worst:
        return summary
    first = worst[0]
    where = f"{first.host}/{first.service}" if first.service else first.host
    more = f" and {len(worst) - 1} more" if len(worst) > 1 else ""
    return f"{summary}; {where} {first.state}{more}"


def _severity(item: tuple[Check, Status | None]) -> tuple[int, int, str, str]:
    check, status = item
    return (-(status.severity if status else -1), int(not check.is_host), check.host, check.service)


def _problem_table(problems: list[tuple[Check, Status | None]]) -> Table:
    rows = tuple(
        (
            c.host,
            c.service or None,
            c.state,
            c.output[:300],
            c.since.strftime("%Y-%m-%d %H:%M") if c.since else None,
            c.acknowledged,
            c.in_downtime,
            st.value if st else "ok",
        )
        for c, st in sorted(problems, key=_severity)[:MAX_PROBLEM_ROWS]
    )
    columns = ("host", "service", "state", "output", "since", "acknowledged", "downtime", "rated")
    title = (
        "Problems"
        if len(problems) <= MAX_PROBLEM_ROWS
        else (f"Problems (the worst {MAX_PROBLEM_ROWS} of {len(problems)})")
    )
    return Table(name="problems", columns=columns, rows=rows, title=title)
