"""The gauges of `/metrics` that change between scrapes, written by hand at each one.

Everything else in `/metrics` stays the same for a run (web/exports/metrics.py); these few
lines are the whole per-scrape cost, so they are formatted directly instead of through
prometheus_client's registry (whose text format they follow, value formatting included).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.utils import floatToGoString

from ...acquisition.extracts import EXTRACTS

if TYPE_CHECKING:
    from ...storage import RunInfo
    from ..pages.routes import Dashboard


@dataclass(frozen=True)
class LiveGauge:
    """A gauge without labels: its name and help, and its exposition lines for a value."""

    name: str
    help: str
    _head: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head = f"# HELP {self.name} {self.help}\n# TYPE {self.name} gauge\n{self.name} "
        object.__setattr__(self, "_head", head.encode())

    def lines(self, value: float) -> bytes:
        """The gauge in the Prometheus text format, with `value`."""
        return self._head + floatToGoString(value).encode() + b"\n"

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
