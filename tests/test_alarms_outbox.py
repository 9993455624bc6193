"""The outbox and the log: retries with backoff, giving up visibly; acknowledgements; wiring."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from happyface.alarms import (
    Subject,
    acknowledge,
    acknowledgement_history,
    active_acknowledgements,
    alarm_states,
    notification_log,
    withdraw_acknowledgement,
)
from happyface.alarms.detect import Level
from happyface.alarms.outbox import Backoff, held_reason
from happyface.alarms.service import AlarmService
from happyface.cli.assembly import build_service
from happyface.config.load import load_site
from happyface.errors import HappyFaceError
from happyface.plugins import Registry
from happyface.storage import Store, open_store
from tests.fixtures.alarm_day import T0, Day, load_day_site
from tests.fixtures.site import write_site
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.webhook import WebhookServer


@pytest.fixture
def day(
    tmp_path: Path, database_url: str, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> Iterator[Day]:
    simulated = Day(load_day_site(tmp_path, smtp_server.port, webhook_server.url("")),
                    database_url)  # fmt: skip
    yield simulated
    simulated.close()


async def test_a_channel_down_for_too_long_is_reported_failed(
    day: Day, webhook_server: WebhookServer
) -> None:
    day.alarms.outbox.backoff = Backoff(first=60, longest=600, give_up_after=3600)
    webhook_server.failing = True
    for run in range(18):
        await day.run(run)
    chat = notification_log(day.store, subject_id="dcache_pools")
    (unhappy,) = [n for n in chat if n.channel_id == "chat" and n.event == "unhappy"]
    assert unhappy.state == "failed" and "HTTP 503" in unhappy.reason
    assert unhappy.attempts == 5 and unhappy.sent_at is None  # runs 11..15, then it gave up
    assert notification_log(day.store, state="failed", limit=10)
    # the mail of the same change went out: one channel's trouble is not the others'
    (mail,) = [n for n in chat if n.channel_id == "shift-mail" and n.event == "unhappy"]
    assert mail.state == "sent"


async def test_a_retry_waits_for_its_backoff(day: Day, webhook_server: WebhookServer) -> None:
    day.alarms.outbox.backoff = Backoff(first=1800, longest=7200, give_up_after=86400)
    webhook_server.failing = True
    for run in range(12):
        await day.run(run)
    webhook_server.failing = False
    await day.run(12)  # 15 minutes later: the 30-minute backoff is not over
    pending = notification_log(day.store, state="pending")
    assert {n.channel_id for n in pending} == {"chat"}
    await day.run(13)
    assert not notification_log(day.store, state="pending")
    assert len([p for p in webhook_server.posts if p.path == "/chat"]) == 1


async def test_a_channel_delivers_in_order_after_it_comes_back(
    day: Day, webhook_server: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    # the unhappy notice (run 11) waits 3 h, then 6 h, for retries; the reminder (run 23), the
    # recovery (run 25) and the movers' flapping (33) come meanwhile; chat is back from run 26
    caplog.set_level(logging.INFO, "happyface.alarms")
    day.alarms.outbox.backoff = Backoff(first=3 * 3600, longest=6 * 3600, give_up_after=86400)
    webhook_server.failing = True
    for run in range(26):
        await day.run(run)
    webhook_server.failing = False
    for run in range(26, 46):
        await day.run(run)
    chat = [n for n in notification_log(day.store) if n.channel_id == "chat"]
    waiting = {n.event: n.reason for n in chat if n.state == "pending"}
    assert set(waiting) == {"unhappy", "reminder", "recovery", "flapping"}
    assert (
        waiting["reminder"]
        == waiting["recovery"]
        == waiting["flapping"]
        == held_reason(next(n for n in chat if n.event == "unhappy"))
    )
    assert "wait for notification" in caplog.text
    assert not [p for p in webhook_server.posts if p.path == "/chat"]
    for run in range(46, 48):  # the unhappy notice's retry is due at run 47
        await day.run(run)
    said = [p.json()["text"].splitlines()[0] for p in webhook_server.posts if p.path == "/chat"]
    assert [line.rsplit(": ", 1)[1] for line in said] == [
        "unhappy**",
        "reminder [unhappy]**",
        "recovery**",
        "flapping**",
    ]
    assert {n.state for n in notification_log(day.store) if n.channel_id == "chat"} == {"sent"}


def test_acknowledgements_are_stored_and_expire(day: Day) -> None:
    subject = Subject("module", "condor")
    ack = acknowledge(day.store, subject, "/DC=org/CN=Shifter", "restarting the schedd", T0,
                      expires_at=T0 + timedelta(hours=2))  # fmt: skip
    assert active_acknowledgements(day.store, T0 + timedelta(hours=1)) == [ack]
    assert active_acknowledgements(day.store, T0 + timedelta(hours=1), Subject("module", "x")) == []
    assert active_acknowledgements(day.store, T0 + timedelta(hours=2)) == []
    assert acknowledgement_history(day.store, subject) == [ack]
    assert withdraw_acknowledgement(day.store, ack.id, "admin", T0 + timedelta(minutes=5))
    assert not withdraw_acknowledgement(day.store, ack.id, "admin", T0 + timedelta(minutes=6))
    assert active_acknowledgements(day.store, T0 + timedelta(minutes=10)) == []
    (ended,) = acknowledgement_history(day.store)
    assert ended.cleared_why == "withdrawn by admin"
    for user, comment in (("", "x"), ("u", " ")):
        with pytest.raises(HappyFaceError):
            acknowledge(day.store, subject, user, comment, T0)


async def test_states_survive_a_restart_and_show_flapping(day: Day) -> None:
    for run in range(34):
        await day.run(run)
    day.restart()
    states = alarm_states(day.store)
    movers = states[("storage-shift", Subject("module", "dcache_movers"))]
    assert movers.confirmed is Level.FLAPPING and movers.notified is Level.FLAPPING
    pools = states[("storage-shift", Subject("module", "dcache_pools"))]
    assert pools.confirmed is Level.OK and pools.last_run_id == 34


SITE = """
[site]
title = "Wired"

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "cms"
type = "queue"
category = "batch"
title = "CMS queue"
instruction = "Tell the CMS contact."
source = "status.json"
settings.queue = "cms"

[[channel]]
id = "hook"
type = "webhook"
url = "{url}"

[[alarm]]
id = "batch"
modules = ["*"]
notify = ["hook"]
confirm = 1
"""


async def test_build_service_runs_the_alarms_after_each_run(
    tmp_path: Path, registry: Registry, webhook_server: WebhookServer
) -> None:
    path = write_site(tmp_path, SITE.format(url=webhook_server.url()))
    (tmp_path / "status.json").write_text(
        json.dumps({"queues": [{"name": "cms", "waiting": 5000, "running": 3}]})
    )
    site = load_site(path, registry)
    service = build_service(site, open_store(f"sqlite:///{tmp_path / 'hf.db'}"))
    assert any(isinstance(o, AlarmService) for o in service.runner.observers)
    try:
        await service.acquire_once()
    finally:
        await service.aclose()
    (post,) = webhook_server.posts
    assert post.json()["event"] == "unhappy" and "Tell the CMS contact." in post.json()["body"]


def test_store_engine_is_shared(database_url: str) -> None:
    store: Store = open_store(database_url)
    try:
        assert store.engine.dialect.name == store.dialect
    finally:
        store.close()
