"""What the axes of a plot image write: tick labels in the unit, and where axis labels go."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.ticker import Formatter
from matplotlib.transforms import ScaledTranslation

from ...units import distinct, humanise

#: points from the time axis to the top of its label: ticks (3.5), their pad (3.5), a line of
#: 10 pt tick labels, the label's pad (4); where matplotlib puts it after measuring them
TIME_LABEL_DROP = 21.0


class UnitFormatter(Formatter):
    """Ticks written in `unit`, with the detail that tells the visible ones apart.

    Matplotlib asks for all labels of an axis at once (`format_ticks`), so they are told
    apart once per axis: a formatter called label by label had to find the axis' ticks and
    limits again for each.
    """

    def __init__(self, unit: str) -> None:
        self.unit = unit

    def __call__(self, value: float, pos: int | None = None) -> str:
        return humanise(value, self.unit)

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        if self.axis is None:  # not on an axis: every value is shown
            shown = list(values)
        else:
            low, high = sorted(self.axis.get_view_interval())
            shown = [v for v in values if low <= v <= high]
        texts = dict(zip(shown, distinct(shown, self.unit), strict=True))
        return [texts.get(v, humanise(v, self.unit)) for v in values]


def place_time_label(ax: Any, text: str) -> None:
    """The time axis' label below its tick labels, at a fixed drop.

    Placed by matplotlib, an axis label goes beside the measured boxes of the tick labels of
    its axis and of every axis sharing it, at each image; dates are one line of digits, so
    the drop is always the same.
    """
    ax.set_xlabel(text)
    drop = ScaledTranslation(0, -TIME_LABEL_DROP / 72, ax.get_figure().dpi_scale_trans)
    ax.xaxis.set_label_coords(0.5, 0, transform=ax.transAxes + drop)
