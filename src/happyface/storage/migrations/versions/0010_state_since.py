"""State periods (since when each module and category is in its status) and shift notes.

The periods are filled from the stored history in one ordered pass, so an upgraded site
knows at once since when its modules are in their state.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `state_periods` (filled from the history) and `shift_notes`."""
    periods = op.create_table(
        "state_periods",
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("until", UTCDateTime),
        sa.Column("status", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", "since", name="pk_state_periods"),
    )
    op.create_index("ix_state_periods_until", "state_periods", ["until"], unique=False)
    op.create_table(
        "shift_notes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("written_at", UTCDateTime, nullable=False),
        sa.Column("author", sa.String(400), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shift_notes"),
    )
    op.create_index("ix_shift_notes_written_at", "shift_notes", ["written_at"], unique=False)
    assert periods is not None
    _fill(periods)


def _fill(periods: sa.Table) -> None:
    """One period per stretch of equal statuses in the stored history of each subject."""
    conn = op.get_bind()
    runs = sa.table(
        "runs", sa.column("id"), sa.column("state"), sa.column("started_at", UTCDateTime())
    )
    for kind, rows_table, names in (
        ("module", "results", "modules"),
        ("category", "run_categories", "categories"),
    ):
        rows = sa.table(
            rows_table, sa.column("run_id"), sa.column(f"{kind}_id"), sa.column("status")
        )
        named = sa.table(names, sa.column("id"), sa.column("name"))
        query = (
            sa.select(named.c.name, runs.c.started_at, rows.c.status)
            .join(runs, runs.c.id == rows.c.run_id)
            .join(named, named.c.id == rows.c[f"{kind}_id"])
            .where(runs.c.state == "ok")
            .order_by(named.c.name, runs.c.started_at)
        )
        _insert(conn, periods, kind, conn.execute(query))


def _insert(conn: sa.Connection, periods: sa.Table, kind: str, rows: Any) -> None:
    batch: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for name, started_at, status in rows:
        if last is not None and last["subject_id"] == name and last["status"] == status:
            continue
        if last is not None and last["subject_id"] == name:
            last["until"] = started_at
        last = {"subject_kind": kind, "subject_id": name, "since": started_at, "until": None,
                "status": status}  # fmt: skip
        batch.append(last)
        if len(batch) >= 5000:
            # the newest period of the batch may still be closed by the next row: keep it
            conn.execute(periods.insert(), batch[:-1])
            batch = batch[-1:]
    if batch:
        conn.execute(periods.insert(), batch)


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_shift_notes_written_at", table_name="shift_notes")
    op.drop_table("shift_notes")
    op.drop_index("ix_state_periods_until", table_name="state_periods")
    op.drop_table("state_periods")
