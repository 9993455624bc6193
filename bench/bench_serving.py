"""Serving figures: `happyface serve` against nginx serving the same bytes, in one run.

Starts a real `happyface serve` (no acquisition) on the demo site with a day of runs and a
year of one metric, and a real nginx on loopback serving the very bytes serve answered as
static files. A keep-alive load generator (bench/loadgen.py) measures requests per second,
p50 and p99 for the overview, a category page, `/api/v1/status` and `/metrics`, serve
and nginx one after the other; every answer is checked (status 200, the expected content).
CPU time per answer of each server is printed too: on a shared machine it is steadier than
requests per second. Then: `/metrics` latency on its own, the 1-year plot as PNG (first
answer and cached), and the resident memory of serve while 1,000 runs are written into its
store and their pages asked for. Prints figures; asserts nothing about time.

    .venv/bin/python bench/bench_serving.py [--runs 1000] [--seconds 3] [--rounds 3] [--png-only]
    .venv/bin/python bench/bench_serving.py --profile 30 --only category   # where time goes
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import pstats
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvloop

from happyface.config.site import Site
from happyface.storage import open_store
from loadgen import Answer, BadAnswer, fetch, measure
from serving_site import (
    YEAR_METRIC,
    YEAR_MODULE,
    YEAR_STEP,
    copy_newest,
    demo_site,
    free_port,
    running,
    static_nginx,
    write_year,
)

TITLE = b"HappyFace demo"
#: a browser that has been here before sends its form-token cookie
BROWSER = (("Cookie", "hf_csrf=bench-browser"),)
CONNECTIONS = 8
#: pixels of a plot image with one metric curve: 9 x 4.02 inches at 100 dpi (a panel, a legend row)
PLOT_SIZE = (900, 402)


def expect(*needles: bytes) -> Callable[[Answer], None]:
    """A check: status 200 and every needle in the body."""

    def check(answer: Answer) -> None:
        if answer.status != 200 or not all(n in answer.body for n in needles):
            raise BadAnswer(f"{answer.status}: {answer.body[:200]!r}")

    return check


#: (name, serve's path, the static file nginx serves, what the answer must contain)
ENDPOINTS = [
    ("overview", "/", "overview.html", expect(b"<title>", TITLE)),
    ("category page", "/category/batch", "batch.html", expect(b"<title>", b"Batch system")),
    ("/api/v1/status", "/api/v1/status", "status.json", expect(b'"categories"')),
    ("/metrics", "/metrics", "metrics.txt", expect(b"happyface_module_status")),
]


def cpu_seconds(pid: int) -> float:
    """CPU time used by a process and its children (nginx's workers)."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass(frozen=True)
class Figures:
    """One measurement of one server."""

    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us: float

    def line(self) -> str:
        return (
            f"{self.per_second:7.0f} req/s  p50 {self.p50_ms:6.2f} ms  "
            f"p99 {self.p99_ms:6.2f} ms  CPU {self.cpu_us:4.0f} µs/answer"
        )


def medians(runs: Sequence[Figures]) -> Figures:
    return Figures(*(statistics.median(getattr(r, f.name) for r in runs) for f in fields(Figures)))


async def load(
    port: int,
    pid: int,
    path: str,
    check: Callable[[Answer], None],
    seconds: float,
    headers: Sequence[tuple[str, str]] = (),
) -> Figures:
    """One measurement, with the server's CPU time per answer."""
    before = cpu_seconds(pid)
    result = await measure(
        port, path, check, seconds=seconds, connections=CONNECTIONS, headers=headers
    )
    cpu_us = (cpu_seconds(pid) - before) / result.requests * 1e6
    return Figures(result.per_second, result.p50_ms, result.p99_ms, cpu_us)


async def copy_to_static(port: int, www: Path) -> None:
    """The bytes serve answers, written where nginx serves them."""
    www.mkdir()
    for _, path, static, check in ENDPOINTS:
        answer = await fetch(port, path, BROWSER)
        check(answer)
        (www / static).write_bytes(answer.body)


async def compare(
    serve: tuple[int, int], nginx: tuple[int, int], seconds: float, rounds: int, only: str = ""
) -> None:
    """Each endpoint from serve and from nginx, alternating `rounds` times; medians.

    Requests per second swing between rounds on a shared machine (the load generator, on the
    same cores, sets the pace of the faster server), so the ratio of every round is printed,
    and the CPU time per answer, which swings far less, as a ratio too.
    """
    print(
        f"\n{CONNECTIONS} keep-alive connections, {seconds:g} s each, serve then nginx, "
        f"{rounds} rounds: medians"
    )
    for name, path, static, check in [e for e in ENDPOINTS if only in e[0]]:
        pairs = [
            (
                await load(*serve, path, check, seconds, BROWSER),
                await load(*nginx, "/" + static, check, seconds),
            )
            for _ in range(rounds)
        ]
        served, static_ = medians([p[0] for p in pairs]), medians([p[1] for p in pairs])
        ratios = [100 * s.per_second / n.per_second for s, n in pairs]
        print(
            f"{name:15} serve {served.line()}\n{'':15} nginx {static_.line()}\n{'':15} "
            f"req/s {statistics.median(ratios):.0f} % of nginx's (rounds: "
            f"{', '.join(f'{r:.0f}' for r in ratios)}); CPU per answer: nginx's is "
            f"{100 * static_.cpu_us / served.cpu_us:.0f} % of serve's"
        )
    first = await load(*serve, "/", expect(TITLE), seconds)
    print(f"{'overview, first visit (no cookie: each answer sets one)':15}")
    print(f"{'':15} serve {first.line()}")
    gz = (*BROWSER, ("Accept-Encoding", "gzip"))
    for name, path, _, check in (ENDPOINTS[0], ENDPOINTS[3]):
        answer = await fetch(serve[0], path, gz)  # once whole; then the header is checked
        _gzip_ok(answer)
        check(Answer(answer.status, answer.headers, gzip.decompress(answer.body)))
        figures = await load(*serve, path, _gzip_ok, seconds, gz)
        print(f"{name + ', gzip':15} serve {figures.line()}")


def _gzip_ok(answer: Answer) -> None:
    if answer.status != 200 or answer.headers.get("content-encoding") != "gzip":
        raise BadAnswer(f"{answer.status} {answer.headers}")


async def metrics_alone(port: int) -> None:
    result = await measure(port, "/metrics", ENDPOINTS[3][3], seconds=2, connections=1)
    figures = f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
    print(f"\n/metrics, one client: {figures} (goal p50 <= 2 ms)")


async def year_png(port: int, pid: int) -> None:
    """The 1-year PNG plot: the process's first image, cached, and new intervals uncached,
    with serve's CPU time per new image (the steady figure on a shared machine)."""
    curve = f"m={YEAR_MODULE}:{YEAR_METRIC}"
    data = await fetch(port, f"/plot.json?{curve}&from=-365d&to=now")
    points = len(json.loads(data.body)["curves"][0]["points"]) if data.status == 200 else 0
    if points < 300:
        raise BadAnswer(f"the year's curve has {points} points: {data.body[:200]!r}")
    first, *cached = [await _png(port, f"{curve}&from=-365d&to=now") for _ in range(4)]
    now = datetime.now(UTC)
    before = cpu_seconds(pid)
    uncached = [
        await _png(port, f"{curve}&from={_iso(now - timedelta(days=365, hours=h))}&to={_iso(now)}")
        for h in range(1, 11)
    ]
    cpu_ms = (cpu_seconds(pid) - before) / len(uncached) * 1000
    print(
        f"\n1-year plot as PNG ({points} points): the process's first image {first:.0f} ms "
        f"(matplotlib loads); new intervals p50 {sorted(uncached)[len(uncached) // 2]:.0f} ms, "
        f"min {min(uncached):.0f} ms, {cpu_ms:.0f} ms of CPU each (goal <= 150 ms); "
        f"cached {_ms(cached)} ms; 1-minute load average {os.getloadavg()[0]:.1f}"
    )


async def _png(port: int, query: str) -> float:
    started = time.perf_counter()
    answer = await fetch(port, f"/plot.png?{query}")
    if answer.status != 200 or not _png_of_plot_size(answer.body):
        raise BadAnswer(f"plot: {answer.status} {answer.body[:200]!r}")
    return (time.perf_counter() - started) * 1000


def _png_of_plot_size(body: bytes) -> bool:
    """Whether `body` is a PNG of PLOT_SIZE pixels (its header's first chunk says)."""
    if not body.startswith(b"\x89PNG\r\n\x1a\n") or body[12:16] != b"IHDR":
        return False
    return struct.unpack(">II", body[16:24]) == PLOT_SIZE


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


async def memory(port: int, pid: int, site: Site, runs: int) -> None:
    """RSS of serve while `runs` runs are written and each run's pages are asked for."""
    store = open_store(site.database_url)
    # in the past year, between its runs: the time machine shows each as it was
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=300, minutes=7)
    samples = []
    try:
        for i in range(runs):
            started = start + i * YEAR_STEP
            await asyncio.to_thread(copy_newest, store, site, started)
            at = _iso(started)
            for _, path, _, check in ENDPOINTS[:3]:
                check(await fetch(port, f"{path}?at={at}", BROWSER))
            expect()(await fetch(port, "/metrics"))
            if (i + 1) % (runs // 10) == 0:
                samples.append((i + 1, rss_mb(pid)))
    finally:
        store.close()
    print(f"\nRSS of serve over {runs} runs (each run's overview, category and status asked for):")
    print("  " + ", ".join(f"{n}: {mb:.0f} MB" for n, mb in samples))
    (warm, warm_mb), (last, last_mb) = samples[len(samples) // 5], samples[-1]
    print(f"  growth after warm-up (run {warm} to {last}): {last_mb - warm_mb:+.1f} MB")


@contextmanager
def serving(folder: Path, profile: Path | None = None) -> Iterator[tuple[int, int]]:
    """serve on a free port, under cProfile writing to `profile` when given."""
    port = free_port()
    profiler = [] if profile is None else ["-m", "cProfile", "-o", str(profile)]
    command = [sys.executable, *profiler, "-m", "happyface", "-c", str(folder), "serve",
               "--no-acquire", "--port", str(port)]  # fmt: skip
    with running(command, port, folder / "serve.log") as process:
        yield port, process.pid


async def profiled(folder: Path, args: argparse.Namespace) -> None:
    """The comparison alone with serve under cProfile; its functions by own time after.

    cProfile times the event loop's thread by the wall clock, and doubles the cost of
    small Python functions: read it for where the time goes, not for how much there is.
    """
    profile = folder / "serve.prof"
    with serving(folder, profile) as serve:
        await copy_to_static(serve[0], folder / "www")
        with static_nginx(folder) as nginx:
            await compare(serve, nginx, args.seconds, args.rounds, args.only)
    pstats.Stats(str(profile)).sort_stats("tottime").print_stats(args.profile)


async def bench(folder: Path, site: Site, args: argparse.Namespace) -> None:
    if args.profile:
        await profiled(folder, args)
        return
    with serving(folder) as serve:
        if not args.png_only:
            await copy_to_static(serve[0], folder / "www")
            with static_nginx(folder) as nginx:
                await compare(serve, nginx, args.seconds, args.rounds, args.only)
            await metrics_alone(serve[0])
        await year_png(*serve)
        if not args.png_only:
            await memory(*serve, site, args.runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="serve/nginx pairs per endpoint")
    parser.add_argument("--only", default="", help="compare only endpoints whose name has this")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="only the comparison, serve under cProfile; print its N costliest functions",
    )
    parser.add_argument("--png-only", action="store_true", help="time the 1-year PNG alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hf-bench-serving-") as name:
        folder = Path(name)
        t0 = time.perf_counter()
        site = demo_site(folder)
        steps = 0 if args.profile else write_year(site)  # the year is for the plot and RSS
        took = time.perf_counter() - t0
        print(f"site: the demo's last day plus {steps} runs of a year, written in {took:.0f} s")
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(bench(folder, site, args))


if __name__ == "__main__":
    main()
