"""Retention applied automatically: old history and archived inputs removed now and then."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..archive.runs import Archive
from ..config.settings import SiteSettings
from ..errors import StorageError
from ..storage import Store

log = logging.getLogger("happyface.maintenance")

# Cleaning after every run would repeat the same empty deletes; hourly keeps the work small.
CLEAN_EVERY = timedelta(hours=1)


@dataclass
class Maintenance:
    """Applies the site's retention to the database and the archive."""

    settings: SiteSettings
    store: Store
    archive: Archive | None
    last_clean: datetime | None = None

    def maybe_clean(self, now: datetime) -> None:
        """Clean if the last clean is an hour old; a database failure is logged, not raised."""
        if self.last_clean is None or now - self.last_clean >= CLEAN_EVERY:
            try:
                self.clean(now)
            except StorageError as exc:
                log.error("cleanup failed: %s", exc)

    def clean_if_due(self, now: datetime) -> None:
        """Clean if no process has cleaned the store for an hour: for a one-off `acquire`
        from cron, which remembers nothing between runs. A failure is logged, not raised."""
        try:
            last = self.store.last_cleanup()
            if last is None or not timedelta(0) <= now - last < CLEAN_EVERY:  # or from ahead
                self.clean(now)
        except StorageError as exc:
            log.error("cleanup failed: %s", exc)

    def clean(self, now: datetime) -> dict[str, int]:
        """Delete what the retention settings no longer keep; the counts of what went.

        Raises StorageError when the database cannot be cleaned.
        """
        self.last_clean = now
        counts = self.store.cleanup(now, self.settings.retention)
        if self.archive is not None:
            self._clean_archive(self.archive, now, counts)
        if any(counts.values()):
            log.info("cleanup removed %s", ", ".join(f"{v} {k}" for k, v in counts.items()))
        return counts

    def _clean_archive(self, archive: Archive, now: datetime, counts: dict[str, int]) -> None:
        """Remove the runs past `keep_days` and what crashed writers left, whatever it is."""
        keep = self.settings.archive.keep_days
        try:
            unfinished = archive.remove_unfinished()
            if unfinished:
                counts["unfinished archive files"] = unfinished
            if keep > 0:
                counts["archived runs"] = archive.cleanup(now - timedelta(days=keep))
        except OSError as exc:  # e.g. a folder we may not delete; the next clean retries
            log.error("cleaning the archive %s failed: %s", archive.root, exc)
