"""Reading runs and results: the site at a time, a run's neighbours, a module's history.

Only runs in state 'ok' are shown as the site's state: a run's results appear all at once when
it commits, and a run that is still going or failed never shows up as the site at some time.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select

from ..status import Status
from .details import expand
from .packing import parse_layout
from .records import (
    STATUS_OF_CODE,
    ResultRow,
    RunInfo,
    links_from_json,
    tables_from_json,
    utc,
)
from .schema import (
    categories,
    config_versions,
    metric_layouts,
    modules,
    result_details,
    results,
    run_categories,
    runs,
)

_RUN_COLUMNS = (
    runs.c.id,
    runs.c.started_at,
    runs.c.finished_at,
    runs.c.state,
    runs.c.error,
    runs.c.slot,
)
_OK = runs.c.state == "ok"


def not_of_configs(excluded: Collection[int]) -> ColumnElement[bool]:
    """Runs that did not run with one of the `excluded` configuration versions."""
    if not excluded:
        return runs.c.id.is_not(None)
    return or_(runs.c.config_id.is_(None), runs.c.config_id.not_in(sorted(excluded)))


def run_info(row: Any) -> RunInfo:
    """A RunInfo from a row of the run columns."""
    return RunInfo(
        id=row.id,
        started_at=utc(row.started_at),
        finished_at=None if row.finished_at is None else utc(row.finished_at),
        state=row.state,
        error=row.error,
        slot=None if row.slot is None else utc(row.slot),
    )


def _one(conn: Connection, stmt: Select[Any]) -> RunInfo | None:
    row = conn.execute(stmt.limit(1)).first()
    return None if row is None else run_info(row)


def latest_run(conn: Connection) -> RunInfo | None:
    """The newest visible run."""
    newest = runs.c.started_at.desc(), runs.c.id.desc()
    return _one(conn, select(*_RUN_COLUMNS).where(_OK).order_by(*newest))


def first_run(conn: Connection) -> RunInfo | None:
    """The oldest visible run."""
    return _one(conn, select(*_RUN_COLUMNS).where(_OK).order_by(runs.c.started_at, runs.c.id))


def run_at(conn: Connection, t: datetime) -> RunInfo | None:
    """The newest visible run that started at or before `t`: the site as it was at `t`."""
    stmt = select(*_RUN_COLUMNS).where(_OK, runs.c.started_at <= t)
    return _one(conn, stmt.order_by(runs.c.started_at.desc(), runs.c.id.desc()))


def run(conn: Connection, run_id: int) -> RunInfo | None:
    """Any run by id, whatever its state."""
    return _one(conn, select(*_RUN_COLUMNS).where(runs.c.id == run_id))


def newest_slot(conn: Connection, before: datetime) -> datetime | None:
    """The newest slot before `before` that has a record, whatever its state."""
    stmt = select(func.max(runs.c.slot)).where(runs.c.slot < before)
    found = conn.execute(stmt).scalar()
    return None if found is None else utc(found)


def neighbours(conn: Connection, run_id: int) -> tuple[RunInfo | None, RunInfo | None]:
    """The visible runs just before and just after run `run_id`."""
    this = run(conn, run_id)
    if this is None:
        return None, None
    t, i = this.started_at, this.id
    before = or_(runs.c.started_at < t, and_(runs.c.started_at == t, runs.c.id < i))
    after = or_(runs.c.started_at > t, and_(runs.c.started_at == t, runs.c.id > i))
    previous = select(*_RUN_COLUMNS).where(_OK, before)
    following = select(*_RUN_COLUMNS).where(_OK, after)
    return (
        _one(conn, previous.order_by(runs.c.started_at.desc(), runs.c.id.desc())),
        _one(conn, following.order_by(runs.c.started_at, runs.c.id)),
    )


def runs_between(
    conn: Connection, since: datetime, until: datetime, limit: int, include_failed: bool
) -> list[RunInfo]:
    """The runs started in [since, until], newest first."""
    # "failed" here means every run that is not visible: failed ones and those still running
    states = ["ok", "failed", "running"] if include_failed else ["ok"]
    stmt = (
        select(*_RUN_COLUMNS)
        .where(runs.c.state.in_(states), runs.c.started_at.between(since, until))
        .order_by(runs.c.started_at.desc(), runs.c.id.desc())
        .limit(limit)
    )
    return [run_info(row) for row in conn.execute(stmt)]


_RESULT_COLUMNS = (
    results.c.run_id,
    modules.c.name.label("module"),
    categories.c.name.label("category"),
    runs.c.started_at,
    results.c.status,
    results.c.message,
    results.c.archive,
    results.c.fetch_seconds,
    results.c.extract_seconds,
    results.c.error,
)


_PAYLOAD = (metric_layouts.c.layout, results.c.metrics, result_details.c.data)


def _results() -> Select[Any]:
    return (
        select(*_RESULT_COLUMNS, *_PAYLOAD)
        .join(runs, runs.c.id == results.c.run_id)
        .join(modules, modules.c.id == results.c.module_id)
        .join(categories, categories.c.id == results.c.category_id)
        .outerjoin(metric_layouts, metric_layouts.c.id == results.c.layout_id)
        .outerjoin(result_details, result_details.c.id == results.c.details_id)
    )


def result_row(row: Any) -> ResultRow:
    """A ResultRow from a row of the result columns."""
    data = expand(row.data)
    return ResultRow(
        run_id=row.run_id,
        module_id=row.module,
        category_id=row.category,
        time=utc(row.started_at),
        status=STATUS_OF_CODE[row.status],
        message=row.message,
        metrics={} if row.layout is None else parse_layout(row.layout).unpack(row.metrics),
        tables=tables_from_json(data.get("tables", [])),
        links=links_from_json(data.get("links", [])),
        details=data.get("details", {}),
        archive=row.archive,
        fetch_seconds=row.fetch_seconds,
        extract_seconds=row.extract_seconds,
        error=row.error,
    )


def run_results(
    conn: Connection, run_id: int, module_ids: Collection[str] | None = None, payload: bool = True
) -> list[ResultRow]:
    """The results in run `run_id` of every module (or of `module_ids`), ordered by module id.

    Without `payload` their metrics, tables, links, details, archive and timings are left
    empty, unread.
    """
    if not payload:
        return _brief_results(conn, run_id, module_ids)
    stmt = _results().where(results.c.run_id == run_id, _OK)
    if module_ids is not None:
        stmt = stmt.where(modules.c.name.in_(sorted(module_ids)))
    return [result_row(row) for row in conn.execute(stmt.order_by(modules.c.name))]


def _brief_results(
    conn: Connection, run_id: int, module_ids: Collection[str] | None
) -> list[ResultRow]:
    """The results of a run without their payload, read lean: the run's time once rather than
    per row, and only the columns a list of modules shows: status, message, error (a thousand
    modules' rows took 27 ms through the full query, a quarter of that so)."""
    run = conn.execute(select(runs.c.started_at).where(runs.c.id == run_id, _OK)).first()
    if run is None:
        return []
    time = utc(run.started_at)
    stmt = (
        select(
            modules.c.name,
            categories.c.name,
            results.c.status,
            results.c.message,
            results.c.error,
        )
        .join(modules, modules.c.id == results.c.module_id)
        .join(categories, categories.c.id == results.c.category_id)
        .where(results.c.run_id == run_id)
    )
    if module_ids is not None:
        stmt = stmt.where(modules.c.name.in_(sorted(module_ids)))
    return [
        ResultRow(
            run_id=run_id,
            module_id=module,
            category_id=category,
            time=time,
            status=STATUS_OF_CODE[status],
            message=message,
            error=error,
        )
        for module, category, status, message, error in conn.execute(stmt.order_by(modules.c.name))
    ]


def one_result(conn: Connection, run_id: int, module_id: str) -> ResultRow | None:
    """One module's result in run `run_id`."""
    stmt = _results().where(results.c.run_id == run_id, _OK, modules.c.name == module_id)
    row = conn.execute(stmt).first()
    return None if row is None else result_row(row)


def module_history(
    conn: Connection,
    module_id: str,
    since: datetime,
    until: datetime,
    limit: int,
    excluded: Collection[int] = (),
) -> list[ResultRow]:
    """A module's results in visible runs started in [since, until], newest first.

    Runs of the `excluded` configuration versions are left out.
    """
    in_range = runs.c.started_at.between(since, until)
    stmt = (
        _results()
        .where(modules.c.name == module_id, _OK, in_range, not_of_configs(excluded))
        .order_by(runs.c.started_at.desc(), runs.c.id.desc())
        .limit(limit)
    )
    return [result_row(row) for row in conn.execute(stmt)]


class MetricsAt(NamedTuple):
    """One module's status and metrics in one run: what a series of that module gains."""

    module_id: str
    time: datetime
    status: Status
    metrics: dict[str, float]


def metrics_between(
    conn: Connection, since: datetime, until: datetime, module_ids: Collection[str]
) -> list[MetricsAt]:
    """The statuses and metrics of `module_ids` in visible runs started in [since, until],
    oldest first, in one query and without details (a detector's warm-up reads a month)."""
    stmt = (
        select(
            modules.c.name,
            runs.c.started_at,
            results.c.status,
            metric_layouts.c.layout,
            results.c.metrics,
        )
        .join(runs, runs.c.id == results.c.run_id)
        .join(modules, modules.c.id == results.c.module_id)
        .outerjoin(metric_layouts, metric_layouts.c.id == results.c.layout_id)
        .where(_OK, runs.c.started_at.between(since, until))
        .where(modules.c.name.in_(sorted(module_ids)))
        .order_by(runs.c.started_at, runs.c.id)
    )
    layouts: dict[str, Any] = {}
    found = []
    for module, started, status, layout, packed in conn.execute(stmt):
        metrics: dict[str, float] = {}
        if layout is not None:
            parsed = layouts.get(layout)
            if parsed is None:
                parsed = layouts[layout] = parse_layout(layout)
            metrics = parsed.unpack(packed)
        found.append(MetricsAt(module, utc(started), STATUS_OF_CODE[status], metrics))
    return found


def category_statuses(conn: Connection, run_id: int) -> dict[str, Status]:
    """Each category's status in run `run_id`."""
    stmt = (
        select(categories.c.name, run_categories.c.status)
        .join(categories, categories.c.id == run_categories.c.category_id)
        .join(runs, runs.c.id == run_categories.c.run_id)
        .where(run_categories.c.run_id == run_id, _OK)
    )
    return {name: STATUS_OF_CODE[code] for name, code in conn.execute(stmt)}


def config_of(conn: Connection, run_id: int) -> dict[str, Any]:
    """The configuration snapshot run `run_id` ran with; empty when it has none."""
    stmt = (
        select(config_versions.c.config)
        .join(runs, runs.c.config_id == config_versions.c.id)
        .where(runs.c.id == run_id)
    )
    text = conn.execute(stmt).scalar()
    return {} if text is None else dict(json.loads(text))


def config_hash(conn: Connection, run_id: int) -> str | None:
    """The content hash of the configuration run `run_id` ran with; None when it has none."""
    stmt = (
        select(config_versions.c.hash)
        .join(runs, runs.c.config_id == config_versions.c.id)
        .where(runs.c.id == run_id)
    )
    found = conn.execute(stmt).scalar()
    return None if found is None else str(found)


def stored_configs(conn: Connection, known: Collection[int]) -> dict[int, dict[str, Any]]:
    """The stored configuration snapshots by version id, except the `known` ones."""
    stmt = select(config_versions.c.id, config_versions.c.config)
    if known:
        stmt = stmt.where(config_versions.c.id.not_in(sorted(known)))
    return {version: dict(json.loads(text)) for version, text in conn.execute(stmt)}


def config_spans(conn: Connection, versions: Collection[int]) -> list[tuple[datetime, datetime]]:
    """For each of these configuration versions, its first and last visible run's start."""
    spans = []
    for version in sorted(versions):
        # one min() and one max() each: SQLite answers either from ix_runs_config_id directly
        of_version = (runs.c.config_id == version, _OK)
        first = conn.execute(select(func.min(runs.c.started_at)).where(*of_version)).scalar()
        last = conn.execute(select(func.max(runs.c.started_at)).where(*of_version)).scalar()
        if first is not None and last is not None:
            spans.append((utc(first), utc(last)))
    return spans


class RunSpan(NamedTuple):
    """The visible runs started in a span: how many, and their smallest and largest id."""

    total: int
    first_id: int | None
    last_id: int | None


def ok_run_span(conn: Connection, since: datetime, until: datetime) -> RunSpan:
    """How many visible runs started in [since, until], with their id bounds: one index range.

    The count keeps PostgreSQL from answering min(id) by walking the runs' key from the start
    and filtering (a walk that grew with the history).
    """
    in_span = _OK, runs.c.started_at.between(since, until)
    stmt = select(func.count(), func.min(runs.c.id), func.max(runs.c.id)).where(*in_span)
    count, first, last = conn.execute(stmt).one()
    return RunSpan(int(count), first, last)
