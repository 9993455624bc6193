"""Reading the data quality of sources: a run's sources, one source's history, fingerprints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from ...quality import Quality
from ...status import Status
from ..records import utc
from ..schema import runs
from .tables import source_quality, sources


@dataclass(frozen=True)
class SourceState:
    """One source in one run, with what is known of the source across runs."""

    key: str
    url: str
    run_id: int
    time: datetime  # when the run began
    state: Quality
    since: datetime  # when the source entered the state it had in this run
    message: str
    latency: float | None
    size: int | None
    source_time: datetime | None
    last_good_at: datetime | None
    appeared: tuple[str, ...]
    disappeared: tuple[str, ...]
    modules: tuple[str, ...]
    greyed: dict[str, Status]


class Reference(NamedTuple):
    """The fingerprint of a source's last good document, and when it was taken or confirmed.

    Kept as its JSON text: a run parses only the few it compares with.
    """

    text: str
    taken_at: datetime

    def fingerprint(self) -> dict[str, str]:
        """The fingerprint itself: path -> kinds."""
        found: dict[str, str] = json.loads(self.text)
        return found


def last_good_fingerprints(conn: Connection, keys: Sequence[str]) -> dict[str, Reference]:
    """The stored fingerprint of each source's last document read successfully, if any."""
    rows = conn.execute(
        select(sources.c.key, sources.c.fingerprint, sources.c.fingerprint_at).where(
            sources.c.key.in_(list(keys)), sources.c.fingerprint.is_not(None)
        )
    )
    return {
        row.key: Reference(row.fingerprint, utc(row.fingerprint_at))
        for row in rows
        if row.fingerprint_at is not None
    }


def _query() -> Any:
    return (
        select(
            sources.c.key,
            sources.c.url,
            sources.c.last_good_at,
            runs.c.started_at,
            source_quality,
        )
        .join(sources, sources.c.id == source_quality.c.source_id)
        .join(runs, runs.c.id == source_quality.c.run_id)
    )


def run_sources(conn: Connection, run_id: int) -> list[SourceState]:
    """Every source read in run `run_id`, by key."""
    rows = conn.execute(_query().where(source_quality.c.run_id == run_id).order_by(sources.c.key))
    return [_state(row) for row in rows]


def source_history(conn: Connection, key: str, until_run: int, limit: int) -> list[SourceState]:
    """Source `key` in the runs up to `until_run`, newest first, at most `limit`."""
    rows = conn.execute(
        _query()
        .where(sources.c.key == key, source_quality.c.run_id <= until_run)
        .order_by(source_quality.c.run_id.desc())
        .limit(limit)
    )
    return [_state(row) for row in rows]


def _state(row: Any) -> SourceState:
    details = json.loads(row.details)
    return SourceState(
        key=row.key,
        url=row.url,
        run_id=row.run_id,
        time=row.started_at,
        state=Quality(row.state),
        since=row.since,
        message=row.message,
        latency=row.latency,
        size=row.bytes,
        source_time=row.source_time,
        last_good_at=row.last_good_at,
        appeared=tuple(details.get("appeared", ())),
        disappeared=tuple(details.get("disappeared", ())),
        modules=tuple(details.get("modules", ())),
        greyed={m: Status(s) for m, s in details.get("greyed", {}).items()},
    )
