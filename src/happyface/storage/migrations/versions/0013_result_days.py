"""Results of ended days packed one row per (module, day); details know their last packed day.

Existing rows stay rows: the cleanup packs them, the oldest days first (see pack_days.py).
The downgrade unpacks every packed day into rows again. On PostgreSQL the results' key no
longer carries the packed metrics (0009): a curve reads packed days, and the rows left are
a day's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from happyface.storage.result_days import StoredResult, decode

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `result_days` and `result_details.used_until`."""
    op.create_table(
        "result_days",
        sa.Column("module_id", sa.Integer, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], name="fk_result_days_module_id"),
        sa.PrimaryKeyConstraint("module_id", "day", name="pk_result_days"),
    )
    with op.batch_alter_table("result_details") as batch:
        batch.add_column(sa.Column("used_until", sa.Integer, nullable=True))
    _rebuild_key(include=())


def downgrade() -> None:
    """Every packed result back into its row; drop the table and the column."""
    conn = op.get_bind()
    days = sa.table("result_days", sa.column("module_id"), sa.column("day"), sa.column("data"))
    rows = sa.table("results", *(sa.column(name) for name in StoredResult._fields))
    for module, day, data in conn.execute(sa.select(days.c.module_id, days.c.day, days.c.data)):
        unpacked = [r._asdict() for r in decode(module, data)[0]]
        if unpacked:
            conn.execute(rows.insert(), unpacked)
        conn.execute(days.delete().where(days.c.module_id == module, days.c.day == day))
    with op.batch_alter_table("result_details") as batch:
        batch.drop_column("used_until")
    op.drop_table("result_days")
    _rebuild_key(include=("layout_id", "metrics"))


def _rebuild_key(include: tuple[str, ...]) -> None:
    """`pk_results` with these columns included (PostgreSQL only, as in 0009)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    carried = f" INCLUDE ({', '.join(include)})" if include else ""
    op.execute(
        "ALTER TABLE results DROP CONSTRAINT pk_results, "
        f"ADD CONSTRAINT pk_results PRIMARY KEY (module_id, run_id){carried}"
    )
