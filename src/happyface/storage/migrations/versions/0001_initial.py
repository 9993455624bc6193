"""The initial schema: runs, results, category statuses, samples, rollups, lock, catalogues.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NARROW = {"sqlite_with_rowid": False}


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_config_versions"),
        sa.UniqueConstraint("hash", name="uq_config_versions_hash"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False, server_default=""),
        sa.Column("config_id", sa.Integer),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(["config_id"], ["config_versions.id"], name="fk_runs_config_id"),
    )
    op.create_index("ix_runs_state_started_at", "runs", ["state", "started_at"])
    for name in ("modules", "categories"):
        op.create_table(
            name,
            sa.Column("id", sa.Integer, nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
            sa.UniqueConstraint("name", name=f"uq_{name}_name"),
        )
    op.create_table(
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
    op.create_table(
        "run_categories",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("category_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "category_id", name="pk_run_categories"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_categories_run_id"),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name="fk_run_categories_category_id"
        ),
        **NARROW,
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("module_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name="fk_series_module_id"),
        sa.UniqueConstraint("module_id", "name", name="uq_series_module_id"),
    )
    op.create_table(
        "samples",
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "run_id", name="pk_samples"),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name="fk_samples_series_id"),
        **NARROW,
    )
    for name in ("rollups_hourly", "rollups_daily"):
        op.create_table(
            name,
            sa.Column("series_id", sa.Integer, nullable=False),
            sa.Column("bucket", sa.Integer, nullable=False),
            sa.Column("n", sa.Integer, nullable=False),
            sa.Column("sum", sa.Float, nullable=False),
            sa.Column("min", sa.Float, nullable=False),
            sa.Column("max", sa.Float, nullable=False),
            sa.PrimaryKeyConstraint("series_id", "bucket", name=f"pk_{name}"),
            sa.ForeignKeyConstraint(["series_id"], ["series.id"], name=f"fk_{name}_series_id"),
            **NARROW,
        )
    op.create_table(
        "locks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_locks"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )


def downgrade() -> None:
    """Drop every table of the first schema."""
    for name in (
        "meta",
        "locks",
        "rollups_daily",
        "rollups_hourly",
        "samples",
        "series",
        "run_categories",
        "results",
        "categories",
        "modules",
        "runs",
        "config_versions",
    ):
        op.drop_table(name)
