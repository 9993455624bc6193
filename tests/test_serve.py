"""`happyface serve` and `happyface demo` as real processes: scheduler and dashboard together."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from happyface.demo.launch import Backfill
from tests.fixtures.processes import count_runs, free_port, happyface, wait_for
from tests.fixtures.site import write_site


def _log(process: subprocess.Popen[bytes]) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read().decode(errors="replace")  # type: ignore[attr-defined]


def test_demo_answers_at_once_fills_history_behind_and_has_no_empty_page(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with happyface("demo", "--port", str(port), "--dir", str(tmp_path / "demo")) as process:
        first = wait_for(f"{base}/", process, seconds=60)
        assert _log(process).startswith(f"HappyFace demo: {base}/ ")  # the address comes first
        database = tmp_path / "demo" / "happyface.db"
        filled = Backfill().total  # three days of 30-minute runs, a day of 15-minute ones
        # the dashboard answers before the past days are filled, and says how far it has come
        assert count_runs(database) < filled, "the dashboard waited for the whole history"
        assert "History is being filled:" in first.text or "History is being filled:" in (
            httpx.get(f"{base}/", timeout=10).text
        )
        deadline = time.monotonic() + 360
        while count_runs(database) <= filled and time.monotonic() < deadline:
            time.sleep(0.5)
        assert count_runs(database) > filled  # the history, then the live runs
        overview = httpx.get(f"{base}/", timeout=10).text
        assert "History is being filled" not in overview
        assert "Batch system" in overview and "Other sites" in overview
        # the transfer efficiency's drop and recovery in the past day, found on first start
        assert "transfer_efficiency · efficiency" in overview
        log = _log(process)
        assert log.rstrip().splitlines()[-1].startswith(f"HappyFace demo: {base}/ ")
        assert f"history filled ({filled} runs)" in log
        assert "WARNING" not in log and "INFO" not in log  # warnings only, and none expected
        # every kind of page has something to show
        matrix = httpx.get(f"{base}/matrix", timeout=10).text
        assert "T2_DE_DESY" in matrix and "T2_DE_RWTH" in matrix
        accounting = httpx.get(f"{base}/module/batch_accounting", timeout=10).text
        assert "ticket INC-4711" in accounting  # the acknowledgement
        downtimes = httpx.get(f"{base}/downtimes", timeout=10).text
        assert "Tape library maintenance" in downtimes
        alarms = httpx.get(f"{base}/alarms.json", timeout=10).json()
        assert alarms["log"], "the backfilled day raised notifications"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 130  # the shell's code for "stopped by Ctrl-C"
        assert "Traceback" not in _log(process)


SITE = """
[site]
title = "Served site"
interval = "1h"

[site.web]
port = {port}

[[category]]
id = "host"
title = "Host"

[[module]]
id = "host_health"
type = "host_health"
category = "host"
title = "Disk and load"
"""


def test_serve_acquires_at_once_and_no_acquire_only_serves(tmp_path: Path) -> None:
    port = free_port()
    config = write_site(tmp_path, SITE.format(port=port))
    with happyface("-c", str(config), "serve") as process:
        wait_for(f"http://127.0.0.1:{port}/", process)
        deadline = time.monotonic() + 30
        while count_runs(tmp_path / "happyface.db") < 1 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert count_runs(tmp_path / "happyface.db") == 1  # the first run starts at once
    replica_port = free_port()
    with happyface("-c", str(config), "serve", "--no-acquire", "--port", str(replica_port)) as web:
        page = wait_for(f"http://127.0.0.1:{replica_port}/category/host", web)
        assert "Disk and load" in page.text
        time.sleep(1)
        assert count_runs(tmp_path / "happyface.db") == 1  # a web replica never acquires
