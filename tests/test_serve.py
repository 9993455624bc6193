"""`happyface serve` and `happyface demo` as real processes: scheduler and dashboard together."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.fixtures.processes import count_runs, free_port, happyface, wait_for
from tests.fixtures.site import write_site


def test_demo_fills_history_runs_and_serves(tmp_path: Path) -> None:
    port = free_port()
    with happyface("demo", "--port", str(port), "--dir", str(tmp_path / "demo")) as process:
        page = wait_for(f"http://127.0.0.1:{port}/", process, seconds=120)
        assert "Batch system" in page.text and "Storage" in page.text
        batch = httpx.get(f"http://127.0.0.1:{port}/category/batch", timeout=10)
        assert batch.status_code == 200 and "GridKa jobs" in batch.text
        # a day of 15-minute runs filled in, then the live runs (the first waits on /slow)
        database = tmp_path / "demo" / "happyface.db"
        assert count_runs(database) >= 96
        deadline = time.monotonic() + 30
        while count_runs(database) < 97 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert count_runs(database) >= 97
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 130  # the shell's code for "stopped by Ctrl-C"
        process.log.seek(0)  # type: ignore[attr-defined]
        assert b"Traceback" not in process.log.read()  # type: ignore[attr-defined]


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
