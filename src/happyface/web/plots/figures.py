"""Figures kept between images, emptied and drawn again.

Building a figure, its axes and their ticks (each tick a line, a marker and a text) was about
40 % of a year's plot; an axis keeps its ticks when its data changes. So a figure of each
layout is borrowed from a small pool, its curves removed, and given back once saved: never
shared by two renders at once (matplotlib is not thread-safe), and never more than KEEP
figures idle in all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from matplotlib.dates import AutoDateFormatter, AutoDateLocator
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox, ScaledTranslation, blended_transform_factory

WIDTH = 9.0  # inches, at 100 dpi
#: idle figures kept, over all layouts (one is a few hundred KB)
KEEP = 8
#: inches: the top of the time axis' label above the figure's bottom (below the tick labels),
#: and the gap between a status row and its label
LABEL_BASE, LABEL_PAD = 0.3, 4 / 72


@dataclass(frozen=True)
class Layout:
    """What fixes a figure's frame: a metric panel or not, the status rows, the left margin."""

    metrics: bool
    statuses: int
    left: float  # inches

    @property
    def height(self) -> float:
        return 3.6 + 0.35 * self.statuses


@dataclass
class Canvas:
    """A figure and its axes: the metric panel first (if any), then one row per status."""

    figure: Figure
    axes: list[Any]


_idle: dict[Layout, list[Canvas]] = {}
_lock = threading.Lock()


@contextmanager
def borrowed(layout: Layout) -> Iterator[Canvas]:
    """An empty figure of `layout`, for this render alone."""
    with _lock:
        free = _idle.get(layout)
        canvas = free.pop() if free else None
    if canvas is None:
        canvas = _build(layout)
    else:
        _empty(canvas)
    yield canvas
    with _lock:
        if sum(len(c) for c in _idle.values()) < KEEP:
            _idle.setdefault(layout, []).append(canvas)


def _build(layout: Layout) -> Canvas:
    heights = [4.0] * layout.metrics + [0.45] * layout.statuses
    figure = Figure(figsize=(WIDTH, layout.height), dpi=100)
    axes = figure.subplots(
        len(heights),
        1,
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": heights, **_margins(layout)},
    )[:, 0]
    last = axes[-1]
    locator = AutoDateLocator()
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(AutoDateFormatter(locator, tz=UTC))
    last.set_xlabel("UTC")
    # Labels at fixed places: placed by matplotlib, each is put beside the measured boxes of
    # all tick labels of its axis and its siblings at every render (a tenth of the draw).
    below = blended_transform_factory(last.transAxes, figure.dpi_scale_trans)
    last.xaxis.set_label_coords(0.5, LABEL_BASE, transform=below)
    left = ScaledTranslation(-LABEL_PAD, 0, figure.dpi_scale_trans)
    for ax in axes[1 if layout.metrics else 0 :]:
        ax.set_yticks([])
        ax.yaxis.set_label_coords(0, 0.5, transform=ax.transAxes + left)
    return Canvas(figure, list(axes))


def _margins(layout: Layout) -> dict[str, float]:
    """Fixed margins, wide enough for the status labels on the left.

    Matplotlib's constrained layout measured every text to find them: 40 % of a year's plot.
    """
    return {
        "left": layout.left / WIDTH,
        "right": 1 - 0.25 / WIDTH,
        "top": 1 - 0.45 / layout.height,
        "bottom": 0.6 / layout.height,
        "hspace": 0.15,
    }


def _empty(canvas: Canvas) -> None:
    """Remove the curves, bands, texts and legend of the last render; keep axes and ticks."""
    for ax in canvas.axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            artist.remove()
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        # the next curves set the data limits afresh, as on a new axes
        ax.dataLim.set_points(Bbox.null().get_points())
        ax.ignore_existing_data_limits = True
        ax.set_autoscaley_on(True)
