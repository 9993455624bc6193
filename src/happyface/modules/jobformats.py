"""Readers of batch-system job lists: the jobinfo XML producer, `condor_q -json`, `squeue --json`.

Each reader turns its format into the same neutral record (`JobList`) so that the `jobs` type
counts, rates and shows them one way. Readers raise ExtractError for input they cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from ..errors import ExtractError
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
# HTCondor JobStatus codes; 3 removed, 4 completed and 6 transferring count as "other"
_CONDOR_STATES = {1: "pending", 2: "running", 5: "held", 7: "held"}


@dataclass
class Job:
    """One job in the neutral form; times in seconds, memory in MB, efficiency as a fraction."""

    id: str
    user: str
    group: str
    state: str  # running, pending, held or other
    raw_state: str = ""
    walltime: float | None = None
    efficiency: float | None = None
    memory_mb: float | None = None
    host: str = ""


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
    """What a reader found: jobs, the producer's own group summaries, and when it was made."""

    format: str
    jobs: list[Job] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    date: datetime | None = None


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
        raise ExtractError(
            f"expected a <jobinfo> document, the root element is <{local_name(root.tag)}>"
        )
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


def read_condor_json(data: Any) -> JobList:
    """The output of `condor_q -json` (also `-af:j`-style lists of ClassAds)."""
    if not isinstance(data, list):
        raise ExtractError("expected condor_q -json output (a JSON list of job ClassAds)")
    found = JobList(format="condor")
    for ad in data:
        if not isinstance(ad, dict):
            raise ExtractError("condor_q -json output holds an entry that is not a ClassAd object")
        found.jobs.append(_condor_job(ad))
    times = [t for t in (parse_time(ad.get("ServerTime")) for ad in data) if t is not None]
    found.date = max(times, default=None)
    return found


def _condor_job(ad: dict[str, Any]) -> Job:
    status = to_float(ad.get("JobStatus"))
    state = _CONDOR_STATES.get(int(status), "other") if status is not None else "other"
    owner = str(ad.get("Owner", ""))
    start, server = to_float(ad.get("JobCurrentStartDate")), to_float(ad.get("ServerTime"))
    wall = server - start if state == "running" and start and server else None
    cpu = sum(to_float(ad.get(k)) or 0.0 for k in ("RemoteUserCpu", "RemoteSysCpu"))
    rss_kib = to_float(ad.get("ResidentSetSize"))
    return Job(
        id=f"{ad.get('ClusterId', '?')}.{ad.get('ProcId', 0)}",
        user=owner,
        group=condor_group(str(ad.get("AccountingGroup") or ""), owner),
        state=state,
        raw_state=str(ad.get("JobStatus", "")),
        walltime=wall,
        efficiency=efficiency(cpu, wall, to_float(ad.get("RequestCpus"))),
        memory_mb=rss_kib / 1024 if rss_kib is not None else None,
        host=str(ad.get("RemoteHost") or "").rpartition("@")[2],
    )


def condor_group(accounting_group: str, owner: str) -> str:
    """`group_cms.prod.alice` (owner alice) -> `cms.prod`: the dotted path of the group."""
    parts = [p for p in accounting_group.split(".") if p]
    if len(parts) > 1 and parts[-1] == owner:
        parts.pop()  # condor appends the user to the accounting group
    if parts and parts[0].startswith("group_"):
        parts[0] = parts[0].removeprefix("group_")
    return ".".join(parts) or "ungrouped"


def read_slurm_json(data: Any, now: datetime) -> JobList:
    """The output of `squeue --json` (Slurm 21 to 24 layouts)."""
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise ExtractError('expected squeue --json output (an object with a "jobs" list)')
    found = JobList(format="slurm", date=parse_time(data.get("last_update")))
    for job in data["jobs"]:
        if not isinstance(job, dict):
            raise ExtractError("squeue --json output holds a job that is not an object")
        found.jobs.append(_slurm_job(job, now))
    return found


def _slurm_job(job: dict[str, Any], now: datetime) -> Job:
    states = job.get("job_state")
    raw = states[0] if isinstance(states, list) and states else states
    raw_state = str(raw or "")
    state = normal_state(raw_state)
    if state == "pending" and "held" in str(job.get("state_reason", "")).lower():
        state = "held"
    start = parse_time(job.get("start_time"))
    wall = (now - start).total_seconds() if state == "running" and start and now.tzinfo else None
    return Job(
        id=str(job.get("job_id", "?")),
        user=str(job.get("user_name", "")),
        group=str(job.get("account") or job.get("partition") or "ungrouped"),
        state=state,
        raw_state=raw_state,
        walltime=wall,
        host=str(job.get("nodes") or job.get("batch_host") or ""),
    )
