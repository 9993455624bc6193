"""One acquisition run: every module of the site, concurrently, stored atomically."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..archive.run_file import ArchiveFeed, discard, open_feed, publish
from ..archive.runs import Archive
from ..config.site import ModuleInstance, Site
from ..errors import RunFailedError, StorageError
from ..logs import run_log
from ..offloop import off_loop, settled
from ..quality import Quality, SourceReport
from ..status import Rated, Status, category_status
from ..storage import ModuleRecord, Store
from ..storage.lock import LockHolder, LockInfo
from ..storage.records import LATE_AFTER
from .fetch import Fetcher
from .holder import this_process
from .modulerun import ModuleJob, run_module
from .pending import PendingFailures
from .quality.judge import Limits, greyed
from .quality.sources import RunSources, SourceJudge
from .runlock import RunLock

log = logging.getLogger("happyface.run")

Progress = Callable[[ModuleRecord], None]
Observer = Callable[["RunOutcome"], Awaitable[None]]

# A live run renews its lock every third of this; a killed one frees it this long after.
LOCK_TTL = 30.0

# The reason recorded for a run stopped by SIGINT or SIGTERM (or a server shutting down).
CANCELLED = "cancelled: the process was stopped mid-run"

# Missed slots are recorded this far back at most: a scheduler stopped for a month leaves one
# day of "missed" records, not a month of them.
MISSED_LOOKBACK = timedelta(days=1)


def default_holder() -> str:
    """Who holds the run lock: host and process, readable in the database."""
    return this_process().name


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run produced."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    records: tuple[ModuleRecord, ...]
    categories: dict[str, Status]
    sources: tuple[SourceReport, ...] = ()
    #: the categories rolled up from the modules' own statuses (before greying), for alarms
    own_categories: dict[str, Status] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(r.status is Status.ERROR for r in self.records)

    @property
    def unread(self) -> list[ModuleRecord]:
        """The records of the modules that could not read one of their sources at all."""
        ids = {m for s in self.sources if s.state is Quality.UNREACHABLE for m in s.modules}
        return [r for r in self.records if r.module_id in ids]


@dataclass
class Runner:
    """Runs acquisitions of one site against one store; the scheduler and the CLI share it.

    Every store call goes through a worker thread: the event loop it shares with the web
    never waits for the database.
    """

    site: Site
    store: Store
    fetcher: Fetcher
    archive: Archive | None = None
    holder: str = ""  # empty: this process (host and PID)
    log_dir: Path | None = None  # one log file per run goes here
    lock_ttl: float = LOCK_TTL
    #: called after each stored run (alarms, exports); a failing observer is only logged
    observers: list[Observer] = field(default_factory=list)
    #: where a failure goes when the database cannot take it (an outage mid-run)
    pending: PendingFailures | None = None
    identity: LockHolder = field(init=False)
    #: each source's latency at the last run, by key: the slowest start first at the next
    latencies: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.identity = LockHolder.named(self.holder) if self.holder else this_process()
        self.holder = self.identity.name

    @property
    def lock(self) -> RunLock:
        """The site's run lock, as this runner holds it."""
        return RunLock(self.store, self.identity, self.lock_ttl)

    async def run(
        self,
        now: datetime | None = None,
        progress: Progress | None = None,
        slot: datetime | None = None,
    ) -> RunOutcome | None:
        """Acquire, rate and store one run; None when `slot` already has its record.

        `slot` is the scheduled time the run is for (the scheduler's); a slot has one record at
        most, and slots before it that nobody ran are recorded as missed. Raises RunLockedError
        when another live process holds the run lock, StorageError when the database cannot
        be reached before the run began, RunFailedError when a run that began failed (it is
        recorded as failed, or spooled until the database is back).
        """
        now = now or datetime.now(UTC)
        lock = self.lock
        replaced = await lock.take(now)
        try:
            abandoned = await off_loop(self.store.abandon_stale_runs, self.holder, now)
            if abandoned:
                log.warning("%d run(s) left running by a process that ended: failed", abandoned)
            if slot is not None:
                await self._record_missed(slot, replaced)
            run_id = await off_loop(
                self.store.begin_run, now, self.holder, self.site.snapshot, slot
            )
            if run_id is None:  # only a slot can be taken already
                log.info("the slot at %s already has its run", slot)
                return None
            return await self._heartbeat_run(lock, run_id, now, progress, slot)
        finally:
            await lock.release()

    async def _record_missed(self, slot: datetime, replaced: LockInfo | None) -> None:
        """Record the slots before `slot` since the last recorded one that nobody ran."""
        newest = await off_loop(self.store.newest_slot, slot)
        if newest is None:
            return  # a new site, or one only run by hand: no slot was ever expected
        missed = _slots_between(newest, slot, self.site.settings.interval)
        if not missed:
            return
        reason = "missed: no run was started for this slot"
        if replaced is not None:
            reason += f" (the process holding the run lock stopped: {replaced.holder.name})"
        recorded = await off_loop(self.store.record_missed_slots, missed, reason)
        if recorded:
            log.warning("%d slot(s) before %s had no run: recorded missed", recorded, _clock(slot))

    async def _heartbeat_run(
        self,
        lock: RunLock,
        run_id: int,
        now: datetime,
        progress: Progress | None,
        slot: datetime | None,
    ) -> RunOutcome:
        if slot is not None and (now - slot).total_seconds() > LATE_AFTER:
            log.info("run %d is late: its slot began at %s", run_id, _clock(slot))
        heartbeat = asyncio.create_task(lock.keep())
        try:
            with run_log(self.log_dir, now):
                outcome = await self._locked_run(run_id, now, progress, slot)
                # still under the lock: after-run work (alarms) runs once per run and site
                await self._tell_observers(outcome)
                return outcome
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _tell_observers(self, outcome: RunOutcome) -> None:
        """Call every observer in turn; a failing one is logged and the others still run."""
        for observer in self.observers:
            try:
                await observer(outcome)
            except Exception:
                log.exception("an after-run observer failed for run %d", outcome.run_id)

    async def _locked_run(
        self, run_id: int, now: datetime, progress: Progress | None, slot: datetime | None
    ) -> RunOutcome:
        clock = time.monotonic()
        log.info("run %d started with %d modules", run_id, len(self.site.modules))
        feed = await open_feed(self.archive, now)
        try:
            records, sources = await asyncio.wait_for(
                self._acquire(now, progress, feed), self.site.settings.run_timeout
            )
            categories = self._categories(records)
            # measured from `now`, so a run for a past time (a backfill) keeps its real duration
            finished = now + timedelta(seconds=time.monotonic() - clock)
            records = await publish(feed, records)
            days_due = await off_loop(
                self.store.finish_run, run_id, records, categories, finished, sources
            )
        except BaseException as exc:
            discard(feed)
            reason = _reason(exc, self.site.settings.run_timeout)
            log.error("run %d failed: %s", run_id, reason)
            await self._fail(run_id, now, slot, reason)
            if isinstance(exc, Exception) and not isinstance(exc, RunFailedError):
                raise RunFailedError(f"run {run_id} failed: {reason}") from exc
            raise
        own = {m: s for source in sources for m, s in source.greyed.items()}
        outcome = RunOutcome(
            run_id,
            now,
            finished,
            tuple(records),
            categories,
            tuple(sources),
            self._categories(records, own) if own else categories,
        )
        log.info(
            "run %d stored: %d modules, %d errors, %.1f s",
            run_id,
            len(records),
            outcome.errors,
            (finished - now).total_seconds(),
        )
        if days_due is not None:
            await self._write_ended_days(days_due)
        return outcome

    async def _write_ended_days(self, now: datetime) -> None:
        """Roll up the days before the run's, which it completed; the run is stored already,
        so a failure here only leaves them to the next run or cleanup."""
        try:
            await settled(off_loop(self.store.write_ended_days, now))
        except StorageError as exc:
            log.warning("the rollups of ended days are left to the next run or cleanup: %s", exc)

    async def _fail(self, run_id: int, now: datetime, slot: datetime | None, reason: str) -> None:
        """Record the run as failed; spool that while the database cannot take it."""
        finished = datetime.now(UTC)
        try:
            await settled(off_loop(self.store.fail_run, run_id, finished, reason))
        except StorageError as exc:
            log.error("run %d is recorded as failed once the database is back: %s", run_id, exc)
            if self.pending is not None:  # waits for the spool's lock: off the loop too
                await settled(off_loop(self.pending.add, now, finished, reason, slot, run_id))

    async def _acquire(
        self, now: datetime, progress: Progress | None, feed: ArchiveFeed | None
    ) -> tuple[list[ModuleRecord], list[SourceReport]]:
        """Every module's record, and every source's quality (its modules greyed by it)."""
        sources = RunSources.of(self.site.modules)
        settings = self.site.settings
        judge = SourceJudge(
            self.store,
            Limits(settings.source_max_age, settings.source_future_tolerance),
            settings.extract_timeout,
        )
        last_good = asyncio.create_task(judge.last_good(sources))
        try:
            fetches = await sources.start(self.fetcher, now, self.latencies)
            jobs = [
                ModuleJob(
                    instance=instance,
                    fetches=fetches[instance.id],
                    now=now,
                    extract_timeout=settings.extract_timeout,
                    archive=feed,
                    archive_always=_archives(instance, settings.archive.enabled),
                )
                for instance in self.site.modules
            ]
            records = await asyncio.gather(*(_reporting(run_module(j), progress) for j in jobs))
            reports = await judge.reports(sources, await last_good, records, now)
            self.latencies = {r.key: r.latency for r in reports if r.latency is not None}
            return greyed(records, reports)
        finally:
            tasks = [*sources.tasks.values(), last_good]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _categories(
        self, records: Iterable[ModuleRecord], own: Mapping[str, Status] | None = None
    ) -> dict[str, Status]:
        """Each category's roll-up; from the modules' `own` statuses where given."""
        own = own or {}
        by_id = {r.module_id: own.get(r.module_id, r.status) for r in records}
        statuses = {}
        for category in self.site.categories:
            members = [
                Rated(by_id[m.id], m.config.kind, m.config.weight)
                for m in self.site.modules_of(category.id)
                if m.id in by_id
            ]
            statuses[category.id] = category_status(members, category.algorithm)
        return statuses


def _archives(instance: ModuleInstance, site_default: bool) -> bool:
    return site_default if instance.config.archive is None else instance.config.archive


async def _reporting(job: Awaitable[ModuleRecord], progress: Progress | None) -> ModuleRecord:
    record = await job
    if progress is not None:
        progress(record)
    return record


def _slots_between(newest: datetime, slot: datetime, interval: float) -> list[datetime]:
    """The slots of `interval` after `newest` and before `slot`, within MISSED_LOOKBACK."""
    oldest = max(newest, slot - MISSED_LOOKBACK)
    count = int((slot - oldest).total_seconds() // interval)
    found = (slot - timedelta(seconds=k * interval) for k in range(1, count + 1))
    return sorted(s for s in found if s > oldest)


def _clock(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _reason(exc: BaseException, run_timeout: float) -> str:
    if isinstance(exc, StorageError):
        return str(exc)  # it names the database and what failed
    if isinstance(exc, TimeoutError):
        return f"the run took longer than run_timeout = {run_timeout:g} s"
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
        return CANCELLED
    return f"{type(exc).__name__}: {exc}"
