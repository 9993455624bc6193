"""The `change_points` table: changes found in a series' history, written once per run.

Pages, the API, /metrics and alarms read them here; nothing computes changes on request.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)

from .schema import UTCDateTime, metadata, modules

change_points = Table(
    "change_points",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("module_id", Integer, ForeignKey("modules.id"), nullable=False),
    Column("metric", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),  # the first run after the change
    Column("found_at", UTCDateTime, nullable=False),  # the run that confirmed it
    Column("kind", String(16), nullable=False),  # level or variance
    Column("measure", String(8), nullable=False),  # value, or rate (per hour) of a counter
    Column("before", Float, nullable=False),
    Column("after", Float, nullable=False),
    Column("sd_before", Float, nullable=False),
    Column("sd_after", Float, nullable=False),
    Column("significance", Float, nullable=False),
    Column("relative", Float, nullable=False),
    # the site's changes of a day, and a module's, are each one index range
    Index("ix_change_points_at", "at"),
    Index("ix_change_points_module_id", "module_id", "at"),
)


@dataclass(frozen=True)
class ChangePoint:
    """One change of one series: when, from which level to which, and how sure."""

    module_id: str
    metric: str
    at: datetime
    found_at: datetime
    kind: str
    measure: str
    before: float
    after: float
    sd_before: float
    sd_after: float
    significance: float
    relative: float

    @property
    def direction(self) -> str:
        """rise or drop (of the level, or of the spread for a change of variance)."""
        return "rise" if self.relative > 0 else "drop"


def add_changes(conn: Connection, found: Sequence[ChangePoint]) -> None:
    """Store changes found in one run (of modules the run stored)."""
    if not found:
        return
    names = sorted({c.module_id for c in found})
    known = conn.execute(select(modules.c.name, modules.c.id).where(modules.c.name.in_(names)))
    ids = {name: module_id for name, module_id in known}
    found = [c for c in found if c.module_id in ids]
    rows: list[dict[str, Any]] = [
        {
            "module_id": ids[c.module_id],
            "metric": c.metric,
            "at": c.at,
            "found_at": c.found_at,
            "kind": c.kind,
            "measure": c.measure,
            "before": c.before,
            "after": c.after,
            "sd_before": c.sd_before,
            "sd_after": c.sd_after,
            "significance": c.significance,
            "relative": c.relative,
        }
        for c in found
    ]
    conn.execute(insert(change_points), rows)


def changes_between(
    conn: Connection,
    since: datetime,
    until: datetime,
    module_ids: Collection[str] | None = None,
    metric: str | None = None,
    limit: int = 1000,
) -> list[ChangePoint]:
    """Changes that happened in [since, until], of `module_ids` (all: None), newest first."""
    stmt = (
        select(modules.c.name, change_points)
        .join(modules, modules.c.id == change_points.c.module_id)
        .where(change_points.c.at >= since, change_points.c.at <= until)
        .order_by(change_points.c.at.desc(), change_points.c.id.desc())
        .limit(limit)
    )
    if module_ids is not None:
        stmt = stmt.where(modules.c.name.in_(list(module_ids)))
    if metric is not None:
        stmt = stmt.where(change_points.c.metric == metric)
    return [_point(row) for row in conn.execute(stmt)]


def latest_changes(conn: Connection) -> dict[tuple[str, str], ChangePoint]:
    """The newest change of every series that has one, by (module, metric)."""
    newest = (
        select(change_points.c.module_id, change_points.c.metric, func.max(change_points.c.id))
        .group_by(change_points.c.module_id, change_points.c.metric)
        .subquery()
    )
    stmt = (
        select(modules.c.name, change_points)
        .join(modules, modules.c.id == change_points.c.module_id)
        .where(change_points.c.id.in_(select(newest.c[2])))
    )
    return {(row.name, row.metric): _point(row) for row in conn.execute(stmt)}


def delete_changes_before(conn: Connection, cut: datetime) -> int:
    """Delete the changes that happened before `cut` (retention); how many went."""
    return conn.execute(delete(change_points).where(change_points.c.at < cut)).rowcount


def _point(row: Any) -> ChangePoint:
    return ChangePoint(
        row.name,
        row.metric,
        row.at,
        row.found_at,
        row.kind,
        row.measure,
        row.before,
        row.after,
        row.sd_before,
        row.sd_after,
        row.significance,
        row.relative,
    )
