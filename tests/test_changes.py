"""Change detection on synthetic series, run as runs arrive: quality, hardships, cost."""

from __future__ import annotations

import time

import numpy as np
import pytest

from happyface.changes.detector import SeriesDetector, Shift
from happyface.changes.tuning import Tuning
from tests.fixtures.change_series import (
    DAY,
    START,
    STEP,
    Score,
    Synthetic,
    make_series,
    quiet_suite,
    score,
    step_suite,
)


def detect(series: Synthetic, tuning: Tuning | None = None) -> list[Shift]:
    """Feed the series to a detector one run at a time; the changes it confirmed."""
    detector = SeriesDetector(tuning or Tuning())
    return [s for t, v in series.points() if (s := detector.add(t, v)) is not None]


def total(scores: list[Score]) -> Score:
    return Score(
        *(sum(getattr(s, f) for s in scores) for f in ("true", "found", "hits", "precise"))
    )


@pytest.fixture(scope="module")
def step_scores() -> dict[str, Score]:
    """The scores of the step suite, by series name (computed once: it takes seconds)."""
    return {s.name: score(s.changes, [c.at for c in detect(s)]) for s in step_suite()}


def test_steps_of_two_sd_and_more_are_found_within_two_runs(
    step_scores: dict[str, Score],
) -> None:
    everything = total(list(step_scores.values()))
    means = total([sc for name, sc in step_scores.items() if int(name.split("-")[1]) % 4 != 3])
    assert everything.true == 80
    assert everything.recall >= 0.9 and everything.precision >= 0.9, everything
    assert means.recall >= 0.95 and means.precision >= 0.95, means


def test_thirty_quiet_days_with_a_daily_cycle_give_at_most_one_false_change() -> None:
    found = {s.name: len(detect(s)) for s in quiet_suite(count=10)}
    assert max(found.values()) <= 1, found


def test_a_change_is_told_once_and_within_a_few_runs() -> None:
    rng = np.random.default_rng(5)
    series = make_series(rng, "once", days=8, level=10, steps=[(5, 14, 1.0)])
    detector = SeriesDetector(Tuning())
    told = [(t, s) for t, v in series.points() if (s := detector.add(t, v)) is not None]
    assert len(told) == 1
    (when, shift), change = told[0], series.changes[0]
    assert abs(shift.at - change) <= 2 * STEP
    assert when - change <= 10 * STEP  # confirmed after 6 runs of the new level, or a few more
    assert shift.kind == "level" and shift.measure == "value" and shift.relative > 0.3
    assert shift.before == pytest.approx(10, abs=0.3) and shift.after == pytest.approx(14, abs=1)


def test_a_counter_is_judged_by_its_rate_and_its_resets_are_no_change() -> None:
    rng = np.random.default_rng(6)
    quiet = make_series(rng, "c", days=10, counter=True, resets=[4.3, 7.7])
    assert detect(quiet) == []
    stepped = make_series(rng, "c2", days=10, level=10, counter=True, steps=[(6, 5, 1.0)])
    (shift,) = detect(stepped)
    assert shift.measure == "rate" and shift.relative < -0.3
    assert abs(shift.at - stepped.changes[0]) <= 2 * STEP


def test_gaps_missing_runs_and_a_late_start_are_no_change() -> None:
    rng = np.random.default_rng(7)
    series = make_series(rng, "late", days=20, cycle=4, gaps=[(12, 13.5)], missing=0.1, start_day=9)
    assert detect(series) == []


def test_a_series_starting_mid_window_is_judged_after_three_days() -> None:
    rng = np.random.default_rng(8)
    series = make_series(rng, "late", days=20, level=10, steps=[(13.5, 7, 1.0)], start_day=9)
    detector = SeriesDetector(Tuning())
    early = [detector.add(t, v) for t, v in series.points() if t < START + 12 * DAY]
    assert not any(early)  # the first three days are its yardstick
    (shift,) = [s for t, v in series.points() if t >= START + 12 * DAY if (s := detector.add(t, v))]
    assert abs(shift.at - series.changes[0]) <= 2 * STEP


def test_a_change_of_variance_is_told_as_such() -> None:
    rng = np.random.default_rng(9)
    series = make_series(rng, "spread", days=10, level=10, steps=[(6, 10, 4.0)])
    (shift,) = detect(series)
    assert shift.kind == "variance" and shift.sd_after > 3 * shift.sd_before
    assert abs(shift.at - series.changes[0]) <= 6 * STEP


def test_a_flat_series_that_steps_is_a_change_and_one_odd_run_is_not() -> None:
    times = [START + i * STEP for i in range(600)]
    values = [10.0] * 300 + [12.0] * 300
    values[100] = 30.0
    detector = SeriesDetector(Tuning())
    found = [s for t, v in zip(times, values, strict=True) if (s := detector.add(t, v))]
    assert [(s.at, s.kind, s.after) for s in found] == [(times[300], "level", 12.0)]
    assert found[0].before == pytest.approx(10.0, abs=0.1)  # the odd run is in the yardstick


def test_min_relative_leaves_small_steps_out() -> None:
    rng = np.random.default_rng(10)
    series = make_series(rng, "small", days=8, level=100, steps=[(5, 104, 1.0)])
    assert detect(series) == []  # 4 SD, but 4 %
    assert len(detect(series, Tuning(min_relative=0.02))) == 1


def test_a_thousand_series_cost_well_under_a_second_per_run() -> None:
    rng = np.random.default_rng(11)
    detectors = [SeriesDetector(Tuning()) for _ in range(1000)]
    base = rng.normal(10, 1, size=(1000, 4 * 96 + 20))
    for i in range(4 * 96):  # four days of history, loaded as after a start
        for k, detector in enumerate(detectors):
            detector.load(START + i * STEP, base[k, i])
    started = time.process_time()
    for i in range(4 * 96, 4 * 96 + 20):
        for k, detector in enumerate(detectors):
            detector.add(START + i * STEP, base[k, i])
    per_run = (time.process_time() - started) / 20
    assert per_run < 1.0, per_run
