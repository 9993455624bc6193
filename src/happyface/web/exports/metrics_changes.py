"""The changes part of `/metrics`: how many changes each module had in the last 24 hours."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric

from ...changes.query import RECENT

if TYPE_CHECKING:
    from ...storage import RunInfo
    from ..access import ScopedStore


def change_families(store: ScopedStore, run: RunInfo) -> list[Metric]:
    """Changes per module within a day before the run (cached with the run like the rest)."""
    found = store.changes(run.started_at - RECENT, run.started_at, limit=100_000)
    counts = Counter(c.module_id for c in found)
    family = GaugeMetricFamily(
        "happyface_changes_recent",
        "Changes of level or variance found in the module's series in the 24 h before the "
        "newest run",
        labels=["module"],
    )
    for module_id, count in sorted(counts.items()):
        family.add_metric([module_id], float(count))
    return [family]
