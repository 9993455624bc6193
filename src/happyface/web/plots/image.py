"""The same plot as a static PNG or SVG image (matplotlib, Agg backend), to embed in a wiki."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede any pyplot import elsewhere

from matplotlib.dates import date2num

from .figures import Layout, borrowed
from .plot_data import MetricCurve, PlotView, StatusCurve

COLORS = ["#2f6fdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#0c8599", "#b08800", "#c2255c", "#5c7cfa"]
DASHES = ["-", "--", ":", "-.", (0, (1, 3)), (0, (12, 6)), (0, (4, 2, 1, 2)), (0, (6, 2))]
STATUS_COLORS = {
    "happy": "#1f7a3a",
    "neutral": "#f2b600",
    "unhappy": "#b3261e",
    "error": "#6a3fb5",
    "noinfo": "#c4c9d0",
}
# hatching keeps the status band readable when printed in grey
STATUS_HATCH = {"happy": "", "neutral": "..", "unhappy": "xx", "error": "//", "noinfo": "--"}
MEDIA = {"png": "image/png", "svg": "image/svg+xml"}
#: inches: room for the value axis' tick labels; and the width of a character of a status label
MIN_LEFT, LABEL_CHAR = 0.75, 0.065


#: matplotlib's date number of the Unix epoch; a date number counts days from its own epoch
_UNIX_EPOCH = float(date2num(datetime(1970, 1, 1, tzinfo=UTC)))
MS_PER_DAY = 86_400_000


def _time(ms: float) -> float:
    """Unix milliseconds as a matplotlib date number, by arithmetic: converting each point
    through a datetime took 60 % of a year's plot."""
    return _UNIX_EPOCH + ms / MS_PER_DAY


def render_image(view: PlotView, fmt: str, title: str) -> tuple[bytes, str]:
    """The plot of `view` (as plot_view builds it) as image bytes and their media type."""
    metrics = [c for c in view.curves if isinstance(c, MetricCurve)]
    statuses = [c for c in view.curves if isinstance(c, StatusCurve)]
    with borrowed(Layout(bool(metrics), len(statuses), _left(statuses))) as canvas:
        axes = canvas.axes
        if metrics:
            _draw_metrics(axes[0], metrics)
        for ax, curve in zip(axes[1 if metrics else 0 :], statuses, strict=True):
            _draw_status(ax, curve)
        axes[-1].set_xlim(_time(view.from_ms), _time(view.to_ms))
        canvas.figure.suptitle(f"{title}: {view.from_text} to {view.to_text}", fontsize=10)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {}  # no timestamp: equal plots, bytes
        canvas.figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue(), MEDIA[fmt]


def _left(statuses: list[StatusCurve]) -> float:
    """The left margin in inches: room for the value axis' ticks, or the status labels."""
    label = max((len(c.label) for c in statuses), default=0)
    return max(MIN_LEFT, LABEL_CHAR * label + 0.2)


def _draw_metrics(ax: Any, curves: list[MetricCurve]) -> None:
    for i, curve in enumerate(curves):
        points = curve.points
        xs = [_time(p[0]) for p in points]
        ax.plot(
            xs,
            [p[1] for p in points],
            color=COLORS[i % len(COLORS)],
            linestyle=DASHES[i % len(DASHES)],
            linewidth=1.4,
            label=f"{curve.label} ({len(points)} points)",
        )
        if any(p[2] != p[3] for p in points):  # a rollup: show the spread of each bucket
            ax.fill_between(
                xs,
                [p[2] for p in points],
                [p[3] for p in points],
                color=COLORS[i % len(COLORS)],
                alpha=0.15,
                linewidth=0,
            )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    if not any(c.points for c in curves):
        ax.set_ylim(0, 1)  # as a new axes has
        ax.text(0.5, 0.5, "no data in this interval", transform=ax.transAxes, ha="center")


def _draw_status(ax: Any, curve: StatusCurve) -> None:
    for start, stop, status in curve.segments:
        ax.axvspan(
            _time(start),
            _time(stop),
            color=STATUS_COLORS.get(status, "#999"),
            hatch=STATUS_HATCH.get(status, ""),
            linewidth=0,
        )
    ax.set_ylabel(curve.label, rotation=0, ha="right", va="center", fontsize=8)
