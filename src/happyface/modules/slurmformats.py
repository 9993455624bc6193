"""Readers of Slurm's JSON: the queue (`squeue --json`, slurmrestd `/slurm/*/jobs`) and the
accounting records (`sacct --json`, slurmrestd `/slurmdb/*/jobs`), data_parser v0.0.39 on.

Both answer `{"jobs": [...]}`, but their jobs differ: a queue job has `job_state`, an
accounting job `state.current`, `time.elapsed` and `time.total` (its CPU time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import FormatError
from .common import json_shape, parse_time, to_float
from .jobformats import Job, JobList, efficiency, normal_state, require_fields

#: Slurm's base job states of a job that has ended (squeue(1), JOB STATE CODES); squeue shows
#: pending, running and completing jobs, slurmrestd also the ended ones for MinJobAge
FINISHED_STATES = frozenset(
    {
        "COMPLETED",
        "CANCELLED",
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "BOOT_FAIL",
        "DEADLINE",
        "OUT_OF_MEMORY",
        "REVOKED",
    }
)
_QUEUE_FIELDS = ("job_id", "job_state")
_ACCOUNTING_FIELDS = ("job_id", "state", "time")


def is_accounting(data: Any) -> bool:
    """Whether a Slurm answer holds accounting jobs (`state` and `time` objects), not a queue."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list) or not jobs:
        return isinstance(data, dict) and "last_update" not in data and "last_backfill" not in data
    first = jobs[0]
    return isinstance(first, dict) and "job_state" not in first and "state" in first


def read_slurm_json(data: Any, now: datetime) -> JobList:
    """The output of `squeue --json` (Slurm 21 to 25 layouts)."""
    jobs = _jobs(data, 'squeue --json output (an object with a "jobs" list)')
    if jobs and is_accounting(data):
        raise FormatError(
            "squeue --json jobs (job_state)",
            "Slurm accounting jobs (state, time)",
            'sacct --json output is read with format = "slurm_accounting"',
        )
    require_fields(jobs, _QUEUE_FIELDS, "squeue --json jobs")
    found = JobList(format="slurm", date=parse_time(data.get("last_update")))
    found.jobs = [_queued_job(job, now) for job in jobs]
    return found


def read_slurm_accounting(data: Any) -> JobList:
    """The output of `sacct --json`: finished jobs with their CPU efficiency, and the others."""
    jobs = _jobs(data, 'sacct --json output (an object with a "jobs" list)')
    if jobs and not is_accounting(data):
        raise FormatError(
            "sacct --json jobs (state, time)",
            "Slurm queue jobs (job_state)",
            'squeue --json output is read with format = "slurm"',
        )
    require_fields(jobs, _ACCOUNTING_FIELDS, "sacct --json jobs")
    return JobList(
        format="slurm_accounting", jobs=[_accounted_job(job) for job in jobs], history=True
    )


def _jobs(data: Any, expected: str) -> list[dict[str, Any]]:
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        raise FormatError(expected, json_shape(data))
    for job in jobs:
        if not isinstance(job, dict):
            raise FormatError(expected, f"a job that is a JSON {type(job).__name__}")
    return jobs


def _base_state(value: Any) -> str:
    """The first of Slurm's state words: `["PENDING", "REQUEUED"]` or `"RUNNING"`."""
    first = value[0] if isinstance(value, list) and value else value
    return str(first or "").upper()


def _state(raw_state: str, reason: Any) -> str:
    if raw_state in FINISHED_STATES:
        return "finished"
    state = normal_state(raw_state)
    if state == "pending" and "held" in str(reason or "").lower():
        return "held"
    return state


def _queued_job(job: dict[str, Any], now: datetime) -> Job:
    raw_state = _base_state(job.get("job_state"))
    state = _state(raw_state, job.get("state_reason"))
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


def _accounted_job(job: dict[str, Any]) -> Job:
    status = job["state"] if isinstance(job["state"], dict) else {}
    raw_state = _base_state(status.get("current"))
    state = _state(raw_state, status.get("reason"))
    times = job["time"] if isinstance(job["time"], dict) else {}
    elapsed = to_float(times.get("elapsed"))
    # TotalCPU covers completed steps only, so it says nothing yet about a running job
    cpu = _cpu_seconds(times) if state == "finished" else None
    return Job(
        id=str(job.get("job_id", "?")),
        user=str(job.get("user") or ""),
        group=str(job.get("account") or job.get("partition") or "ungrouped"),
        state=state,
        raw_state=raw_state,
        walltime=elapsed,
        efficiency=efficiency(cpu, elapsed, _allocated_cpus(job)),
        host=str(job.get("nodes") or ""),
        failed=state == "finished" and raw_state != "COMPLETED",
    )


def _cpu_seconds(times: dict[str, Any]) -> float | None:
    """TotalCPU: `time.total` (seconds and microseconds), else user plus system time."""
    total = times.get("total")
    parts = [total] if isinstance(total, dict) else [times.get("user"), times.get("system")]
    found = [p for p in parts if isinstance(p, dict)]
    if not found:
        return None
    return sum(
        (to_float(p.get("seconds")) or 0.0) + (to_float(p.get("microseconds")) or 0.0) / 1e6
        for p in found
    )


def _allocated_cpus(job: dict[str, Any]) -> float | None:
    """CPUs allocated (`tres.allocated` cpu count), else the CPUs the job required."""
    tres = job.get("tres")
    allocated = tres.get("allocated") if isinstance(tres, dict) else None
    for item in allocated if isinstance(allocated, list) else []:
        if isinstance(item, dict) and item.get("type") == "cpu":
            count = to_float(item.get("count"))
            if count:
                return count
    required = job.get("required")
    return to_float(required.get("CPUs")) if isinstance(required, dict) else None
