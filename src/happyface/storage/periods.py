"""State periods: since when each module and category has been in its status.

One row per stretch of one status of one subject, written by `finish_run` when a status
changes (nothing is written while it stays), so "since when" is one index lookup instead of
a scan of the history, and it stays right when retention deletes the runs it began with:
an open period keeps its start, and only periods that ended before the cut are deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)

from ..status import Status
from .records import STATUS_CODES, STATUS_OF_CODE, utc
from .schema import UTCDateTime, metadata

Subject = tuple[str, str]  # ("module" | "category", id)

state_periods = Table(
    "state_periods",
    metadata,
    Column("subject_kind", String(8), nullable=False),  # "module" | "category"
    Column("subject_id", String(200), nullable=False),
    Column("since", UTCDateTime, nullable=False),  # the start of the first run in this status
    Column("until", UTCDateTime),  # the start of the first run in another; NULL while it lasts
    Column("status", Integer, nullable=False),
    PrimaryKeyConstraint("subject_kind", "subject_id", "since"),
    # the open periods (until IS NULL) and those that ended after a time: digest and time machine
    Index("ix_state_periods_until", "until"),
)


@dataclass(frozen=True)
class Period:
    """A stretch of one status; `until` is None while it lasts."""

    kind: str
    id: str
    status: Status
    since: datetime
    until: datetime | None

    def seconds(self, now: datetime) -> float:
        """How long the period lasted, or has lasted by `now`."""
        return max(0.0, ((self.until or now) - self.since).total_seconds())


def record_statuses(conn: Connection, at: datetime, statuses: Mapping[Subject, Status]) -> None:
    """Close the periods whose status changed at `at` and open the new ones.

    A run older than a subject's open period (a backfill written out of order) changes
    nothing: the periods follow the newest runs.
    """
    t = state_periods.c
    open_rows = conn.execute(
        select(t.subject_kind, t.subject_id, t.status, t.since).where(t.until.is_(None))
    )
    # a start stays as read until needed: most subjects keep their status run after run
    current = {(kind, id_): (code, since) for kind, id_, code, since in open_rows}
    opened = []
    for subject, status in statuses.items():
        code = STATUS_CODES[status]
        found = current.get(subject)
        if found is not None:
            if found[0] == code or (since := utc(found[1])) >= at:
                continue
            conn.execute(
                update(state_periods).where(_is(subject), t.since == since).values(until=at)
            )
        opened.append({"subject_kind": subject[0], "subject_id": subject[1], "since": at,
                       "until": None, "status": code})  # fmt: skip
    if opened:
        conn.execute(insert(state_periods), opened)


def _is(subject: Subject) -> ColumnElement[bool]:
    t = state_periods.c
    return and_(t.subject_kind == subject[0], t.subject_id == subject[1])


def periods_at(
    conn: Connection, at: datetime, module_ids: Collection[str] | None = None
) -> dict[Subject, Period]:
    """The period each subject was in at time `at` (at a run's start: the run's own).

    With `module_ids`, of those modules only (and every category): a page reads what it shows.
    """
    t = state_periods.c
    query = select(state_periods).where(t.since <= at, or_(t.until.is_(None), t.until > at))
    if module_ids is not None:
        query = query.where(or_(t.subject_kind == "category", t.subject_id.in_(sorted(module_ids))))
    rows = conn.execute(query)
    return {(r.subject_kind, r.subject_id): _period(r) for r in rows}


def periods_between(conn: Connection, since: datetime, until: datetime) -> list[Period]:
    """The periods that began or ended in [since, until], or lasted through it; oldest first."""
    t = state_periods.c
    rows = conn.execute(
        select(state_periods)
        .where(t.since <= until, or_(t.until.is_(None), t.until >= since))
        .order_by(t.since, t.subject_kind, t.subject_id)
    )
    return [_period(r) for r in rows]


def delete_ended_before(conn: Connection, cut: datetime) -> int:
    """Delete the periods that ended before `cut` (retention); how many went."""
    t = state_periods.c
    return conn.execute(delete(state_periods).where(t.until < cut)).rowcount


def _period(row: Row[Any]) -> Period:
    return Period(
        kind=row.subject_kind,
        id=row.subject_id,
        status=STATUS_OF_CODE[row.status],
        since=utc(row.since),
        until=None if row.until is None else utc(row.until),
    )
