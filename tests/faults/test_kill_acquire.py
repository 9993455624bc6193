"""kill -9 of `happyface acquire` at random moments: nothing half visible, nothing doubled.

After each kill the next run on this host begins at once: the lock lives 60 s, so a run that
had to wait for the dead process's lock to expire would be refused instead.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

from happyface.cli.assembly import build_service
from happyface.config.load import load_site
from tests.faults.sites import all_runs, assert_no_partial_run, write_faulty_site
from tests.fixtures.sources import MisbehavingServer

KILLS = 9
RUN_SECONDS = 0.6  # a run of the faulty site: its slowest source and the store


def wait_for_its_run(database: str, before: int, process: subprocess.Popen[bytes]) -> None:
    """Until the process has begun its run (or has ended)."""
    while len(all_runs(database)) == before and process.poll() is None:
        time.sleep(0.02)


def acquire(config: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "happyface", "-c", str(config), "acquire"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lifetime_of_acquire(config: Path) -> float:
    """How long one `happyface acquire` process lives, start-up to exit; it must succeed."""
    began = time.monotonic()
    assert acquire(config).wait(timeout=60) == 0
    return time.monotonic() - began


async def next_run(config: Path) -> None:
    """The next run on this host, right after a kill: it must not be refused by the lock."""
    service = build_service(load_site(config))
    try:
        assert await service.acquire_once() is not None
    finally:
        await service.aclose()


def test_acquire_killed_at_random_moments(
    tmp_path: Path, database_url: str, misbehaving_server: MisbehavingServer, rng: random.Random
) -> None:
    config = write_faulty_site(tmp_path, database_url, misbehaving_server)
    lifetime = lifetime_of_acquire(config)
    for _ in range(KILLS):
        before = len(all_runs(database_url))
        process = acquire(config)
        if rng.random() < 0.5:  # anywhere: start-up, lock, fetch, store or exit
            time.sleep(rng.uniform(0.0, lifetime))
        else:  # while it holds the lock: fetching, storing, releasing
            wait_for_its_run(database_url, before, process)
            time.sleep(rng.uniform(0.0, RUN_SECONDS))
        process.kill()
        process.wait()
        assert_no_partial_run(database_url)
        killed = len(all_runs(database_url)) - before
        assert killed in (0, 1)  # it began its run, or not yet
        asyncio.run(next_run(config))
        runs = all_runs(database_url)
        assert len(runs) == before + killed + 1  # one record per run, the killed one's kept
        assert runs[-1].state == "ok"
        assert not [r for r in runs if r.state == "running"]  # the killed run was failed
    assert_no_partial_run(database_url)
    failed = [r for r in all_runs(database_url) if r.state == "failed"]
    assert all(r.error == "interrupted: the process ended mid-run" for r in failed)
