"""Change detection: quality on synthetic series and CPU per run for 1,000 series.

Quality: every series of the test suites (steps of 2 to 4 noise SDs in mean and in spread,
with daily cycles, gaps, runs with no value, counters that reset, late starts; and 30 quiet
days with a daily cycle) is fed to a detector one run at a time, as runs arrive; a change
counts as found when told within ±2 runs of its true time.
Cost: 1,000 series with four days of history loaded, then 96 runs (a day) timed in CPU.

    PYTHONPATH=src:. python bench/bench_changes.py
"""

from __future__ import annotations

import time

import numpy as np
from tests.fixtures.change_series import (
    START,
    STEP,
    Score,
    Synthetic,
    quiet_suite,
    score,
    step_suite,
)

from happyface.changes.detector import SeriesDetector
from happyface.changes.tuning import Tuning

SERIES = 1000
HISTORY = 4 * 96
RUNS = 96


def found_in(series: Synthetic) -> list[float]:
    detector = SeriesDetector(Tuning())
    return [s.at for t, v in series.points() if (s := detector.add(t, v)) is not None]


def summed(scores: list[Score]) -> Score:
    fields = ("true", "found", "hits", "precise")
    return Score(*(sum(getattr(s, f) for s in scores) for f in fields))


def quality() -> None:
    steps = step_suite()
    scores = {s.name: score(s.changes, found_in(s)) for s in steps}
    variance = {f"steps-{k}" for k in range(len(steps)) if k % 4 == 3}
    for label, chosen in (
        ("all steps", list(scores.values())),
        ("steps of the mean", [v for k, v in scores.items() if k not in variance]),
        ("steps of the spread", [v for k, v in scores.items() if k in variance]),
    ):
        s = summed(chosen)
        print(f"{label:22} true {s.true:3}  found {s.found:3}  "
              f"recall {s.recall:.3f}  precision {s.precision:.3f}")  # fmt: skip
    false = [len(found_in(s)) for s in quiet_suite()]
    print(f"quiet 30 days x {len(false)}: false changes per series max {max(false)}, "
          f"total {sum(false)}")  # fmt: skip


def cost() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(10, 1, size=(SERIES, HISTORY + RUNS))
    cycle = 3 * np.sin(2 * np.pi * np.arange(HISTORY + RUNS) / 96)
    values[::2] += cycle  # half the series with a daily cycle
    values[SERIES // 2 :, HISTORY + RUNS // 2 :] += 4  # and half of them stepping mid-day
    detectors = [SeriesDetector(Tuning()) for _ in range(SERIES)]
    for i in range(HISTORY):
        for k, detector in enumerate(detectors):
            detector.load(START + i * STEP, values[k, i])
    per_run = []
    found = 0
    for i in range(HISTORY, HISTORY + RUNS):
        started = time.process_time()
        for k, detector in enumerate(detectors):
            found += detector.add(START + i * STEP, values[k, i]) is not None
        per_run.append(time.process_time() - started)
    per_run.sort()
    print(f"{SERIES} series, {RUNS} runs: CPU per run median {per_run[RUNS // 2] * 1000:.0f} ms, "
          f"worst {per_run[-1] * 1000:.0f} ms; {found} changes told")  # fmt: skip


if __name__ == "__main__":
    quality()
    cost()
