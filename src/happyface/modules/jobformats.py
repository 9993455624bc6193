"""The neutral job record every batch-system reader produces, and the jobinfo XML reader.

Each reader (here, condorformats.py, slurmformats.py) turns its format into the same `JobList`
so that the `jobs` type counts, rates and shows them one way. Readers raise ExtractError for
input they cannot read, and FormatError for input that is another format than they read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from ..errors import FormatError
from .common import parse_time, to_float
from .xmlsafe import child_text, local_name, parse

_STATES = {
    "running": "running",
    "run": "running",
    "r": "running",
    "pending": "pending",
    "queued": "pending",
    "idle": "pending",
    "waiting": "pending",
    "q": "pending",
    "pd": "pending",
    "held": "held",
    "hold": "held",
    "h": "held",
    "suspended": "held",
}


@dataclass
class Job:
    """One job in the neutral form; times in seconds, memory in MB, efficiency as a fraction."""

    id: str
    user: str
    group: str
    state: str  # running, pending, held, finished or other
    raw_state: str = ""
    walltime: float | None = None
    efficiency: float | None = None
    memory_mb: float | None = None
    host: str = ""
    #: a finished job that did not complete successfully (non-zero exit, signal, removed, ...)
    failed: bool = False


@dataclass
class Summary:
    """Counts of one group as the producer reported them (jobinfo XML only)."""

    group: str
    parent: str
    total: int = 0
    running: int = 0
    pending: int = 0
    held: int = 0
    inefficient: int = 0


@dataclass
class JobList:
    """What a reader found: jobs, the producer's own group summaries, and when it was made.

    `history` formats list finished jobs (accounting), whose counts and failures are kept.
    """

    format: str
    jobs: list[Job] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    date: datetime | None = None
    history: bool = False


def normal_state(text: str) -> str:
    """running, pending, held or other, from a batch system's own word for the state."""
    return _STATES.get(text.strip().lower(), "other")


def duration(text: str | None) -> float | None:
    """Seconds from a number of seconds or `[D-]HH:MM:SS` text; None when unreadable."""
    if text is None:
        return None
    number = to_float(text)
    if number is not None:
        return number
    days, _, clock = text.strip().rpartition("-")
    parts = clock.split(":")
    numbers = [to_float(p) for p in parts]
    if not 2 <= len(parts) <= 3 or any(n is None for n in numbers):
        return None
    seconds = 0.0
    for n in numbers:
        seconds = seconds * 60 + (n or 0.0)
    day_count = to_float(days) if days else 0.0
    return None if day_count is None else seconds + day_count * 86400


def efficiency(cpu: float | None, wall: float | None, cpus: float | None = 1.0) -> float | None:
    """CPU time over wall time times cores; None when it cannot be computed."""
    if cpu is None or wall is None or wall <= 0:
        return None
    return cpu / (wall * max(cpus or 1.0, 1.0))


def read_jobinfo_xml(content: bytes) -> JobList:
    """The jobinfo XML of the original HappyFace job producers."""
    root = parse(content)
    if local_name(root.tag) != "jobinfo":
        raise FormatError("a <jobinfo> document", f"the root element <{local_name(root.tag)}>")
    if not any(local_name(e.tag) in ("jobs", "summaries") for e in root):
        raise FormatError("a <jobinfo> document with <jobs> or <summaries>", "neither")
    found = JobList(format="xml")
    for element in root:
        name = local_name(element.tag)
        if name == "header":
            found.date = parse_time(child_text(element, "date"))
        elif name == "jobs":
            found.jobs += [
                _xml_job(j, element.get("group", "")) for j in element if local_name(j.tag) == "job"
            ]
        elif name == "summaries":
            found.summaries += [_xml_summary(s) for s in element if local_name(s.tag) == "summary"]
    return found


def _xml_job(element: Element, default_group: str) -> Job:
    state = child_text(element, "state") or ""
    wall = duration(child_text(element, "walltime"))
    eff_percent = to_float(child_text(element, "cpueff"))
    eff = (
        eff_percent / 100
        if eff_percent is not None
        else efficiency(
            duration(child_text(element, "cputime")), wall, to_float(child_text(element, "ncpus"))
        )
    )
    return Job(
        id=child_text(element, "id") or "?",
        user=child_text(element, "user") or "",
        group=child_text(element, "group") or default_group or "unknown",
        state=normal_state(state),
        raw_state=state,
        walltime=wall,
        efficiency=eff,
        memory_mb=to_float(child_text(element, "memory")),
        host=child_text(element, "host") or "",
    )


def _xml_summary(element: Element) -> Summary:
    def count(name: str) -> int:
        value = to_float(child_text(element, name))
        return max(int(value), 0) if value is not None else 0

    return Summary(
        group=element.get("group", "all"),
        parent=element.get("parent", ""),
        total=count("jobs"),
        running=count("running"),
        pending=count("pending") + count("waiting"),
        held=count("held"),
        inefficient=count("ratio10"),
    )


def require_fields(jobs: list[dict[str, Any]], fields: tuple[str, ...], what: str) -> None:
    """FormatError unless every job has every one of `fields` (the first that lacks one named)."""
    for job in jobs:
        missing = [f for f in fields if f not in job]
        if missing:
            shown = ", ".join(sorted(map(str, job))[:8]) or "no fields"
            raise FormatError(
                f"{what} with {', '.join(fields)}",
                f"a job without {', '.join(missing)} (it has {shown})",
            )
