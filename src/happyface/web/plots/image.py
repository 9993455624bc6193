"""The same plot as a static PNG or SVG image (matplotlib, Agg backend), to embed in a wiki."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede any pyplot import elsewhere

from matplotlib.dates import date2num

from ...units import axis_scale
from .axis_text import UnitFormatter
from .figures import Layout, borrowed
from .plot_data import MetricCurve, PlotView, StatusCurve
from .png import png_of

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
STATUS_WORDS = {
    "happy": "OK",
    "neutral": "Warning",
    "unhappy": "Problem",
    "error": "Error",
    "noinfo": "No data",
}
HATCH_INK = "#1a1a1a"
#: a status segment gets its word written on it when it is at least this share of the plot
LABEL_MIN_SHARE = 0.07
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
    """The plot of `view` (as plot_view builds it) as image bytes and their media type.

    Curves of one unit share a y-axis; two units get a left and a right axis, more a panel
    each. The legend sits below the panels, never over the curves.
    """
    metrics = [c for c in view.curves if isinstance(c, MetricCurve)]
    statuses = [c for c in view.curves if isinstance(c, StatusCurve)]
    groups = _panels(_by_axis(metrics))
    with borrowed(_layout(groups, statuses)) as canvas:
        handles: list[Any] = []
        for axes, group in zip(canvas.panels, groups, strict=True):
            handles += _draw_panel(axes, group, metrics)
        for ax, curve in zip(canvas.statuses, statuses, strict=True):
            _draw_status(ax, curve, max(1, view.to_ms - view.from_ms))
        canvas.last.set_xlim(_time(view.from_ms), _time(view.to_ms))
        fig = canvas.figure
        if handles:  # below everything: a legend never covers a curve
            fig.legend(handles=handles, loc="lower center", ncols=2, fontsize=8, frameon=False)
        if metrics and not any(c.points for c in metrics):
            first = canvas.panels[0][0]
            first.text(0.5, 0.5, "no data in this interval", transform=first.transAxes, ha="center")
        fig.suptitle(f"{title}: {view.from_text} to {view.to_text}", fontsize=10)
        if fmt == "png":
            return png_of(canvas.agg), MEDIA[fmt]
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata={"Date": None})  # equal plots, equal bytes
        return buffer.getvalue(), MEDIA[fmt]


def _layout(groups: list[list[list[MetricCurve]]], statuses: list[StatusCurve]) -> Layout:
    """The frame of the image: the panels' value axes and whether they write a unit, the
    status rows, a left margin wide enough for their labels, the legend's rows."""
    label = max((len(c.label) for c in statuses), default=0)
    return Layout(
        panels=tuple(tuple(bool(curves[0].axis) for curves in group) for group in groups),
        statuses=len(statuses),
        left=max(MIN_LEFT, LABEL_CHAR * label + 0.2),
        legend_rows=-(-sum(len(curves) for group in groups for curves in group) // 2),
    )


def _by_axis(curves: list[MetricCurve]) -> list[list[MetricCurve]]:
    """The curves grouped by the y-axis their unit is drawn on, in order of appearance."""
    axes: dict[str, list[MetricCurve]] = {}
    for curve in curves:
        axes.setdefault(curve.axis, []).append(curve)
    return list(axes.values())


def _panels(axes: list[list[MetricCurve]]) -> list[list[list[MetricCurve]]]:
    """Two units share a panel (left and right axes); more get a panel each."""
    return [axes] if len(axes) <= 2 else [[a] for a in axes]


def _draw_panel(
    axes: list[Any], group: list[list[MetricCurve]], every: list[MetricCurve]
) -> list[Any]:
    """One panel: its first unit on the left axis, a second on the right one; the legend lines."""
    handles = []
    for target, curves in zip(axes, group, strict=False):  # a statuses' plot: no curves
        for curve in curves:
            handles.append(_draw_curve(target, curve, every.index(curve)))
            _draw_thresholds(target, curve)
            _draw_changes(target, curve, every.index(curve))
        unit = curves[0].axis  # hours and days drawn as seconds, a fraction as percent
        target.yaxis.set_major_formatter(UnitFormatter(unit))
        if unit:
            target.set_ylabel(unit, fontsize=8)
    return handles


def _draw_curve(ax: Any, curve: MetricCurve, i: int) -> Any:
    points, factor = curve.points, axis_scale(curve.unit)
    xs = [_time(p[0]) for p in points]
    (line,) = ax.plot(
        xs,
        [p[1] * factor for p in points],
        color=COLORS[i % len(COLORS)],
        linestyle=DASHES[i % len(DASHES)],
        linewidth=1.4,
        label=f"{curve.label} ({len(points)} points{', ' + curve.axis if curve.axis else ''})",
    )
    if any(p[2] != p[3] for p in points):  # a rollup: show the spread of each bucket
        ax.fill_between(
            xs,
            [p[2] * factor for p in points],
            [p[3] * factor for p in points],
            color=COLORS[i % len(COLORS)],
            alpha=0.15,
            linewidth=0,
        )
    return line


def _draw_thresholds(ax: Any, curve: MetricCurve) -> None:
    for limit in curve.thresholds:
        color = STATUS_COLORS["unhappy" if limit.level == "critical" else "neutral"]
        y = limit.value * axis_scale(curve.unit)
        ax.axhline(y, color=color, linestyle=(0, (6, 3)), linewidth=1.2)
        ax.annotate(
            f"{limit.level} {limit.op} {limit.text}",
            (1, y),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=7,
            color=color,
        )


def _draw_changes(ax: Any, curve: MetricCurve, i: int) -> None:
    """A dashed vertical line in the curve's colour at each change found in it."""
    for change in curve.changes:
        ax.axvline(
            _time(change.at_ms), color=COLORS[i % len(COLORS)], linestyle="--", linewidth=1.0
        )


def _draw_status(ax: Any, curve: StatusCurve, span_ms: float) -> None:
    for start, stop, status in curve.segments:
        ax.axvspan(
            _time(start),
            _time(stop),
            facecolor=STATUS_COLORS.get(status, "#999"),
            edgecolor=HATCH_INK,  # the hatch's colour: a texture that survives grey print
            hatch=STATUS_HATCH.get(status, ""),
            linewidth=0,
        )
        if (stop - start) / span_ms > LABEL_MIN_SHARE:  # words where they fit
            ax.text(
                _time((start + stop) / 2),
                0.5,
                STATUS_WORDS.get(status, status),
                ha="center",
                va="center",
                fontsize=7,
                fontweight="bold",
                transform=ax.get_xaxis_transform(),
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
    ax.set_ylabel(curve.label, rotation=0, ha="right", va="center", fontsize=8)
