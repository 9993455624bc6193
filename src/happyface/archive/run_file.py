"""A run's archive within the run: opened at its start, fed as modules finish, published before
its commit.

Published before the commit because a run's pages are cached once the run is visible: the links
to its archived inputs must already work then. A run that fails leaves nothing visible.

Modules finish on the event loop, which only queues their inputs (`ArchiveFeed.add`); one worker
thread at a time writes all that was queued meanwhile. A thread hop per module (2,000 of them in
a run of 2,000 modules) cost more than the writing. A module's archive path is known before its
inputs are written; one whose write failed loses it when the run is published.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..errors import FetchError, HappyFaceError
from ..offloop import off_loop
from ..sources import RawInput
from ..storage import ModuleRecord
from .runs import Archive
from .write import RunWriter

log = logging.getLogger("happyface.archive")

Inputs = Mapping[str, RawInput | FetchError]


class ArchiveFeed:
    """The inputs of a run's modules on their way into its archive, written off the loop."""

    def __init__(self, writer: RunWriter) -> None:
        self.writer = writer
        self._queued: list[tuple[str, Inputs]] = []
        self._worker: asyncio.Task[None] | None = None
        self._unwritten: set[str] = set()

    def add(self, module_id: str, inputs: Inputs) -> str:
        """Queue one module's inputs; returns its archive path (ArchiveError for a bad id)."""
        path = self.writer.path_of(module_id)
        self._queued.append((module_id, inputs))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._write_queued())
        return path

    async def written(self) -> set[str]:
        """Wait until every queued module is written; the ids of those that could not be."""
        if self._worker is not None:
            await self._worker
        return self._unwritten

    def cancel(self) -> None:
        """Stop writing (the run failed); what is queued is dropped."""
        self._queued = []
        if self._worker is not None:
            self._worker.cancel()

    async def _write_queued(self) -> None:
        while self._queued:  # what modules queue during a write goes with the next one
            batch, self._queued = self._queued, []
            self._unwritten |= await off_loop(self.writer.add_all, batch)


async def open_feed(archive: Archive | None, now: datetime) -> ArchiveFeed | None:
    """The archive feed of the run started at `now`; None when the site keeps no archive."""
    if archive is None:
        return None
    try:
        return ArchiveFeed(await off_loop(archive.writer, now))
    except (OSError, HappyFaceError) as exc:  # the run goes on, unarchived
        log.warning("the raw inputs of this run cannot be archived: %s", exc)
        return None


async def publish(feed: ArchiveFeed | None, records: Sequence[ModuleRecord]) -> list[ModuleRecord]:
    """Publish the run's archive; records whose inputs are not in it lose their archive paths."""
    if feed is None:
        return list(records)
    unwritten = await feed.written()
    try:
        await off_loop(feed.writer.publish)
    except (OSError, HappyFaceError) as exc:  # a full disk must not cost the run its results
        log.warning("the raw inputs of this run are not archived: %s", exc)
        return [dataclasses.replace(r, archive=None) for r in records]
    return [
        dataclasses.replace(r, archive=None) if r.module_id in unwritten else r for r in records
    ]


def discard(feed: ArchiveFeed | None) -> None:
    """Drop the archive of a run that failed; a published one stays (it is complete)."""
    if feed is not None:
        feed.cancel()
        feed.writer.discard()
