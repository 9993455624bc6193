"""Retention: deleting old history in small transactions, so writers and readers never wait long.

Each level is cut on its own: raw samples first (older ranges are then served by rollups), then
rollups, then whole runs with their results and category statuses. The `meta` table records from
when on each metric level is complete, so curves never offer a level with a hole at its start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Table, delete, func, select

from ..settings import RetentionSettings as Retention
from .curves import SAMPLES_FROM, level_key
from .records import utc
from .rollup import LEVELS, bucket_of
from .schema import (
    config_versions,
    dialect_insert,
    meta,
    results,
    run_categories,
    runs,
    samples,
    series,
)

# runs, or series, handled per transaction
RUNS_PER_TRANSACTION = 500
SERIES_PER_TRANSACTION = 50


def cleanup(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete what `retention` no longer keeps; returns how many rows of each kind went."""
    now = utc(now)
    counts = dict.fromkeys(
        ("runs", "results", "categories", "samples", "hourly", "daily", "configs"), 0
    )
    results_cut = _cut(now, retention.results_days)
    samples_cut = _cut(now, retention.samples_days)
    if results_cut is not None and (samples_cut is None or samples_cut < results_cut):
        samples_cut = results_cut  # a deleted run takes its samples along
    if samples_cut is not None:
        counts["samples"] = _delete_samples(engine, samples_cut)
    for (table, width), (kind, days) in zip(
        LEVELS, (("hourly", retention.hourly_days), ("daily", retention.daily_days)), strict=True
    ):
        level_cut = _cut(now, days)
        if level_cut is not None:
            counts[kind] = _delete_rollups(engine, table, width, level_cut)
    if results_cut is not None:
        _delete_runs(engine, results_cut, counts)
    with engine.begin() as conn:
        used = select(runs.c.config_id).where(runs.c.config_id.is_not(None)).distinct()
        gone = conn.execute(delete(config_versions).where(config_versions.c.id.not_in(used)))
        counts["configs"] = gone.rowcount
    return counts


def _cut(now: datetime, days: float) -> datetime | None:
    return None if days <= 0 else now - timedelta(days=days)


def _series_batches(engine: Engine) -> list[Sequence[int]]:
    with engine.connect() as conn:
        ids = list(conn.execute(select(series.c.id).order_by(series.c.id)).scalars())
    step = SERIES_PER_TRANSACTION
    return [ids[i : i + step] for i in range(0, len(ids), step)]


def _delete_samples(engine: Engine, cut: datetime) -> int:
    with engine.connect() as conn:
        first_kept = conn.execute(
            select(func.min(runs.c.id)).where(runs.c.started_at >= cut)
        ).scalar()
        if first_kept is None:
            first_kept = (conn.execute(select(func.max(runs.c.id))).scalar() or 0) + 1
    deleted = 0
    for batch in _series_batches(engine):
        with engine.begin() as conn:
            for series_id in batch:
                # one primary-key range per series: no index on run_id is needed
                stmt = delete(samples).where(
                    samples.c.series_id == series_id, samples.c.run_id < first_kept
                )
                deleted += conn.execute(stmt).rowcount
    _advance(engine, SAMPLES_FROM, cut)
    return deleted


def _delete_rollups(engine: Engine, table: Table, width: int, cut: datetime) -> int:
    # a bucket goes only once it lies wholly before the cut
    first_kept = bucket_of(cut, width)
    deleted = 0
    for batch in _series_batches(engine):
        with engine.begin() as conn:
            for series_id in batch:
                stmt = delete(table).where(
                    table.c.series_id == series_id, table.c.bucket < first_kept
                )
                deleted += conn.execute(stmt).rowcount
    _advance(engine, level_key(table), cut)
    return deleted


def _delete_runs(engine: Engine, cut: datetime, counts: dict[str, int]) -> None:
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(runs.c.id).where(runs.c.started_at < cut).limit(RUNS_PER_TRANSACTION)
                ).scalars()
            )
            if not ids:
                return
            counts["results"] += conn.execute(
                delete(results).where(results.c.run_id.in_(ids))
            ).rowcount
            counts["categories"] += conn.execute(
                delete(run_categories).where(run_categories.c.run_id.in_(ids))
            ).rowcount
            counts["runs"] += conn.execute(delete(runs).where(runs.c.id.in_(ids))).rowcount


def _advance(engine: Engine, key: str, cut: datetime) -> None:
    """Record that the level named `key` is complete from `cut` on (never moving it back)."""
    with engine.begin() as conn:
        _set_meta(conn, key, cut)


def _set_meta(conn: Connection, key: str, cut: datetime) -> None:
    current = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    if current is not None and datetime.fromisoformat(current) >= cut:
        return
    stmt = dialect_insert(conn, meta).values(key=key, value=cut.isoformat())
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": cut.isoformat()})
    )
