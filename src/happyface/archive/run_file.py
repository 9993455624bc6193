"""A run's archive within the run: opened at its start, published just before its commit.

Published before the commit because a run's pages are cached once the run is visible: the links
to its archived inputs must already work then. A run that fails leaves nothing visible.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime

from ..errors import HappyFaceError
from ..offloop import off_loop
from ..storage import ModuleRecord
from .runs import Archive
from .write import RunWriter

log = logging.getLogger("happyface.archive")


async def open_writer(archive: Archive | None, now: datetime) -> RunWriter | None:
    """The writer of the run started at `now`; None when the site keeps no archive."""
    if archive is None:
        return None
    try:
        return await off_loop(archive.writer, now)
    except (OSError, HappyFaceError) as exc:  # the run goes on, unarchived
        log.warning("the raw inputs of this run cannot be archived: %s", exc)
        return None


async def publish(writer: RunWriter | None, records: Sequence[ModuleRecord]) -> list[ModuleRecord]:
    """Publish the run's archive; if that fails, the records lose their archive paths."""
    if writer is None:
        return list(records)
    try:
        await off_loop(writer.publish)
    except (OSError, HappyFaceError) as exc:  # a full disk must not cost the run its results
        log.warning("the raw inputs of this run are not archived: %s", exc)
        return [dataclasses.replace(r, archive=None) for r in records]
    return list(records)


def discard(writer: RunWriter | None) -> None:
    """Drop the archive of a run that failed; a published one stays (it is complete)."""
    if writer is not None:
        writer.discard()
