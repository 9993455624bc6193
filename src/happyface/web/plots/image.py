"""The same plot as a static PNG or SVG image (matplotlib, Agg backend), to embed in a wiki."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede any pyplot import elsewhere

from matplotlib.dates import AutoDateFormatter, AutoDateLocator, date2num
from matplotlib.figure import Figure

from ...units import axis_scale
from .axis_text import UnitFormatter, place_time_label, unmeasured_empty_labels
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

WIDTH = 9.0  # inches, at 100 dpi
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
    legend_rows = -(-len(metrics) // 2)
    height = 1.2 + 2.6 * max(1, len(groups)) * bool(metrics) + 0.35 * len(statuses)
    height += 0.22 * legend_rows
    fig = Figure(figsize=(WIDTH, height), dpi=100)
    heights = [4.0] * len(groups) + [0.45] * len(statuses)
    axes = fig.subplots(
        len(heights),
        1,
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": heights, **_margins(statuses, height, legend_rows)},
    )[:, 0]
    start, end = _time(view.from_ms), _time(view.to_ms)
    handles: list[Any] = []
    for ax, group in zip(axes, groups, strict=False):
        handles += _draw_panel(ax, group, metrics)
    for ax, curve in zip(axes[len(groups) :], statuses, strict=True):
        _draw_status(ax, curve, max(1, view.to_ms - view.from_ms))
    last = axes[-1]
    locator = AutoDateLocator()
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(AutoDateFormatter(locator, tz=UTC))
    last.set_xlim(start, end)
    place_time_label(last, "UTC")
    if handles:  # below everything: a legend never covers a curve
        fig.legend(handles=handles, loc="lower center", ncols=2, fontsize=8, frameon=False)
    if metrics and not any(c.points for c in metrics):
        axes[0].text(0.5, 0.5, "no data in this interval", transform=axes[0].transAxes, ha="center")
    unmeasured_empty_labels(fig.axes)
    fig.suptitle(f"{title}: {view.from_text} to {view.to_text}", fontsize=10)
    if fmt == "png":
        return png_of(fig), MEDIA[fmt]
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Date": None})  # equal plots, equal bytes
    return buffer.getvalue(), MEDIA[fmt]


def _by_axis(curves: list[MetricCurve]) -> list[list[MetricCurve]]:
    """The curves grouped by the y-axis their unit is drawn on, in order of appearance."""
    axes: dict[str, list[MetricCurve]] = {}
    for curve in curves:
        axes.setdefault(curve.axis, []).append(curve)
    return list(axes.values())


def _panels(axes: list[list[MetricCurve]]) -> list[list[list[MetricCurve]]]:
    """Two units share a panel (left and right axes); more get a panel each."""
    return [axes] if len(axes) <= 2 else [[a] for a in axes]


def _margins(statuses: list[StatusCurve], height: float, legend_rows: int) -> dict[str, float]:
    """Fixed margins, wide enough for the status labels on the left and the legend below.

    Matplotlib's constrained layout measured every text to find them: 40 % of a year's plot.
    """
    label = max((len(c.label) for c in statuses), default=0)
    left = max(MIN_LEFT, LABEL_CHAR * label + 0.2)
    return {
        "left": left / WIDTH,
        "right": 1 - 0.85 / WIDTH,
        "top": 1 - 0.45 / height,
        "bottom": (0.6 + 0.22 * legend_rows) / height,
        "hspace": 0.15,
    }


def _draw_panel(ax: Any, group: list[list[MetricCurve]], every: list[MetricCurve]) -> list[Any]:
    """One panel: its first unit on the left axis, a second on a right one; the legend lines."""
    handles = []
    for side, curves in enumerate(group):
        target = ax if side == 0 else ax.twinx()
        for curve in curves:
            handles.append(_draw_curve(target, curve, every.index(curve)))
            _draw_thresholds(target, curve)
            _draw_changes(target, curve, every.index(curve))
        unit = curves[0].axis  # hours and days drawn as seconds, a fraction as percent
        target.yaxis.set_major_formatter(UnitFormatter(unit))
        if unit:
            target.set_ylabel(unit, fontsize=8)
    ax.grid(True, alpha=0.3)
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
    ax.set_yticks([])
    ax.set_ylabel(curve.label, rotation=0, ha="right", va="center", fontsize=8)
