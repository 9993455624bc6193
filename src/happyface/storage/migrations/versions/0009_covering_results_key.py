"""On PostgreSQL, the results' primary key carries the packed metrics: curves read the index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

PostgreSQL stores rows in insertion order, so a module's rows over 30 days lie on as many
heap pages as there were runs; with the layout and packed metrics in the key's index
(`INCLUDE`) a curve is an index-only range scan. SQLite keeps the rows in the key's B-tree
already (WITHOUT ROWID): nothing changes there. Rollup buckets now written once per complete
bucket need no schema change: the first run after the upgrade marks the open buckets in
`meta`, and a stored bucket it finds open is replaced when written.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEY = ("module_id", "run_id")


def upgrade() -> None:
    """Rebuild `pk_results` with the layout and metrics included (PostgreSQL only)."""
    _rebuild_key(include=("layout_id", "metrics"))


def downgrade() -> None:
    """The plain key again."""
    _rebuild_key(include=())


def _rebuild_key(include: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    carried = f" INCLUDE ({', '.join(include)})" if include else ""
    op.execute(
        "ALTER TABLE results DROP CONSTRAINT pk_results, "
        f"ADD CONSTRAINT pk_results PRIMARY KEY ({', '.join(KEY)}){carried}"
    )
