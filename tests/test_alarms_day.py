"""A simulated day of 96 runs through the real detector, outbox and channels, on both backends.

Mail goes to a real SMTP server and webhooks to a real HTTP server, both on loopback; the clock
is fake, so the day takes seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from happyface.alarms import Subject, acknowledge, active_acknowledgements, notification_log
from tests.fixtures.alarm_day import RUNS, STEP, T0, Day, load_day_site
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.webhook import WebhookServer

# (run, alarm, subject, event, channel) of every notification that must go out, and nothing else
EXPECTED_SENT = [
    (11, "storage-shift", "dcache_pools", "unhappy", "shift-mail"),
    (11, "storage-shift", "dcache_pools", "unhappy", "chat"),
    (15, "storage-shift", "dcache_pools", "escalation", "experts"),
    (23, "storage-shift", "dcache_pools", "reminder", "shift-mail"),
    (23, "storage-shift", "dcache_pools", "reminder", "chat"),
    (23, "storage-shift", "dcache_pools", "reminder", "experts"),
    (25, "storage-shift", "dcache_pools", "recovery", "shift-mail"),
    (25, "storage-shift", "dcache_pools", "recovery", "chat"),
    (25, "storage-shift", "dcache_pools", "recovery", "experts"),
    (33, "storage-shift", "dcache_movers", "flapping", "shift-mail"),
    (33, "storage-shift", "dcache_movers", "flapping", "chat"),
    (55, "storage-shift", "dcache_movers", "recovery", "shift-mail"),
    (55, "storage-shift", "dcache_movers", "recovery", "chat"),
    (71, "batch", "batch", "error", "chat"),
    (87, "batch", "batch", "recovery", "chat"),
]
SMTP_DOWN = range(9, 13)  # the mail server is off during these runs
ACK_RUN = 72
RESTART_RUN = 48


@pytest.fixture
def day(
    tmp_path: Path, database_url: str, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> Iterator[Day]:
    site = load_day_site(tmp_path, smtp_server.port, webhook_server.url(""))
    simulated = Day(site, database_url)
    yield simulated
    simulated.close()


def run_index(t: object) -> int:
    assert t is not None
    return int((t - T0) / STEP)  # type: ignore[operator]


async def live_through_the_day(day: Day, smtp: SmtpServer, webhook: WebhookServer) -> None:
    outcomes = []
    for run in range(RUNS):
        if run == SMTP_DOWN.start:
            smtp.stop()
        if run == SMTP_DOWN.stop:
            smtp.start()
        if run == RESTART_RUN:
            day.restart()
            await day.alarms(outcomes[-1])  # the same run observed again after the restart
        if run == ACK_RUN:
            acknowledge(
                day.store,
                Subject("category", "batch"),
                "/DC=org/CN=Shifter",
                "condor schedd restarted, watching it",
                day.clock.now,
            )
        outcomes.append(await day.run(run))


async def test_a_day_sends_exactly_one_notification_per_confirmed_change(
    day: Day, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    started = time.monotonic()
    await live_through_the_day(day, smtp_server, webhook_server)
    assert time.monotonic() - started <= 60

    log = list(reversed(notification_log(day.store, limit=1000)))
    sent = [
        (run_index(n.run_time), n.alarm_id, n.subject.id, n.event, n.channel_id)
        for n in log
        if n.state == "sent"
    ]
    assert sent == EXPECTED_SENT
    # the failure inside the Tuesday downtime is logged as silenced, once, and never sent
    silenced = [
        (run_index(n.run_time), n.subject.id, n.event, n.reason)
        for n in log
        if n.state == "suppressed"
    ]
    assert silenced == [(58, "batch", "error", "downtime")]
    assert not [n for n in log if n.state in ("pending", "failed")]

    # the mail server was down when the first mail was due: retried, delivered once
    first_mail = log[0]
    assert first_mail.channel_id == "shift-mail" and first_mail.attempts == 3
    assert run_index(first_mail.sent_at) == SMTP_DOWN.stop

    mails = smtp_server.messages
    assert [m["X-HappyFace-Event"] for m in mails] == [
        "unhappy",
        "reminder",
        "recovery",
        "flapping",
        "recovery",
    ]
    assert len({m["Message-ID"] for m in mails}) == len(mails)
    chat = [p.json()["text"] for p in webhook_server.posts if p.path == "/chat"]
    experts = [p.json() for p in webhook_server.posts if p.path == "/experts"]
    assert len(chat) == 7 and len(experts) == 3
    assert [e["event"] for e in experts] == ["escalation", "reminder", "recovery"]


async def test_messages_carry_the_instruction_and_a_link_to_that_time(
    day: Day, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    for run in range(12):
        await day.run(run)
    (mail,) = smtp_server.messages
    body = mail.get_payload(decode=True).decode()
    assert mail["Subject"] == "[GridKa] dCache pools (module dcache_pools): unhappy"
    assert mail["To"] == "shift@gridka.example.org"
    assert "Check the pools on the dCache admin page." in body
    link = "https://happyface.example.org/gridka/category/storage?at=2024-03-05T02:45Z#dcache_pools"
    assert link in body
    (post,) = [p for p in webhook_server.posts if p.path == "/chat"]
    assert set(post.json()) == {"text"}  # the Mattermost/Slack form
    assert link in post.json()["text"]


async def test_an_acknowledgement_stops_reminders_and_ends_at_recovery(
    day: Day, smtp_server: SmtpServer, webhook_server: WebhookServer
) -> None:
    await live_through_the_day(day, smtp_server, webhook_server)
    batch = Subject("category", "batch")
    assert active_acknowledgements(day.store, T0 + ACK_RUN * STEP, batch)
    assert not active_acknowledgements(day.store, T0 + (RUNS - 1) * STEP)
    reminders = notification_log(day.store, subject_id="batch")
    assert "reminder" not in {n.event for n in reminders}


async def test_nothing_is_sent_twice_when_a_run_is_observed_again(
    day: Day, smtp_server: SmtpServer
) -> None:
    outcomes = [await day.run(run) for run in range(12)]
    day.restart()
    for outcome in outcomes:
        await day.alarms(outcome)
        day.alarms.detect(outcome)
    await day.alarms.tick()
    assert len(smtp_server.messages) == 1
    assert len(notification_log(day.store)) == 2


async def test_the_day_is_fast_enough(day: Day) -> None:
    started = time.monotonic()
    for run in range(RUNS):
        await day.run(run)
    elapsed = time.monotonic() - started
    assert elapsed <= 60, f"a simulated day took {elapsed:.1f} s"
    assert day.clock.now == T0 + timedelta(minutes=15 * (RUNS - 1))
