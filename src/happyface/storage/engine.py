"""Connecting: the engine for a URL, SQLite's settings, schema upgrades, and readable errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from ..errors import StorageError

MIGRATIONS = Path(__file__).parent / "migrations"

# A writer waits this long for another writer before giving up (seconds).
BUSY_TIMEOUT = 30.0


def parse_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy reads it, or a StorageError naming what is wrong with it."""
    try:
        return make_url(url)
    except exc.ArgumentError as e:
        raise StorageError(f"{url!s} is not a database URL: {e}") from None


def describe(url: URL) -> str:
    """The URL to show in a message: backend, user, host, port, database; never a password."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return f"sqlite:///{url.database or ':memory:'}"
    user = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    return f"{backend}://{user}{url.host or 'localhost'}{port}/{url.database or ''}"


def make_engine(url: URL) -> Engine:
    """An engine for `url`; on SQLite: WAL, foreign keys, a busy timeout, real transactions.

    Raises StorageError when the backend's driver is not installed.
    """
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        if url.get_backend_name() == "postgresql":
            return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        return create_engine(url)
    except ImportError as e:
        hint = " (pip install 'happyface[postgres]')" if "postgres" in url.drivername else ""
        raise StorageError(
            f"database {describe(url)}: its driver {e.name!r} is not installed; "
            f"install it{hint} or use another backend"
        ) from e


def _sqlite_engine(url: URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT}}
    if memory:
        # every connection to ":memory:" would be a new empty database: share one
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module, which would otherwise run DDL
        # outside transactions and start them lazily; we emit BEGIN ourselves below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # first, so that switching to WAL below waits for a concurrent opener too
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # with WAL, NORMAL cannot corrupt the database; at worst a power cut loses the
            # last committed run, which the next run replaces anyway
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock at BEGIN, so it waits (busy_timeout) for another
        # writer instead of failing when it upgrades from reading to writing.
        write = conn.get_execution_options().get("happyface_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision with Alembic; a no-op when it already is."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    # Check first without the write lock: opening an up-to-date store must not wait for a run.
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with engine.execution_options(happyface_write=True).connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


@contextlib.contextmanager
def translated(url: URL, doing: str) -> Iterator[None]:
    """Turn a database failure into a StorageError that says where and what, without secrets."""
    try:
        yield
    except exc.SQLAlchemyError as e:
        raise StorageError(_message(url, doing, e)) from e
    except OSError as e:  # e.g. the SQLite file's directory is missing or not writable
        raise StorageError(f"database {describe(url)}: {doing} failed: {e.strerror}") from e


def _message(url: URL, doing: str, error: exc.SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    reason = " ".join(str(original).split()) or type(original).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    where = describe(url)
    if _is_unreachable(error, reason):
        return f"database {where} is unreachable: {_short_reason(reason)}"
    return f"database {where}: {doing} failed: {reason}"


def _is_unreachable(error: exc.SQLAlchemyError, reason: str) -> bool:
    if isinstance(error, exc.InterfaceError):
        return True
    if not isinstance(error, exc.OperationalError):
        return False
    lowered = reason.lower()
    return any(
        words in lowered
        for words in (
            "connection",
            "could not connect",
            "unable to open database",
            "could not translate host",
            "timeout expired",
            "password authentication",
            "does not exist",
            "readonly database",
            "disk i/o error",
        )
    )


def _short_reason(reason: str) -> str:
    # psycopg says 'connection failed: connection to server at "...", port 1 failed:
    # Connection refused Is the server running ...'; the cause after the last "failed:" is it.
    tail = reason.rsplit("failed:", 1)[-1].strip()
    tail = tail.split(" Is the server running")[0].strip()
    return tail[:1].lower() + tail[1:] if tail else reason
