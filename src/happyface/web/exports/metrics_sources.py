"""The data-quality families of `/metrics`: each source's state, latency and size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric

from ...quality import Quality

if TYPE_CHECKING:
    from ...storage import RunInfo
    from ..access import ScopedStore


def source_families(store: ScopedStore, run: RunInfo) -> list[Metric]:
    """One gauge per source and state (1 for its state in the run, 0 for the others)."""
    states = store.run_sources(run.id)
    quality = GaugeMetricFamily(
        "happyface_source_quality",
        "Data quality of each source in the newest run: 1 for its state, 0 for the others",
        labels=["source", "state"],
    )
    latency = GaugeMetricFamily(
        "happyface_source_latency_seconds", "Time the source's fetch took", labels=["source"]
    )
    size = GaugeMetricFamily(
        "happyface_source_bytes", "Size of the source's answer", labels=["source"]
    )
    for state in states:
        for candidate in Quality:
            quality.add_metric([state.key, candidate.value], float(candidate is state.state))
        if state.latency is not None:
            latency.add_metric([state.key], state.latency)
        if state.size is not None:
            size.add_metric([state.key], float(state.size))
    return [quality, latency, size]
