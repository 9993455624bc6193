"""The site bench_serving.py serves: the demo's with stored runs, a year of one metric, and
an nginx on loopback that serves the same bytes as static files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from tests.fixtures.nginx import free_port, running

from happyface import Result, Status
from happyface.config.load import load_site
from happyface.config.site import Site
from happyface.demo import DemoSources
from happyface.demo.launch import BACKFILL, backfill, write_demo_site
from happyface.storage import ModuleRecord, Store, open_store

#: the metric drawn over a year: host_health's load, one point every YEAR_STEP
YEAR_MODULE, YEAR_METRIC = "host_health", "load.1m"
YEAR_STEP = timedelta(hours=2)


def demo_site(folder: Path) -> Site:
    """The demo site in `folder`, its last day acquired from the simulated sources."""
    clock = [datetime.now(UTC)]
    with DemoSources(clock=lambda: clock[0], slow_seconds=0.0) as history:
        site = load_site(write_demo_site(folder, history.base_url, free_port()))
        asyncio.run(backfill(site, clock))
    return site


def write_year(site: Site) -> int:
    """A year of YEAR_METRIC before the demo's day of runs, as runs of that module alone,
    cleaned as a running site's history is (so a year's curve is read from rollups)."""
    store = open_store(site.database_url)
    try:
        first = datetime.now(UTC) - BACKFILL - timedelta(days=365)
        steps = int(timedelta(days=365) / YEAR_STEP)
        for i in range(steps):
            t = first + i * YEAR_STEP
            run = store.begin_run(t, "bench", site.snapshot)
            assert run is not None
            value = 1.0 + (i % 84) / 12  # a weekly saw tooth
            result = Result(message=f"load {value:.2f}", metrics={YEAR_METRIC: value})
            record = ModuleRecord(YEAR_MODULE, "host", Status.HAPPY, result.message, result)
            if store.finish_run(run, [record], {"host": Status.HAPPY}, t):
                store.write_ended_days(t)  # as the runner does after a day's first run
        # as serve's hourly maintenance would have: the year's rollups written, old runs gone
        while any(store.cleanup(datetime.now(UTC), site.settings.retention).values()):
            pass
        return steps
    finally:
        store.close()


def copy_newest(store: Store, site: Site, started: datetime) -> None:
    """A new run at `started` with the newest run's results (for the memory measurement)."""
    newest = store.latest_run()
    assert newest is not None
    records = [
        ModuleRecord(
            r.module_id,
            r.category_id,
            r.status,
            r.message,
            Result(r.status, r.message, r.metrics, tuple(r.tables), tuple(r.links), r.details),
        )
        for r in store.results(newest.id)
    ]
    statuses = store.category_statuses(newest.id)
    run = store.begin_run(started, "bench", site.snapshot)
    assert run is not None
    store.finish_run(run, records, statuses, started + timedelta(seconds=1))


NGINX_CONF = """
{user}
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    types {{ text/html html; application/json json; text/plain txt; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


@contextmanager
def static_nginx(folder: Path) -> Iterator[tuple[int, int]]:
    """nginx serving `folder/www` on a free loopback port; yields (port, master pid)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    prefix = folder / "nginx"
    prefix.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""  # the worker must read our temp folder
    conf = NGINX_CONF.format(user=user, port=port, root=folder / "www")
    (prefix / "nginx.conf").write_text(conf)
    settings = f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/error.log;"
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", settings]
    with running(command, port, prefix / "nginx.out") as master:
        yield port, master.pid
