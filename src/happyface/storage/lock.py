"""The run lock: one row naming who may run now, so two schedulers never run at once.

Taking it is one upsert that only overwrites the row when it is free, expired, or ours, so the
database decides atomically; this works across processes and hosts on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, update

from .records import utc
from .schema import dialect_insert, locks

RUN_LOCK = "run"


def acquire(conn: Connection, holder: str, ttl: float, now: datetime) -> bool:
    """Take the lock for `ttl` seconds if it is free, expired, or already held by `holder`."""
    expires = utc(now) + timedelta(seconds=ttl)
    values = {"name": RUN_LOCK, "holder": holder, "expires_at": expires}
    insert = dialect_insert(conn, locks).values(values)
    stmt = insert.on_conflict_do_update(
        index_elements=[locks.c.name],
        set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
        where=or_(locks.c.holder == holder, locks.c.expires_at <= utc(now)),
    ).returning(locks.c.holder)
    return conn.execute(stmt).first() is not None


def renew(conn: Connection, holder: str, ttl: float, now: datetime) -> bool:
    """Extend the lock `holder` holds; False when it is held by someone else or not at all."""
    stmt = (
        update(locks)
        .where(locks.c.name == RUN_LOCK, locks.c.holder == holder)
        .values(expires_at=utc(now) + timedelta(seconds=ttl))
    )
    return conn.execute(stmt).rowcount == 1


def release(conn: Connection, holder: str) -> None:
    """Give the lock up if `holder` holds it; releasing a lock one does not hold does nothing."""
    conn.execute(delete(locks).where(locks.c.name == RUN_LOCK, locks.c.holder == holder))
