"""The alarm tables: detector states, the notification outbox and log, acknowledgements, downtimes,
and the site's identity that notification identifiers derive from.

They live on the same MetaData as the rest of the schema, so one Alembic history covers them.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from .schema import UTCDateTime, metadata

# One row per (alarm, subject): the state machine that survives restarts.
alarm_states = Table(
    "alarm_states",
    metadata,
    Column("alarm_id", String(64), nullable=False),
    Column("subject_kind", String(8), nullable=False),  # "module" | "category" | "source"
    Column("subject_id", String(200), nullable=False),
    # ok | unhappy | error | flapping, and for sources stale ... format_changed
    Column("confirmed", String(16), nullable=False),
    Column("candidate", String(16)),
    Column("streak", Integer, nullable=False),
    Column("candidate_since", UTCDateTime),  # when the candidate's streak began
    Column("history", String(64), nullable=False),  # the last levels seen, one letter each
    Column("notified", String(16), nullable=False),  # the level the recipients last heard of
    Column("notified_at", UTCDateTime),  # when the current problem was first notified
    Column("stage", Integer, nullable=False),  # escalation stages already notified
    Column("last_sent_at", UTCDateTime),  # for reminders
    Column("last_run_id", Integer, nullable=False),  # a run is processed at most once
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("alarm_id", "subject_kind", "subject_id"),
)

# The outbox and the notification log in one: a row is written (pending) in the same
# transaction as the state change that caused it, and only then sent.
alarm_notifications = Table(
    "alarm_notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(400), nullable=False, unique=True),
    Column("alarm_id", String(64), nullable=False),
    Column("subject_kind", String(8), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("event", String(16), nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("run_time", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("state", String(12), nullable=False),  # pending | sent | failed | suppressed
    Column("reason", Text, nullable=False),  # why suppressed, or the last delivery error
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Index("ix_alarm_notifications_state", "state", "next_attempt_at"),
    Index("ix_alarm_notifications_subject", "subject_id", "created_at"),
    Index("ix_alarm_notifications_created_at", "created_at"),
)

alarm_acknowledgements = Table(
    "alarm_acknowledgements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", String(8), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("user", String(400), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("cleared_at", UTCDateTime),
    Column("cleared_why", Text, nullable=False),
    Index("ix_alarm_acknowledgements_subject", "subject_kind", "subject_id"),
)

# Downtimes that come from outside the configuration: a GOCDB-style feed, or entered by hand.
alarm_downtimes = Table(
    "alarm_downtimes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),  # the feed's [[downtime]] id, or "manual"
    Column("external_id", String(200), nullable=False),
    Column("severity", String(32), nullable=False),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("description", Text, nullable=False),
    Column("hosts", Text, nullable=False),  # space-separated host names
    Column("subjects", Text, nullable=False),  # JSON list of module/category ids or patterns
    Column("created_by", String(400), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Index("ix_alarm_downtimes_source", "source", "external_id", unique=True),
    Index("ix_alarm_downtimes_end", "end"),
)

# One row: a random key made when the database is created. Notification identifiers (a mail's
# Message-ID, a webhook's Idempotency-Key) combine it with the log entry's id, so they repeat
# neither across sites nor after the database is made anew.
site_identity = Table(
    "site_identity",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("key", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
