"""Scheduling under faults, in process: dead lock holders, takeovers, restarts, missed slots."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from happyface import RunLockedError
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.holder import process_start, this_process
from happyface.acquisition.pending import PendingFailures
from happyface.acquisition.run import Runner
from happyface.acquisition.schedule import Scheduler, slot_of
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.storage import Store, open_store
from happyface.storage.lock import LockHolder
from tests.fixtures.site import write_site

SITE = """
[site]
title = "Scheduled site"
database = "{database}"
interval = "10s"
lock_ttl = {lock_ttl}

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "cms"
type = "queue"
category = "batch"
title = "CMS queue"
source = "queues.json"
settings = {{ queue = "cms" }}
"""
INTERVAL = timedelta(seconds=10)
T = TypeVar("T")


def make_runner(folder: Path, registry: Registry, database: str, lock_ttl: float = 30) -> Runner:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "queues.json").write_text(json.dumps({"queues": [{"name": "cms", "waiting": 1}]}))
    config = write_site(folder, SITE.format(database=database, lock_ttl=lock_ttl))
    site = load_site(config, registry)
    return Runner(site, open_store(site.database_url), Fetcher(base_dir=site.root))


@pytest.fixture
async def runner(tmp_path: Path, registry: Registry, database_url: str) -> AsyncIterator[Runner]:
    made = make_runner(tmp_path / "site", registry, database_url)
    yield made
    await made.fetcher.aclose()
    made.store.close()


def records(store: Store) -> list[tuple[datetime | None, str, str]]:
    """(slot, state, error) of every run, oldest first."""
    runs = store.runs(datetime(2000, 1, 1, tzinfo=UTC), limit=10_000, include_failed=True)
    return [(r.slot, r.state, r.error) for r in reversed(runs)]


def dead_process() -> LockHolder:
    """A holder on this machine whose process has ended."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = process_start(child.pid)
    child.kill()
    child.wait()
    me = this_process()
    return LockHolder(f"{me.host}:{child.pid}", me.host, child.pid, me.machine, started or "")


async def test_a_dead_holder_on_this_machine_is_taken_over_at_once(runner: Runner) -> None:
    now = datetime.now(UTC)
    dead = dead_process()
    assert runner.store.acquire_lock(dead, 3600, now)
    orphan = runner.store.begin_run(now, dead.name, {}, slot=slot_of(now, 10) - INTERVAL)
    outcome = await runner.run(now + timedelta(seconds=1))
    assert outcome is not None  # not refused for the hour the dead lock had left
    killed = runner.store.run(orphan)  # type: ignore[arg-type]
    assert killed is not None and killed.state == "failed" and "interrupted" in killed.error
    assert runner.store.lock_info() is None  # released after the run


async def test_a_live_holder_elsewhere_is_named_with_its_host_pid_and_times(
    runner: Runner,
) -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    other = LockHolder("db-2:4242", "db-2", 4242, "another-machine", "123")
    assert runner.store.acquire_lock(other, 30, now)
    assert runner.store.renew_lock("db-2:4242", 30, now + timedelta(seconds=10))
    with pytest.raises(RunLockedError) as refused:
        await runner.run(now + timedelta(seconds=12))
    message = str(refused.value)
    assert "db-2 (PID 4242)" in message
    assert "since 2026-03-01 12:00:00 UTC" in message
    assert "last renewed 2026-03-01 12:00:10 UTC" in message
    assert "frees at 2026-03-01 12:00:40 UTC" in message


async def test_a_holder_that_reused_a_live_pid_is_still_alive(runner: Runner) -> None:
    """A PID of this machine that runs, but started when the holder did: alive, not taken."""
    me = this_process()
    now = datetime.now(UTC)
    twin = replace(me, name="twin")  # this very process, under another name
    assert runner.store.acquire_lock(twin, 60, now)
    with pytest.raises(RunLockedError):
        await runner.run(now)
    reused = replace(me, name="old-owner", process="1")  # same PID, another process start
    assert runner.store.acquire_lock(reused, 60, now, replacing=runner.store.lock_info())
    assert await runner.run(now) is not None


