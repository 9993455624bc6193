"""Alarms: detector states, the notification outbox and log, acknowledgements, downtimes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_KIND = sa.String(8)


def upgrade() -> None:
    """Create the four alarm tables."""
    _states()
    _notifications()
    _acknowledgements()
    _downtimes()


def downgrade() -> None:
    """Drop the alarm tables."""
    for name in (
        "alarm_downtimes",
        "alarm_acknowledgements",
        "alarm_notifications",
        "alarm_states",
    ):
        op.drop_table(name)


def _states() -> None:
    op.create_table(
        "alarm_states",
        sa.Column("alarm_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", _KIND, nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("confirmed", sa.String(8), nullable=False),
        sa.Column("candidate", sa.String(8)),
        sa.Column("streak", sa.Integer, nullable=False),
        sa.Column("history", sa.String(64), nullable=False),
        sa.Column("notified", sa.String(8), nullable=False),
        sa.Column("notified_at", UTCDateTime),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("last_sent_at", UTCDateTime),
        sa.Column("last_run_id", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("alarm_id", "subject_kind", "subject_id", name="pk_alarm_states"),
    )


def _notifications() -> None:
    op.create_table(
        "alarm_notifications",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("dedupe_key", sa.String(400), nullable=False),
        sa.Column("alarm_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", _KIND, nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("run_time", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_notifications"),
        sa.UniqueConstraint("dedupe_key", name="uq_alarm_notifications_dedupe_key"),
    )
    op.create_index(
        "ix_alarm_notifications_state", "alarm_notifications", ["state", "next_attempt_at"]
    )
    op.create_index(
        "ix_alarm_notifications_subject", "alarm_notifications", ["subject_id", "created_at"]
    )
    op.create_index("ix_alarm_notifications_created_at", "alarm_notifications", ["created_at"])


def _acknowledgements() -> None:
    op.create_table(
        "alarm_acknowledgements",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("subject_kind", _KIND, nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("user", sa.String(400), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("cleared_at", UTCDateTime),
        sa.Column("cleared_why", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_acknowledgements"),
    )
    op.create_index(
        "ix_alarm_acknowledgements_subject",
        "alarm_acknowledgements",
        ["subject_kind", "subject_id"],
    )


def _downtimes() -> None:
    op.create_table(
        "alarm_downtimes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("start", UTCDateTime, nullable=False),
        sa.Column("end", UTCDateTime, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("hosts", sa.Text, nullable=False),
        sa.Column("subjects", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(400), nullable=False),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_downtimes"),
    )
    op.create_index(
        "ix_alarm_downtimes_source", "alarm_downtimes", ["source", "external_id"], unique=True
    )
    op.create_index("ix_alarm_downtimes_end", "alarm_downtimes", ["end"])
