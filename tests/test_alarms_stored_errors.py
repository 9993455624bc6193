"""Delivery errors stored before the upgrade lose what a receiver said; the site gets its key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from happyface.alarms import notification_log
from happyface.alarms.store import AlarmStore
from happyface.storage import open_store
from happyface.storage.alarm_tables import alarm_notifications
from happyface.storage.engine import MIGRATIONS

T = datetime(2024, 3, 5, tzinfo=UTC)
TOKEN = "hook-token-e0c4d2a1"
OLD_REASONS = {
    1: f"webhook answered HTTP 404: <html>No hook at /hooks/{TOKEN}?key={TOKEN}</html>",
    2: f"gave up after 5 attempts: webhook: ConnectError: [Errno 111] Connection refused {TOKEN}",
    3: "mail via relay:25: SMTPDataError: (451, b'4.7.1 greylisted, ask ops')",
    4: "channel 'old' is not configured",
    5: f"Apprise could not deliver: something odd about tgram://{TOKEN}/chat",
}
NEW_REASONS = {
    1: "HTTP 404",
    2: "gave up after 5 attempts: connection refused",
    3: "SMTP 451",
    4: "channel 'old' is not configured",
    5: "delivery failed",
}


def at_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
    engine.dispose()


def old_row(ident: int, reason: str) -> dict[str, object]:
    return {
        "id": ident, "dedupe_key": str(ident), "alarm_id": "a", "subject_kind": "module",
        "subject_id": "m", "event": "unhappy", "channel_id": "hook", "run_id": 1, "run_time": T,
        "created_at": T, "title": "t", "body": "b", "link": "l", "state": "failed",
        "reason": reason, "attempts": 5, "next_attempt_at": None, "sent_at": None,
    }  # fmt: skip


def test_the_upgrade_keeps_only_the_class_of_stored_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    at_revision(url, "0002")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(alarm_notifications.insert(), [old_row(i, r) for i, r in OLD_REASONS.items()])
    engine.dispose()
    store = open_store(url)  # upgrades to the newest revision
    try:
        assert {n.id: n.reason for n in notification_log(store)} == NEW_REASONS
        key = AlarmStore(store).site_key()
        assert len(key) == 32 and int(key, 16) >= 0
    finally:
        store.close()
