"""The run lock: one row naming who may run now, so two schedulers never run at once.

Taking it is one upsert that only overwrites the row when it is free, expired, ours, or held by
a holder the caller proved dead, so the database decides atomically; this works across
processes and hosts on SQLite and PostgreSQL. The row says who holds it (host, PID, since when,
last renewal), for messages and for telling a dead holder on the same machine at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, or_, select, update

from .records import utc
from .schema import dialect_insert, locks

RUN_LOCK = "run"


@dataclass(frozen=True)
class LockHolder:
    """A process that takes the lock; `machine` and `process` let its peers check it is alive.

    A holder known only by name (empty `machine`) is never provably dead: its lock expires.
    """

    name: str
    host: str = ""
    pid: int = 0
    machine: str = ""
    process: str = ""

    @classmethod
    def named(cls, holder: LockHolder | str) -> LockHolder:
        """The holder itself, or one known only by the name given."""
        return holder if isinstance(holder, LockHolder) else cls(name=holder, host=holder)


@dataclass(frozen=True)
class LockInfo:
    """The lock as the database holds it right now."""

    holder: LockHolder
    since: datetime
    renewed_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        """Who holds it and since when, as a message shows it."""
        who = self.holder
        name = f"{who.host} (PID {who.pid})" if who.pid else who.name
        return (
            f"{name} holds this site's run lock since {_clock(self.since)}, "
            f"last renewed {_clock(self.renewed_at)}; it frees at {_clock(self.expires_at)} "
            "unless renewed"
        )


def _clock(t: datetime) -> str:
    return utc(t).strftime("%Y-%m-%d %H:%M:%S UTC")


def acquire(
    conn: Connection,
    holder: LockHolder,
    ttl: float,
    now: datetime,
    replacing: LockInfo | None = None,
) -> bool:
    """Take the lock for `ttl` seconds if free, expired, ours, or still held by `replacing`.

    `replacing` is a holder the caller proved dead; it is matched by name and `since`, so a
    lock that changed hands meanwhile is never taken.
    """
    now = utc(now)
    values = {
        "name": RUN_LOCK,
        "holder": holder.name,
        "expires_at": now + timedelta(seconds=ttl),
        "host": holder.host,
        "pid": holder.pid,
        "machine": holder.machine,
        "process": holder.process,
        "since": now,
        "renewed_at": now,
    }
    takeable = [locks.c.holder == holder.name, locks.c.expires_at <= now]
    if replacing is not None:
        takeable.append(
            and_(locks.c.holder == replacing.holder.name, locks.c.since == replacing.since)
        )
    insert = dialect_insert(conn, locks).values(values)
    stmt = insert.on_conflict_do_update(
        index_elements=[locks.c.name],
        set_={k: insert.excluded[k] for k in values if k != "name"},
        where=or_(*takeable),
    ).returning(locks.c.holder)
    return conn.execute(stmt).first() is not None


def renew(conn: Connection, holder: str, ttl: float, now: datetime) -> bool:
    """Extend the lock `holder` holds; False when it is held by someone else or not at all."""
    stmt = (
        update(locks)
        .where(locks.c.name == RUN_LOCK, locks.c.holder == holder)
        .values(expires_at=utc(now) + timedelta(seconds=ttl), renewed_at=utc(now))
    )
    return conn.execute(stmt).rowcount == 1


def release(conn: Connection, holder: str) -> None:
    """Give the lock up if `holder` holds it; releasing a lock one does not hold does nothing."""
    conn.execute(delete(locks).where(locks.c.name == RUN_LOCK, locks.c.holder == holder))


def info(conn: Connection) -> LockInfo | None:
    """Who holds the lock (possibly expired), or None when nobody does."""
    row = conn.execute(select(locks).where(locks.c.name == RUN_LOCK)).first()
    if row is None:
        return None
    holder = LockHolder(row.holder, row.host, row.pid, row.machine, row.process)
    return LockInfo(holder, utc(row.since), utc(row.renewed_at), utc(row.expires_at))
