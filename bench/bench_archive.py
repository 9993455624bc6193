"""The archive of raw inputs: bytes and inodes on disk per run, against the compressed inputs.

200 modules over 100 distinct sources (two modules share each, as sites do), with the bodies
of the test data (job lists, dCache, feeds, Nagios, plots...), their numbers changed from run to
run. Each run is written as the acquisition writes it: modules append from worker threads as
they finish, then the run file is published. The same runs are also written in the folder
layout used before run files, for the comparison. Two mixes: every sample ("realistic") and
only the samples under 1 KB ("small answers", ≈ 70 KB per run as status endpoints give).

Goal: bytes on disk per run ≤ 1.5 × the run's distinct input bodies, each gzip-compressed.
Every file written is read back through `Archive.list`/`Archive.open` and compared.

Run: .venv/bin/python bench/bench_archive.py
"""

from __future__ import annotations

import gzip
import json
import mimetypes
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from happyface.archive.runs import Archive
from happyface.sources import RawInput

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
MODULES, SOURCES = 200, 100
RUNS = 24  # six hours of 15-minute runs
RUNS_PER_DAY = 96
INTERVAL = timedelta(minutes=15)
START = datetime(2026, 1, 1, tzinfo=UTC)
THREADS = 16  # the acquisition appends from asyncio's worker threads
GOAL = 1.5
_TYPES = {".json": "application/json", ".xml": "text/xml", ".rss": "application/rss+xml"}
_NUMBER = re.compile(rb"\d+")


@dataclass
class Figures:
    """What one mix cost, per run unless said otherwise."""

    raw: float  # bytes of every module's inputs
    distinct: float  # bytes of the distinct bodies
    gzip_each: float  # the distinct bodies, each gzip-compressed
    gzip_solid: float  # the distinct bodies in one gzip stream
    disk: float  # bytes allocated to run files
    apparent: float  # their sizes
    inodes: float  # files and folders of the archive
    write_ms: list[float]
    read_ms: list[float]
    old_disk: float  # the folder layout: bytes allocated
    old_inodes: float


def samples(largest: int | None) -> list[tuple[bytes, str]]:
    """The test data's bodies (at most `largest` bytes each) with their content types."""
    found = []
    for path in sorted(DATA.iterdir()):
        body = path.read_bytes()
        if path.suffix != ".md" and (largest is None or len(body) <= largest):
            kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
            found.append((body, kind))
    return found


def changed(body: bytes, kind: str, rng: random.Random) -> bytes:
    """`body` with about one number in seven changed, as a source's next answer would be."""
    if kind.startswith("image/"):
        return body
    return _NUMBER.sub(
        lambda m: str(rng.randrange(10**4)).encode() if rng.random() < 1 / 7 else m[0], body
    )


def run_inputs(mix: list[tuple[bytes, str]], run: int) -> dict[str, RawInput]:
    """Each module's input in run `run`: module i reads source i // 2."""
    rng = random.Random(run)
    when = START + INTERVAL * run
    sources = []
    for n in range(SOURCES):
        body, kind = mix[n % len(mix)]
        url = f"https://source{n}.example.org/status"
        sources.append(RawInput(url, changed(body, kind, rng), when, kind, elapsed=0.1))
    return {f"module_{i:03d}": sources[i // (MODULES // SOURCES)] for i in range(MODULES)}


def write_run(archive: Archive, when: datetime, inputs: dict[str, RawInput]) -> dict[str, str]:
    """Write one run as the acquisition does; the archive path of every module."""
    writer = archive.writer(when)
    with ThreadPoolExecutor(THREADS) as pool:
        paths = pool.map(lambda m: writer.add(m, {"main": inputs[m]}), inputs)
        written = dict(zip(inputs, paths, strict=True))
    writer.publish()
    return written


def write_folders(root: Path, when: datetime, inputs: dict[str, RawInput]) -> None:
    """The same run in the folder layout of before: a folder, a body and meta.json per module."""
    for module, item in inputs.items():
        folder = root / when.strftime("%Y/%m/%d/%H%M%S") / module
        folder.mkdir(parents=True)
        (folder / "main.bin").write_bytes(item.content)
        meta = {"module": module, "inputs": {"main": {"url": item.url, "file": "main.bin"}}}
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))


def read_back(archive: Archive, paths: dict[str, str], inputs: dict[str, RawInput]) -> list[float]:
    """Check every module's file and meta.json; the time of each body read, in ms."""
    times = []
    for module, relpath in paths.items():
        meta = json.loads(archive.open(relpath, "meta.json"))
        name = meta["inputs"]["main"]["file"]
        assert archive.list(relpath) == sorted([name, "meta.json"]), relpath
        started = time.perf_counter()
        body = archive.open(relpath, name)
        times.append((time.perf_counter() - started) * 1000)
        assert body == inputs[module].content, f"{relpath}/{name} differs from what was written"
    return times


