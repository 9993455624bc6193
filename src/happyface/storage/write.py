"""Writing runs: begin, finish in one transaction, fail, and recover from killed processes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, or_, select, update

from ..errors import StorageError
from ..quality import SourceReport
from ..status import Status
from . import lock, rollup
from .bulk import Rows, insert_together
from .catalogue import Catalogue
from .details import details_ids, details_key, dumps
from .hashed import content_hash
from .packing import pack_metrics
from .periods import record_statuses
from .quality.write import write_source_quality
from .records import STATUS_CODES, ModuleRecord, utc
from .result_days import in_micros
from .schema import config_versions, dialect_insert, locks, results, run_categories, runs

INTERRUPTED = "interrupted: the process ended mid-run"


def begin_run(
    conn: Connection,
    started_at: datetime,
    holder: str,
    config: Mapping[str, Any],
    slot: datetime | None = None,
) -> int | None:
    """Insert a run in state 'running' that references its configuration snapshot; its id.

    None when `slot` already has a record: the unique slot key decides, not a prior read.
    """
    values = {
        "started_at": started_at,
        "state": "running",
        "holder": holder,
        "config_id": config_version(conn, config, started_at),
        "error": "",
        "slot": slot,
    }
    return _insert_run(conn, values)


def _insert_run(conn: Connection, values: dict[str, Any]) -> int | None:
    """Insert a run; None when its slot is already taken (a run without a slot always goes)."""
    stmt = dialect_insert(conn, runs).values(values)
    if values.get("slot") is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[runs.c.slot])
    found = conn.execute(stmt.returning(runs.c.id)).scalar()
    return None if found is None else int(found)


def config_version(conn: Connection, config: Mapping[str, Any], now: datetime) -> int:
    """The id of this configuration's content, stored the first time it is seen."""
    text = dumps(config)
    digest = content_hash(text)
    find = select(config_versions.c.id).where(config_versions.c.hash == digest)
    found = conn.execute(find).scalar()
    if found is None:
        row = {"hash": digest, "created_at": now, "config": text}
        conn.execute(dialect_insert(conn, config_versions).values(row).on_conflict_do_nothing())
        found = conn.execute(find).scalar_one()
    return int(found)


def finish_run(
    conn: Connection,
    catalogue: Catalogue,
    run_id: int,
    records: Sequence[ModuleRecord],
    category_statuses: Mapping[str, Status],
    finished_at: datetime,
    sources: Sequence[SourceReport] = (),
) -> datetime | None:
    """Store every result, category status and sample of a run, mark it 'ok', roll up.

    The caller commits; nothing of the run is visible to readers before that. Returns when
    the run started if it completes days whose rollups are still to be written: the caller
    writes them with `rollup.complete_before` in a transaction of its own once this one has
    committed (see rollup.py).
    """
    started_at = _mark_ok(conn, run_id, finished_at)
    module_ids = catalogue.module_ids(conn, (r.module_id for r in records))
    category_ids = catalogue.category_ids(
        conn, [r.category_id for r in records] + list(category_statuses)
    )
    rows = _result_rows(conn, catalogue, run_id, records, module_ids, category_ids)
    statuses = [(run_id, category_ids[c], STATUS_CODES[s]) for c, s in category_statuses.items()]
    # one statement on PostgreSQL: each round trip waits for the server to be scheduled
    insert_together(
        conn,
        [Rows(results, RESULT_COLUMNS, rows), Rows(run_categories, CATEGORY_COLUMNS, statuses)],
    )
    days_due = _store_rollups(conn, catalogue, started_at, records, module_ids)
    record_statuses(
        conn,
        started_at,
        {("module", r.module_id): r.status for r in records}
        | {("category", c): s for c, s in category_statuses.items()},
    )
    write_source_quality(conn, run_id, started_at, sources)
    return started_at if days_due else None


def _mark_ok(conn: Connection, run_id: int, finished_at: datetime) -> datetime:
    """Mark a running run 'ok' (seen by nobody before the commit); when it started.

    First, not last: one statement both checks the run and marks it, and holds its row, so a
    next lock holder abandoning stale runs waits for this transaction instead of racing it.
    """
    done = conn.execute(
        update(runs)
        .where(runs.c.id == run_id, runs.c.state == "running")
        .values(state="ok", finished_at=finished_at)
        .returning(runs.c.started_at)
    ).first()
    if done is not None:
        return utc(done.started_at)
    row = conn.execute(select(runs.c.state).where(runs.c.id == run_id)).first()
    if row is None:
        raise StorageError(f"run {run_id} does not exist; begin it with begin_run first")
    raise StorageError(f"run {run_id} is {row.state}, not running; its results are dropped")


