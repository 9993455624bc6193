"""A whole acquisition run: 200 modules over 100 loopback sources, fetched, rated and stored.

Goal: the run's wall time is about its slowest source (≤ slowest + 1 s), whatever the sum of
the latencies; printed with the ratio to that sum. A second run adds a hanging and a dripping
source: it must end within their deadline + 1 s with no asyncio task left behind.

(c) The data-quality checks (a structural fingerprint per distinct source, the judgement of
each source, greying, and storing the quality rows) against the same run without them:
200 `jobs` modules over 100 authentic `squeue --json` documents of 40 jobs each, read from
local files so that nothing but HappyFace's own work is measured. Goal: under 5 % more CPU.

Run: .venv/bin/python bench/bench_acquisition.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fixtures

from tests.fixtures.sources import MisbehavingServer

from happyface import Inputs, Module, Result
from happyface.acquisition import run as run_module
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.quality.fingerprint import fingerprint
from happyface.acquisition.quality.sources import SourceJudge
from happyface.acquisition.run import Runner, RunOutcome
from happyface.archive.runs import Archive
from happyface.config.load import load_site
from happyface.plugins import Registry
from happyface.quality import Quality
from happyface.storage import open_store

DISTINCT = 100
MODULES = 200
FASTEST, SLOWEST = 0.05, 2.5
DEADLINE = 3.0
QUALITY_RUNS = 25
JOBS_PER_DOCUMENT = 40
SQUEUE = Path(__file__).resolve().parents[1] / "tests" / "data" / "squeue.json"


class NoQuality(SourceJudge):
    """The run as it was before sources were judged: no fingerprints, no reports."""

    async def last_good(self, run: Any) -> dict[str, Any]:
        return {}

    async def reports(self, *args: Any) -> list[Any]:
        return []


class BodySize(Module):  # type: ignore[type-arg]
    """The size of the body: a module that costs nothing, so the run measures itself."""

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        return Result(metrics={"bytes": len(inputs["main"].content)})


def latencies() -> list[float]:
    step = (SLOWEST - FASTEST) / (DISTINCT - 1)
    return [FASTEST + i * step for i in range(DISTINCT)]


def site_toml(server: MisbehavingServer, database: str, extra: list[str]) -> str:
    lines = [
        "[site]",
        'title = "bench"',
        f'database = "{database}"',
        f"fetch_timeout = {DEADLINE}",
        "[site.archive]",
        "enabled = false",
        "[[category]]",
        'id = "c"',
        'title = "c"',
    ]
    urls = [server.url(f"/slow?seconds={s:.4f}&n={i}") for i, s in enumerate(latencies())]
    urls = [urls[i % DISTINCT] for i in range(MODULES)] + extra
    for i, url in enumerate(urls):
        lines += [
            "[[module]]",
            f'id = "m{i}"',
            'type = "body_size"',
            'category = "c"',
            f'title = "module {i}"',
            f'source = "{url}"',
        ]
    return "\n".join(lines) + "\n"


async def one_run(folder: Path, server: MisbehavingServer, extra: list[str]) -> dict[str, float]:
    registry = Registry()
    registry.register("body_size", BodySize)
    folder.mkdir()
    (folder / "happyface.toml").write_text(site_toml(server, f"sqlite:///{folder}/hf.db", extra))
    site = load_site(folder, registry)
    store = open_store(site.database_url)
    fetcher = Fetcher(base_dir=site.root)
    runner = Runner(site, store, fetcher, Archive(folder / "archive"))
    started = time.perf_counter()
    outcome = await runner.run()
    wall = time.perf_counter() - started
    await fetcher.aclose()
    await asyncio.sleep(0)
    left = len(asyncio.all_tasks()) - 1
    store.close()
    assert outcome is not None
    return {"wall": wall, "errors": outcome.errors, "left": left, "modules": len(outcome.records)}


def quality_site(folder: Path) -> Path:
    """200 jobs modules over 100 squeue documents in files, each a little different."""
    document = json.loads(SQUEUE.read_text())
    jobs = document["jobs"]
    lines = ["[site]", 'title = "bench"', f'database = "sqlite:///{folder}/hf.db"']
    lines += ["[site.archive]", "enabled = false", "[[category]]", 'id = "c"', 'title = "c"']
    for i in range(DISTINCT):
        document["jobs"] = [dict(jobs[k % len(jobs)], job_id=k) for k in range(JOBS_PER_DOCUMENT)]
        document["last_update"] = {"set": True, "infinite": False, "number": int(time.time())}
        (folder / f"squeue{i}.json").write_text(json.dumps(document))
    for i in range(MODULES):
        lines += ["[[module]]", f'id = "m{i}"', 'type = "jobs"', 'category = "c"']
        lines += [f'title = "module {i}"', f'source = "squeue{i % DISTINCT}.json"']
    (folder / "happyface.toml").write_text("\n".join(lines) + "\n")
    return folder


def fingerprint_cost() -> float:
    """CPU seconds of fingerprinting the 100 documents, as a run does when it refreshes them."""
    with tempfile.TemporaryDirectory() as tmp:
        documents = [p.read_bytes() for p in sorted(quality_site(Path(tmp)).glob("*.json"))]
        started = time.process_time()
        taken = [fingerprint(document) for document in documents]
        cost = time.process_time() - started
    assert len(taken) == DISTINCT and None not in taken, "a document was not fingerprinted"
    return cost


def check_quality_run(outcome: RunOutcome | None, judged: bool) -> None:
    """Every module read its document, and the judged run reported every source as fresh."""
    assert outcome is not None
    assert len(outcome.records) == MODULES and outcome.errors == 0, outcome.records
    states = {s.state for s in outcome.sources}
    assert (len(outcome.sources), states) == ((DISTINCT, {Quality.FRESH}) if judged else (0, set()))


async def quality_cost() -> tuple[float, float]:
    """The CPU seconds of a run without and with the quality checks.

    The two runs alternate, so that the load of a shared machine weighs on both alike; the
    first of each, which warms caches, is left out.
    """
    with tempfile.TemporaryDirectory() as tmp:
        runners, fetchers, stores = [], [], []
        for name in ("before", "after"):
            folder = Path(tmp) / name
            folder.mkdir()
            site = load_site(quality_site(folder), Registry())
            stores.append(open_store(site.database_url))
            fetchers.append(Fetcher(base_dir=site.root))
            runners.append(Runner(site, stores[-1], fetchers[-1]))
        times: list[list[float]] = [[], []]
        try:
            for _ in range(QUALITY_RUNS + 1):
                for index, judge in enumerate((NoQuality, SourceJudge)):
                    run_module.SourceJudge = judge  # type: ignore[misc]
                    started = time.process_time()
                    outcome = await runners[index].run()
                    times[index].append(time.process_time() - started)
                    check_quality_run(outcome, judged=judge is SourceJudge)
        finally:
            run_module.SourceJudge = SourceJudge  # type: ignore[misc]
            for fetcher, store in zip(fetchers, stores, strict=True):
                await fetcher.aclose()
                store.close()
    # the least disturbed run of each: on a shared machine the median moves by ±20 % between
    # two sittings, the minimum by a few per cent
    before, after = (min(t[1:]) for t in times)
    return before, after


async def main() -> None:
    total = sum(latencies()[i % DISTINCT] for i in range(MODULES))
    with MisbehavingServer() as server, tempfile.TemporaryDirectory() as tmp:
        plain = await one_run(Path(tmp) / "plain", server, [])
        hostile = await one_run(
            Path(tmp) / "hostile", server, [server.url("/hang"), server.url("/drip?bytes=100")]
        )
    print(f"{'scenario':<44} {'figure':>12}  goal")
    print(f"{'(a) modules / distinct sources':<44} {plain['modules']:>8.0f}/{DISTINCT:<3}")
    print(f"{'(a) run wall time, s':<44} {plain['wall']:>12.2f}")
    print(f"{'(a) slowest source, s':<44} {SLOWEST:>12.2f}")
    print(f"{'(a) wall - slowest, s':<44} {plain['wall'] - SLOWEST:>12.2f}  <= 1.0")
    print(
        f"{'(a) wall / sum of module latencies':<44} {plain['wall'] / total:>12.4f}"
        f"  (sum {total:.1f} s)"
    )
    print(f"{'(a) module errors':<44} {plain['errors']:>12.0f}  0")
    print(
        f"{'(b) with a hanging and a dripping source, s':<44} {hostile['wall']:>12.2f}"
        f"  <= {DEADLINE + 1:.1f}"
    )
    print(f"{'(b) module errors (the two hostile sources)':<44} {hostile['errors']:>12.0f}  2")
    print(f"{'(b) asyncio tasks left behind':<44} {hostile['left']:>12.0f}  0")
    before, after = await quality_cost()
    refresh = fingerprint_cost()
    print(f"{'(c) run CPU without quality checks, s':<44} {before:>12.3f}")
    print(f"{'(c) run CPU with quality checks, s':<44} {after:>12.3f}")
    print(f"{'(c) added by the quality checks, %':<44} {(after / before - 1) * 100:>12.1f}  < 5")
    print(
        f"{'(c) a refresh run: fingerprints of all, s':<44} {refresh:>12.3f}"
        f"  (+{refresh / before * 100:.1f} % once per source per 6 h)"
    )


if __name__ == "__main__":
    asyncio.run(main())
