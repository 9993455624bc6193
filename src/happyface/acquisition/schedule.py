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

# How often a scheduler waiting for the run lock asks again.
RETRY_SECONDS = 1.0


def slot_of(now: datetime, interval: float) -> datetime:
    """The slot `now` falls in: the latest multiple of `interval` seconds since the epoch."""
    return datetime.fromtimestamp(math.floor(now.timestamp() / interval) * interval, UTC)


def next_slot(now: datetime, interval: float) -> datetime:
    """The next multiple of `interval` seconds since the epoch, strictly after `now`."""
    seconds = now.timestamp()
    slot = math.floor(seconds / interval + 1) * interval
    return datetime.fromtimestamp(slot, UTC)


@dataclass
class Scheduler:
    """Runs the site at every slot; a failed run is logged and recorded, never a crash loop.

    A slot is one multiple of the interval; its run carries it, and the store keeps one record
    per slot, so schedulers that restart, or two on one database, never run a slot twice.
    """

    runner: Runner
    pending: PendingFailures
    maintenance: Maintenance | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def forever(self) -> None:
        """Run every slot until cancelled; the current one at once, unless it has its run.

        A run that ends inside the next slot (it began late, or took longer than the interval)
        is followed at once by that slot's run: sleeping to the slot after would leave the one
        under way to nobody, and it would be recorded missed while this process was alive.
        """
        interval = self.runner.site.settings.interval
        last: datetime | None = None
        while True:
            slot = slot_of(self.clock(), interval)
            if slot == last:
                await self._sleep_until(next_slot(self.clock(), interval))
                continue
            await self.run_slot(slot)
            last = slot

    async def _sleep_until(self, moment: datetime) -> None:
        """Sleep until `moment` has come by the wall clock.

        A timer may wake a little early by the wall clock (uvloop's round to the millisecond):
        a run begun then would fall in the slot just run, and the one due be recorded missed.
        """
        while (left := (moment - self.clock()).total_seconds()) > 0:
            await asyncio.sleep(left)

    async def run_slot(self, slot: datetime) -> None:
        """The run of one slot; every failure is logged, and recorded once the database is back.

        While another live process holds the run lock this waits, trying again every
        RETRY_SECONDS until the slot ends: when that process dies, its lock frees (at once
        when it was on this machine, after `lock_ttl` otherwise) and this one takes over.
        """
        ends = slot + timedelta(seconds=self.runner.site.settings.interval)
        waiting = False
        while True:
            started = self.clock()
            try:
                await asyncio.to_thread(self.pending.flush, self.runner.store)
                await self.runner.run(started, slot=slot)
            except RunLockedError as exc:
                if self.clock() + timedelta(seconds=RETRY_SECONDS) >= ends:
                    log.info("the slot at %s ended while another process held the lock", slot)
                    return
                if not waiting:
                    log.info("waiting for the run lock: %s", exc)
                    waiting = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            except StorageError as exc:
                log.error("run at %s failed: %s", started.isoformat(timespec="seconds"), exc)
                reason = f"database unreachable: {exc}"
                await asyncio.to_thread(self.pending.add, started, self.clock(), reason, slot)
                return
            except Exception as exc:  # the scheduler must outlive any single run
                log.error("run at %s failed: %s", started.isoformat(timespec="seconds"), exc)
                return
            break
        if self.maintenance is not None:
            await asyncio.to_thread(self.maintenance.maybe_clean, self.clock())
