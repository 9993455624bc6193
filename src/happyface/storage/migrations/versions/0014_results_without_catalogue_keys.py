"""A result's module, run, category and layout are no longer foreign keys; its details are.

On PostgreSQL each foreign key of a row inserted is a lookup and a row lock on the row it
references: 800 of them for a run of 200 modules, 3 ms of the 5 ms the server spends on the
run. None of them can catch anything: modules, categories and layouts are never deleted,
and a run's results are written in the transaction that holds its row (locked by marking it
'ok') and deleted with it by retention. `details_id` keeps its key: retention deletes
details no longer referenced, and the lock the key takes is what stops it deleting one that
a run is just reusing. SQLite rebuilds the table (WITHOUT ROWID, as it was).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from alembic import op
from alembic.operations import BatchOperations

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# column -> the table it references by id
UNCHECKED = {
    "module_id": "modules",
    "run_id": "runs",
    "category_id": "categories",
    "layout_id": "metric_layouts",
}


def upgrade() -> None:
    """Drop the four keys."""
    with _results() as batch:
        for column in UNCHECKED:
            batch.drop_constraint(f"fk_results_{column}", type_="foreignkey")


def downgrade() -> None:
    """Add them back."""
    with _results() as batch:
        for column, table in UNCHECKED.items():
            batch.create_foreign_key(f"fk_results_{column}", table, [column], ["id"])


def _results() -> AbstractContextManager[BatchOperations]:
    # SQLite copies the table to drop or add a key: it must stay WITHOUT ROWID
    return op.batch_alter_table("results", table_kwargs={"sqlite_with_rowid": False})
