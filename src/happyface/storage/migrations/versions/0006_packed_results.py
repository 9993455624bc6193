"""Results hold their samples packed and reference their details, stored once per content.

Every result row is rewritten: its metrics (from the stored JSON, which holds the exact values)
become a packed value with a layout, its tables, links and details a reference to a compressed
row shared by every result with the same content. The samples table goes: its values are the
metrics now packed in the results, kept as long as the results are.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-10
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from happyface.storage.details import dumps
from happyface.storage.hashed import content_hash
from happyface.storage.packing import pack_metrics, parse_layout

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NARROW = {"sqlite_with_rowid": False}
RUNS_PER_BATCH = 200
_TIMINGS = ("archive", "fetch_seconds", "extract_seconds", "error")


def upgrade() -> None:
    """Create the shared tables and the new results, convert every row, drop samples."""
    layouts = op.create_table(
        "metric_layouts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("layout", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metric_layouts"),
        sa.UniqueConstraint("hash", name="uq_metric_layouts_hash"),
    )
    details = op.create_table(
        "result_details",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_result_details"),
        sa.UniqueConstraint("hash", name="uq_result_details_hash"),
    )
    op.drop_index("ix_results_module_id", table_name="results")
    _set_results_aside("results_old")
    new = _create_packed_results()
    old = _old_results_table("results_old")
    ids = _Ids(op.get_bind(), layouts, "layout", details, "data")
    for batch in _run_batches("results_old"):
        rows = op.get_bind().execute(sa.select(old).where(old.c.run_id.in_(batch))).mappings()
        converted = [_packed_row(row, ids) for row in rows.all()]
        if converted:
            op.get_bind().execute(new.insert(), converted)
    op.drop_table("results_old")
    op.drop_table("samples")
    _samples_complete_from_the_oldest_run()


def _set_results_aside(name: str) -> None:
    """Rename `results` to `name`, so the new `results` can be created beside it."""
    op.rename_table("results", name)
    if op.get_bind().dialect.name == "postgresql":  # its key's index name is schema-wide
        op.execute(f"ALTER TABLE {name} RENAME CONSTRAINT pk_results TO pk_{name}")


def _create_packed_results() -> sa.Table:
    table = op.create_table(
        "results",
        sa.Column("module_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("category_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("layout_id", sa.Integer),
        sa.Column("metrics", sa.LargeBinary),
        sa.Column("details_id", sa.Integer),
        sa.Column("archive", sa.Text),
        sa.Column("fetch_seconds", sa.Float, nullable=False),
        sa.Column("extract_seconds", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("module_id", "run_id", name="pk_results"),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name="fk_results_module_id"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_results_run_id"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name="fk_results_category_id"),
        sa.ForeignKeyConstraint(["layout_id"], ["metric_layouts.id"], name="fk_results_layout_id"),
        sa.ForeignKeyConstraint(
            ["details_id"], ["result_details.id"], name="fk_results_details_id"
        ),
        **NARROW,
    )
    op.create_index("ix_results_run_id", "results", ["run_id"])
    op.create_index("ix_results_details_id", "results", ["details_id"])
    return table


def _old_results_table(name: str) -> sa.TableClause:
    columns = ("run_id", "module_id", "category_id", "status", "message", "data", *_TIMINGS)
    return sa.table(name, *(sa.column(c) for c in columns))


def _run_batches(table: str) -> Iterator[list[int]]:
    """The run ids that have results, RUNS_PER_BATCH at a time."""
    found = op.get_bind().execute(sa.text(f"SELECT DISTINCT run_id FROM {table} ORDER BY run_id"))
    ids = list(found.scalars())
    for start in range(0, len(ids), RUNS_PER_BATCH):
        yield ids[start : start + RUNS_PER_BATCH]


class _Ids:
    """Ids of layouts and details by content, stored the first time each is seen."""

    def __init__(
        self, conn: sa.Connection, layouts: Any, layout_column: str, details: Any, data: str
    ) -> None:
        self.conn = conn
        self.tables = {"layout": (layouts, layout_column), "details": (details, data)}
        self.known: dict[tuple[str, str], int] = {}

    def of(self, kind: str, text: str) -> int:
        digest = content_hash(text)
        found = self.known.get((kind, digest))
        if found is None:
            table, column = self.tables[kind]
            value: object = text if kind == "layout" else zlib.compress(text.encode())
            self.conn.execute(table.insert().values(hash=digest, **{column: value}))
            stored = self.conn.execute(sa.select(table.c.id).where(table.c.hash == digest))
            found = self.known[(kind, digest)] = int(stored.scalar_one())
        return found


def _packed_row(row: Any, ids: _Ids) -> dict[str, Any]:
    payload = dict(json.loads(row["data"]))
    metrics = payload.pop("metrics", {})
    layout, packed = pack_metrics(metrics) if metrics else (None, None)
    return {
        "module_id": row["module_id"],
        "run_id": row["run_id"],
        "category_id": row["category_id"],
        "status": row["status"],
        "message": row["message"],
        "layout_id": None if layout is None else ids.of("layout", layout),
        "metrics": packed,
        "details_id": ids.of("details", dumps(payload)) if payload else None,
        **{c: row[c] for c in _TIMINGS},
    }


def _samples_complete_from_the_oldest_run() -> None:
    """Raw samples now exist for every run kept: a cut, if any, moves to the oldest run."""
    meta = sa.table("meta", sa.column("key"), sa.column("value"))
    conn = op.get_bind()
    cut = sa.select(meta.c.value).where(meta.c.key == "samples_from")
    if conn.execute(cut).scalar() is None:
        return
    oldest = conn.execute(sa.text("SELECT min(started_at) FROM runs")).scalar()
    if oldest is None:
        conn.execute(meta.delete().where(meta.c.key == "samples_from"))
        return
    # SQLite keeps naive UTC text; `meta` holds ISO 8601 with the offset
    when = datetime.fromisoformat(oldest) if isinstance(oldest, str) else oldest
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    conn.execute(meta.update().where(meta.c.key == "samples_from").values(value=when.isoformat()))


def downgrade() -> None:
    """Back to results with their JSON and one samples row per metric (as doubles)."""
    op.create_table(
        "samples",
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "run_id", name="pk_samples"),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name="fk_samples_series_id"),
        **NARROW,
    )
    op.drop_index("ix_results_run_id", table_name="results")
    op.drop_index("ix_results_details_id", table_name="results")
    _set_results_aside("results_packed")
    old = _create_json_results()
    for batch in _run_batches("results_packed"):
        _unpack_batch(batch, old)
    op.drop_table("results_packed")
    op.drop_table("result_details")
    op.drop_table("metric_layouts")


def _create_json_results() -> sa.Table:
    table = op.create_table(
        "results",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("module_id", sa.Integer, nullable=False),
        sa.Column("category_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("archive", sa.Text),
        sa.Column("fetch_seconds", sa.Float, nullable=False),
        sa.Column("extract_seconds", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "module_id", name="pk_results"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_results_run_id"),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name="fk_results_module_id"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name="fk_results_category_id"),
    )
    op.create_index("ix_results_module_id", "results", ["module_id", "run_id", "status"])
    return table


def _unpack_batch(batch: list[int], old: sa.Table) -> None:
    conn = op.get_bind()
    query = sa.text(
        "SELECT r.run_id, r.module_id, r.category_id, r.status, r.message, l.layout, r.metrics,"
        " d.data, r.archive, r.fetch_seconds, r.extract_seconds, r.error"
        " FROM results_packed r LEFT JOIN metric_layouts l ON l.id = r.layout_id"
        " LEFT JOIN result_details d ON d.id = r.details_id WHERE r.run_id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    series = sa.table("series", sa.column("id"), sa.column("module_id"), sa.column("name"))
    series_ids = {(m, n): i for i, m, n in conn.execute(sa.select(series))}
    rows, samples = [], []
    for r in conn.execute(query, {"ids": batch}).mappings():
        payload = {} if r["data"] is None else json.loads(zlib.decompress(r["data"]))
        if r["layout"] is not None:
            metrics = parse_layout(r["layout"]).unpack(r["metrics"])
            payload["metrics"] = metrics
            samples += [
                {"series_id": series_ids[(r["module_id"], n)], "run_id": r["run_id"], "value": v}
                for n, v in metrics.items()
                if (r["module_id"], n) in series_ids
            ]
        keep = ("run_id", "module_id", "category_id", "status", "message", *_TIMINGS)
        rows.append({**{c: r[c] for c in keep}, "data": dumps(payload)})
    if rows:
        conn.execute(old.insert(), rows)
    if samples:
        conn.execute(sa.table("samples", *map(sa.column, samples[0])).insert(), samples)
