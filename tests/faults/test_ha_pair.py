"""Two schedulers on one PostgreSQL, either killed at random moments and restarted: exactly one
record per slot, and a killed holder's run is taken over within `lock_ttl`."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.faults.schedulers import Scheduler, assert_one_record_per_slot, wait_for_a_run_after
from tests.faults.sites import all_runs, assert_no_partial_run, write_faulty_site
from tests.fixtures.processes import free_port
from tests.fixtures.sources import MisbehavingServer

KILLS = 5
LOCK_TTL = 5.0


@pytest.mark.postgres
def test_two_schedulers_killed_and_restarted_at_random(
    tmp_path: Path, postgres_url: str, misbehaving_server: MisbehavingServer, rng: random.Random
) -> None:
    pair = [
        Scheduler(
            write_faulty_site(
                tmp_path / name,
                postgres_url,
                misbehaving_server,
                lock_ttl=LOCK_TTL,
                port=free_port(),
                seconds=2.0,
            )
        )
        for name in ("a", "b")
    ]
    kills = []
    for scheduler in pair:
        scheduler.start()
    try:
        for _ in range(KILLS):
            for scheduler in pair:  # one of the pair is always up: nothing may be missed
                scheduler.wait_up()
            time.sleep(rng.uniform(0.0, 7.0))
            victim = rng.choice(pair)
            kills.append(victim.kill())
            victim.start()
        wait_for_a_run_after(postgres_url, max(s.started_at for s in pair))
    finally:
        for scheduler in pair:
            scheduler.stop()
    runs = all_runs(postgres_url)
    assert_one_record_per_slot(runs)
    assert_no_partial_run(postgres_url)
    assert not [r for r in runs if r.error.startswith("missed")]
    for run in runs:
        if run.error.startswith("interrupted"):  # a killed holder's: taken over in time
            killed = max(k for k in kills if k <= run.finished_at)  # type: ignore[operator]
            assert run.finished_at - killed <= timedelta(seconds=LOCK_TTL)  # type: ignore[operator]
    for scheduler in pair:
        assert all("Traceback" not in log for log in scheduler.logs())
