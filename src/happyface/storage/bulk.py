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
from typing import Any

from sqlalchemy import Connection, Float, Integer, Table

from .batches import in_batches

#: rows per statement on PostgreSQL: the server does the work while the GIL is free
UNNEST_BATCH = 5000


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
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    head = f"INSERT INTO {quote(table.name)} ({names})"
    if conn.dialect.name == "postgresql":
        _unnest(conn, table, columns, rows, (head, conflict))
        return
    sql = f"{head} VALUES ({', '.join('?' for _ in columns)}) {conflict}"
    for batch in in_batches(rows):  # see batches.py: the GIL is handed over between batches
        conn.exec_driver_sql(sql, list(batch))


def _unnest(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    around: tuple[str, str],
) -> None:
    """Rows as one array a column; numbers as array text, the rest adapted by psycopg."""
    kinds = [_number_kind(table, c) for c in columns]
    arrays = ", ".join(
        f"%{'s' if kind else 'b'}::{table.c[c].type.compile(dialect=conn.dialect)}[]"
        for c, kind in zip(columns, kinds, strict=True)
    )
    head, conflict = around
    sql = f"{head} SELECT * FROM unnest({arrays}) {conflict}"
    for batch in in_batches(rows, UNNEST_BATCH):
        values_by_column = zip(*batch, strict=True)
        params = tuple(
            _array_literal(values, kind) if kind else list(values)
            for values, kind in zip(values_by_column, kinds, strict=True)
        )
        conn.exec_driver_sql(sql, params)


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
