"""Reading runs and results: the site at a time, a run's neighbours, a module's history.

Only runs in state 'ok' are shown as the site's state: a run's results appear all at once when
it commits, and a run that is still going or failed never shows up as the site at some time.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, func, or_, select

from ..status import Status
from .batches import in_batches
from .details import expand
from .records import (
    STATUS_OF_CODE,
    ResultRow,
    RunInfo,
    links_from_json,
    tables_from_json,
    utc,
)
from .result_days import StoredResult, details_of
from .schema import (
    categories,
    config_versions,
    modules,
    result_details,
    run_categories,
    runs,
)
from .stored import day_of, layouts_by_id, stored_results, timed_samples

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


def _ok_runs(conn: Connection, *where: ColumnElement[bool]) -> dict[int, datetime]:
    """The visible runs matching `where`: their start by id."""
    rows = conn.execute(select(runs.c.id, runs.c.started_at).where(_OK, *where))
    return {run_id: utc(started) for run_id, started in rows}


def _module_ids(conn: Connection, names: Collection[str]) -> list[int]:
    """The ids of the modules of these names that have ever stored a result."""
    stmt = select(modules.c.id).where(modules.c.name.in_(sorted(names)))
    return list(conn.execute(stmt).scalars())


def _names(conn: Connection, table: Table, ids: Collection[int]) -> dict[int, str]:
    """The names of these module or category ids."""
    stmt = select(table.c.id, table.c.name).where(table.c.id.in_(sorted(ids)))
    return {i: name for i, name in conn.execute(stmt)}


def _details(conn: Connection, ids: Collection[int]) -> dict[int, bytes]:
    """The stored (compressed) details of these ids."""
    found: dict[int, bytes] = {}
    for batch in in_batches(sorted(ids)):
        stmt = select(result_details.c.id, result_details.c.data)
        found.update(
            (i, data) for i, data in conn.execute(stmt.where(result_details.c.id.in_(batch)))
        )
    return found


def _result_rows(
    conn: Connection, stored: list[StoredResult], times: Mapping[int, datetime], payload: bool
) -> list[ResultRow]:
    """ResultRows of stored results (`times`: their runs' starts), with or without payload."""
    module_names = _names(conn, modules, {r.module_id for r in stored})
    category_names = _names(conn, categories, {r.category_id for r in stored})
    extras = _payloads(conn, stored) if payload else [{} for _ in stored]
    return [
        ResultRow(
            run_id=r.run_id,
            module_id=module_names[r.module_id],
            category_id=category_names[r.category_id],
            time=times[r.run_id],
            status=STATUS_OF_CODE[r.status],
            message=r.message,
            error=r.error,
            **extra,
        )
        for r, extra in zip(stored, extras, strict=True)
    ]


def _payloads(conn: Connection, stored: list[StoredResult]) -> list[dict[str, Any]]:
    """Each result's metrics, tables, links, details, archive and timings."""
    layouts = layouts_by_id(conn, {r.layout_id for r in stored if r.layout_id is not None})
    details = _details(conn, details_of(stored))
    found = []
    for r in stored:
        data = expand(None if r.details_id is None else details[r.details_id])
        layout = None if r.layout_id is None else layouts[r.layout_id]
        found.append(
            {
                "metrics": {} if layout is None or r.metrics is None else layout.unpack(r.metrics),
                "tables": tables_from_json(data.get("tables", [])),
                "links": links_from_json(data.get("links", [])),
                "details": data.get("details", {}),
                "archive": r.archive,
                "fetch_seconds": r.fetch_seconds,
                "extract_seconds": r.extract_seconds,
            }
        )
    return found


def run_results(
    conn: Connection, run_id: int, module_ids: Collection[str] | None = None, payload: bool = True
) -> list[ResultRow]:
    """The results in run `run_id` of every module (or of `module_ids`), ordered by module id.

    Without `payload` their metrics, tables, links, details, archive and timings are left
    empty, unread (a list of modules shows status, message and error only).
    """
    times = _ok_runs(conn, runs.c.id == run_id)
    if not times:
        return []
    ids = None if module_ids is None else _module_ids(conn, module_ids)
    if ids == []:
        return []
    stored = stored_results(conn, {run_id: day_of(times[run_id])}, ids)
    rows = _result_rows(conn, stored, times, payload)
    return sorted(rows, key=lambda row: row.module_id)


def one_result(conn: Connection, run_id: int, module_id: str) -> ResultRow | None:
    """One module's result in run `run_id`."""
    found = run_results(conn, run_id, [module_id])
    return found[0] if found else None


# runs read per step of a module's history: a page holds `limit` results unless the module
# was absent from many of those runs, and then the next page is read
_HISTORY_PAGE = 200


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
    ids = _module_ids(conn, [module_id])
    if not ids or limit <= 0:
        return []
    newest_first = runs.c.started_at.desc(), runs.c.id.desc()
    in_range = runs.c.started_at.between(since, until), not_of_configs(excluded)
    found: list[ResultRow] = []
    after: tuple[datetime, int] | None = None
    while len(found) < limit:
        stmt = select(runs.c.id, runs.c.started_at).where(_OK, *in_range)
        if after is not None:
            t, i = after
            stmt = stmt.where(
                or_(runs.c.started_at < t, and_(runs.c.started_at == t, runs.c.id < i))
            )
        page = [
            (i, utc(t))
            for i, t in conn.execute(
                stmt.order_by(*newest_first).limit(max(limit - len(found), _HISTORY_PAGE))
            )
        ]
        if not page:
            break
        times = dict(page)
        stored = stored_results(conn, {i: day_of(t) for i, t in page}, ids)
        rows = _result_rows(conn, stored, times, payload=True)
        found.extend(sorted(rows, key=lambda r: (r.time, r.run_id), reverse=True))
        after = page[-1][1], page[-1][0]
    return found[:limit]


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
    oldest first (a run's by module), without details (a detector's warm-up reads a month)."""
    ids = _module_ids(conn, module_ids)
    if not ids:
        return []
    samples = timed_samples(conn, since, until, ids)
    names = _names(conn, modules, ids)
    layouts = layouts_by_id(conn, {s[4] for s in samples if s[4] is not None})
    found = []
    for t, _, module, status, layout, packed in samples:
        parsed = None if layout is None else layouts[layout]
        metrics = {} if parsed is None or packed is None else parsed.unpack(packed)
        found.append(MetricsAt(names[module], t, STATUS_OF_CODE[status], metrics))
    found.sort(key=lambda m: (m.time, m.module_id))  # a run's modules by name
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

    @property
    def ids(self) -> tuple[int, int] | None:
        """The first and last id, or None when no run started in the span."""
        if self.first_id is None or self.last_id is None:
            return None
        return self.first_id, self.last_id


def ok_run_span(since: datetime, until: datetime, limit: int) -> Select[int, Any, Any]:
    """How many visible runs started in [since, until], counted no further than `limit`, with
    their id bounds (the columns of a `RunSpan`): one index range.

    The bounds are those of the whole span only when it holds fewer than `limit` runs, which
    is all a curve needs: whether its raw points fit under its cap, and if so where its runs
    are. Counting a year's runs walked all 35,000 index entries, a third of reading the
    year's curve. Counting at all keeps PostgreSQL from answering min(id) by walking the
    runs' key from the start and filtering (a walk that grew with the history).
    """
    in_span = select(runs.c.id).where(_OK, runs.c.started_at.between(since, until))
    counted = in_span.limit(limit).subquery()
    total, first, last = func.count(), func.min(counted.c.id), func.max(counted.c.id)
    return select(total.label("total"), first.label("first_id"), last.label("last_id"))
