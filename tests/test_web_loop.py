"""The web never waits for the database on its event loop, and measures how late the loop is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from happyface.storage import Store
from happyface.web import create_app
from happyface.web.looplag import LoopLag
from tests.fixtures.web import NOW, Client, WebSite, populate

PATHS = (
    "/",
    "/overview.json",
    "/category/batch",
    "/module/jobs",
    "/module/queue.json",
    "/plot?m=jobs:running",
    "/plot.json?m=jobs:running&from=-7d&to=now",
    "/live",
    "/status.xml",
    "/category?action=getxml",
    "/metrics",
    "/matrix",
    "/matrix.json",
    "/alarms",
    "/downtimes.json",
    "/api/v1/site",
    "/api/v1/status",
    "/api/v1/modules/jobs",
    "/api/v1/runs?failed=true",
    "/api/v1/runs/1",
    "/api/v1/modules/jobs/results",
    "/api/v1/modules/jobs/metrics",
    "/api/v1/modules/jobs/metrics/running",
    "/archive/1/jobs/main",
)


class LoopGuard:
    """A Store whose every method refuses to run on a thread with a running event loop."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not callable(found):
            return found

        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # a worker thread: fine
                self.calls += 1
                return found(*args, **kwargs)
            raise AssertionError(f"Store.{name} was called on the event loop")

        return guarded


@pytest.fixture
def guarded(tmp_path: Path) -> tuple[WebSite, LoopGuard]:
    populated = populate(tmp_path, count=3)
    return populated, LoopGuard(populated.store)


def test_no_store_call_is_made_on_the_event_loop(guarded: tuple[WebSite, LoopGuard]) -> None:
    populated, guard = guarded
    store: Any = guard
    app = create_app(populated.site, store, archive=populated.archive)
    app.state.dashboard.now = lambda: NOW
    client = Client(app)
    for path in PATHS:
        answer = client.get(path)
        assert answer.status_code in (200, 404), (path, answer.text[:300])
    assert guard.calls > len(PATHS)  # the pages did read the store, from worker threads


async def test_loop_lag_is_the_worst_delay_of_the_last_window() -> None:
    lag = LoopLag(period=0.01, window=60)
    watcher = asyncio.create_task(lag.watch())
    await asyncio.sleep(0.05)
    time.sleep(0.2)  # a blocking call on the loop, as a synchronous database call would be
    await asyncio.sleep(0.05)
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    assert 0.15 <= lag.worst() < 1.0
    assert lag.worst(now=time.monotonic() + 61) == 0.0


def test_loop_lag_keeps_one_figure_per_second() -> None:
    lag = LoopLag(window=3)
    record: Callable[[float, float], None] = lag.record
    for at, delay in ((10.1, 0.002), (10.9, 0.030), (11.5, 0.001), (12.2, 0.004)):
        record(at, delay)
    assert lag.worst(now=12.5) == 0.030
    assert lag.worst(now=13.5) == 0.004  # the second of 10 has left the window
    record(13.6, 0.050)
    assert lag.worst(now=13.7) == 0.050  # a probe counts at once, within the same second
