"""Many rows in few statements: array-unnest on PostgreSQL, a plain executemany on SQLite.

PostgreSQL answers each statement of an executemany in turn; 1,000 sample rows as 1,000
statements cost tens of milliseconds even pipelined. `INSERT ... SELECT * FROM unnest(...)`
sends one array per column and inserts every row in one statement, and unlike COPY it can
end in ON CONFLICT (the rollups are upserts). On SQLite, where a statement is a function
call, the rows go to the driver as plain tuples: SQLAlchemy's per-row parameter processing
costs more than SQLite's insert. Both paths bypass the column types' bind processing, so
they are for plain numbers, texts and bytes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Float, Integer, Table

from .batches import in_batches

#: rows per statement on PostgreSQL: the server does the work while the GIL is free
UNNEST_BATCH = 5000


@dataclass(frozen=True)
class Rows:
    """Rows for one table: tuples in the order of `columns`; `conflict`: an ON CONFLICT clause."""

    table: Table
    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    conflict: str = ""


def insert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    conflict: str = "",
) -> None:
    """Insert `rows` (tuples in the order of `columns`); `conflict`: an ON CONFLICT clause."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        for batch in in_batches(rows, UNNEST_BATCH):
            conn.exec_driver_sql(*_unnest(conn, Rows(table, columns, batch, conflict)))
        return
    sql = f"{_head(conn, table, columns)} VALUES ({', '.join('?' for _ in columns)}) {conflict}"
    for batch in in_batches(rows):  # see batches.py: the GIL is handed over between batches
        conn.exec_driver_sql(sql, list(batch))


def insert_together(conn: Connection, parts: Sequence[Rows]) -> None:
    """Insert rows into several tables: on PostgreSQL in one statement, one round trip.

    The first tables' inserts become data-modifying CTEs of the last one's
    (`WITH t0 AS (INSERT ...) INSERT ...`), which PostgreSQL runs all, whether referenced
    or not. Parts too large for one statement go one by one, as everywhere on SQLite.
    """
    parts = [part for part in parts if part.rows]
    if (
        conn.dialect.name != "postgresql"
        or len(parts) < 2
        or any(len(part.rows) > UNNEST_BATCH for part in parts)
    ):
        for part in parts:
            insert_rows(conn, part.table, part.columns, part.rows, part.conflict)
        return
    *first, (last, last_params) = [_unnest(conn, part) for part in parts]
    ctes = ", ".join(f"t{n} AS ({sql})" for n, (sql, _) in enumerate(first))
    params = tuple(value for _, values in first for value in values) + last_params
    conn.exec_driver_sql(f"WITH {ctes} {last}", params)


def _head(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)})"


def _unnest(conn: Connection, part: Rows) -> tuple[str, tuple[object, ...]]:
    """The statement inserting `part` (one batch) and its parameters: rows as one array a
    column; numbers as array text, the rest adapted by psycopg."""
    table, columns = part.table, part.columns
    kinds = [_number_kind(table, c) for c in columns]
    arrays = ", ".join(
        f"%{'s' if kind else 'b'}::{table.c[c].type.compile(dialect=conn.dialect)}[]"
        for c, kind in zip(columns, kinds, strict=True)
    )
    sql = f"{_head(conn, table, columns)} SELECT * FROM unnest({arrays}) {part.conflict}"
    values_by_column = zip(*part.rows, strict=True)
    params = tuple(
        _array_literal(values, kind) if kind else list(values)
        for values, kind in zip(values_by_column, kinds, strict=True)
    )
    return sql, params


def _number_kind(table: Table, column: str) -> type[int] | type[float] | None:
    """int or float for a numeric column (sent as array text), None for any other."""
    kind = table.c[column].type
    return int if isinstance(kind, Integer) else float if isinstance(kind, Float) else None


def _array_literal(values: Sequence[Any], kind: type[int] | type[float]) -> str:
    """Numbers as PostgreSQL's array text, '{1,2.5,NULL}'.

    psycopg adapts a list element by element in Python (a few microseconds each); joining
    their reprs is C work, and the server parses the text as fast. A float's repr is the
    shortest text that reads back as the same double.
    """
    return "{" + ",".join("NULL" if v is None else repr(kind(v)) for v in values) + "}"
