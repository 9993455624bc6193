"""`/metrics`: the newest run in the Prometheus text format, for alerting on HappyFace itself.

Statuses are exported as the classic score (1 happy, 0.5 neutral, 0 unhappy, -1 error, -2 no
info), so `happyface_module_status < 0` finds the failing monitoring and `== 0` the unhappy site.
They are not blanked when stale: `happyface_latest_run_age_seconds` says how old they are, and
an alert on it is the honest way to notice a stopped scheduler.

The part that depends only on the newest run is rendered once per run and cached, the failed
runs of the last day are counted at most every FAILURES_TTL seconds, and only the ages and the
process's own gauges are written at every scrape (web/exports/metrics_live.py), appended to the
rest as it was prepared once, gzip included (web/livetail.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...acquisition.extracts import EXTRACTS
from ...status import Kind, Status
from ..access import viewer_of
from ..cache import Rendered
from ..livetail import LiveResponse, stem_of
from .metrics_changes import change_families
from .metrics_live import ABANDONED, LOOP_LAG, live_tail
from .metrics_sources import source_families

if TYPE_CHECKING:
    from ...storage import ResultRow, RunInfo, Store
    from ..access import ScopedStore
    from ..pages.routes import Dashboard

MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FAILED_WINDOW = timedelta(days=1)
#: seconds the failed-run counts are served from memory
FAILURES_TTL = 10


class _Families(Collector):
    """A collector that hands out metric families built beforehand."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def exposition(families: Iterable[Metric]) -> bytes:
    """The families in the Prometheus text format, written by prometheus_client itself."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)


def run_families(store: ScopedStore, run: RunInfo, kinds: dict[str, Kind]) -> list[Metric]:
    """Everything about one run: statuses, durations, errored modules."""
    rows = store.results(run.id)
    statuses = store.category_statuses(run.id)
    module = GaugeMetricFamily(
        "happyface_module_status",
        "Status score of each module in the newest run: 1 happy, 0.5 neutral, 0 unhappy, "
        "-1 error, -2 no info",
        labels=["module", "category", "kind"],
    )
    fetch = GaugeMetricFamily(
        "happyface_module_fetch_seconds",
        "Time spent fetching the module's sources",
        labels=["module", "category"],
    )
    extract = GaugeMetricFamily(
        "happyface_module_extract_seconds",
        "Time spent reading the module's inputs",
        labels=["module", "category"],
    )
    for row in rows:
        kind = kinds.get(row.module_id, Kind.RATED).value
        module.add_metric([row.module_id, row.category_id, kind], row.status.score)
        fetch.add_metric([row.module_id, row.category_id], row.fetch_seconds)
        extract.add_metric([row.module_id, row.category_id], row.extract_seconds)
    category = GaugeMetricFamily(
        "happyface_category_status",
        "Status score of each category in the newest run",
        labels=["category"],
    )
    for name, status in sorted(statuses.items()):
        category.add_metric([name], status.score)
    return [
        module,
        category,
        *_since_families(store, run, rows, statuses),
        fetch,
        extract,
        *_run_gauges(run, rows),
        *source_families(store, run),
        *change_families(store, run),
    ]


def _since_families(
    store: ScopedStore, run: RunInfo, rows: list[ResultRow], statuses: dict[str, Status]
) -> list[Metric]:
    """Since when each module and category is in its status, as Unix time: a timestamp rather
    than a duration, so the per-run cache stays right (`time() - ...` is the duration)."""
    periods = store.periods_at(run.id, run.started_at)
    module = GaugeMetricFamily(
        "happyface_module_state_since_timestamp_seconds",
        "Since when the module is in its status in the newest run, Unix time",
        labels=["module", "category", "status"],
    )
    for row in rows:
        found = periods.get(("module", row.module_id))
        if found is not None and found.status is row.status:
            labels = [row.module_id, row.category_id, row.status.value]
            module.add_metric(labels, found.since.timestamp())
    category = GaugeMetricFamily(
        "happyface_category_state_since_timestamp_seconds",
        "Since when the category is in its status in the newest run, Unix time",
        labels=["category", "status"],
    )
    for name, status in sorted(statuses.items()):
        found = periods.get(("category", name))
        if found is not None and found.status is status:
            category.add_metric([name, status.value], found.since.timestamp())
    return [module, category]


def _run_gauges(run: RunInfo, rows: list[ResultRow]) -> list[Metric]:
    errored = sum(1 for r in rows if r.status is Status.ERROR)
    return [
        GaugeMetricFamily(
            "happyface_run_duration_seconds",
            "Duration of the newest run",
            value=run.duration or 0.0,
        ),
        GaugeMetricFamily(
            "happyface_run_timestamp_seconds",
            "Start of the newest run, Unix time",
            value=run.started_at.timestamp(),
        ),
        GaugeMetricFamily("happyface_run_id", "Id of the newest run", value=float(run.id)),
        GaugeMetricFamily(
            "happyface_modules_errored",
            "Modules whose fetch or extract failed in the newest run",
            value=float(errored),
        ),
    ]


def process_families(dash: Dashboard, up: bool) -> list[Metric]:
    """What this process knows without reading the database; all of /metrics in an outage."""
    lag, abandoned = dash.loop_lag.worst(), float(EXTRACTS.abandoned())
    return [*_identity_families(dash, up), LOOP_LAG.family(lag), ABANDONED.family(abandoned)]


def _identity_families(dash: Dashboard, up: bool) -> list[Metric]:
    info = GaugeMetricFamily(
        "happyface_info", "This HappyFace instance", labels=["site", "version"]
    )
    info.add_metric([dash.site.settings.title, _version()], 1.0)
    up_family = GaugeMetricFamily(
        "happyface_up", "1 when the database answers, 0 when it does not", value=float(up)
    )
    return [info, up_family]


def failure_families(store: Store, now: datetime) -> list[Metric]:
    """The failed runs of the last day (one record per slot), read from the database."""
    recent = store.runs(now - FAILED_WINDOW, now, limit=10_000, include_failed=True)
    failed = [r for r in recent if r.state == "failed"]
    return [
        GaugeMetricFamily(
            "happyface_runs_failed_last_day",
            "Runs that failed in the last 24 hours",
            value=float(len(failed)),
        ),
        GaugeMetricFamily(
            "happyface_last_run_failed",
            "1 when the most recent run (of any state) failed",
            value=float(bool(recent) and recent[0].state == "failed"),
        ),
    ]


async def metrics(dash: Dashboard, request: Request) -> Response:
    """The answer to a scrape: what the run and the last seconds fixed, and the live gauges."""
    latest = await dash.newest()
    per_run = await _per_run(dash, request, latest) if latest is not None else b""
    changing = exposition(_identity_families(dash, up=True)) + await _failures(dash, dash.now())
    # the run's part, deflated once per run, then the small part of the last ten seconds
    fixed = stem_of(per_run).then(changing)
    return LiveResponse(fixed, live_tail(dash, latest), MEDIA_TYPE, {"Cache-Control": "no-store"})


async def _per_run(dash: Dashboard, request: Request, latest: RunInfo) -> bytes:
    """Everything about the newest run as this viewer may see it, rendered once per run."""
    viewer = viewer_of(request)
    key = ("metrics", latest.id, viewer.key)
    cached = dash.cache.get(key)
    if cached is None:
        kinds = {m.id: m.config.kind for m in dash.access.site_for(viewer).modules}
        store = dash.access.store_for(dash.store, viewer)
        body = await run_in_threadpool(
            lambda: _prepared(exposition(run_families(store, latest, kinds)))
        )
        cached = Rendered(body, MEDIA_TYPE)
        dash.cache.put(key, cached)
    return cached.body


def _prepared(body: bytes) -> bytes:
    """`body`, its stem made beforehand by the thread that rendered it, not on the event loop."""
    stem_of(body)
    return body


async def _failures(dash: Dashboard, now: datetime) -> bytes:
    """The failed-run families, read from the database at most once per FAILURES_TTL.

    Scrapers ask every few seconds; a failed run shows at the latest that much later.
    """
    key = ("metrics-failures", int(now.timestamp() // FAILURES_TTL))
    cached = dash.cache.get(key)
    if cached is None:
        body = await run_in_threadpool(lambda: exposition(failure_families(dash.store, now)))
        cached = Rendered(body, MEDIA_TYPE)
        dash.cache.put(key, cached)
    return cached.body


@cache  # the installed version does not change while the process runs
def _version() -> str:
    try:
        return metadata.version("happyface")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"