def usage(root: Path) -> tuple[int, int, int]:
    """(bytes allocated, apparent bytes, inodes) of everything below `root`."""
    allocated = apparent = inodes = 0
    for entry in _walk(root):
        stat = entry.lstat()
        inodes += 1
        allocated += stat.st_blocks * 512
        apparent += stat.st_size if entry.is_file() else 0
    return allocated, apparent, inodes


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            yield Path(folder) / name


def measure(mix: list[tuple[bytes, str]], folder: Path) -> Figures:
    archive, old = Archive(folder / "archive"), folder / "folders"
    raw = distinct = each = solid = 0
    write_ms, read_ms = [], []
    for run in range(RUNS):
        when, inputs = START + INTERVAL * run, run_inputs(mix, run)
        bodies = list({id(i): i.content for i in inputs.values()}.values())
        raw += sum(len(i.content) for i in inputs.values())
        distinct += sum(map(len, bodies))
        each += sum(len(gzip.compress(b)) for b in bodies)
        solid += len(gzip.compress(b"".join(bodies)))
        started = time.perf_counter()
        paths = write_run(archive, when, inputs)
        write_ms.append((time.perf_counter() - started) * 1000)
        read_ms += read_back(Archive(archive.root), paths, inputs)  # a reader of its own
        write_folders(old, when, inputs)
    disk, apparent, inodes = usage(archive.root)
    old_disk, _, old_inodes = usage(old)
    return Figures(
        raw / RUNS, distinct / RUNS, each / RUNS, solid / RUNS, disk / RUNS, apparent / RUNS,
        inodes / RUNS, write_ms, read_ms, old_disk / RUNS, old_inodes / RUNS,
    )  # fmt: skip


def kb(value: float) -> str:
    return f"{value / 1000:,.1f} KB"


def report(name: str, f: Figures) -> None:
    ratio = f.disk / f.gzip_each
    print(f"\n{name}: {MODULES} modules over {SOURCES} sources, {RUNS} runs")
    rows = [
        ("inputs per run (every module's)", kb(f.raw), ""),
        ("distinct bodies per run", kb(f.distinct), ""),
        ("  each gzip-compressed", kb(f.gzip_each), ""),
        ("  in one gzip stream", kb(f.gzip_solid), ""),
        ("run file on disk per run (allocated)", kb(f.disk), ""),
        ("run file size per run", kb(f.apparent), ""),
        ("disk / gzip-compressed inputs", f"{ratio:.2f}x", f"<= {GOAL}x"),
        ("disk / one gzip stream", f"{f.disk / f.gzip_solid:.2f}x", ""),
        ("inodes per run", f"{f.inodes:.2f}", ""),
        ("write per run p50 / max, ms", _pair(f.write_ms), ""),
        ("read of one archived body p50 / p99, ms", _pair(f.read_ms, 99), ""),
        ("30 days on disk", _gb(f.disk * RUNS_PER_DAY * 30), ""),
        ("30 days inodes", f"{f.inodes * RUNS_PER_DAY * 30:,.0f}", ""),
        ("a year on disk", _gb(f.disk * RUNS_PER_DAY * 365), ""),
        ("a year inodes", f"{f.inodes * RUNS_PER_DAY * 365:,.0f}", ""),
        ("folder layout: on disk per run", kb(f.old_disk), ""),
        ("folder layout: inodes per run", f"{f.old_inodes:,.0f}", ""),
        ("folder layout: 30 days on disk", _gb(f.old_disk * RUNS_PER_DAY * 30), ""),
        ("folder layout / run files, on disk", f"{f.old_disk / f.disk:.1f}x", ""),
    ]
    for label, figure, goal in rows:
        print(f"  {label:<42} {figure:>14}  {goal}")
    assert ratio <= GOAL, f"{name}: the archive takes {ratio:.2f}x the compressed inputs"


def _pair(values: list[float], high: int = 100) -> str:
    ordered = sorted(values)
    top = ordered[min(len(ordered) - 1, len(ordered) * high // 100)]
    return f"{statistics.median(ordered):.2f} / {top:.2f}"


def _gb(value: float) -> str:
    return f"{value / 1e9:.2f} GB"


def main() -> None:
    print(f"python {sys.version.split()[0]}; the folder layout is written for comparison")
    with tempfile.TemporaryDirectory() as tmp:
        for name, largest in (("realistic", None), ("small answers", 1024)):
            report(name, measure(samples(largest), Path(tmp) / name.replace(" ", "_")))


if __name__ == "__main__":
    main()
