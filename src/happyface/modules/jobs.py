"""The `jobs` module type: batch jobs per group and the share of inefficient running jobs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import Field

from ..display import DetailInput
from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..retired import BecameRule, Retired
from ..rules import Rule
from ..sources import Inputs, RawInput
from .common import age_hours, load_json, metric_name, read_input
from .condorformats import is_history, read_condor_history, read_condor_json
from .jobformats import Job, JobList, read_jobinfo_xml
from .jobgroups import GroupCounts, count_groups, is_inefficient, ordered, totals, tree
from .jobs_view import JobsView, jobs_view
from .slurmformats import is_accounting, read_slurm_accounting, read_slurm_json

_TOTALS = ("total", "running", "pending", "held", "inefficient", "finished", "failed")
Format = Literal["auto", "xml", "condor", "condor_history", "slurm", "slurm_accounting"]

#: the per-job table is for looking at jobs, not an export; beyond this it would swamp the page
MAX_JOB_ROWS = 5000
#: groups beyond this many are shown but not kept as metrics (each group is five series)
MAX_METRIC_GROUPS = 300


class JobsSettings(ModuleSettings):
    """Settings of the `jobs` module type."""

    format: Format = Field(
        "auto",
        description="input format: xml (jobinfo), condor (condor_q -json), condor_history "
        "(condor_history -json), slurm (squeue --json), slurm_accounting (sacct --json); auto "
        "tells them apart by their shape",
    )
    groups: list[str] = Field(
        default_factory=list,
        description="groups whose efficiency is rated (given as `rated.<group>.*` metrics); "
        "empty rates every group",
    )
    min_jobs: int = Field(
        10,
        ge=0,
        description="a group is rated only with at least this many running (or, in the "
        "accounting formats, finished) jobs",
    )
    efficiency_threshold: float = Field(
        0.1,
        ge=0,
        le=1,
        description="a running or finished job below this CPU/wall-time efficiency is inefficient",
    )
    min_walltime_minutes: float = Field(
        10.0,
        ge=0,
        description="jobs that ran less than this are not judged (they are still starting)",
    )


class Jobs(Module[JobsSettings]):
    """Batch-system jobs per group: running, pending, held, and inefficient running jobs."""

    Settings = JobsSettings
    metric_units: ClassVar[Mapping[str, str]] = {
        "*.inefficient_fraction": "fraction",
        "age_hours": "hours",
        "*": "count",
    }
    template = "jobs.html"
    default_rules = (
        Rule(metric="rated.*.inefficient_fraction", op=">", warning=0.3, critical=0.5,
             missing="ignore",
             message="{match}: {value} of the running jobs are inefficient, the limit is "
             "{threshold}"),
        Rule(metric="age_hours", op=">", critical=2.0, missing="ignore",
             message="the input is {value} h old (more than {threshold} h)"),
    )  # fmt: skip
    retired_settings: ClassVar[Mapping[str, Retired]] = {
        "warning": BecameRule((("rated.*.inefficient_fraction", "warning"),)),
        "critical": BecameRule((("rated.*.inefficient_fraction", "critical"),)),
        "max_age_hours": BecameRule((("age_hours", "critical"),)),
    }

    @classmethod
    def detail_view(cls, given: DetailInput) -> JobsView:
        return jobs_view(given)

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        found = _read(read_input(inputs), self.settings.format, now)
        s = self.settings
        flags = [
            is_inefficient(j, s.efficiency_threshold, s.min_walltime_minutes * 60)
            for j in found.jobs
        ]
        groups = count_groups(found, flags)
        total = totals(groups)
        age = age_hours(found.date, now) if found.date else None
        metrics = _metrics(groups, total, age, found.history)
        metrics.update(self._rated_metrics(groups))
        return Result(
            source_time=found.date,
            message=_summary(total, found.history),
            metrics=metrics,
            tables=(_groups_table(groups, self._rated(groups)), _jobs_table(found.jobs, flags)),
            details={
                "format": found.format,
                "date": found.date.isoformat() if found.date else None,
                "age_hours": age,
                "tree": tree(groups),
                "rated_groups": sorted(self._rated(groups)),
                "totals": {k: getattr(total, k) for k in _TOTALS},
                "jobs_total": len(found.jobs),
                "jobs_shown": min(len(found.jobs), MAX_JOB_ROWS),
                "efficiency_threshold": s.efficiency_threshold,
            },
        )

    def _rated(self, groups: dict[str, GroupCounts]) -> set[str]:
        return set(self.settings.groups) if self.settings.groups else set(groups)

    def _rated_metrics(self, groups: dict[str, GroupCounts]) -> dict[str, float]:
        """`rated.<group>.inefficient_fraction` of the rated groups with enough jobs to judge.

        Apart from the plotted `<group>.*` family, so that the default rule's glob names
        exactly the groups to rate: not `total`, not a group of three jobs.
        """
        rated: dict[str, float] = {}
        for name in sorted(self._rated(groups)):
            counts = groups.get(name)
            fraction = counts.inefficient_fraction if counts else None
            if counts and fraction is not None and counts.rated_jobs >= self.settings.min_jobs:
                rated[metric_name("rated", name, "inefficient_fraction")] = fraction
        return rated


def _read(raw: RawInput, fmt: str, now: datetime) -> JobList:
    head = raw.content.lstrip()[:1]
    if fmt == "xml" or (fmt == "auto" and head == b"<"):
        return read_jobinfo_xml(raw.content)
    if fmt == "auto" and head not in (b"[", b"{"):
        raise ExtractError(
            "cannot tell the format: the input is neither XML nor JSON; set `format` to "
            '"xml", "condor", "condor_history", "slurm" or "slurm_accounting"'
        )
    data = load_json(raw)
    if fmt == "auto":
        fmt = _json_format(data)
    if fmt == "condor":
        return read_condor_json(data)
    if fmt == "condor_history":
        return read_condor_history(data)
    if fmt == "slurm_accounting":
        return read_slurm_accounting(data)
    return read_slurm_json(data, now)


def _json_format(data: object) -> str:
    """The JSON format by its shape: ClassAd lists are HTCondor's, objects with jobs Slurm's."""
    if isinstance(data, list):
        return "condor_history" if is_history(data) else "condor"
    return "slurm_accounting" if is_accounting(data) else "slurm"


def _summary(total: GroupCounts, history: bool) -> str:
    text = (
        f"{total.total} jobs: {total.running} running, {total.pending} pending, "
        f"{total.held} held, {total.inefficient} inefficient"
    )
    return f"{text}; {total.finished} finished, {total.failed} failed" if history else text


def _metrics(
    groups: dict[str, GroupCounts], total: GroupCounts, age: float | None, history: bool
) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for name, _ in [("total", 0), *ordered(groups)[:MAX_METRIC_GROUPS]]:
        c = total if name == "total" else groups[name]
        finished = (
            (("finished", c.finished), ("failed", c.failed), ("failed_fraction", c.failed_fraction))
            if history
            else ()
        )
        for key, value in (
            ("all", c.total),
            ("running", c.running),
            ("pending", c.pending),
            ("held", c.held),
            ("inefficient", c.inefficient),
            ("inefficient_fraction", c.inefficient_fraction),
            *finished,
        ):
            if value is not None:
                metrics[metric_name(name, key)] = float(value)
    if age is not None:
        metrics["age_hours"] = age
    return metrics


def _groups_table(groups: dict[str, GroupCounts], rated: set[str]) -> Table:
    rows = []
    for name, depth in ordered(groups):
        c = groups[name]
        fraction = c.inefficient_fraction
        rows.append(
            (
                name,
                c.parent,
                depth,
                c.total,
                c.running,
                c.pending,
                c.held,
                c.inefficient,
                round(fraction * 100, 1) if fraction is not None else None,
                name in rated,
            )
        )
    columns = (
        "group",
        "parent",
        "depth",
        "jobs",
        "running",
        "pending",
        "held",
        "inefficient",
        "inefficient %",
        "rated",
    )
    return Table(name="groups", columns=columns, rows=tuple(rows), title="Jobs per group")


def _shared_by_groups(jobs: list[Job], flags: list[bool]) -> list[tuple[Job, bool]]:
    """Inefficient jobs first, taken from every group in turn.

    The table keeps only the first MAX_JOB_ROWS; ordered by group alone, the first groups would
    fill it, and the page filtered to any other group would show none of its jobs.
    """
    seen: dict[tuple[str, bool], int] = {}
    keyed = []
    for job, flag in sorted(zip(jobs, flags, strict=True), key=lambda p: p[0].id):
        rank = seen.get((job.group, flag), 0)
        seen[(job.group, flag)] = rank + 1
        keyed.append(((not flag, rank, job.group), (job, flag)))
    return [pair for _, pair in sorted(keyed, key=lambda k: k[0])]


def _jobs_table(jobs: list[Job], flags: list[bool]) -> Table:
    pairs = _shared_by_groups(jobs, flags)
    rows = tuple(
        (
            j.id,
            j.user,
            j.group,
            j.state,
            round(j.walltime / 3600, 2) if j.walltime is not None else None,
            round(j.efficiency * 100, 1) if j.efficiency is not None else None,
            round(j.memory_mb) if j.memory_mb is not None else None,
            j.host,
            flag,
        )
        for j, flag in pairs[:MAX_JOB_ROWS]
    )
    title = (
        "Jobs"
        if len(jobs) <= MAX_JOB_ROWS
        else (f"Jobs ({MAX_JOB_ROWS} of {len(jobs)}: inefficient first, from every group)")
    )
    columns = (
        "id",
        "user",
        "group",
        "state",
        "runtime h",
        "cpu efficiency %",
        "memory MB",
        "host",
        "inefficient",
    )
    return Table(name="jobs", columns=columns, rows=rows, title=title)
