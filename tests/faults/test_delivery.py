"""Notifications through faults: receivers that fail, hang, refuse and recover.

Every run is a real `happyface acquire` process (so each one is also a restart) against a real
webhook receiver and a real aiosmtpd server on loopback. Whatever the receivers do, each
notification must arrive exactly once, in order per channel, with the same identifier on every
attempt, and what is stored and shown about a failure is its class, never the receiver's words
or the secret in the channel's URL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from happyface.alarms import Notification, notification_log
from happyface.config.load import load_site
from happyface.storage import Store, open_store
from happyface.web import create_app
from tests.fixtures.site import write_site
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import Client
from tests.fixtures.webhook import WebhookServer

TOKEN = "hook-token-7d1f0c2b9e"  # in the hook's path, as Mattermost and Slack put it
KEY = "query-key-55aa31c4"  # in its query string
RELAY_TICKET = "relay-ticket-90ab12"  # in a URL in the mail server's refusal
RELAY_WORDS = "mailbox-of-ops-full"  # the mail server's own words in a refusal
# never in the process log: what a URL holds, and the receiver's answer ("No hook at ...")
LOGGED_NEVER = (TOKEN, KEY, RELAY_TICKET, "No hook at")
# never stored or shown: neither those nor anything else a receiver said
SHOWN_NEVER = (*LOGGED_NEVER, RELAY_WORDS)
HELD = "waiting for notification"
T = TypeVar("T")

SITE = """
[site]
title = "Faults"
interval = "15m"
database = "{database}"
[site.web]
base_url = "https://happyface.example.org/faults"

[[category]]
id = "storage"
title = "Storage"

[[module]]
id = "pools"
type = "json_value"
category = "storage"
title = "Pools"
source = "pools.json"
settings.values = {{ broken = "$.broken" }}
[[module.rules]]
metric = "broken"
critical = 0

[[module]]
id = "movers"
type = "json_value"
category = "storage"
title = "Movers"
source = "movers.json"
settings.values = {{ broken = "$.broken" }}
[[module.rules]]
metric = "broken"
critical = 0

[[channel]]
id = "hook"
type = "webhook"
url = "{hook}"
timeout = "1s"
retry_after = "1s"

[[channel]]
id = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "happyface@faults.example.org"
to = ["shift@faults.example.org"]
timeout = "5s"
retry_after = "1s"

