"""Retention: deleting old history in small transactions, so writers and readers never wait long.

Each level is cut on its own: rollups, then whole runs with their results (and the raw samples
packed in them), category statuses and details no longer referenced, and the changes found in
that history (kept as long as the runs they were found in). The `meta` table records
from when on each metric level is complete, so curves never offer a level with a hole at its
start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, Table, delete, exists, func, or_, select, update

from ..config.settings import RetentionSettings as Retention
from .batches import in_batches
from .changes import delete_changes_before
from .curves import SAMPLES_FROM, level_key
from .pack_days import pack_ended_days
from .packing import parse_layout
from .periods import delete_ended_before
from .quality.write import delete_source_quality
from .records import utc
from .result_days import StoredResult, decode, details_of, encode
from .rollup import DAY, LEVELS, bucket_of, bucket_start, complete_before, day_column, written_until
from .schema import (
    config_versions,
    dialect_insert,
    meta,
    metric_layouts,
    result_days,
    result_details,
    results,
    run_categories,
    runs,
    series,
)
from .stored import day_of, layouts_by_id

#: the `meta` key of when the last cleanup finished: a cron `acquire` has no memory of its own
CLEANED_AT = "cleaned_at"
# runs, or series, handled per transaction
RUNS_PER_TRANSACTION = 500
SERIES_PER_TRANSACTION = 50


def cleanup(engine: Engine, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete what `retention` no longer keeps; returns how many rows of each kind went."""
    now = utc(now)
    counts = dict.fromkeys(
        (
            "runs",
            "results",
            "categories",
            "samples",
            "details",
            "hourly",
            "daily",
            "configs",
            "periods",
            "changes",
        ),
        0,
    )
    with engine.begin() as conn:
        complete_before(conn, now)
    pack_ended_days(engine, now)  # moved, not removed: not among the counts
    open_from = _open_from(engine)
    # what an open bucket is computed from stays: the raw samples of the open hour, and the
    # hours of the open day, however short the retention
    results_cut = _earliest(_cut(now, retention.results_days), open_from[0])
    for level, ((table, _), (kind, days)) in enumerate(
        zip(
            LEVELS,
            (("hourly", retention.hourly_days), ("daily", retention.daily_days)),
            strict=True,
        )
    ):
        above = open_from[level + 1] if level + 1 < len(LEVELS) else None
        level_cut = _earliest(_cut(now, days), above)
        if level_cut is not None:
            counts[kind] = _delete_rollups(engine, table, level_cut)
    if results_cut is not None:
        _delete_runs(engine, results_cut, counts)
        with engine.begin() as conn:
            # a period still open, or one that ended after the cut, keeps its true start
            counts["periods"] = delete_ended_before(conn, results_cut)
            counts["changes"] = delete_changes_before(conn, results_cut)
        _advance(engine, SAMPLES_FROM, results_cut)  # raw samples went with their runs
    with engine.begin() as conn:
        used = select(runs.c.config_id).where(runs.c.config_id.is_not(None)).distinct()
        gone = conn.execute(delete(config_versions).where(config_versions.c.id.not_in(used)))
        counts["configs"] = gone.rowcount
        _put_meta(conn, CLEANED_AT, now)  # also back: the clock may have been wrong
    return counts


def cleaned_at(conn: Connection) -> datetime | None:
    """When a cleanup of this store last finished, by any process; None: never."""
    value = conn.execute(select(meta.c.value).where(meta.c.key == CLEANED_AT)).scalar()
    return None if value is None else datetime.fromisoformat(value)


def _cut(now: datetime, days: float) -> datetime | None:
    return None if days <= 0 else now - timedelta(days=days)


def _open_from(engine: Engine) -> list[datetime | None]:
    """For each rollup level, when its first open (not yet written) bucket begins."""
    with engine.connect() as conn:
        marks = written_until(conn)
    return [
        None if table.name not in marks else bucket_start(marks[table.name], width)
        for table, width in LEVELS
    ]


def _earliest(cut: datetime | None, keep_from: datetime | None) -> datetime | None:
    """The cut, moved back to `keep_from` when it would delete what must stay."""
    if cut is None or keep_from is None:
        return cut
    return min(cut, keep_from)


def _series_batches(engine: Engine) -> list[Sequence[int]]:
    with engine.connect() as conn:
        ids = list(conn.execute(select(series.c.id).order_by(series.c.id)).scalars())
    step = SERIES_PER_TRANSACTION
    return [ids[i : i + step] for i in range(0, len(ids), step)]


def _delete_rollups(engine: Engine, table: Table, cut: datetime) -> int:
    # rows are days (an hourly row holds its day's hours): a day goes once wholly before the cut
    first_kept, day = bucket_of(cut, DAY), day_column(table)
    deleted = 0
    for batch in _series_batches(engine):
        with engine.begin() as conn:
            for series_id in batch:
                stmt = delete(table).where(table.c.series_id == series_id, day < first_kept)
                deleted += conn.execute(stmt).rowcount
    _advance(engine, level_key(table), cut)
    return deleted


