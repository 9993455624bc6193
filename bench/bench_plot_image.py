"""The 1-year plot image of one metric, timed where it is made: the curve read, the drawing.

Bulk-loads a year of 15-minute runs (35,040) of one module into a temporary SQLite store, or
a PostgreSQL the bench starts (as bench_storage.py does), then for intervals of a year ending
at distinct times (so nothing is cached) reads the curve as `/plot.png` does (`metric_curve`:
the finest level with at most MAX_POINTS points, hence the daily rollups for a year) and
draws it as a PNG (`render_image`). Prints p50 and minimum of wall and CPU time for each
part. Every image is checked: the PNG signature, the pixel size of a one-curve plot,
non-trivial bytes; every curve: one point per day. A first image is drawn before timing
(matplotlib's import and font loading happen once per process). Asserts nothing about time.

    .venv/bin/python bench/bench_plot_image.py [--images 20] [--svg] [--backend postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bench_storage import databases
from happyface.instants import Interval
from happyface.storage import Store, open_store
from happyface.web.plots.curves import Curve, metric_curve
from happyface.web.plots.image import render_image
from happyface.web.plots.plot_data import MetricCurve, PlotLinks, PlotView
from history_load import bulk_load

STEP = timedelta(minutes=15)
DAYS = 366  # a year back from any end time in the last day, and that day
CURVE = Curve("module000", "jobs")
#: pixels of a plot image with one metric curve and its legend (9 x 4.02 inches at 100 dpi)
PLOT_SIZE = (900, 402)
PNG = b"\x89PNG\r\n\x1a\n"
T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """What `action` returned, and the wall and CPU milliseconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = action()
    return value, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def year_view(curve: MetricCurve, interval: Interval) -> PlotView:
    def ms(t: datetime) -> int:
        return int(t.timestamp() * 1000)

    return PlotView(
        from_=interval.start.isoformat(), to=interval.end.isoformat(),
        from_ms=ms(interval.start), to_ms=ms(interval.end), from_text="-365d", to_text="now",
        curves=[curve], links=PlotLinks("", "", "", "", ""),
    )  # fmt: skip


def check_png(body: bytes) -> None:
    """A PNG of PLOT_SIZE pixels (its header's first chunk says), with a plot drawn in it."""
    size = struct.unpack(">II", body[16:24])
    if not body.startswith(PNG) or body[12:16] != b"IHDR" or size != PLOT_SIZE:
        raise SystemExit(f"not a PNG of {PLOT_SIZE} pixels: {body[:24]!r}")
    if len(body) < 20_000:
        raise SystemExit(f"a PNG of {len(body)} bytes: too small to hold a year's plot")


def check_svg(body: bytes) -> None:
    if b"<svg" not in body[:1000] or b"</svg>" not in body[-100:]:
        raise SystemExit(f"not an SVG image: {body[:200]!r}")


def measure(store: Store, end: datetime, images: int, fmt: str) -> None:
    check = check_png if fmt == "png" else check_svg
    reads: list[tuple[float, float]] = []
    draws: list[tuple[float, float]] = []
    sizes = []
    for i in range(images + 1):
        until = end - timedelta(minutes=7 * i)
        interval = Interval(until - timedelta(days=365), until)
        curve, *read = timed(lambda: metric_curve(store, CURVE, interval, "Jobs: jobs"))  # noqa: B023
        if len(curve.points) != 366:  # the daily rollups the interval touches
            raise SystemExit(f"the year's curve has {len(curve.points)} points, not 366")
        (body, media), *draw = timed(lambda: render_image(year_view(curve, interval), fmt, "T"))  # noqa: B023
        check(body)
        if i:  # the first image of a process loads matplotlib and its fonts
            reads.append((read[0], read[1]))
            draws.append((draw[0], draw[1]))
            sizes.append(len(body))
    print(f"1-year plot as {fmt.upper()} ({media}, {statistics.median(sizes) / 1000:.0f} kB), "
          f"{images} distinct intervals, uncached:")  # fmt: skip
    for name, figures in (("curve read (daily rollups)", reads), ("drawing", draws)):
        print(f"  {name:27} {_figures(figures)}")
    total = [(r[0] + d[0], r[1] + d[1]) for r, d in zip(reads, draws, strict=True)]
    print(f"  {'both':27} {_figures(total)}  (goal <= 150 ms)")


def _figures(pairs: list[tuple[float, float]]) -> str:
    wall, cpu = [p[0] for p in pairs], [p[1] for p in pairs]
    return (
        f"wall p50 {statistics.median(wall):6.1f} ms, min {min(wall):6.1f}; "
        f"CPU p50 {statistics.median(cpu):6.1f} ms, min {min(cpu):6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--svg", action="store_true", help="time SVG images as well")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    with (
        tempfile.TemporaryDirectory(prefix="hf-bench-plot-") as folder,
        databases(args.backend, Path(folder)) as new_url,
    ):
        url = new_url("year")
        runs, seconds = bulk_load(url, DAYS, end - timedelta(days=DAYS), STEP, 1, 1)
        print(f"a year of one module on {args.backend}: {runs} runs of 15 minutes loaded in "
              f"{seconds:.0f} s")  # fmt: skip
        store = open_store(url)
        try:
            for fmt in ("png", "svg") if args.svg else ("png",):
                measure(store, end, args.images, fmt)
        finally:
            store.close()


if __name__ == "__main__":
    main()
