"""Contents stored once under their hash: a result's details, a metric layout.

A table of this kind has an `id`, a unique `hash` (SHA-256, hex) and one content column.
Rows are added as `INSERT ... ON CONFLICT DO NOTHING`, since another writer may add the same
content meanwhile; its id is as good as ours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping

from sqlalchemy import Connection, Table, select

from .batches import execute_in_batches, in_batches
from .schema import dialect_insert


def content_hash(text: str) -> str:
    """The key a content is stored under."""
    return hashlib.sha256(text.encode()).hexdigest()


def stored_ids(
    conn: Connection,
    table: Table,
    column: str,
    contents: Mapping[str, str],
    encode: Callable[[str], object] = str,
) -> dict[str, int]:
    """The ids of `contents` (hash -> text), storing those not stored yet as `encode(text)`."""
    found = _find(conn, table, contents.keys())
    missing = sorted(contents.keys() - found.keys())
    if missing:
        rows = [{"hash": h, column: encode(contents[h])} for h in missing]
        execute_in_batches(conn, dialect_insert(conn, table).on_conflict_do_nothing(), rows)
        found.update(_find(conn, table, missing))
    return found


def _find(conn: Connection, table: Table, hashes: Collection[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in in_batches(sorted(hashes)):
        rows = conn.execute(select(table.c.hash, table.c.id).where(table.c.hash.in_(batch)))
        found.update({h: int(i) for h, i in rows})
    return found
