"""Many rows written or looked up in batches: a large run neither holds up the event loop
nor sends the database one statement too large for it.

A run is stored in a worker thread while the event loop serves pages. One executemany of
20,000 rows keeps Python's GIL in the driver for about a third of a second (SQLite's driver
releases it around each row but takes it straight back, so the loop's thread rarely gets
in). Between two batches the interpreter hands the GIL over, so the loop waits at most the
time of one batch: a few milliseconds.

Looking up thousands of keys at once has its own limit: PostgreSQL turns `(a, b) IN (...)` of
10,000 pairs into an expression too deep for its stack ("stack depth limit exceeded"), so the
first run of a site with 200 modules x 50 metrics failed. Keys are looked up BATCH at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable

T = TypeVar("T")

#: rows per executemany (about 5 ms of driver work on SQLite), keys per lookup
BATCH = 400


def in_batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def execute_in_batches(
    conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Execute `statement` once per row, BATCH rows at a time, in the caller's transaction."""
    for batch in in_batches(rows):
        conn.execute(statement, batch)
