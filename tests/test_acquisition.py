"""Whole acquisition runs: concurrent fetches, isolated failures, atomic storage, one at a time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from happyface import RunLockedError, Status, StorageError
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.pending import PendingFailures
from happyface.acquisition.run import Runner
from happyface.acquisition.schedule import Scheduler
from happyface.archive.runs import Archive
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.plugins import Registry
from happyface.sources import RawInput, Source
from happyface.storage import Store, open_store
from happyface.storage.rollup import DAY, bucket_of, open_day, written_until
from tests.fixtures.site import write_site
from tests.fixtures.sources import MisbehavingServer

QUEUES = {
    "queues": [
        {"name": "cms", "waiting": 12, "running": 340},
        {"name": "atlas", "waiting": 2500, "running": 10},
    ]
}

SITE = """
[site]
title = "Test site"
database = "{database}"
fetch_timeout = 2
extract_timeout = 2

[[category]]
id = "batch"
title = "Batch"

[[category]]
id = "broken"
title = "Broken sources"

[[module]]
id = "cms"
type = "queue"
category = "batch"
title = "CMS queue"
source = "queues.json"
settings = {{ queue = "cms" }}

[[module]]
id = "atlas"
type = "queue"
category = "batch"
title = "ATLAS queue"
source = "queues.json"
settings = {{ queue = "atlas" }}

[[module]]
id = "shared_a"
type = "queue"
category = "broken"
title = "Not a queue page, fetched once for two modules"
source = "{server}/payload"
settings = {{ queue = "cms" }}

[[module]]
id = "shared_b"
type = "queue"
category = "broken"
title = "Same source as shared_a"
source = "{server}/payload"
settings = {{ queue = "cms" }}

[[module]]
id = "down"
type = "queue"
category = "broken"
title = "HTTP 503"
source = "{server}/status/503"
settings = {{ queue = "cms" }}

[[module]]
id = "hanging"
type = "queue"
category = "broken"
title = "Never answers"
source = "{server}/hang"
settings = {{ queue = "cms" }}

