"""PostgreSQL stopped and started under a running `happyface serve`, at seeded random moments.

The database goes away before a run's slot, while a run waits for a slow source (between the
committed `running` row and the run's final transaction), and after a run is stored. While
it is away, every endpoint answers 503 in its own format and no traceback reaches a page;
the log holds at most one traceback per outage; and once it is back, the pages answer again
and every slot has at most one run record, a failed slot with the database as its reason.
"""

from __future__ import annotations

import math
import random
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from happyface.storage import RunInfo, open_store
from tests.fixtures.postgres import PostgresCluster
from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.site import write_site
from tests.fixtures.sources import MisbehavingServer

SEED = 20_261_201
INTERVAL = 10.0
#: how long the slow source makes each run wait between its `running` row and its results
RUN_SECONDS = 3.0
PHASES = ("before", "during", "after")
#: the state of the slot's run that marks the moment to stop PostgreSQL
PHASE_STATES = {"during": "running", "after": "ok"}
MODULES = ("slow", "quick_a", "quick_b")
PAGES = ("/", "/category/web", "/module/slow", "/plot?m=slow:latency")
XML = ("/status.xml", "/category?action=getxml")
JSON = ("/api/v1/status", "/api/v1/runs", "/overview.json", "/live")

SITE = """
[site]
title = "Outage site"
interval = "{interval:g}s"
database = "{database}"
fetch_timeout = 10
stale_after = "1h"

[site.web]
port = {port}

[[category]]
id = "web"
title = "Web"

[[category]]
id = "more"
title = "More"

[[module]]
id = "slow"
type = "http_check"
category = "web"
title = "A slow page"
source = "{slow}"

[[module]]
id = "quick_a"
type = "http_check"
category = "more"
title = "A quick page"
source = "{quick}"

[[module]]
id = "quick_b"
type = "http_check"
category = "more"
title = "Another quick page"
source = "{quick}"
"""


def test_database_outages_are_answered_in_each_format_and_logged_once(
    postgres_cluster: PostgresCluster, misbehaving_server: MisbehavingServer, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    postgres_cluster.server.admin("CREATE DATABASE happyface")
    database = postgres_cluster.server.url("happyface")
    port = free_port()
    config = write_site(
        tmp_path,
        SITE.format(
            interval=INTERVAL,
            database=database,
            port=port,
            slow=misbehaving_server.url(f"/slow?seconds={RUN_SECONDS:g}"),
            quick=misbehaving_server.url("/payload"),
        ),
    )
    base = f"http://127.0.0.1:{port}"
    began = datetime.now(UTC)
    with happyface("-c", str(config), "serve") as process:
        wait_for(f"{base}/category/web", process)  # 200 once the first run is stored
        slots, failed_requests = {}, 0
        for phase in rng.sample(PHASES, len(PHASES)):
            slots[phase], asked = outage(postgres_cluster, base, database, phase, rng)
            failed_requests += asked
            wait_for(f"{base}/metrics", process)
        last = max(slots.values())
        wait_until(lambda: newest_ok_slot(database) > last, "a run after the last outage")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        log = read_log(process)
    assert 1 <= tracebacks(log) <= len(PHASES), log
    assert log.count(": 503: database") == failed_requests, log  # one line per request
    runs = stored_runs(database, began)
    assert_one_record_per_slot(runs)
    during = [r for r in runs if slot_of(r) == slots["during"]]
    assert [r.state for r in during] == ["failed"], runs
    assert "database" in during[0].error, during[0]
    before = [r for r in runs if slot_of(r) == slots["before"]]
    assert [r.state for r in before] == ["failed"], runs
    assert "database" in before[0].error and "unreachable" in before[0].error, before[0]


def outage(
    cluster: PostgresCluster, base: str, database: str, phase: str, rng: random.Random
) -> tuple[float, int]:
    """Stop PostgreSQL at a random moment of `phase` of a slot's run, check, restart.

    Returns the slot (Unix seconds) the outage was placed in and the requests it failed.
    """
    if phase == "before":  # down across the slot's start: the run cannot even begin
        slot = next_slot(time.time() + 5.0)
        time.sleep(max(0.0, slot - rng.uniform(2.5, 5.0) - time.time()))
        back_at = slot + rng.uniform(0.5, 1.5)
    else:
        slot = next_slot(time.time())
        # "during": its `running` row is committed, its results not yet (the slow source)
        wait_until(lambda: run_state(database, slot) == PHASE_STATES[phase], f"a {phase} run")
        time.sleep(rng.uniform(0.1, 0.8) if phase == "during" else rng.uniform(0.1, 2.0))
        back_at = slot + RUN_SECONDS + rng.uniform(0.5, 1.5)
    cluster.stop(rng.choice(["fast", "immediate"]))
    try:
        time.sleep(1.5)  # past the dashboard's one-second memory of the newest run
        asked = check_outage_answers(base)
        time.sleep(max(0.0, back_at - time.time()))
    finally:
        cluster.start()
    return slot, asked


def check_outage_answers(base: str) -> int:
    """Every endpoint answers 503 in its own format, without a traceback; returns how many."""
    with httpx.Client(base_url=base, timeout=10) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["content-type"].startswith("text/html")
            assert "database" in answer.text and "Traceback" not in answer.text
        for path in XML:
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["content-type"].startswith("text/xml")
            assert "<!-- the database is not answering" in answer.text
            root = ET.fromstring(answer.content)
            assert [m.findtext("name") for m in root.iter("module")] == list(MODULES)
            assert {s.text for s in root.iter("status")} == {"-1.0"}
        answer = client.get("/metrics")
        assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/plain")
        assert "happyface_up 0.0" in answer.text and "Traceback" not in answer.text
        for path in JSON:
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error"]["status"] == 503
    return len(PAGES) + len(XML) + 1 + len(JSON)


def next_slot(after: float) -> float:
    """The scheduler's next slot: the next multiple of the interval since the epoch."""
    return math.floor(after / INTERVAL + 1) * INTERVAL


def slot_of(run: RunInfo) -> float:
    return math.floor(run.started_at.timestamp() / INTERVAL) * INTERVAL


def stored_runs(database: str, since: datetime) -> list[RunInfo]:
    store = open_store(database)
    try:
        return store.runs(since, limit=10_000, include_failed=True)
    finally:
        store.close()


def run_state(database: str, slot: float) -> str:
    """The state of the run of `slot`, or "" while it has none."""
    since = datetime.fromtimestamp(slot, UTC)
    found = [r for r in stored_runs(database, since) if slot_of(r) == slot]
    return found[0].state if found else ""


def newest_ok_slot(database: str) -> float:
    runs = [r for r in stored_runs(database, datetime(2000, 1, 1, tzinfo=UTC)) if r.state == "ok"]
    return max((slot_of(r) for r in runs), default=0.0)


def assert_one_record_per_slot(runs: list[RunInfo]) -> None:
    by_slot: dict[float, list[RunInfo]] = {}
    for run in runs:
        by_slot.setdefault(slot_of(run), []).append(run)
    doubled = {slot: found for slot, found in by_slot.items() if len(found) > 1}
    assert not doubled, doubled


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {seconds} s")


def tracebacks(log: str) -> int:
    """Tracebacks logged; a chained exception's parts count as one."""
    chained = log.count("exception was the direct cause") + log.count("During handling of the")
    return log.count("Traceback (most recent call last)") - chained


def read_log(process: subprocess.Popen[bytes]) -> str:
    log = process.log  # type: ignore[attr-defined]
    log.seek(0)
    return str(log.read().decode(errors="replace"))
