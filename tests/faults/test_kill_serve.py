"""kill -9 of `happyface serve` at random moments, restarted at once: every slot has exactly
one record, nothing is half visible, no slot is missed while a scheduler served, and the
restarted scheduler never waits for the dead process's lock (it lives 60 s here)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.faults.schedulers import (
    Scheduler,
    assert_one_record_per_slot,
    missed_while_up,
    wait_for_a_run_after,
)
from tests.faults.sites import all_runs, assert_no_partial_run, write_faulty_site
from tests.fixtures.processes import free_port
from tests.fixtures.sources import MisbehavingServer

KILLS = 4


def test_serve_killed_at_random_moments(
    tmp_path: Path, database_url: str, misbehaving_server: MisbehavingServer, rng: random.Random
) -> None:
    config = write_faulty_site(
        tmp_path, database_url, misbehaving_server, port=free_port(), seconds=2.0
    )
    scheduler = Scheduler(config)
    scheduler.start()
    try:
        for _ in range(KILLS):
            if rng.random() < 0.5:  # half of the kills after the start-up, in a run or idle
                scheduler.wait_up()
            time.sleep(rng.uniform(0.0, 6.0))
            scheduler.kill()
            assert_no_partial_run(database_url)
            scheduler.start()
        wait_for_a_run_after(database_url, scheduler.started_at)
    finally:
        scheduler.stop()
    runs = all_runs(database_url)
    assert_one_record_per_slot(runs)
    assert_no_partial_run(database_url)
    assert not missed_while_up(runs, scheduler.lives())  # every restart ran its slot at once
    assert scheduler.lives(), "no incarnation ever came up"
    for log in scheduler.logs():
        assert "waiting for the run lock" not in log
        assert "Traceback" not in log
