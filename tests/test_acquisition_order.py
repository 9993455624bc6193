"""The order fetches start in: the sources slowest at the last run first, unknown ones before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.quality import sources
from happyface.acquisition.run import Runner
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.sources import Source
from happyface.storage import open_store
from tests.fixtures.site import write_site
from tests.fixtures.sources import MisbehavingServer

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DELAYS = {"quick": 0.05, "slow": 0.6, "middle": 0.3}  # in the order of the config file

SITE = """
[site]
title = "Order"
database = "sqlite:///{folder}/hf.db"
fetch_timeout = 5

[site.archive]
enabled = false

[[category]]
id = "c"
title = "C"
"""

MODULE = """
[[module]]
id = "{name}"
title = "{name}"
type = "http_check"
category = "c"
source = "{url}"
"""


class StartOrder:
    """The fetcher's fetches, recording the URL of each as its task is created."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.urls: list[str] = []
        #: how many fetches had been created when the first one took its first step
        self.created_before_first_step: int | None = None

    def fetch_or_error(self, source: Source, now: datetime) -> Coroutine[Any, Any, Any]:
        self.urls.append(source.url)
        return self._fetch(source, now)

    async def _fetch(self, source: Source, now: datetime) -> Any:
        if self.created_before_first_step is None:
            self.created_before_first_step = len(self.urls)
        return await self.fetcher.fetch_or_error(source, now)

    def names(self) -> list[str]:
        by_url = {_url_of(name): name for name in DELAYS}
        return [by_url[url.split("/", 3)[3]] for url in self.urls]


def _url_of(name: str) -> str:
    return f"slow?seconds={DELAYS[name]}&name={name}"


@pytest.fixture
async def runner(
    tmp_path: Path, registry: Registry, misbehaving_server: MisbehavingServer
) -> AsyncIterator[Runner]:
    modules = "".join(
        MODULE.format(name=name, url=misbehaving_server.url(f"/{_url_of(name)}")) for name in DELAYS
    )
    text = SITE.format(folder=tmp_path) + modules
    site = load_site(write_site(tmp_path / "site", text), registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    yield Runner(site, store, fetcher, holder="test")
    await fetcher.aclose()
    store.close()


async def test_the_next_run_starts_the_slowest_sources_first(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = StartOrder(runner.fetcher)
    monkeypatch.setattr(runner, "fetcher", order)
    first = await runner.run(now=NOW)
    assert first is not None and first.errors == 0
    assert order.names() == ["quick", "slow", "middle"]  # nothing known yet: as configured
    assert order.created_before_first_step == 3  # fewer than STARTS_PER_TURN: in one turn
    latencies = {s.key: s.latency for s in first.sources}
    assert runner.latencies == latencies
    order.urls.clear()
    second = await runner.run(now=NOW + timedelta(minutes=1))
    assert second is not None and second.errors == 0
    assert order.names() == ["slow", "middle", "quick"]
    # reports and records keep the order of the config file, whatever the start order
    assert [s.key for s in second.sources] == [s.key for s in first.sources]
    assert [r.module_id for r in second.records] == list(DELAYS)


async def test_a_source_without_an_answer_last_time_starts_before_the_known_ones(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await runner.run(now=NOW)
    assert first is not None
    middle = next(s.key for s in first.sources if "middle" in s.url)
    runner.latencies.pop(middle)  # as when it failed: a failed source reports no latency
    order = StartOrder(runner.fetcher)
    monkeypatch.setattr(runner, "fetcher", order)
    await runner.run(now=NOW + timedelta(minutes=1))
    assert order.names() == ["middle", "slow", "quick"]


async def test_starts_are_spread_over_turns_of_the_loop(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn of the loop starts at most STARTS_PER_TURN fetches, so the first are under
    way while later ones are still to be started."""
    monkeypatch.setattr(sources, "STARTS_PER_TURN", 1)
    order = StartOrder(runner.fetcher)
    monkeypatch.setattr(runner, "fetcher", order)
    outcome = await runner.run(now=NOW)
    assert outcome is not None and outcome.errors == 0
    assert order.created_before_first_step == 1
