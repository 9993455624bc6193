"""Why a filtered job list is empty: said in words, so "0 jobs" is never the whole answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..result import Table


def why_empty(
    jobs: Table | None,
    group: str,
    user: str,
    groups: set[str],
    group_total: int | None,
    listed: tuple[int | None, int | None],
) -> str:
    """The reason no job matches `group` (with its subgroups `groups`) and `user`, or "".

    `group_total` is the group's count in the run's summary (None: no such group);
    `listed` the jobs the run listed one by one and the jobs it counted in all.
    """
    rows = list(jobs.rows) if jobs is not None else []
    if not rows:
        return "this run's input lists no individual jobs, only counts per group"
    of_group = _matching(jobs, rows, "group", groups) if group else rows
    if group and not of_group:
        return _no_group_jobs(group, group_total, listed)
    if user and not _matching(jobs, of_group, "user", {user}):
        where = f" of group {group}" if group else ""
        return f"none of the {len(of_group)} jobs{where} in this run belongs to user {user}"
    return ""


def _no_group_jobs(
    group: str, group_total: int | None, listed: tuple[int | None, int | None]
) -> str:
    if group_total is None:
        return f"no job of group {group} in this run's input; choose one of its groups"
    if not group_total:
        return f"group {group} has no jobs in this run"
    shown, total = listed
    if shown is not None and total is not None and shown < total:
        return (
            f"the input counts {group_total} jobs of group {group}, but the job list keeps "
            f"only the first {shown} of {total} jobs and none of them is of this group"
        )
    return f"the input counts {group_total} jobs of group {group} but does not list them one by one"


def _matching(
    jobs: Table | None, rows: Sequence[Sequence[Any]], column: str, values: set[str]
) -> list[Sequence[Any]]:
    if jobs is None or column not in jobs.columns:
        return []
    at = list(jobs.columns).index(column)
    return [r for r in rows if str(r[at]) in values]
