"""A whole acquisition run: 200 modules over 100 loopback sources, fetched, rated and stored.

Goal: the run's wall time is about its slowest source (≤ slowest + 1 s), whatever the sum of
the latencies; printed with the ratio to that sum. A second run adds a hanging and a dripping
source: it must end within their deadline + 1 s with no asyncio task left behind.

(c) The data-quality checks (a structural fingerprint per distinct source, the judgement of
each source, greying, and storing the quality rows) against the same run without them:
200 `jobs` modules over 100 authentic `squeue --json` documents of 40 jobs each, read from
local files so that nothing but HappyFace's own work is measured. Goal: under 5 % more CPU.
Measured as the median of paired differences of CPU time (runs with and without the checks
alternating in one process), with the quartiles of those differences as their spread.

On a shared machine CPU time moves by ±15 % between two runs of the same work, so the
difference is also counted in instructions with valgrind's callgrind (`--callgrind`), which
gives the same count for the same work whatever the load: the runs are marked in the process
and each one's instructions read from its own dump (bench/instructions.py).

Run: .venv/bin/python bench/bench_acquisition.py  (`--quality`: part (c) only;
`--callgrind`: part (c) in instructions, a few minutes)
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
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
from instructions import count_instructions, counted

DISTINCT = 100
MODULES = 200
FASTEST, SLOWEST = 0.05, 2.5
DEADLINE = 3.0
QUALITY_PAIRS = 40
COUNTED_PAIRS = 2  # under callgrind a run costs 50-100 times its CPU time
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


def quality_site(folder: Path, extract_timeout: float = 60) -> Path:
    """200 jobs modules over 100 squeue documents in files, each a little different."""
    document = json.loads(SQUEUE.read_text())
    jobs = document["jobs"]
    lines = ["[site]", 'title = "bench"', f'database = "sqlite:///{folder}/hf.db"']
    lines.append(f"extract_timeout = {extract_timeout}")
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


@dataclass(frozen=True)
class PairedCost:
    """CPU seconds of runs without the quality checks, and what the checks added, paired."""

    before: float  # the median run without them
    added: float  # the median of the paired differences (with - without)
    low: float  # the lower and upper quartiles of the paired differences
    high: float
    pairs: int

    def percent(self, seconds: float) -> float:
        return seconds / self.before * 100


async def quality_cost(pairs: int = QUALITY_PAIRS) -> PairedCost:
    """The CPU cost of the quality checks, as the median of paired differences.

    Runs without and with the checks alternate in one process, each pair measured back to
    back (which one goes first alternates too), so that a shared machine's load, which drifts
    over seconds, weighs on both runs of a pair alike and cancels in their difference; the
    median of the differences ignores the pairs a burst of load hit. Garbage is collected
    before each run so that one run does not pay for the other's. The first pair, which warms
    caches, is left out.
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
        measured: list[tuple[float, float]] = []
        try:
            for pair in range(pairs + 1):
                order = (0, 1) if pair % 2 else (1, 0)
                times = [0.0, 0.0]
                for index in order:
                    times[index] = await _timed_run(runners[index], judged=index == 1)
                measured.append((times[0], times[1]))
        finally:
            run_module.SourceJudge = SourceJudge  # type: ignore[misc]
            for fetcher, store in zip(fetchers, stores, strict=True):
                await fetcher.aclose()
                store.close()
    measured = measured[1:]
    differences = [after - before for before, after in measured]
    low, _, high = statistics.quantiles(differences, n=4)
    return PairedCost(
        before=statistics.median(b for b, _ in measured),
        added=statistics.median(differences),
        low=low,
        high=high,
        pairs=len(measured),
    )


async def counted_runs() -> None:
    """Runs without and with the checks, alternating, each between two callgrind marks.

    The first pair warms up (the first judged run fingerprints every document) and is left
    out by the caller. Under callgrind a run is 50-100 times slower: the deadlines of extracts
    and fingerprints are stretched so that none is abandoned to run on into the next run.
    """
    with tempfile.TemporaryDirectory() as tmp:
        runners, fetchers, stores = [], [], []
        for name in ("before", "after"):
            folder = Path(tmp) / name
            folder.mkdir()
            site = load_site(quality_site(folder, extract_timeout=3600), Registry())
            stores.append(open_store(site.database_url))
            fetchers.append(Fetcher(base_dir=site.root))
            runners.append(Runner(site, stores[-1], fetchers[-1]))
        try:
            for _ in range(COUNTED_PAIRS + 1):
                for index in (0, 1):
                    run_module.SourceJudge = SourceJudge if index else NoQuality  # type: ignore[misc]
                    gc.collect()
                    with counted():
                        outcome = await runners[index].run()
                    check_quality_run(outcome, judged=index == 1)
        finally:
            run_module.SourceJudge = SourceJudge  # type: ignore[misc]
            for fetcher, store in zip(fetchers, stores, strict=True):
                await fetcher.aclose()
                store.close()


def print_instruction_cost() -> None:
    """Part (c) counted in instructions under callgrind: repeatable on a loaded machine."""
    counts = count_instructions(Path(__file__), ["--counted-runs"], 2 * (COUNTED_PAIRS + 1))
    first, counts = counts[:2], counts[2:]  # the warm-up pair
    before, after = counts[0::2], counts[1::2]
    added = [(a - b) / b * 100 for b, a in zip(before, after, strict=True)]
    print(f"{'(c) instructions of a run without checks':<44} {statistics.median(before):>14,.0f}")
    print(f"{'(c) instructions of a run with checks':<44} {statistics.median(after):>14,.0f}")
    shown = ", ".join(f"{a:.2f}" for a in added)
    print(
        f"{'(c) added by the quality checks, %':<44} {statistics.median(added):>14.2f}  < 5"
        f"  (pairs: {shown}; first pair, left out: {first[0]:,} / {first[1]:,})"
    )


async def _timed_run(runner: Runner, judged: bool) -> float:
    """CPU seconds (all threads of the process) of one run, with or without the checks."""
    run_module.SourceJudge = SourceJudge if judged else NoQuality  # type: ignore[misc]
    gc.collect()
    started = time.process_time()
    outcome = await runner.run()
    spent = time.process_time() - started
    check_quality_run(outcome, judged=judged)
    return spent


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
    await print_quality_cost()


async def print_quality_cost() -> None:
    """Part (c): what the quality checks add to a run, measured in paired runs."""
    cost = await quality_cost()
    refresh = fingerprint_cost()
    print(f"{'(c) run CPU without quality checks, s':<44} {cost.before:>12.3f}  (median)")
    print(f"{'(c) added by the quality checks, s':<44} {cost.added:>12.4f}")
    print(
        f"{'(c) added by the quality checks, %':<44} {cost.percent(cost.added):>12.1f}  < 5"
        f"  (median of {cost.pairs} paired differences;"
        f" quartiles {cost.percent(cost.low):.1f} to {cost.percent(cost.high):.1f} %)"
    )
    print(
        f"{'(c) a refresh run: fingerprints of all, s':<44} {refresh:>12.3f}"
        f"  (+{cost.percent(refresh):.1f} % once per source per 6 h)"
    )


if __name__ == "__main__":
    if "--counted-runs" in sys.argv[1:]:  # the process callgrind watches (see instructions.py)
        asyncio.run(counted_runs())
    elif "--callgrind" in sys.argv[1:]:
        print_instruction_cost()
    else:
        # `--quality`: only part (c), which needs no loopback server and no waiting
        asyncio.run(print_quality_cost() if "--quality" in sys.argv[1:] else main())
