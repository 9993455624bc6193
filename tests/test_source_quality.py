"""The data-quality axis at acquisition: each source judged once per run, stored, greying."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface import Status
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.run import Runner
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.quality import Quality
from happyface.storage import open_store
from tests.fixtures.changing import Answer, ChangingServer
from tests.fixtures.site import write_site

DATA = Path(__file__).parent / "data"

SITE = """
[site]
title = "Quality"
database = "{database}"
fetch_timeout = 2
extract_timeout = 5
source_max_age = "1h"

[[category]]
id = "batch"
title = "Batch"

[[category]]
id = "other"
title = "Other"
{modules}
[[module]]
id = "feed"
title = "Other jobs"
type = "jobs"
category = "other"
source = "{server}/other.json"
"""

MODULE = """
[[module]]
id = "{id}"
title = "Jobs {id}"
type = "jobs"
category = "batch"
source = "{server}/squeue.json"
"""


def squeue(at: datetime, drop: str = "") -> bytes:
    """The authentic squeue answer, dated `at`, its jobs without the field `drop`."""
    document: dict[str, Any] = json.loads((DATA / "squeue.json").read_text())
    document["last_update"] = {"set": True, "infinite": False, "number": int(at.timestamp())}
    for job in document["jobs"]:
        job.pop(drop, None)
    return json.dumps(document).encode()


@pytest.fixture
async def runner(
    tmp_path: Path, registry: Registry, database_url: str, changing_server: ChangingServer
) -> AsyncIterator[Runner]:
    server = changing_server.url("")
    modules = "".join(MODULE.format(id=f"jobs{i}", server=server) for i in range(3))
    text = SITE.format(database=database_url, server=server, modules=modules)
    site = load_site(write_site(tmp_path / "site", text), registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    yield Runner(site, store, fetcher, holder="test")
    await fetcher.aclose()
    store.close()


async def run_at(runner: Runner, server: ChangingServer, now: datetime, body: Answer) -> Any:
    server.answers["/squeue.json"] = body
    server.answers["/other.json"] = Answer(squeue(now))
    outcome = await runner.run(now=now)
    assert outcome is not None
    return outcome


def states(outcome: Any) -> dict[str, Quality]:
    return {s.key: s.state for s in outcome.sources}


async def test_each_state_of_a_shared_source_is_told_once_and_greys_its_modules(
    runner: Runner, changing_server: ChangingServer
) -> None:
    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    key = f"127_0_0_1_{changing_server.port}_squeue_json"

    fresh = await run_at(runner, changing_server, t0, Answer(squeue(t0)))
    assert states(fresh)[key] is Quality.FRESH
    assert {r.status for r in fresh.records} == {Status.HAPPY}
    report = next(s for s in fresh.sources if s.key == key)
    assert report.modules == ("jobs0", "jobs1", "jobs2")
    assert report.size and report.latency is not None and report.source_time is not None

    t1 = t0 + timedelta(minutes=15)
    down = await run_at(runner, changing_server, t1, Answer(b"maintenance", 503, "text/plain"))
    assert states(down)[key] is Quality.UNREACHABLE
    greyed = [r for r in down.records if r.module_id.startswith("jobs")]
    assert {r.status for r in greyed} == {Status.NOINFO}
    assert all(f"source {key} is unreachable" in r.message for r in greyed)
    assert all("503" in r.error for r in greyed)  # the module's own error stays readable
    assert down.categories["batch"] is Status.NOINFO  # the roll-up follows: grey, not red
    report = next(s for s in down.sources if s.key == key)
    assert report.greyed == dict.fromkeys(("jobs0", "jobs1", "jobs2"), Status.ERROR)
    # `happyface acquire` names the modules of the unreachable source, and only those
    assert [r.module_id for r in down.unread] == ["jobs0", "jobs1", "jobs2"]
    assert fresh.unread == []

    t2 = t1 + timedelta(minutes=15)
    stale = await run_at(runner, changing_server, t2, Answer(squeue(t2 - timedelta(hours=2))))
    assert states(stale)[key] is Quality.STALE
    assert "more than max_age" in next(s for s in stale.sources if s.key == key).message
    assert states(stale)[f"127_0_0_1_{changing_server.port}_other_json"] is Quality.FRESH
    assert next(r for r in stale.records if r.module_id == "feed").status is Status.HAPPY

    t3 = t2 + timedelta(minutes=15)
    future = await run_at(runner, changing_server, t3, Answer(squeue(t3 + timedelta(hours=2))))
    assert states(future)[key] is Quality.STALE
    assert "in the future" in next(s for s in future.sources if s.key == key).message

    t4 = t3 + timedelta(minutes=15)
    changed = await run_at(runner, changing_server, t4, Answer(squeue(t4, drop="job_state")))
    report = next(s for s in changed.sources if s.key == key)
    assert report.state is Quality.FORMAT_CHANGED
    assert "$.jobs[].job_state" in report.disappeared

    t5 = t4 + timedelta(minutes=15)
    garbage = await run_at(
        runner, changing_server, t5, Answer(b"<html>oops</html>", 200, "text/html")
    )
    report = next(s for s in garbage.sources if s.key == key)
    assert report.state is Quality.UNPARSEABLE
    assert {r.status for r in garbage.records if r.module_id != "feed"} == {Status.NOINFO}

    stored = {s.key: s for s in runner.store.run_sources(garbage.run_id)}
    history = runner.store.source_history(key, garbage.run_id, 10)
    assert stored[key].state is Quality.UNPARSEABLE and stored[key].since == t5
    assert stored[key].last_good_at == t3  # the future-dated run was still read successfully
    assert [h.state for h in history] == [
        Quality.UNPARSEABLE,
        Quality.FORMAT_CHANGED,
        Quality.STALE,
        Quality.STALE,
        Quality.UNREACHABLE,
        Quality.FRESH,
    ]
    assert history[2].since == t2  # stale since the first stale run


ALARMS = """
[[channel]]
id = "shift-mail"
type = "email"
host = "127.0.0.1"
sender = "happyface@example.org"
to = ["shift@example.org"]

