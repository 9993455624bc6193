"""Alarms on data quality through real runs: a shared source goes down and comes back.

The source is a local HTTP server read by three modules; notifications go to a real SMTP
server on loopback. One outage of the source must make one notification, whoever tells it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest

from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.run import Runner, RunOutcome
from happyface.alarms import notification_log
from happyface.alarms.coverage import coverage
from happyface.alarms.service import AlarmService
from happyface.config.alarms import AlarmRule
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.quality import Quality, SourceReport
from happyface.status import Status
from happyface.storage import Store, open_store
from tests.fixtures.changing import Answer, ChangingServer
from tests.fixtures.site import write_site
from tests.fixtures.smtp import SmtpServer
from tests.test_source_quality import MODULE, SITE, squeue

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
DOWN = Answer(b"maintenance", 503, "text/plain")

CHANNEL = """
[[channel]]
id = "shift-mail"
type = "email"
host = "127.0.0.1"
port = {port}
security = "none"
sender = "happyface@example.org"
to = ["shift@example.org"]

[[alarm]]
id = "shift"
modules = ["jobs*", "feed"]
notify = ["shift-mail"]
confirm = 1
"""

SOURCE_ALARM = """
[[alarm]]
id = "collector"
sources = ["127_0_0_1_*_squeue_json"]
for = "30min"
confirm = 1
notify = ["shift-mail"]
"""


@dataclass
class Watched:
    """A site of three modules on one source, its runner and its alarms, on a fake clock."""

    runner: Runner
    store: Store
    server: ChangingServer
    now: datetime = T0
    alarms: AlarmService = field(init=False)  # its clock is this site's `now`

    async def run(self, answer: Answer) -> RunOutcome:
        self.server.answers["/squeue.json"] = answer
        self.server.answers["/other.json"] = Answer(squeue(self.now))
        outcome = await self.runner.run(now=self.now)
        assert outcome is not None
        await self.alarms(outcome)
        self.now += STEP
        return outcome

    def fresh(self) -> Answer:
        return Answer(squeue(self.now))


async def watched_site(
    tmp_path: Path,
    registry: Registry,
    database_url: str,
    server: ChangingServer,
    smtp: SmtpServer,
    extra: str,
) -> AsyncIterator[Watched]:
    url = server.url("")
    modules = "".join(MODULE.format(id=f"jobs{i}", server=url) for i in range(3))
    text = SITE.format(database=database_url, server=url, modules=modules)
    text += CHANNEL.format(port=smtp.port) + extra
    site = load_site(write_site(tmp_path / "site", text), registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    watched = Watched(Runner(site, store, fetcher, holder="test"), store, server)
    watched.alarms = AlarmService.build(site, store, fetcher, clock=lambda: watched.now)
    try:
        yield watched
    finally:
        await fetcher.aclose()
        store.close()


@pytest.fixture
async def covered(
    tmp_path: Path,
    registry: Registry,
    database_url: str,
    changing_server: ChangingServer,
    smtp_server: SmtpServer,
) -> AsyncIterator[Watched]:
    async for site in watched_site(
        tmp_path, registry, database_url, changing_server, smtp_server, SOURCE_ALARM
    ):
        yield site


@pytest.fixture
async def uncovered(
    tmp_path: Path,
    registry: Registry,
    database_url: str,
    changing_server: ChangingServer,
    smtp_server: SmtpServer,
) -> AsyncIterator[Watched]:
    async for site in watched_site(
        tmp_path, registry, database_url, changing_server, smtp_server, ""
    ):
        yield site


def unfolded(header: object) -> str:
    """A mail header as written, without the line breaks of a long one."""
    return str(header).replace("\r\n", "")


def body(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_a_source_alarm_tells_once_after_for_and_the_modules_stay_quiet(
    covered: Watched, smtp_server: SmtpServer
) -> None:
    first = await covered.run(covered.fresh())
    key = next(s.key for s in first.sources if s.key.endswith("squeue_json"))
    outages = [await covered.run(DOWN) for _ in range(3)]  # 12:15, 12:30, 12:45
    assert all(
        next(s for s in o.sources if s.key == key).state is Quality.UNREACHABLE for o in outages
    )
    # `for = "30min"`: nothing after 15 minutes, one mail once it has lasted 30
    told = [n for n in notification_log(covered.store) if n.event == "unreachable"]
    assert [n.run_time for n in told] == [T0 + 3 * STEP]
    await covered.run(covered.fresh())
    await covered.run(covered.fresh())

    mails = smtp_server.messages
    assert [unfolded(m["Subject"]) for m in mails] == [
        f"[Quality] {covered.server.url('/squeue.json')} (source {key}): unreachable",
        f"[Quality] {covered.server.url('/squeue.json')} (source {key}): recovery",
    ]
    text = body(mails[0])
    assert "is unreachable" in text and "503" in text
    assert "read by 3 module(s): jobs0, jobs1, jobs2" in text
    assert f"View: /source/{key}?at=2026-06-01T12:45Z" in text
    # the module alarm heard nothing of the greyed modules: the source alarm covers them
    log = notification_log(covered.store)
    assert {(n.alarm_id, str(n.subject)) for n in log} == {("collector", f"source {key}")}


async def test_without_a_source_alarm_the_module_alarm_tells_of_the_source_once(
    uncovered: Watched, smtp_server: SmtpServer
) -> None:
    first = await uncovered.run(uncovered.fresh())
    key = next(s.key for s in first.sources if s.key.endswith("squeue_json"))
    await uncovered.run(DOWN)
    await uncovered.run(DOWN)
    await uncovered.run(uncovered.fresh())
    await uncovered.run(uncovered.fresh())

    log = list(reversed(notification_log(uncovered.store)))
    assert [(n.alarm_id, str(n.subject), n.event, n.state) for n in log] == [
        ("shift", f"source {key}", "error", "sent"),
        ("shift", f"source {key}", "recovery", "sent"),
    ]
    mails = smtp_server.messages
    assert len(mails) == 2
    text = body(mails[0])
    assert "unreachable" in text and "no data for 3 module(s): jobs0, jobs1, jobs2" in text
    assert f"/source/{key}?at=" in text


DOWNTIME = """
[[downtime]]
id = "batch-maintenance"
categories = ["batch"]
start = 2026-06-01T12:00:00Z
end = 2026-06-01T14:00:00Z
"""


async def test_a_source_whose_every_module_is_in_downtime_is_silenced(
    tmp_path: Path,
    registry: Registry,
    database_url: str,
    changing_server: ChangingServer,
    smtp_server: SmtpServer,
) -> None:
    extra = SOURCE_ALARM.replace('for = "30min"', "") + DOWNTIME
    async for site in watched_site(
        tmp_path, registry, database_url, changing_server, smtp_server, extra
    ):
        await site.run(site.fresh())
        await site.run(DOWN)
        log = notification_log(site.store)
        assert [(n.event, n.state, n.reason) for n in log] == [
            ("unreachable", "suppressed", "downtime")
        ]
        assert smtp_server.messages == []


def rule(**given: object) -> AlarmRule:
    return AlarmRule.model_validate({"id": "a", "notify": ["mail"], **given})


def test_a_source_alarm_covers_a_source_only_in_the_states_it_reports() -> None:
    own = {"a": Status.ERROR, "b": Status.ERROR, "c": Status.HAPPY, "solo": Status.ERROR}
    shared = SourceReport(
        "batch_squeue", "https://batch", Quality.UNREACHABLE, "HTTP 503",
        modules=("a", "b", "c"), greyed={"a": Status.ERROR, "b": Status.ERROR},
    )  # fmt: skip
    alone = SourceReport("solo_src", "https://solo", Quality.UNPARSEABLE, modules=("solo",))
    stale_only = rule(sources=["batch_*", "solo_*"], on=["stale"])
    found = coverage([stale_only], [shared, alone], own)
    # not covered: the two greyed modules in error are one outage; a sole reader keeps its error
    assert found.silenced == frozenset() and list(found.outages) == ["batch_squeue"]
    assert found.outages["batch_squeue"].modules == ("a", "b")
    assert found.statuses(own) == {
        "a": Status.NOINFO, "b": Status.NOINFO, "c": Status.HAPPY, "solo": Status.ERROR
    }  # fmt: skip
    every = rule(sources=["*"])
    found = coverage([every], [shared, alone], own)
    assert found.silenced == {"a", "b", "solo"} and found.outages == {}
    assert found.statuses(own)["solo"] is Status.NOINFO