async def test_a_restarted_scheduler_never_runs_a_slot_the_other_ran(
    runner: Runner, tmp_path: Path
) -> None:
    slot = slot_of(datetime.now(UTC), 10)
    twin = Runner(runner.site, runner.store, runner.fetcher, holder="twin")
    assert await twin.run(slot + timedelta(seconds=1), slot=slot) is not None
    restarted = Scheduler(runner, PendingFailures(tmp_path / "pending.jsonl"))
    # as forever() does at start-up, for the slot it finds current (the same slot: asking the
    # clock again here could cross into the next slot on a slow machine, a legitimate run)
    await restarted.run_slot(slot)
    assert [(s, state) for s, state, _ in records(runner.store)] == [(slot, "ok")]


async def test_slots_nobody_ran_are_recorded_as_missed_with_the_reason(runner: Runner) -> None:
    slot = slot_of(datetime.now(UTC), 10)
    first = slot - 4 * INTERVAL
    assert await runner.run(first + timedelta(seconds=1), slot=first) is not None
    dead = dead_process()
    assert runner.store.acquire_lock(dead, 3600, slot - INTERVAL)
    late = await runner.run(slot + timedelta(seconds=7), slot=slot)
    assert late is not None
    got = records(runner.store)
    assert [s for s, _, _ in got] == [first + k * INTERVAL for k in range(5)]
    for _, state, error in got[1:4]:
        assert state == "failed"
        assert error.startswith("missed: no run was started for this slot")
        assert dead.name in error  # the holder that stopped
    (run,) = runner.store.runs(slot, slot + INTERVAL)
    assert run.slot == slot and run.late  # run at takeover, 7 s after its slot began


async def early_in_a_slot(room: float = 5.0) -> datetime:
    """The current slot, once at least `room` seconds of it are left (waiting for the next).

    A scheduler stops asking for a lock when its slot ends: a lock that expires only after
    that is rightly never taken over for it, which is not what a test of takeover wants.
    """
    now = datetime.now(UTC)
    left = (slot_of(now, 10) + INTERVAL - now).total_seconds()
    if left < room:
        await asyncio.sleep(left + 0.05)
    return slot_of(datetime.now(UTC), 10)


async def test_another_host_is_taken_over_when_its_lock_expires(
    tmp_path: Path, registry: Registry, database_url: str
) -> None:
    runner = make_runner(tmp_path / "site", registry, database_url, lock_ttl=2)
    try:
        slot = await early_in_a_slot()
        gone = LockHolder("db-2:4242", "db-2", 4242, "another-machine", "123")
        assert runner.store.acquire_lock(gone, 2, datetime.now(UTC))  # it dies holding it
        scheduler = Scheduler(runner, PendingFailures(tmp_path / "pending.jsonl"))
        await scheduler.run_slot(slot)  # waits for the lock to expire, then runs the slot
        ((got_slot, state, _),) = records(runner.store)
        assert (got_slot, state) == (slot, "ok")
    finally:
        await runner.fetcher.aclose()
        runner.store.close()


def test_one_record_per_slot_whoever_records_it(store: Store, tmp_path: Path) -> None:
    slot = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    later = slot + timedelta(seconds=3)
    assert store.record_failed_run(slot, later, "database unreachable: a", slot) is not None
    assert store.record_failed_run(slot, later, "database unreachable: b", slot) is None
    assert store.begin_run(later, "h", {}, slot=slot) is None
    assert store.record_missed_slots([slot, slot + INTERVAL], "missed") == 1
    # two schedulers sharing a config folder spool the same slot; flushed: one record
    a = PendingFailures(tmp_path / "state" / "pending.jsonl")
    b = PendingFailures(tmp_path / "state" / "pending.jsonl")
    next_slot = slot + 2 * INTERVAL
    a.add(next_slot, next_slot, "database unreachable: down", slot=next_slot)
    b.add(next_slot, next_slot, "database unreachable: down", slot=next_slot)
    assert a.flush(store) == 1
    assert [(s, e) for s, _, e in records(store)] == [
        (slot, "database unreachable: a"),
        (slot + INTERVAL, "missed"),
        (next_slot, "database unreachable: down"),
    ]


