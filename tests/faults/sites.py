"""The site the fault tests run, and what they check in its database afterwards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from happyface.storage import RunInfo, open_store
from tests.fixtures.site import write_site
from tests.fixtures.sources import MisbehavingServer

SLOW_MODULES = 5

SITE = """
[site]
title = "Faulty site"
database = "{database}"
interval = "10s"
lock_ttl = {lock_ttl}
fetch_timeout = 20

[site.web]
port = {port}

[[category]]
id = "checks"
title = "Checks"

[[module]]
id = "host"
type = "host_health"
category = "checks"
title = "Host"
"""

CHECK = """
[[module]]
id = "check_{n}"
type = "http_check"
category = "checks"
title = "Check {n}"
source = "{url}"
"""


def write_faulty_site(
    folder: Path,
    database: str,
    server: MisbehavingServer,
    lock_ttl: float = 60,
    port: int = 0,
    seconds: float = 0.3,
) -> Path:
    """A site of a few slow HTTP checks: a run lasts about `seconds`, its store a moment."""
    checks = "".join(
        CHECK.format(n=n, url=server.url(f"/slow?seconds={seconds * (n + 1) / SLOW_MODULES:.2f}"))
        for n in range(SLOW_MODULES)
    )
    text = SITE.format(database=database, lock_ttl=lock_ttl, port=port) + checks
    return write_site(folder, text)


MODULES = SLOW_MODULES + 1


def all_runs(database: str) -> list[RunInfo]:
    """Every run record, oldest first."""
    store = open_store(database)
    try:
        runs = store.runs(datetime(2000, 1, 1, tzinfo=UTC), limit=100_000, include_failed=True)
        return list(reversed(runs))
    finally:
        store.close()


def assert_no_partial_run(database: str) -> None:
    """Every visible run shows every module; nothing is half there."""
    store = open_store(database)
    try:
        for run in store.runs(datetime(2000, 1, 1, tzinfo=UTC), limit=100_000):
            assert len(store.results(run.id)) == MODULES, f"run {run.id} is partial"
    finally:
        store.close()
