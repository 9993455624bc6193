"""Change points: the changes of level or variance found in each series' history.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the `change_points` table."""
    op.create_table(
        "change_points",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("module_id", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("found_at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("measure", sa.String(8), nullable=False),
        sa.Column("before", sa.Float, nullable=False),
        sa.Column("after", sa.Float, nullable=False),
        sa.Column("sd_before", sa.Float, nullable=False),
        sa.Column("sd_after", sa.Float, nullable=False),
        sa.Column("significance", sa.Float, nullable=False),
        sa.Column("relative", sa.Float, nullable=False),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name="fk_change_points_module_id"),
        sa.PrimaryKeyConstraint("id", name="pk_change_points"),
    )
    op.create_index("ix_change_points_at", "change_points", ["at"], unique=False)
    op.create_index(
        "ix_change_points_module_id", "change_points", ["module_id", "at"], unique=False
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_change_points_module_id", table_name="change_points")
    op.drop_index("ix_change_points_at", table_name="change_points")
    op.drop_table("change_points")
