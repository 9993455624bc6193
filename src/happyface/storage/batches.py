"""Many rows written in batches, so a large run does not hold up the event loop.

A run is stored in a worker thread while the event loop serves pages. One executemany of
20,000 rows keeps Python's GIL in the driver for about a third of a second (SQLite's driver
releases it around each row but takes it straight back, so the loop's thread rarely gets
in). Between two batches the interpreter hands the GIL over, so the loop waits at most the
time of one batch: a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Executable

#: rows per executemany: about 5 ms of driver work on SQLite
BATCH = 400


def execute_in_batches(
    conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Execute `statement` once per row, BATCH rows at a time, in the caller's transaction."""
    for start in range(0, len(rows), BATCH):
        conn.execute(statement, rows[start : start + BATCH])