RESULT_COLUMNS = (
    "module_id",
    "run_id",
    "category_id",
    "status",
    "message",
    "layout_id",
    "metrics",
    "details_id",
    "archive",
    "fetch_seconds",
    "extract_seconds",
    "error",
)
CATEGORY_COLUMNS = ("run_id", "category_id", "status")


def _result_rows(
    conn: Connection,
    catalogue: Catalogue,
    run_id: int,
    records: Sequence[ModuleRecord],
    module_ids: Mapping[str, int],
    category_ids: Mapping[str, int],
) -> list[tuple[object, ...]]:
    """One row per module (RESULT_COLUMNS): its status, packed metrics and a reference to its
    details, stored first when new."""
    keys = [details_key(r.result) for r in records]
    detail_ids = details_ids(conn, dict(k for k in keys if k is not None))
    packed = [pack_metrics(r.result.metrics) if r.result.metrics else None for r in records]
    layout_ids = catalogue.layout_ids(conn, (p[0] for p in packed if p is not None))
    return [
        (
            module_ids[r.module_id],
            run_id,
            category_ids[r.category_id],
            STATUS_CODES[r.status],
            r.message,
            None if p is None else layout_ids[p[0]],
            None if p is None else p[1],
            None if k is None else detail_ids[k[0]],
            r.archive,
            in_micros(r.fetch_seconds),  # as a packed day keeps them
            in_micros(r.extract_seconds),
            r.error,
        )
        for r, p, k in zip(records, packed, keys, strict=True)
    ]


def _store_rollups(
    conn: Connection,
    catalogue: Catalogue,
    started_at: datetime,
    records: Sequence[ModuleRecord],
    module_ids: Mapping[str, int],
) -> bool:
    """Give each metric its series, then bring the rollups up to this run; True when it
    completes days still to be written."""
    keyed = [
        ((module_ids[r.module_id], name), value)
        for r in records
        for name, value in r.result.metrics.items()
    ]
    series_ids = catalogue.series_ids(conn, (key for key, _ in keyed))
    samples = [(series_ids[key], value) for key, value in keyed]
    return rollup.record_run(conn, started_at, samples)


def fail_run(conn: Connection, run_id: int, finished_at: datetime, error: str) -> None:
    """Mark a running run as failed with the reason; a finished run is left as it is.

    A run already failed as merely "interrupted" (its process seemed dead) gets the real
    reason, e.g. a database outage recorded once the database is back.
    """
    interrupted = and_(runs.c.state == "failed", runs.c.error == INTERRUPTED)
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id, or_(runs.c.state == "running", interrupted))
        .values(state="failed", finished_at=finished_at, error=error)
    )


def record_failed_run(
    conn: Connection,
    started_at: datetime,
    finished_at: datetime,
    error: str,
    slot: datetime | None = None,
) -> int | None:
    """Insert a run that failed before it could begin, e.g. while the database was down.

    Its id, or None when `slot` already has a record (the failure was recorded before, by
    this process or another).
    """
    values = {
        "started_at": started_at,
        "finished_at": finished_at,
        "state": "failed",
        "holder": "",
        "error": error,
        "slot": slot,
    }
    return _insert_run(conn, values)


def record_missed_slots(conn: Connection, slots: Sequence[datetime], error: str) -> int:
    """Record slots nobody ran as failed with the reason; slots with a record are left alone."""
    recorded = 0
    for slot in slots:
        values = {"started_at": slot, "finished_at": slot, "state": "failed", "slot": slot}
        recorded += _insert_run(conn, {**values, "holder": "", "error": error}) is not None
    return recorded


def abandon_stale_runs(conn: Connection, holder: str, now: datetime) -> int:
    """Fail every run still 'running', if `holder` holds the live run lock; how many.

    Called by the lock's holder before it begins its run. Only the holder runs, so then every
    'running' row is an orphan: its process died, or lost the lock and can no longer store
    its results (even one of the same holder, e.g. left by a database outage mid-run).
    """
    held = exists().where(
        locks.c.name == lock.RUN_LOCK, locks.c.holder == holder, locks.c.expires_at > utc(now)
    )
    stmt = (
        update(runs)
        .where(runs.c.state == "running", held)
        .values(state="failed", finished_at=now, error=INTERRUPTED)
    )
    return conn.execute(stmt).rowcount