[[module]]
id = "dripping"
type = "queue"
category = "broken"
title = "One byte a second"
source = "{server}/drip?bytes=100"
settings = {{ queue = "cms" }}
"""


def make_site(folder: Path, registry: Registry, database: str, server: str) -> Site:
    (folder / "queues.json").parent.mkdir(parents=True, exist_ok=True)
    (folder / "queues.json").write_text(json.dumps(QUEUES))
    return load_site(write_site(folder, SITE.format(database=database, server=server)), registry)


@pytest.fixture
async def runner(
    tmp_path: Path, registry: Registry, database_url: str, misbehaving_server: MisbehavingServer
) -> AsyncIterator[Runner]:
    site = make_site(tmp_path / "site", registry, database_url, misbehaving_server.base_url)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    yield Runner(site, store, fetcher, Archive(tmp_path / "archive"), holder="test")
    await fetcher.aclose()
    store.close()


async def test_a_run_rates_and_stores_every_module(
    runner: Runner, misbehaving_server: MisbehavingServer
) -> None:
    outcome = await runner.run()
    assert outcome is not None
    by_id = {r.module_id: r for r in outcome.records}
    assert by_id["cms"].status is Status.HAPPY
    assert by_id["cms"].message == "12 waiting, 340 running"
    assert by_id["atlas"].status is Status.UNHAPPY  # 2500 waiting > the default critical 1000
    assert by_id["down"].status is Status.ERROR
    assert "HTTP 503" in by_id["down"].message
    assert by_id["hanging"].status is Status.ERROR
    assert "within 2 s" in by_id["hanging"].message
    assert by_id["dripping"].status is Status.ERROR
    # a source two modules cannot read is said once, for the source; the modules have no data
    assert by_id["shared_a"].status is Status.NOINFO
    assert "is unparseable" in by_id["shared_a"].message
    assert "no usable entry for queue 'cms'" in by_id["shared_a"].error
    assert outcome.categories == {"batch": Status.UNHAPPY, "broken": Status.ERROR}
    # identical sources are fetched once
    assert sum(r.path == "/payload" for r in misbehaving_server.requests) == 1

    store = runner.store
    latest = store.latest_run()
    assert latest is not None and latest.id == outcome.run_id and latest.state == "ok"
    stored = {r.module_id: r for r in store.results(outcome.run_id)}
    assert stored["cms"].metrics == {"waiting": 12.0, "running": 340.0}
    assert stored["down"].status is Status.ERROR
    assert store.category_statuses(outcome.run_id) == outcome.categories
    assert store.config_of(outcome.run_id)["title"] == "Test site"


async def test_a_hang_and_a_drip_cost_the_deadline_not_more(runner: Runner) -> None:
    started = asyncio.get_running_loop().time()
    await runner.run()
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 2 + 1.5  # the 2 s deadline of the hanging and dripping sources
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == []


async def test_failed_modules_keep_their_raw_inputs(runner: Runner, tmp_path: Path) -> None:
    outcome = await runner.run()
    assert outcome is not None
    by_id = {r.module_id: r for r in outcome.records}
    assert by_id["shared_a"].archive is not None
    archive = Archive(tmp_path / "archive")
    names = archive.list(by_id["shared_a"].archive)
    assert "meta.json" in names
    (body,) = [n for n in names if n.startswith("main")]
    assert b"happyface" in archive.open(by_id["shared_a"].archive, body)
    # the site archives everything by default: good modules too
    assert by_id["cms"].archive is not None


async def test_a_fetcher_bug_costs_its_source_not_the_run(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fetch = runner.fetcher.fetch

    async def buggy_fetch(source: Source, now: datetime) -> RawInput:
        if source.url.endswith("/status/503"):
            raise RuntimeError("a bug")
        return await real_fetch(source, now)

    monkeypatch.setattr(runner.fetcher, "fetch", buggy_fetch)
    outcome = await runner.run()
    assert outcome is not None
    by_id = {r.module_id: r for r in outcome.records}
    assert by_id["down"].status is Status.ERROR
    assert "failed unexpectedly" in by_id["down"].message
    assert by_id["cms"].status is Status.HAPPY


async def test_only_one_run_at_a_time(runner: Runner) -> None:
    other = Runner(runner.site, runner.store, runner.fetcher, holder="other-host:1")
    now = datetime.now(UTC)
    assert runner.store.acquire_lock("other-host:1", 60, now)
    with pytest.raises(RunLockedError, match="another HappyFace process"):
        await runner.run(now)
    runner.store.release_lock("other-host:1")
    assert await other.run(now) is not None


async def test_two_schedulers_run_a_slot_once(runner: Runner) -> None:
    slot = datetime.now(UTC)
    twin = Runner(runner.site, runner.store, runner.fetcher, holder="twin:2")
    results = await asyncio.gather(
        runner.run(slot, slot=slot),
        twin.run(slot + timedelta(milliseconds=1), slot=slot),
        return_exceptions=True,
    )
    done = [r for r in results if r is not None and not isinstance(r, BaseException)]
    assert len(done) == 1
    assert all(r is None or isinstance(r, RunLockedError) for r in results if r not in done)
    assert (
        len(
            runner.store.runs(
                slot - timedelta(minutes=1), slot + timedelta(minutes=5), include_failed=True
            )
        )
        == 1
    )


def first_open_day(store: Store) -> int | None:
    """The first day whose rollups are not written (see storage/rollup.py)."""
    return store.read("reading the marks", lambda conn: open_day(written_until(conn)))


@pytest.mark.parametrize("writing", ["works", "fails"])
async def test_the_first_run_of_a_day_is_followed_by_the_rollups_of_the_day_before(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, writing: str
) -> None:
    evening = datetime(2024, 3, 1, 23, 50, tzinfo=UTC)
    assert await runner.run(evening) is not None
    assert first_open_day(runner.store) == bucket_of(evening, DAY)
    if writing == "fails":  # the run is stored: it stays so, the days wait for the next one

        def outage(now: datetime) -> None:
            raise StorageError("database unreachable")

        monkeypatch.setattr(runner.store, "write_ended_days", outage)
    morning = evening + timedelta(minutes=15)
    outcome = await runner.run(morning)
    assert outcome is not None and runner.store.latest_run() == runner.store.run(outcome.run_id)
    written = bucket_of(morning if writing == "works" else evening, DAY)
    assert first_open_day(runner.store) == written


async def test_a_run_that_fails_is_recorded_and_never_visible(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_finish(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runner.store, "finish_run", broken_finish)
    with pytest.raises(Exception, match="disk full"):
        await runner.run()
    assert runner.store.latest_run() is None
    (failed,) = runner.store.runs(
        datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC), include_failed=True
    )
    assert failed.state == "failed" and "disk full" in (failed.error or "")


def test_pending_failures_are_recorded_once_and_a_torn_line_is_dropped(
    tmp_path: Path, database_url: str
) -> None:
    spool = PendingFailures(tmp_path / "state" / "pending.jsonl")
    started = datetime(2024, 3, 1, tzinfo=UTC)
    spool.add(started, started + timedelta(seconds=5), "database unreachable: refused")
    with spool.path.open("a") as f:
        f.write('{"started_at": "2024-03')  # the process died mid-append
    store = open_store(database_url)
    try:
        assert spool.flush(store) == 1
        (failed,) = store.runs(started, started, include_failed=True)
        assert failed.error == "database unreachable: refused"
        assert not spool.path.exists()
        spool.path.write_text("not json\n")
        assert spool.flush(store) == 0
        assert not spool.path.exists()
    finally:
        store.close()


async def test_a_slot_outlives_any_failure_and_spools_an_unreachable_database(
    runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler = Scheduler(runner, PendingFailures(tmp_path / "pending.jsonl"))
    # the StorageError last: the next slot would record (and remove) what it spooled
    for error in (RuntimeError("a bug"), StorageError("database x is unreachable")):

        async def failing_run(*args: object, error: Exception = error, **kwargs: object) -> None:
            raise error

        monkeypatch.setattr(runner, "run", failing_run)
        await scheduler.run_slot(datetime.now(UTC))  # logged, never raised
    (line,) = scheduler.pending.path.read_text().splitlines()
    assert "database unreachable: database x is unreachable" in line


def test_store_fixture_is_the_real_backend(database_url: str) -> None:
    store: Store = open_store(database_url)
    try:
        assert store.dialect == database_url.split(":")[0].split("+")[0]
    finally:
        store.close()
