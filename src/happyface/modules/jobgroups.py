"""Counting jobs per group and arranging the groups as the tree the producer describes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .jobformats import Job, JobList


@dataclass
class GroupCounts:
    """The jobs of one group (its subgroups included) by state, and the inefficient ones.

    `total` counts the jobs still in the system; finished jobs (accounting formats, and those
    a queue still lists for a while) count in `finished` and `failed` only.
    """

    group: str
    parent: str = ""
    total: int = 0
    running: int = 0
    pending: int = 0
    held: int = 0
    inefficient: int = 0
    #: running jobs whose efficiency is known (Slurm's squeue, for one, reports no CPU time)
    judged: int = 0
    finished: int = 0
    failed: int = 0
    #: finished jobs whose efficiency is known
    finished_judged: int = 0

    @property
    def rated_jobs(self) -> int:
        """The jobs whose efficiency is rated: running ones, and finished ones with a CPU time."""
        return self.running + self.finished_judged

    @property
    def inefficient_fraction(self) -> float | None:
        """Inefficient over rated jobs; None when no job could be judged."""
        judged = self.judged + self.finished_judged
        return self.inefficient / self.rated_jobs if self.rated_jobs and judged else None

    @property
    def failed_fraction(self) -> float | None:
        """Failed over finished jobs; None without finished jobs."""
        return self.failed / self.finished if self.finished else None

    def add(self, job: Job, inefficient: bool) -> None:
        self.inefficient += inefficient
        if job.state == "finished":
            self.finished += 1
            self.failed += job.failed
            self.finished_judged += job.efficiency is not None
            return
        self.total += 1
        if job.state in ("running", "pending", "held"):
            setattr(self, job.state, getattr(self, job.state) + 1)
        self.judged += job.state == "running" and job.efficiency is not None


def is_inefficient(job: Job, threshold: float, min_walltime: float) -> bool:
    """A running or finished job, long enough run to judge, using less CPU than `threshold`."""
    return (
        job.state in ("running", "finished")
        and job.efficiency is not None
        and job.efficiency < threshold
        and (job.walltime is None or job.walltime >= min_walltime)
    )


def count_groups(found: JobList, flags: list[bool]) -> dict[str, GroupCounts]:
    """Counts per group: the producer's summaries where it gave them, else counted from jobs.

    A job counts towards its group and every ancestor along a dotted path (`cms.prod` is in
    `cms`), which is how HTCondor accounting groups nest.
    """
    groups: dict[str, GroupCounts] = {}
    for job, flag in zip(found.jobs, flags, strict=True):
        for name, parent in _lineage(job.group):
            groups.setdefault(name, GroupCounts(group=name, parent=parent)).add(job, flag)
    for s in found.summaries:
        groups[s.group] = GroupCounts(
            group=s.group,
            parent=s.parent,
            total=s.total,
            running=s.running,
            pending=s.pending,
            held=s.held,
            inefficient=min(s.inefficient, s.running or s.total),
            judged=s.running,
        )
    return groups


def _lineage(group: str) -> Iterable[tuple[str, str]]:
    parts = group.split(".")
    for i in range(1, len(parts) + 1):
        yield ".".join(parts[:i]), ".".join(parts[: i - 1])


def roots(groups: dict[str, GroupCounts]) -> list[str]:
    """Groups without a known parent, plus one member of any parent cycle so nothing is lost."""
    tops = [g for g, c in groups.items() if not c.parent or c.parent not in groups]
    reached = set(_walk(groups, tops))
    for name in groups:
        if name not in reached:
            tops.append(name)
            reached |= set(_walk(groups, [name]))
    return tops


def _children(groups: dict[str, GroupCounts]) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {}
    for name, counts in groups.items():
        if counts.parent in groups and counts.parent != name:
            kids.setdefault(counts.parent, []).append(name)
    return kids


def _walk(groups: dict[str, GroupCounts], start: list[str]) -> Iterable[str]:
    kids, seen, stack = _children(groups), set(), list(reversed(start))
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        yield name
        stack.extend(reversed(sorted(kids.get(name, []))))


def ordered(groups: dict[str, GroupCounts]) -> list[tuple[str, int]]:
    """(group, depth) in tree order: each group followed by its subgroups, depth from the root."""
    kids, result, seen = _children(groups), [], set()
    stack = [(name, 0) for name in reversed(sorted(roots(groups)))]
    while stack:
        name, depth = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        result.append((name, depth))
        stack.extend((k, depth + 1) for k in reversed(sorted(kids.get(name, []))))
    return result


def tree(groups: dict[str, GroupCounts]) -> list[dict[str, Any]]:
    """The groups as nested JSON (`children` lists) for a tree view; cycles are cut."""
    nodes = {name: {**asdict(c), "children": []} for name, c in groups.items()}
    top: list[dict[str, Any]] = []
    parents: dict[int, dict[str, Any]] = {}
    for name, depth in ordered(groups):
        parents[depth] = nodes[name]
        (parents[depth - 1]["children"] if depth else top).append(nodes[name])
    return top


def totals(groups: dict[str, GroupCounts]) -> GroupCounts:
    """The sum over the top-level groups (subgroups are already inside their parents)."""
    total = GroupCounts(group="total")
    for name in roots(groups):
        c = groups[name]
        total.total += c.total
        total.running += c.running
        total.pending += c.pending
        total.held += c.held
        total.inefficient += c.inefficient
        total.judged += c.judged
        total.finished += c.finished
        total.failed += c.failed
        total.finished_judged += c.finished_judged
    return total