def test_a_spooled_failure_of_a_begun_run_replaces_interrupted(
    store: Store, tmp_path: Path
) -> None:
    slot = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert store.acquire_lock("a", 60, slot)
    run_id = store.begin_run(slot, "a", {}, slot=slot)
    assert run_id is not None
    spool = PendingFailures(tmp_path / "pending.jsonl")
    reason = "database x is unreachable: connection refused"
    spool.add(slot, slot + timedelta(seconds=2), reason, slot=slot, run_id=run_id)
    spool.add(slot, slot + timedelta(seconds=3), f"database unreachable: {reason}", slot=slot)
    assert store.abandon_stale_runs("a", slot + timedelta(seconds=5)) == 1  # "interrupted"
    spool.flush(store)
    assert records(store) == [(slot, "failed", reason)]


async def test_the_event_loop_never_waits_for_the_database(
    runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` shares its loop with the web: every store call of a run goes to a thread."""
    on_the_loop: list[str] = []
    for name in (
        "lock_info", "acquire_lock", "abandon_stale_runs", "newest_slot", "begin_run",
        "finish_run", "release_lock", "record_failed_run",
    ):  # fmt: skip
        monkeypatch.setattr(runner.store, name, watched(getattr(runner.store, name), on_the_loop))
    scheduler = Scheduler(runner, PendingFailures(tmp_path / "pending.jsonl"))
    scheduler.pending.add(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), "x")
    await scheduler.run_slot(slot_of(datetime.now(UTC), 10))
    assert [state for _, state, _ in records(runner.store)] == ["failed", "ok"]
    assert on_the_loop == []


def watched(call: Callable[..., T], on_the_loop: list[str]) -> Callable[..., T]:
    """`call`, noting its name when it runs on the event loop's thread."""

    def noting(*args: Any, **kwargs: Any) -> T:
        with contextlib.suppress(RuntimeError):  # no running loop here: a worker thread
            asyncio.get_running_loop()
            on_the_loop.append(call.__name__)
        return call(*args, **kwargs)

    return noting


async def test_a_timer_that_wakes_early_still_runs_the_slot_it_slept_for(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Event loops round timers (uvloop to the millisecond), so a sleep until a slot can end
    a little before it by the wall clock; the slot slept for must run, not be recorded missed,
    and its run must not start before its slot."""
    now = [datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC)]
    ran: list[datetime] = []

    async def early_sleep(seconds: float) -> None:
        # three milliseconds early on a long sleep; a short one to make up ends on time
        now[0] += timedelta(seconds=seconds - (0.003 if seconds > 0.01 else 0.0))

    async def run_slot(slot: datetime) -> None:
        assert now[0] >= slot, "a run began before its slot"
        ran.append(slot)
        now[0] += timedelta(seconds=1)  # the run itself takes a second
        if len(ran) == 3:
            raise asyncio.CancelledError

    scheduler = Scheduler(runner, PendingFailures(Path("unused")), clock=lambda: now[0])
    monkeypatch.setattr(scheduler, "run_slot", run_slot)
    monkeypatch.setattr("happyface.acquisition.schedule.asyncio.sleep", early_sleep)
    with pytest.raises(asyncio.CancelledError):
        await scheduler.forever()
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert ran == [start, start + INTERVAL, start + 2 * INTERVAL]


async def test_a_run_that_ends_in_the_next_slot_is_followed_by_that_slots_run(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run begun late (a slow start-up) ends inside the next slot: that slot is run at once,
    not slept through and recorded missed while the process was alive."""
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    now = [start + timedelta(seconds=8)]  # the process came up 8 s into its slot
    ran: list[tuple[datetime, datetime]] = []

    async def sleep(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    async def run_slot(slot: datetime) -> None:
        ran.append((slot, now[0]))
        now[0] += timedelta(seconds=3)  # each run takes 3 s
        if len(ran) == 3:
            raise asyncio.CancelledError

    scheduler = Scheduler(runner, PendingFailures(Path("unused")), clock=lambda: now[0])
    monkeypatch.setattr(scheduler, "run_slot", run_slot)
    monkeypatch.setattr("happyface.acquisition.schedule.asyncio.sleep", sleep)
    with pytest.raises(asyncio.CancelledError):
        await scheduler.forever()
    assert [slot for slot, _ in ran] == [start, start + INTERVAL, start + 2 * INTERVAL]
    began = [moment for _, moment in ran]
    # the second run follows the first at once (11 s, inside its slot); the third waits for its own
    assert began == [
        start + timedelta(seconds=8),
        start + timedelta(seconds=11),
        start + 2 * INTERVAL,
    ]
