"""Start-up of the `happyface` command: `--help`, `check` and `modules`, median of 5 runs each.

Goal: `--help` in at most 0.2 s. Each run's output is checked (the usage text, the site found
valid, the built-in types listed), so a command that failed fast does not count as fast.

Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5


def timed(args: list[str], expect: str) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "happyface", *args], capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - started)
        assert done.returncode == 0 and expect in done.stdout, (args, done.stdout, done.stderr)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        subprocess.run([sys.executable, "-m", "happyface", "init", str(site)], check=True,
                       capture_output=True)  # fmt: skip
        python = timed_python()
        rows = [
            ("python -c pass (the floor)", python, ""),
            ("happyface --help", timed(["--help"], "usage: happyface"), "<= 0.2 s"),
            ("happyface check", timed(["-c", str(site), "check"], ": valid"), ""),
            ("happyface modules", timed(["modules"], "dcache_pools"), ""),
        ]
    print(f"{'command':<30} {'median s':>9}  goal")
    for name, seconds, goal in rows:
        print(f"{name:<30} {seconds:>9.3f}  {goal}")


def timed_python() -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    main()
