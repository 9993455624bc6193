"""The gauges of `/metrics` that change between scrapes, written by hand at each one.

Everything else in `/metrics` stays the same for a run (web/exports/metrics.py); these few
lines are the whole per-scrape cost, so they are formatted directly instead of through
prometheus_client's registry (whose text format they follow, value formatting included).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.utils import floatToGoString

from ...acquisition.extracts import EXTRACTS

if TYPE_CHECKING:
    from ...storage import RunInfo
    from ..pages.routes import Dashboard


class LiveGauge:
    """A gauge without labels: its name and help, and its exposition lines for a value."""

    def __init__(self, name: str, help: str) -> None:
        self.name = name
        self.help = help
        self._head = f"# HELP {name} {help}\n# TYPE {name} gauge\n{name} ".encode()
        # the lines last written: most gauges keep their value over many scrapes
        self._last: tuple[float, bytes] = (math.nan, b"")  # NaN equals nothing

    def lines(self, value: float) -> bytes:
        """The gauge in the Prometheus text format, with `value`."""
        last = self._last
        if last[0] == value:
            return last[1]
        made = self._head + floatToGoString(value).encode() + b"\n"
        self._last = (value, made)  # one assignment: threads see the old pair or the new one
        return made

    def family(self, value: float) -> GaugeMetricFamily:
        """The same gauge for prometheus_client's registry."""
        return GaugeMetricFamily(self.name, self.help, value=value)


LOOP_LAG = LiveGauge(
    "happyface_event_loop_lag_seconds",
    "Longest delay of the event loop (which serves the pages) over the last minute",
)
ABANDONED = LiveGauge(
    "happyface_extracts_abandoned",
    "Extracts that overran extract_timeout and are still running in this process",
)
RUN_AGE = LiveGauge("happyface_latest_run_age_seconds", "Age of the newest run with results")
STALE = LiveGauge("happyface_stale", "1 when the newest run is older than stale_after")


def process_lines(dash: Dashboard) -> bytes:
    """The process's own live gauges: the event loop's lag, abandoned extracts."""
    return LOOP_LAG.lines(dash.loop_lag.worst()) + ABANDONED.lines(EXTRACTS.abandoned())


def age_lines(dash: Dashboard, latest: RunInfo, now: datetime) -> bytes:
    """How old the newest run is, and whether that makes it stale."""
    age = (now - latest.started_at).total_seconds()
    stale = age > dash.site.settings.stale_after
    return RUN_AGE.lines(age) + STALE.lines(float(stale))


def live_tail(dash: Dashboard, latest: RunInfo | None) -> Callable[[], bytes]:
    """What a scrape appends to the cached part of `/metrics`, made anew at each call."""

    def tail() -> bytes:
        lines = process_lines(dash)
        return lines + age_lines(dash, latest, dash.now()) if latest is not None else lines

    return tail
