"""The site's identity for notification identifiers; delivery errors stored as classified reasons.

Revision ID: 0004
Revises: 0003
Create Date: 2026-06-02
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Reasons stored before: a receiver's answer and the library's words, which could quote a
# channel URL with its token. What they become: the classified reason, as stored from now on.
_CLASSES = (
    (re.compile(r"HTTP (\d{3})"), r"HTTP \1"),
    (re.compile(r"SMTP\w*Error: \((\d{3})"), r"SMTP \1"),
    (re.compile(r"certificate|ssl|tls", re.I), "TLS error"),
    (re.compile(r"timed out|timeout", re.I), "timeout"),
    (re.compile(r"refused", re.I), "connection refused"),
)
_GAVE_UP = re.compile(r"^(gave up after \d+ attempts: )")


def upgrade() -> None:
    """Create the identity with its random key; reduce stored delivery errors to their class."""
    identity = op.create_table(
        "site_identity",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_site_identity"),
    )
    op.bulk_insert(
        identity, [{"id": 1, "key": secrets.token_hex(16), "created_at": datetime.now(UTC)}]
    )
    _classify_stored_errors()


def downgrade() -> None:
    """Drop the identity (the reduced reasons stay reduced)."""
    op.drop_table("site_identity")


def _classify_stored_errors() -> None:
    conn = op.get_bind()
    table = sa.table(
        "alarm_notifications", sa.column("id"), sa.column("reason"), sa.column("state")
    )
    failed = table.c.state.in_(["pending", "failed"])
    rows = conn.execute(sa.select(table.c.id, table.c.reason).where(failed, table.c.reason != ""))
    for ident, reason in rows.fetchall():
        classified = _classify(reason)
        if classified != reason:
            conn.execute(table.update().where(table.c.id == ident).values(reason=classified))


def _classify(reason: str) -> str:
    if reason.startswith("channel ") and reason.endswith("is not configured"):
        return reason
    prefix = _GAVE_UP.match(reason)
    for pattern, replacement in _CLASSES:
        found = pattern.search(reason)
        if found:
            return (prefix.group(1) if prefix else "") + found.expand(replacement)
    return (prefix.group(1) if prefix else "") + "delivery failed"
