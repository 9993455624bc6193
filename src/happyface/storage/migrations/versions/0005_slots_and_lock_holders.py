"""One record per slot (a unique slot key on runs) and a lock that says who holds it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runs.slot with its unique index; rebuild the (transient) lock table with its holder."""
    op.add_column("runs", sa.Column("slot", UTCDateTime))
    op.create_index("ux_runs_slot", "runs", ["slot"], unique=True)
    # a lock lives seconds: rebuilding the table loses nothing a running process still needs
    op.drop_table("locks")
    op.create_table(
        "locks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("machine", sa.String(200), nullable=False),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("renewed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )


def downgrade() -> None:
    """Back to the slot-less runs and the bare lock."""
    op.drop_table("locks")
    op.create_table(
        "locks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )
    op.drop_index("ux_runs_slot", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("slot")
