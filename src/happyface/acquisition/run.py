"""One acquisition run: every module of the site, concurrently, stored atomically."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import HappyFaceError, RunFailedError, RunLockedError
from ..logs import run_log
from ..site import ModuleInstance, Site
from ..status import Rated, Status, category_status
from ..storage import ModuleRecord, Store
from .archive import Archive
from .fetch import Fetcher
from .modulerun import Fetched, ModuleJob, run_module

log = logging.getLogger("happyface.run")

Progress = Callable[[ModuleRecord], None]
Observer = Callable[["RunOutcome"], Awaitable[None]]

# A live run renews its lock every third of this; a killed one frees it this long after.
LOCK_TTL = 30.0


def default_holder() -> str:
    """Who holds the run lock: host and process, readable in the database."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class RunOutcome:
    """What a finished run produced."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    records: tuple[ModuleRecord, ...]
    categories: dict[str, Status]

    @property
    def errors(self) -> int:
        return sum(r.status is Status.ERROR for r in self.records)


@dataclass
class Runner:
    """Runs acquisitions of one site against one store; the scheduler and the CLI share it."""

    site: Site
    store: Store
    fetcher: Fetcher
    archive: Archive | None = None
    holder: str = ""
    log_dir: Path | None = None  # one log file per run goes here
    lock_ttl: float = LOCK_TTL
    #: called after each stored run (alarms, exports); a failing observer is only logged
    observers: list[Observer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.holder = self.holder or default_holder()

    async def run(
        self,
        now: datetime | None = None,
        progress: Progress | None = None,
        slot_start: datetime | None = None,
    ) -> RunOutcome | None:
        """Acquire, rate and store one run; None when this slot's run was already done.

        Raises RunLockedError when another process holds the run lock and StorageError when
        the database cannot be reached. A run that fails after it began is recorded as failed.
        """
        now = now or datetime.now(UTC)
        self.store.abandon_stale_runs(now)
        if not self.store.acquire_lock(self.holder, self.lock_ttl, now):
            raise RunLockedError(
                "another HappyFace process is running an acquisition for this site right now"
            )
        try:
            # Checked under the lock: a second scheduler (high availability) skips a slot the
            # first one already ran, instead of running it twice.
            if slot_start is not None and self.store.runs(
                slot_start, now, limit=1, include_failed=True
            ):
                log.info("the run of the slot at %s was already done", slot_start.isoformat())
                return None
            heartbeat = asyncio.create_task(self._keep_lock())
            try:
                with run_log(self.log_dir, now):
                    outcome = await self._locked_run(now, progress)
                    # still under the lock: after-run work (alarms) runs once per run and site
                    await self._tell_observers(outcome)
                    return outcome
            finally:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
        finally:
            self.store.release_lock(self.holder)

    async def _tell_observers(self, outcome: RunOutcome) -> None:
        """Call every observer in turn; a failing one is logged and the others still run."""
        for observer in self.observers:
            try:
                await observer(outcome)
            except Exception:
                log.exception("an after-run observer failed for run %d", outcome.run_id)

    async def _keep_lock(self) -> None:
        """Renew the run lock while the run lasts, so only a dead process loses it."""
        while True:
            await asyncio.sleep(self.lock_ttl / 3)
            renewed = await asyncio.to_thread(
                self.store.renew_lock, self.holder, self.lock_ttl, datetime.now(UTC)
            )
            if not renewed:
                log.warning("the run lock was lost; another process may start a run")

    async def _locked_run(self, now: datetime, progress: Progress | None) -> RunOutcome:
        run_id = self.store.begin_run(now, self.holder, self.site.snapshot)
        clock = time.monotonic()
        log.info("run %d started with %d modules", run_id, len(self.site.modules))
        try:
            records = await asyncio.wait_for(
                self._acquire(now, progress), self.site.settings.run_timeout
            )
            categories = self._categories(records)
            # measured from `now`, so a run for a past time (a backfill) keeps its real duration
            finished = now + timedelta(seconds=time.monotonic() - clock)
            self.store.finish_run(run_id, records, categories, finished)
        except BaseException as exc:
            reason = _reason(exc, self.site.settings.run_timeout)
            log.error("run %d failed: %s", run_id, reason)
            self.store.fail_run(run_id, datetime.now(UTC), reason)
            if isinstance(exc, Exception) and not isinstance(exc, HappyFaceError):
                raise RunFailedError(f"run {run_id} failed: {reason}") from exc
            raise
        outcome = RunOutcome(run_id, now, finished, tuple(records), categories)
        log.info(
            "run %d stored: %d modules, %d errors, %.1f s",
            run_id,
            len(records),
            outcome.errors,
            (finished - now).total_seconds(),
        )
        return outcome

    async def _acquire(self, now: datetime, progress: Progress | None) -> list[ModuleRecord]:
        fetches = _start_fetches(self.fetcher, self.site.modules, now)
        settings = self.site.settings
        jobs = [
            ModuleJob(
                instance=instance,
                fetches=fetches[instance.id],
                now=now,
                extract_timeout=settings.extract_timeout,
                archive=self.archive,
                archive_always=_archives(instance, settings.archive.enabled),
            )
            for instance in self.site.modules
        ]
        try:
            return await asyncio.gather(*(_reporting(run_module(j), progress) for j in jobs))
        finally:
            tasks = {task for tasks in fetches.values() for task in tasks.values()}
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _categories(self, records: Iterable[ModuleRecord]) -> dict[str, Status]:
        by_id = {r.module_id: r for r in records}
        statuses = {}
        for category in self.site.categories:
            members = [
                Rated(by_id[m.id].status, m.config.kind, m.config.weight)
                for m in self.site.modules_of(category.id)
                if m.id in by_id
            ]
            statuses[category.id] = category_status(members, category.algorithm)
        return statuses


def _archives(instance: ModuleInstance, site_default: bool) -> bool:
    return site_default if instance.config.archive is None else instance.config.archive


def _start_fetches(
    fetcher: Fetcher, modules: Iterable[ModuleInstance], now: datetime
) -> dict[str, dict[str, asyncio.Task[Fetched]]]:
    """Each module's fetch tasks by source name; a source shared by modules is fetched once."""
    shared: dict[str, asyncio.Task[Fetched]] = {}
    by_module: dict[str, dict[str, asyncio.Task[Fetched]]] = {}
    for instance in modules:
        tasks = by_module[instance.id] = {}
        for name, source in instance.module.sources().items():
            key = source.identity()
            if key not in shared:
                shared[key] = asyncio.create_task(fetcher.fetch_or_error(source, now))
            tasks[name] = shared[key]
    return by_module


async def _reporting(job: Awaitable[ModuleRecord], progress: Progress | None) -> ModuleRecord:
    record = await job
    if progress is not None:
        progress(record)
    return record


def _reason(exc: BaseException, run_timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"the run took longer than run_timeout = {run_timeout:g} s"
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
        return "interrupted: the run was cancelled"
    return f"{type(exc).__name__}: {exc}"