def _delete_runs(engine: Engine, cut: datetime, counts: dict[str, int]) -> None:
    while True:
        with engine.begin() as conn:
            stmt = select(runs.c.id, runs.c.started_at).where(runs.c.started_at < cut)
            found = conn.execute(stmt.limit(RUNS_PER_TRANSACTION)).all()
            if not found:
                return
            ids = [run_id for run_id, _ in found]
            days = {day_of(utc(started)) for _, started in found}
            counts["samples"] += _count_samples(conn, ids)
            used = select(results.c.details_id).where(results.c.run_id.in_(ids)).distinct()
            candidates = {d for d in conn.execute(used).scalars() if d is not None}
            counts["results"] += conn.execute(
                delete(results).where(results.c.run_id.in_(ids))
            ).rowcount
            removed, still_used = _unpack_runs(conn, set(ids), days)
            counts["results"] += len(removed)
            counts["samples"] += _samples_in(conn, removed)
            candidates = (candidates | details_of(removed)) - still_used
            counts["details"] += _delete_unused_details(conn, candidates, max(days))
            delete_source_quality(conn, ids)
            counts["categories"] += conn.execute(
                delete(run_categories).where(run_categories.c.run_id.in_(ids))
            ).rowcount
            counts["runs"] += conn.execute(delete(runs).where(runs.c.id.in_(ids))).rowcount


def _unpack_runs(
    conn: Connection, run_ids: set[int], days: set[int]
) -> tuple[list[StoredResult], set[int]]:
    """Take these runs' results out of the packed days they fall in.

    The results removed, and the details that the packed results left on those days still
    reference. A day whose runs all go is deleted; the day a cut falls in is written anew.
    """
    removed: list[StoredResult] = []
    still_used: set[int] = set()
    stmt = select(result_days.c.module_id, result_days.c.day, result_days.c.data)
    for day in sorted(days):
        for module, _, data in conn.execute(stmt.where(result_days.c.day == day)).all():
            packed, started = decode(module, data)
            left = [r for r in packed if r.run_id not in run_ids]
            still_used |= details_of(left)
            if len(left) == len(packed):
                continue
            removed += [r for r in packed if r.run_id in run_ids]
            this = result_days.c.module_id == module, result_days.c.day == day
            if left:
                new = {"count": len(left), "data": encode(left, started)}
                conn.execute(update(result_days).where(*this).values(new))
            else:
                conn.execute(delete(result_days).where(*this))
    return removed, still_used


def _count_samples(conn: Connection, run_ids: Sequence[int]) -> int:
    """How many raw samples the results of these runs hold."""
    per_layout = (
        select(metric_layouts.c.layout, func.count())
        .join(results, results.c.layout_id == metric_layouts.c.id)
        .where(results.c.run_id.in_(run_ids))
        .group_by(metric_layouts.c.layout)
    )
    return sum(len(parse_layout(text).names) * n for text, n in conn.execute(per_layout))


def _delete_unused_details(conn: Connection, candidates: set[int], last_day: int) -> int:
    """Delete those of these details rows that no result references any more.

    Those are referenced by no row, and by no packed day after `last_day` (the last day whose
    packed results this deletion went through, which left the candidates out): a packed
    day references only details whose `used_until` is that day or later.
    """
    deleted = 0
    used = result_details.c.used_until
    for batch in in_batches(sorted(candidates)):
        referenced = exists().where(results.c.details_id == result_details.c.id)
        not_later = or_(used.is_(None), used <= last_day)
        stmt = delete(result_details).where(result_details.c.id.in_(batch), ~referenced, not_later)
        deleted += conn.execute(stmt).rowcount
    return deleted


def _samples_in(conn: Connection, packed: Sequence[StoredResult]) -> int:
    """How many raw samples these packed results hold."""
    layouts = layouts_by_id(conn, {r.layout_id for r in packed if r.layout_id is not None})
    return sum(len(layouts[r.layout_id].names) for r in packed if r.layout_id is not None)


def _advance(engine: Engine, key: str, cut: datetime) -> None:
    """Record that the level named `key` is complete from `cut` on (never moving it back)."""
    with engine.begin() as conn:
        _set_meta(conn, key, cut)


def _set_meta(conn: Connection, key: str, cut: datetime) -> None:
    current = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    if current is None or datetime.fromisoformat(current) < cut:
        _put_meta(conn, key, cut)


def _put_meta(conn: Connection, key: str, at: datetime) -> None:
    """Set the time `key` of `meta` to `at`, whatever it was."""
    stmt = dialect_insert(conn, meta).values(key=key, value=at.isoformat())
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": at.isoformat()})
    )
