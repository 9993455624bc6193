"""Readers of HTCondor job ClassAds: the queue (`condor_q -json`) and finished jobs
(`condor_history -json`). Attribute meanings follow HTCondor's job ClassAd reference.
"""

from __future__ import annotations

from typing import Any

from ..errors import FormatError
from .common import parse_time, to_float
from .jobformats import Job, JobList, efficiency, require_fields

# HTCondor JobStatus codes: 1 idle, 2 running, 3 removed, 4 completed, 5 held, 6 transferring
# output, 7 suspended; removed and completed jobs still in the queue have finished
_QUEUE_STATES = {1: "pending", 2: "running", 3: "finished", 4: "finished", 5: "held", 7: "held"}
#: what condor_history holds: removed (3) and completed (4) jobs
_FINISHED_STATES = {3: "removed", 4: "completed"}
_QUEUE_FIELDS = ("ClusterId", "JobStatus")


def read_condor_json(data: Any) -> JobList:
    """The output of `condor_q -json` (also `-af:j`-style lists of ClassAds)."""
    ads = _ads(data, "condor_q -json output (a JSON list of job ClassAds)")
    require_fields(ads, _QUEUE_FIELDS, "condor_q -json job ClassAds")
    if is_history(ads):
        raise FormatError(
            "condor_q -json output (a queue)",
            "only finished jobs and no ServerTime, as condor_history writes",
            'condor_history -json is read with format = "condor_history"',
        )
    found = JobList(format="condor", jobs=[_queued_job(ad) for ad in ads])
    times = [t for t in (parse_time(ad.get("ServerTime")) for ad in ads) if t is not None]
    found.date = max(times, default=None)
    return found


def read_condor_history(data: Any) -> JobList:
    """The output of `condor_history -json`: finished jobs, their efficiency and exit."""
    ads = _ads(data, "condor_history -json output (a JSON list of job ClassAds)")
    require_fields(ads, _QUEUE_FIELDS, "condor_history -json job ClassAds")
    for ad in ads:
        status = to_float(ad.get("JobStatus"))
        if status not in _FINISHED_STATES:
            raise FormatError(
                "condor_history ClassAds of finished jobs (JobStatus 3 or 4)",
                f"job {_id(ad)} with JobStatus {str(ad.get('JobStatus'))[:10]}",
                'a queue is read with format = "condor"',
            )
    return JobList(format="condor_history", jobs=[_finished_job(ad) for ad in ads], history=True)


def is_history(ads: list[Any]) -> bool:
    """Whether a list of ClassAds looks like condor_history: finished jobs, no ServerTime."""
    return bool(ads) and all(
        isinstance(ad, dict)
        and "ServerTime" not in ad
        and to_float(ad.get("JobStatus")) in _FINISHED_STATES
        for ad in ads
    )


def _ads(data: Any, expected: str) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise FormatError(expected, f"a JSON {type(data).__name__}")
    for ad in data:
        if not isinstance(ad, dict):
            raise FormatError(expected, f"an entry that is a JSON {type(ad).__name__}")
    return data


def _id(ad: dict[str, Any]) -> str:
    return f"{ad.get('ClusterId', '?')}.{ad.get('ProcId', 0)}"


def _queued_job(ad: dict[str, Any]) -> Job:
    status = to_float(ad.get("JobStatus"))
    state = _QUEUE_STATES.get(int(status), "other") if status is not None else "other"
    owner = str(ad.get("Owner", ""))
    start, server = to_float(ad.get("JobCurrentStartDate")), to_float(ad.get("ServerTime"))
    wall = server - start if state == "running" and start and server else None
    return Job(
        id=_id(ad),
        user=owner,
        group=condor_group(str(ad.get("AccountingGroup") or ""), owner),
        state=state,
        raw_state=str(ad.get("JobStatus", "")),
        walltime=wall,
        failed=state == "finished" and _failed(ad),
        efficiency=efficiency(_cpu(ad), wall, to_float(ad.get("RequestCpus"))),
        memory_mb=_memory_mb(ad),
        host=str(ad.get("RemoteHost") or "").rpartition("@")[2],
    )


def _finished_job(ad: dict[str, Any]) -> Job:
    status = int(to_float(ad.get("JobStatus")) or 0)
    owner = str(ad.get("Owner", ""))
    wall = _committed_wall(ad)
    return Job(
        id=_id(ad),
        user=owner,
        group=condor_group(str(ad.get("AccountingGroup") or ""), owner),
        state="finished",
        raw_state=_FINISHED_STATES[status],
        walltime=wall,
        efficiency=efficiency(_cpu(ad), wall, to_float(ad.get("RequestCpus"))),
        memory_mb=_memory_mb(ad),
        host=str(ad.get("LastRemoteHost") or "").rpartition("@")[2],
        failed=_failed(ad),
    )


def _failed(ad: dict[str, Any]) -> bool:
    """Removed (JobStatus 3), killed by a signal, or exited with a code other than 0."""
    removed = to_float(ad.get("JobStatus")) == 3
    return removed or ad.get("ExitBySignal") is True or bool(to_float(ad.get("ExitCode")))


def _cpu(ad: dict[str, Any]) -> float:
    # RemoteUserCpu and RemoteSysCpu leave out run attempts that were evicted
    return sum(to_float(ad.get(k)) or 0.0 for k in ("RemoteUserCpu", "RemoteSysCpu"))


def _committed_wall(ad: dict[str, Any]) -> float | None:
    """Seconds the job ran, evicted attempts and suspension left out like its CPU time."""
    committed = to_float(ad.get("CommittedTime"))
    if committed:
        return committed - (to_float(ad.get("CommittedSuspensionTime")) or 0.0)
    wall = to_float(ad.get("RemoteWallClockTime"))
    return wall - (to_float(ad.get("CumulativeSuspensionTime")) or 0.0) if wall else None


def _memory_mb(ad: dict[str, Any]) -> float | None:
    rss_kib = to_float(ad.get("ResidentSetSize"))
    return rss_kib / 1024 if rss_kib is not None else None


def condor_group(accounting_group: str, owner: str) -> str:
    """`group_cms.prod.alice` (owner alice) -> `cms.prod`: the dotted path of the group."""
    parts = [p for p in accounting_group.split(".") if p]
    if len(parts) > 1 and parts[-1] == owner:
        parts.pop()  # condor appends the user to the accounting group
    if parts and parts[0].startswith("group_"):
        parts[0] = parts[0].removeprefix("group_")
    return ".".join(parts) or "ungrouped"
