"""Runs by configuration version: when each version was in force, found without a scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index the runs by configuration version, state and start."""
    op.create_index("ix_runs_config_id", "runs", ["config_id", "state", "started_at"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_runs_config_id", table_name="runs")
