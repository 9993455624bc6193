"""Figures kept between plot images: built once for a layout, emptied after each image.

Building a figure, its axes and their ticks (each tick three lines and two texts, made when an
axis first draws) was a third of a year's plot, and the objects it left for the garbage
collector cost more time later. A layout (the panels, their value axes, the status rows, the
margins) fixes everything but the curves, limits and words; so a figure of each layout is
borrowed from a small pool, drawn on, saved, emptied and given back: never used by two
images at once (matplotlib is not thread-safe), never more than KEEP figures idle in all,
the least recently used given up first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateFormatter, AutoDateLocator
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from .axis_text import place_time_label

WIDTH = 9.0  # inches, at 100 dpi
#: idle figures kept, over all layouts (one of a single panel holds about 2 MB)
KEEP = 4


@dataclass(frozen=True)
class Layout:
    """What fixes a figure's frame: per metric panel, whether each of its value axes (left,
    then right) writes a unit; the status rows; the left margin; the legend's rows."""

    panels: tuple[tuple[bool, ...], ...]
    statuses: int
    left: float  # inches
    legend_rows: int

    @property
    def height(self) -> float:  # inches
        metrics = any(self.panels)  # a plot of statuses alone has one empty, flat panel
        height = 1.2 + 2.6 * max(1, len(self.panels)) * metrics + 0.35 * self.statuses
        return height + 0.22 * self.legend_rows


@dataclass
class Canvas:
    """A figure on its Agg canvas: each metric panel's value axes (left, then right), then
    one axes per status row."""

    agg: FigureCanvasAgg
    panels: list[list[Any]]
    statuses: list[Any]

    @property
    def figure(self) -> Figure:
        return self.agg.figure

    @property
    def last(self) -> Any:
        """The bottom axes: the one writing the time axis."""
        return self.statuses[-1] if self.statuses else self.panels[-1][0]


#: idle figures with their layouts, the most recently used last
_idle: list[tuple[Layout, Canvas]] = []
_lock = threading.Lock()


@contextmanager
def borrowed(layout: Layout) -> Iterator[Canvas]:
    """An empty figure of `layout`, for this image alone; kept for another when it is done."""
    with _lock:
        kept = [i for i, (shape, _) in enumerate(_idle) if shape == layout]
        canvas = _idle.pop(kept[-1])[1] if kept else None
    canvas = canvas or _build(layout)
    yield canvas  # an image that failed leaves its figure to the garbage collector
    _empty(canvas)
    with _lock:
        _idle.append((layout, canvas))
        del _idle[:-KEEP]  # the least recently used go


def _build(layout: Layout) -> Canvas:
    figure = Figure(figsize=(WIDTH, layout.height), dpi=100)
    agg = FigureCanvasAgg(figure)  # kept with the figure: its renderer caches text sizes
    heights = [4.0] * len(layout.panels) + [0.45] * layout.statuses
    axes = figure.subplots(
        len(heights),
        1,
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": heights, **_margins(layout)},
    )[:, 0]
    panels = []
    for ax, sides in zip(axes, layout.panels, strict=False):
        ax.grid(True, alpha=0.3)
        panels.append([ax, ax.twinx()] if len(sides) == 2 else [ax])
    statuses = list(axes[len(layout.panels) :])
    for ax in statuses:
        ax.set_yticks([])
    last = axes[-1]
    locator = AutoDateLocator()
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(AutoDateFormatter(locator, tz=UTC))
    place_time_label(last, "UTC")
    canvas = Canvas(agg, panels, statuses)
    _unplaced_labels(canvas, layout)
    return canvas


def _margins(layout: Layout) -> dict[str, float]:
    """Fixed margins, wide enough for the status labels on the left and the legend below.

    Matplotlib's constrained layout measured every text to find them: 40 % of a year's plot.
    """
    return {
        "left": layout.left / WIDTH,
        "right": 1 - 0.85 / WIDTH,
        "top": 1 - 0.45 / layout.height,
        "bottom": (0.6 + 0.22 * layout.legend_rows) / layout.height,
        "hspace": 0.15,
    }


def _unplaced_labels(canvas: Canvas, layout: Layout) -> None:
    """Axes that write no label skip measuring tick labels to place one.

    Placed by matplotlib, an axis label goes beside the measured boxes of the tick labels of
    its axis and of every axis sharing it, at each image, even when it has no text.
    """
    for axes, sides in zip(canvas.panels, layout.panels, strict=True):
        for side, ax in enumerate(axes):
            if side >= len(sides) or not sides[side]:
                ax.yaxis.set_label_coords(0, 0)
    for ax in canvas.figure.axes:
        if ax is not canvas.last:
            ax.xaxis.set_label_coords(0, 0)


def _empty(canvas: Canvas) -> None:
    """Remove the curves, bands, words and legend of the last image; keep axes and ticks."""
    for legend in list(canvas.figure.legends):
        legend.remove()
    for ax in canvas.figure.axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            artist.remove()
        # the next curves set the limits afresh, from (0, 1) as on a new axes; labels stay,
        # as the next image of this layout writes each of them again
        ax.dataLim.set_points(Bbox.null().get_points())
        ax.set_ylim(0, 1)
        ax.set_autoscaley_on(True)
