"""Extracts that overrun their deadline: abandoned without holding up the process or the run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from happyface import Module, Result, Status
from happyface.acquisition.extracts import ExtractThreads
from happyface.acquisition.modulerun import ModuleJob, run_module
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.storage import open_store
from tests.fixtures.plugins import SLEEPER, environment_with, install_plugin
from tests.fixtures.site import write_site

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

SITE = """
[site]
title = "Slow parser"
extract_timeout = 1

[[category]]
id = "c"
title = "C"

[[module]]
id = "{module_type}"
type = "{module_type}"
category = "c"
title = "A parser"
"""


def test_acquire_exits_soon_after_an_extract_overruns_its_deadline(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    install_plugin(plugins, "sleeper", "hf_sleeper", SLEEPER, "Sleeper")
    config = write_site(tmp_path / "site", SITE.format(module_type="sleeper"))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "happyface", "-c", str(config), "acquire"],
        env=environment_with(plugins),
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "1 error" in done.stdout
    # the extract sleeps 60 s; start-up, a 1 s deadline and storing take a few seconds
    assert elapsed < 20, f"the process took {elapsed:.1f} s to end"
    store = open_store(f"sqlite:///{tmp_path / 'site' / 'happyface.db'}")
    try:
        (run,) = store.runs(limit=10)
        (row,) = store.results(run.id)
        assert row.status is Status.ERROR and "longer than 1 s" in row.message
    finally:
        store.close()


class Blocked(Module):
    """Extracts only once the test opens its gate."""

    source_names: ClassVar[tuple[str, ...]] = ()
    gate: ClassVar[threading.Event]

    def extract(self, inputs: Any, now: datetime) -> Result:
        self.gate.wait(30)
        return Result(status=Status.HAPPY, message="through")


async def test_a_module_with_an_abandoned_extract_is_refused_until_it_ends(
    tmp_path: Path,
) -> None:
    Blocked.gate = threading.Event()
    registry = Registry(points=[])
    registry.register("blocked", Blocked)
    site = load_site(write_site(tmp_path, SITE.format(module_type="blocked")), registry)
    threads = ExtractThreads(per_module=1)

    def job() -> ModuleJob:
        return ModuleJob(site.modules[0], {}, NOW, 0.3, None, False, threads)

    first = await run_module(job())
    assert first.status is Status.ERROR and "longer than 0.3 s" in first.message
    assert threads.abandoned() == 1
    refused = await run_module(job())
    assert refused.status is Status.ERROR
    assert "still running" in refused.message and refused.extract_seconds < 0.1
    Blocked.gate.set()
    for _ in range(100):
        if threads.abandoned() == 0:
            break
        await asyncio.sleep(0.05)
    assert threads.abandoned() == 0
    assert (await run_module(job())).status is Status.HAPPY


async def test_a_stuck_extract_does_not_take_a_worker_from_the_others() -> None:
    gate = threading.Event()
    threads = ExtractThreads(workers=1)
    with pytest.raises(TimeoutError):
        await threads.run("stuck", 0.1, gate.wait, 10)
    # the only worker is stuck, yet the next extract runs at once in another
    assert await threads.run("next", 2.0, lambda: "done") == "done"
    gate.set()


async def test_a_worker_that_took_a_queued_extract_then_stuck_starves_no_later_one() -> None:
    """A worker that finishes an extract and takes one queued behind it is busy, not idle: when
    that one is stuck and abandoned, a later extract gets a worker of its own at once."""
    gate = threading.Event()
    threads = ExtractThreads(workers=1)
    first = asyncio.create_task(threads.run("first", 5.0, time.sleep, 0.2))
    stuck = asyncio.create_task(threads.run("stuck", 1.0, gate.wait, 30))  # queued behind first
    try:
        await first
        with pytest.raises(TimeoutError):
            await stuck
        assert await threads.run("later", 2.0, lambda: "done") == "done"
    finally:
        gate.set()


async def test_extracts_beyond_the_pool_wait_for_a_worker() -> None:
    threads = ExtractThreads(workers=2)
    running = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    await asyncio.gather(*(threads.run(f"m{i}", 10, work) for i in range(8)))
    assert most == 2


async def test_an_extract_given_up_before_a_worker_took_it_never_runs() -> None:
    gate = threading.Event()
    started: list[str] = []
    threads = ExtractThreads(workers=1)
    busy = asyncio.create_task(threads.run("busy", 5.0, gate.wait, 5))
    await asyncio.sleep(0.05)  # the only worker is taken; the bound lets no second one start
    with pytest.raises(TimeoutError):
        await threads.run("late", 0.1, started.append, "late")
    gate.set()
    await busy
    await asyncio.sleep(0.1)  # the worker took the given-up job meanwhile
    assert started == []
    assert threads.abandoned() == 0


async def test_an_extract_that_raised_is_not_counted_abandoned() -> None:
    threads = ExtractThreads()

    def fail() -> None:
        raise ValueError("garbage")

    for _ in range(20):  # the worker's bookkeeping ends before the run hears of the error
        with pytest.raises(ValueError, match="garbage"):
            await threads.run("m", 5.0, fail)
        assert not threads.busy("m")
