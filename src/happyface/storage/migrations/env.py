"""Alembic's entry point: migrate over the connection `open_store` passes, no alembic.ini."""

from __future__ import annotations

from alembic import context

from happyface.storage.schema import metadata

# Serialises concurrent upgrades of one PostgreSQL database (two schedulers starting at once);
# on SQLite the migration's BEGIN IMMEDIATE does the same.
_UPGRADE_LOCK_KEY = 0x4846_5343  # "HFSC"


def run_migrations() -> None:
    """Run the pending migrations inside one transaction on the given connection."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("HappyFace migrations run through happyface.storage.open_store")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_KEY})")
        context.run_migrations()


run_migrations()
