"""Writing the data quality of a run's sources in the run's transaction; deleting it with runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from ...quality import SourceReport
from ..batches import execute_in_batches
from ..details import dumps
from ..records import utc
from ..schema import dialect_insert
from .tables import source_quality, sources


class Known(NamedTuple):
    """A source as stored before this run."""

    id: int
    state: str
    since: datetime


def write_source_quality(
    conn: Connection, run_id: int, started_at: datetime, reports: Sequence[SourceReport]
) -> None:
    """Store each source's state in run `run_id`, and move on what is known of each source.

    A source's `since` is kept while its state stays the same; its last good fingerprint and
    time change only when a module read it successfully.
    """
    if not reports:
        return
    known = _known(conn, [r.key for r in reports])
    new = [r for r in reports if r.key not in known]
    inserted = _insert_sources(conn, new, started_at) if new else {}
    rows, changes = [], []
    for report in reports:
        if report.key in inserted:
            source_id, since = inserted[report.key].id, started_at
        else:
            source_id, since, change = _change(known[report.key], report, started_at)
            if change:
                changes.append(change)
        rows.append(_quality_row(run_id, source_id, since, report))
    _update_sources(conn, changes)
    execute_in_batches(conn, insert(source_quality), rows)


def _known(conn: Connection, keys: list[str]) -> dict[str, Known]:
    rows = conn.execute(
        select(sources.c.key, sources.c.id, sources.c.state, sources.c.since).where(
            sources.c.key.in_(keys)
        )
    )
    return {row.key: Known(row.id, row.state, utc(row.since)) for row in rows}


def _insert_sources(
    conn: Connection, reports: list[SourceReport], at: datetime
) -> dict[str, Known]:
    """Insert the sources seen for the first time, and read their ids back in one query.

    In batches: two statements per source cost a site's first run of 1,000 sources 2.5 s. A
    row another process inserted meanwhile is kept, and its id used.
    """
    empty = {"last_good_at": None, "fingerprint_at": None, "fingerprint": None}
    rows = [
        {"key": r.key, "url": r.url, "state": r.state.value, "since": at} | empty | _good(r, at)
        for r in reports
    ]
    execute_in_batches(conn, dialect_insert(conn, sources).on_conflict_do_nothing(), rows)
    return _known(conn, [r.key for r in reports])


def _change(
    known: Known, report: SourceReport, at: datetime
) -> tuple[int, datetime, dict[str, Any]]:
    """The source's id, since when it is in its present state, and what to update of it."""
    values: dict[str, Any] = _good(report, at)
    since = known.since
    if known.state != report.state.value:
        since = at
        values |= {"state": report.state.value, "since": at}
    return known.id, since, values | {"id": known.id} if values else {}


def _update_sources(conn: Connection, changes: list[dict[str, Any]]) -> None:
    """One executemany per set of changed columns, not one statement per source."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        groups.setdefault(tuple(sorted(change)), []).append(change)
    for columns, group in groups.items():
        stmt = (
            update(sources)
            .where(sources.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns if c != "id"})
        )
        conn.execute(stmt, [{f"b_{c}": v for c, v in row.items()} for row in group])


def _good(report: SourceReport, at: datetime) -> dict[str, Any]:
    if not report.read:
        return {}
    if not report.fingerprinted:
        return {"last_good_at": at}
    if report.fingerprint is None:  # the same as the stored one: confirmed, not rewritten
        return {"last_good_at": at, "fingerprint_at": at}
    return {"last_good_at": at, "fingerprint_at": at, "fingerprint": dumps(report.fingerprint)}


def _quality_row(
    run_id: int, source_id: int, since: datetime, report: SourceReport
) -> dict[str, Any]:
    details = {
        "appeared": list(report.appeared),
        "disappeared": list(report.disappeared),
        "modules": list(report.modules),
        "greyed": {m: s.value for m, s in report.greyed.items()},
    }
    return {
        "run_id": run_id,
        "source_id": source_id,
        "state": report.state.value,
        "since": since,
        "latency": report.latency,
        "bytes": report.size,
        "source_time": report.source_time,
        "message": report.message,
        "details": dumps(details),
    }


def delete_source_quality(conn: Connection, run_ids: Sequence[int]) -> int:
    """Delete the quality rows of runs about to be deleted; how many went."""
    return conn.execute(delete(source_quality).where(source_quality.c.run_id.in_(run_ids))).rowcount
