"""When runs happen: at every multiple of the interval, one process per slot, forever."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..errors import RunLockedError, StorageError
from .maintenance import Maintenance
from .pending import PendingFailures
from .run import Runner

log = logging.getLogger("happyface.schedule")


def next_slot(now: datetime, interval: float) -> datetime:
    """The next multiple of `interval` seconds since the epoch, strictly after `now`."""
    seconds = now.timestamp()
    slot = math.floor(seconds / interval + 1) * interval
    return datetime.fromtimestamp(slot, UTC)


@dataclass
class Scheduler:
    """Runs the site at every slot; a failed run is logged and recorded, never a crash loop."""

    runner: Runner
    pending: PendingFailures
    maintenance: Maintenance | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def forever(self) -> None:
        """Run at every slot until cancelled; the first run starts at once."""
        interval = self.runner.site.settings.interval
        slot = self.clock()
        while True:
            await self.run_slot(slot)
            slot = next_slot(self.clock(), interval)
            await asyncio.sleep(max(0.0, (slot - self.clock()).total_seconds()))

    async def run_slot(self, slot: datetime) -> None:
        """One scheduled run; every failure is logged, and recorded once the database is back."""
        started = self.clock()
        try:
            self.pending.flush(self.runner.store)
            await self.runner.run(started, slot_start=slot - timedelta(seconds=1))
        except RunLockedError:
            log.info("skipping this slot: another process is running the acquisition")
            return
        except StorageError as exc:
            log.error("run at %s failed: %s", started.isoformat(timespec="seconds"), exc)
            self.pending.add(started, self.clock(), f"database unreachable: {exc}")
            return
        except Exception as exc:  # the scheduler must outlive any single run
            log.error("run at %s failed: %s", started.isoformat(timespec="seconds"), exc)
            return
        if self.maintenance is not None:
            await asyncio.to_thread(self.maintenance.maybe_clean, self.clock())
