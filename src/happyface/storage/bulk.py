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
        numeric = [isinstance(table.c[c].type, Integer | Float) for c in columns]
        arrays = ", ".join(
            f"%{'s' if n else 'b'}::{table.c[c].type.compile(dialect=conn.dialect)}[]"
            for c, n in zip(columns, numeric, strict=True)
        )
        sql = f"{head} SELECT * FROM unnest({arrays}) {conflict}"
        for batch in in_batches(rows, UNNEST_BATCH):
            columns_of_batch = zip(*batch, strict=True)
            params = tuple(
                _array_literal(values) if n else list(values)
                for values, n in zip(columns_of_batch, numeric, strict=True)
            )
            conn.exec_driver_sql(sql, params)
        return
    sql = f"{head} VALUES ({', '.join('?' for _ in columns)}) {conflict}"
    for batch in in_batches(rows):  # see batches.py: the GIL is handed over between batches
        conn.exec_driver_sql(sql, list(batch))


def _array_literal(values: Sequence[object]) -> str:
    """Numbers as PostgreSQL's array text, '{1,2.5,NULL}'.

    psycopg adapts a list element by element in Python (a few microseconds each); joining
    their reprs is C work, and the server parses the text as fast. A float's repr is the
    shortest text that reads back as the same double.
    """
    return "{" + ",".join("NULL" if v is None else repr(v) for v in values) + "}"