[[alarm]]
id = "modules"
modules = ["jobs*"]
notify = ["shift-mail"]
confirm = 1

[[alarm]]
id = "categories"
categories = ["batch"]
notify = ["shift-mail"]
confirm = 1
"""


async def test_module_alarms_hear_of_a_shared_source_down_once_per_alarm(
    tmp_path: Path, registry: Registry, changing_server: ChangingServer
) -> None:
    from happyface.alarms.service import AlarmService

    server = changing_server.url("")
    modules = "".join(MODULE.format(id=f"jobs{i}", server=server) for i in range(2))
    database = f"sqlite:///{tmp_path / 'hf.db'}"
    text = SITE.format(database=database, server=server, modules=modules) + ALARMS
    site = load_site(write_site(tmp_path / "site", text), registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    runner = Runner(site, store, fetcher, holder="test")
    service = AlarmService.build(site, store, channels={})
    try:
        t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        fine = await run_at(runner, changing_server, t0, Answer(squeue(t0)))
        assert service.detect(fine) == []
        t1 = t0 + timedelta(minutes=15)
        down = await run_at(runner, changing_server, t1, Answer(b"gone", 503, "text/plain"))
        assert {r.status for r in down.records if r.module_id != "feed"} == {Status.NOINFO}
        planned = service.detect(down)
        # no alarm on sources covers it: each alarm tells of the source once, not of each
        # module, and the category rolled up from greyed modules is no data, not an error
        key = down.sources[0].key
        assert sorted((p.alarm_id, str(p.subject), p.event) for p in planned) == [
            ("categories", f"source {key}", "error"),
            ("modules", f"source {key}", "error"),
        ]
        body = planned[0].message.body
        assert "unreachable" in body and "2 module(s): jobs0, jobs1" in body
        assert f"/source/{key}?at=" in planned[0].message.link
    finally:
        await fetcher.aclose()
        store.close()


async def test_retention_deletes_source_quality_with_its_runs(
    runner: Runner, changing_server: ChangingServer
) -> None:
    from happyface.config.settings import RetentionSettings

    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    first = await run_at(runner, changing_server, t0, Answer(squeue(t0)))
    t1 = t0 + timedelta(days=3)
    second = await run_at(runner, changing_server, t1, Answer(squeue(t1)))
    runner.store.cleanup(t1 + timedelta(minutes=1), RetentionSettings(results_days=1))
    assert runner.store.run_sources(first.run_id) == []
    assert len(runner.store.run_sources(second.run_id)) == 2


SECRET = """
[access.groups.admins]
dns = ["/CN=Ada Admin"]

[[module]]
id = "secret"
title = "Secret jobs"
type = "jobs"
category = "batch"
access = "hidden"
allow = ["admins"]
source = "{server}/secret.json"

[[module]]
id = "secret_shared"
title = "Secret reader of the shared source"
type = "jobs"
category = "batch"
access = "hidden"
allow = ["admins"]
source = "{server}/squeue.json"
"""


async def test_a_viewer_sees_a_source_only_through_a_module_they_may_see(
    tmp_path: Path, registry: Registry, changing_server: ChangingServer
) -> None:
    from happyface.web.access.policy import Policy
    from happyface.web.access.scope import ScopedStore

    server = changing_server.url("")
    database = f"sqlite:///{tmp_path / 'hf.db'}"
    modules = MODULE.format(id="jobs0", server=server) + SECRET.format(server=server)
    text = SITE.format(database=database, server=server, modules=modules)
    site = load_site(write_site(tmp_path / "site", text), registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    runner = Runner(site, store, fetcher, holder="test")
    try:
        t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        changing_server.answers["/secret.json"] = Answer(b"down", 503, "text/plain")
        outcome = await run_at(runner, changing_server, t0, Answer(b"down", 503, "text/plain"))
        port = changing_server.port
        shared, secret = f"127_0_0_1_{port}_squeue_json", f"127_0_0_1_{port}_secret_json"
        everything = {s.key: s for s in store.run_sources(outcome.run_id)}
        assert everything[shared].modules == ("jobs0", "secret_shared")
        assert secret in everything

        anonymous = ScopedStore(store, Policy(site, frozenset()))
        seen = {s.key: s for s in anonymous.run_sources(outcome.run_id)}
        assert secret not in seen  # read by a hidden module only: not even listed
        assert seen[shared].modules == ("jobs0",)  # the hidden reader is not named
        assert set(seen[shared].greyed) == {"jobs0"}
        assert anonymous.source_history(secret, outcome.run_id) == []
        admin = ScopedStore(store, Policy(site, frozenset({"admins"})))
        assert {s.key for s in admin.run_sources(outcome.run_id)} == set(everything)
    finally:
        await fetcher.aclose()
        store.close()
