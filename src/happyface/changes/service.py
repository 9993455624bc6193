"""After each stored run: feed every series its new point, store the changes confirmed.

A Runner observer. Detector states live in memory; after a start they are rebuilt from the
stored history of the window (once), starting each series' reference at its newest stored
change, so a change is never told twice.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..offloop import off_loop
from ..status import Status
from ..storage.changes import ChangePoint
from .detector import SeriesDetector, Shift
from .tuning import Tuning

if TYPE_CHECKING:
    from ..acquisition.run import RunOutcome
    from ..config.settings import ChangeSettings
    from ..storage import Store
    from ..storage.records import ModuleRecord

log = logging.getLogger("happyface.changes")

#: the series of a module's status; "@" is in no metric name, so it cannot clash
STATUS_SERIES = "@status"
# statuses as an ordinal: a shift from mostly happy to mostly unhappy is a change of level;
# no information and errors are gaps, not values
_ORDINAL = {Status.HAPPY: 0.0, Status.NEUTRAL: 1.0, Status.UNHAPPY: 2.0}

SeriesKey = tuple[str, str]


def tuning_of(settings: ChangeSettings) -> Tuning:
    """The detector's parameters from `[site.changes]`."""
    return Tuning(
        window=settings.window,
        min_relative=settings.min_relative,
        penalty=settings.penalty,
        confirm=settings.confirm,
    )


def points_of(status: Status, metrics: dict[str, float]) -> Iterator[tuple[str, float]]:
    """The values one result adds to its module's series."""
    yield from metrics.items()
    if status in _ORDINAL:
        yield STATUS_SERIES, _ORDINAL[status]


@dataclass
class ChangeService:
    """One site's change detection: call it with each run's outcome."""

    store: Store
    tuning: Tuning
    detectors: dict[SeriesKey, SeriesDetector] = field(default_factory=dict)
    warmed: bool = False

    async def __call__(self, outcome: RunOutcome) -> None:
        await off_loop(self.observe, outcome)

    def observe(self, outcome: RunOutcome) -> list[ChangePoint]:
        """Take one stored run; the changes it confirmed (stored already)."""
        if not self.warmed:
            self.warm_up([r.module_id for r in outcome.records], outcome.started_at)
        found = self.detect(outcome.started_at, outcome.records)
        self.store.add_changes(found)
        if found:
            log.info("run %d: %d change(s) found", outcome.run_id, len(found))
        return found

    def detect(self, when: datetime, records: tuple[ModuleRecord, ...]) -> list[ChangePoint]:
        """Advance every series of these records by one run."""
        t = when.timestamp()
        found = []
        for record in records:
            for metric, value in points_of(record.status, dict(record.result.metrics)):
                shift = self._detector((record.module_id, metric)).add(t, value)
                if shift is not None:
                    found.append(_point(record.module_id, metric, shift, when))
        return found

    def warm_up(self, module_ids: list[str], before: datetime) -> None:
        """Fill the windows from the stored history before `before` (once per process)."""
        self.warmed = True
        since = before - timedelta(seconds=self.tuning.window)
        until = before - timedelta(microseconds=1)
        latest = self.store.latest_changes()
        for (module_id, metric), change in latest.items():
            anchor = change.at.timestamp()
            self.detectors[(module_id, metric)] = SeriesDetector(self.tuning, anchor)
        for row in self.store.metrics_between(since, until, module_ids):
            t = row.time.timestamp()
            for metric, value in points_of(row.status, row.metrics):
                self._detector((row.module_id, metric)).load(t, value)

    def _detector(self, key: SeriesKey) -> SeriesDetector:
        found = self.detectors.get(key)
        if found is None:
            found = self.detectors[key] = SeriesDetector(self.tuning)
        return found


def _point(module_id: str, metric: str, shift: Shift, found_at: datetime) -> ChangePoint:
    return ChangePoint(
        module_id,
        metric,
        datetime.fromtimestamp(shift.at, UTC),
        found_at,
        shift.kind,
        shift.measure,
        shift.before,
        shift.after,
        shift.sd_before,
        shift.sd_after,
        shift.significance,
        shift.relative if math.isfinite(shift.relative) else math.copysign(1e9, shift.relative),
    )
