"""Alarms on data quality: room for the source levels, and when a candidate level began.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_LEVELS = ("confirmed", "candidate", "notified")


def upgrade() -> None:
    """Widen the level columns (`format_changed` has 14 letters) and add `candidate_since`."""
    with op.batch_alter_table("alarm_states") as batch:
        for column in _LEVELS:
            batch.alter_column(column, type_=sa.String(16), existing_type=sa.String(8))
        batch.add_column(sa.Column("candidate_since", UTCDateTime))


def downgrade() -> None:
    """Drop the states of source alarms, `candidate_since`, and narrow the columns again."""
    op.execute("DELETE FROM alarm_states WHERE subject_kind = 'source'")
    with op.batch_alter_table("alarm_states") as batch:
        batch.drop_column("candidate_since")
        for column in _LEVELS:
            batch.alter_column(column, type_=sa.String(8), existing_type=sa.String(16))
