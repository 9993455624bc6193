"""Assembling a site's parts (store, fetcher, archive, runner, scheduler) for the CLI and tests."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..acquisition.fetch import Fetcher
from ..acquisition.maintenance import Maintenance
from ..acquisition.pending import PendingFailures
from ..acquisition.run import Progress, Runner, RunOutcome
from ..acquisition.schedule import Scheduler
from ..acquisition.slots import raise_open_file_limit
from ..alarms.service import AlarmService
from ..archive.runs import Archive
from ..changes.service import ChangeService, tuning_of
from ..config.site import Site
from ..errors import StorageError
from ..storage import Store, open_store
from ..web.pages.handover_mail import HandoverMailer

log = logging.getLogger("happyface")

PENDING_FILE = Path("state") / "pending-failures.jsonl"


def pending_failures(site: Site) -> PendingFailures:
    """Where runs that could not reach the database wait to be recorded."""
    return PendingFailures(site.resolve(PENDING_FILE))


@dataclass
class Service:
    """One site's running parts; close() releases them."""

    site: Site
    store: Store
    fetcher: Fetcher
    archive: Archive | None
    runner: Runner
    scheduler: Scheduler

    async def acquire_once(self, progress: Progress | None = None) -> RunOutcome | None:
        """One run now, after recording the runs that failed while the database was down."""
        await asyncio.to_thread(self.scheduler.pending.flush, self.store)
        return await self.runner.run(datetime.now(UTC), progress)

    async def aclose(self) -> None:
        try:
            await self.fetcher.aclose()
        finally:  # also when a stop cancels the closing
            self.store.close()


def build_service(site: Site, store: Store | None = None) -> Service:
    """Open the database (StorageError when it cannot be reached) and wire the parts."""
    store = store if store is not None else open_store(site.database_url)
    archive = Archive(site.resolve(site.settings.archive.dir))
    settings = site.settings
    raise_open_file_limit(settings.fetch_connections)
    fetcher = Fetcher(
        base_dir=site.root,
        upload_dir=site.resolve(settings.upload.dir),
        connections=settings.fetch_connections,
        connections_per_host=settings.fetch_connections_per_host,
    )
    log_dir = site.resolve(site.settings.log_dir) if site.settings.log_dir else None
    pending = pending_failures(site)
    runner = Runner(
        site=site,
        store=store,
        fetcher=fetcher,
        archive=archive,
        log_dir=log_dir,
        lock_ttl=site.settings.lock_ttl,
        pending=pending,
    )
    if settings.changes.enabled:  # before alarms: a change alarm reads what it stored
        runner.observers.append(ChangeService(store, tuning_of(settings.changes)))
    if site.alarms.alarms or any(d.feed for d in site.alarms.downtimes):
        runner.observers.append(AlarmService.build(site, store, fetcher))
    if site.settings.shifts.mail:
        # the digest goes out through the alarm outbox; a site without alarms builds one here
        service = next((o for o in runner.observers if isinstance(o, AlarmService)), None)
        service = service or AlarmService.build(site, store, fetcher)
        runner.observers.append(HandoverMailer(site, store, service, lambda: datetime.now(UTC)))
    maintenance = Maintenance(site.settings, store, archive)
    scheduler = Scheduler(runner=runner, pending=pending, maintenance=maintenance)
    return Service(site, store, fetcher, archive, runner, scheduler)


def record_unreachable(
    site: Site, started: datetime, error: StorageError, slot: datetime | None = None
) -> None:
    """Remember a run that could not even open the database, to record it once it is back.

    A scheduled run passes its `slot`: however many processes spool it, it is recorded once.
    """
    reason = f"database unreachable: {error}"
    pending_failures(site).add(started, datetime.now(UTC), reason, slot=slot)