[[alarm]]
id = "storage"
modules = ["*"]
notify = ["hook", "mail"]
confirm = 1
"""


@dataclass
class Faults:
    """The site folder, its database and receivers, and what the `acquire` processes said."""

    folder: Path
    database_url: str
    hook: WebhookServer
    smtp: SmtpServer
    output: list[str] = field(default_factory=list)

    def status(self, **broken: int) -> None:
        for module, count in broken.items():
            (self.folder / f"{module}.json").write_text(json.dumps({"broken": count}))

    def acquire(self) -> None:
        """One run in a new process, once every retry booked so far is due."""
        self._wait_for_retries()
        done = subprocess.run(
            [sys.executable, "-m", "happyface", "-c", str(self.folder), "acquire"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.output.append(done.stdout + done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr

    def log(self) -> list[Notification]:
        """The notification log, oldest first."""
        return sorted(self._read(lambda s: notification_log(s)), key=lambda n: n.id)

    def _wait_for_retries(self) -> None:
        booked = [n.next_attempt_at for n in self.log() if n.state == "pending"]
        if booked:
            time.sleep(max(0.0, (max(b for b in booked if b) - datetime.now(UTC)).total_seconds()))

    def _read(self, query: Callable[[Store], T]) -> T:
        store = open_store(self.database_url)
        try:
            return query(store)
        finally:
            store.close()

    def page(self, path: str) -> str:
        """A page of the dashboard (in process, on the same database) as an anonymous viewer."""
        site = load_site(self.folder)

        def get(store: Store) -> str:
            answer = Client(create_app(site, store)).get(path)
            assert answer.status_code == 200, answer.text
            return answer.text

        return self._read(get)

    def site_key(self) -> str:
        """The random key stored in the database; identifiers must derive from it."""
        from happyface.alarms.store import AlarmStore

        return self._read(lambda store: AlarmStore(store).site_key())


@pytest.fixture
def faults(
    tmp_path: Path, database_url: str, webhook_server: WebhookServer, smtp_server: SmtpServer
) -> Faults:
    hook = webhook_server.url(f"/hooks/{TOKEN}?key={KEY}")
    text = SITE.format(database=database_url, hook=hook, smtp_port=smtp_server.port)
    write_site(tmp_path, text)
    return Faults(tmp_path, database_url, webhook_server, smtp_server)


def reasons(log: list[Notification]) -> dict[tuple[str, str, str], str]:
    """The stored reason of each notification, by (channel, subject, event)."""
    return {(n.channel_id, n.subject.id, n.event): n.reason for n in log}


def test_receivers_that_fail_hang_and_recover_get_each_notice_once_in_order(
    faults: Faults,
) -> None:
    hook, smtp = faults.hook, faults.smtp
    # run 1: pools breaks; the hook answers 500, the relay greylists
    faults.status(pools=1, movers=0)
    hook.error_status = 500
    smtp.refuse(f"451 4.7.1 Greylisted, see https://relay.example.org/?ticket={RELAY_TICKET}")
    faults.acquire()
    assert reasons(faults.log()) == {
        ("hook", "pools", "unhappy"): "HTTP 500",
        ("mail", "pools", "unhappy"): "SMTP 451",
    }
    # run 2: pools recovers; the hook hangs beyond its timeout, the relay refuses
    faults.status(pools=0)
    hook.error_status, hook.hang_seconds = None, 3.0
    smtp.refuse(f"550 5.2.2 Rejected: {RELAY_WORDS}")
    faults.acquire()
    stored = reasons(faults.log())
    assert stored[("hook", "pools", "unhappy")] == "timeout"
    assert stored[("mail", "pools", "unhappy")] == "SMTP 550"
    # the recoveries wait behind the problems they end, on both channels
    assert stored[("hook", "pools", "recovery")].startswith(HELD)
    assert stored[("mail", "pools", "recovery")].startswith(HELD)
    # run 3: movers breaks; the hook answers a 404 page quoting its URL, the relay accepts
    faults.status(movers=1)
    hook.hang_seconds, hook.error_status = 0.0, 404
    faults.acquire()
    stored = reasons(faults.log())
    assert stored[("hook", "pools", "unhappy")] == "HTTP 404"
    assert stored[("hook", "movers", "unhappy")].startswith(HELD)
    shown = faults.page("/alarms.json") + faults.page("/alarms")
    assert "HTTP 404" in shown
    assert not [s for s in SHOWN_NEVER if s in shown]
    # run 4: the hook is back: everything it missed arrives, oldest first
    hook.error_status = None
    faults.acquire()
    faults.acquire()  # nothing new: nothing is sent twice
    log = faults.log()
    assert {n.state for n in log} == {"sent"}
    assert_each_once_in_order(faults, log)
    assert_stable_identifiers(faults, log)
    said = "\n".join(faults.output)
    assert "wait for notification" in said and "HTTP 404" in said
    assert not [s for s in LOGGED_NEVER if s in said]
    assert not [s for s in SHOWN_NEVER for n in log if s in n.reason]


def assert_each_once_in_order(faults: Faults, log: list[Notification]) -> None:
    hooked = [n.id for n in log if n.channel_id == "hook"]
    mailed = [n.id for n in log if n.channel_id == "mail"]
    assert len(hooked) == len(mailed) == 3
    assert [p.json()["notification_id"] for p in faults.hook.posts] == hooked
    by_key = {p.headers["Idempotency-Key"]: p.json()["notification_id"] for p in faults.hook.posts}
    subjects = [(p.json()["subject_id"], p.json()["event"]) for p in faults.hook.posts]
    assert subjects == [("pools", "unhappy"), ("pools", "recovery"), ("movers", "unhappy")]
    assert len(by_key) == 3
    titles = [m["Subject"] for m in faults.smtp.messages]
    assert titles == [n.message.title for n in log if n.channel_id == "mail"]


def assert_stable_identifiers(faults: Faults, log: list[Notification]) -> None:
    key = faults.site_key()
    assert len(key) >= 16
    hooked = {n.id for n in log if n.channel_id == "hook"}
    for attempt in faults.hook.attempts:
        ident = attempt.json()["notification_id"]
        assert ident in hooked
        assert attempt.headers["Idempotency-Key"] == f"happyface-{key}-{ident}"
    sent = {m["Subject"]: m["Message-ID"] for m in faults.smtp.messages}
    assert len(set(sent.values())) == 3
    for refused in faults.smtp.refused:  # the refused attempts carried the final identifier
        assert refused["Message-ID"] == sent[refused["Subject"]]
    assert all(key in ident for ident in sent.values())
