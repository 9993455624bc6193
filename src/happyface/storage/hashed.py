"""Contents stored once under their hash: a result's details, a metric layout.

A table of this kind has an `id`, a unique `hash` (SHA-256, hex) and one content column.
Rows are added as `INSERT ... ON CONFLICT DO NOTHING`, since another writer may add the same
content meanwhile; its id is as good as ours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence

from sqlalchemy import Connection, Table, select

from .batches import in_batches
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
        found.update(_insert(conn, table, rows))
    raced = [h for h in missing if h not in found]  # another writer stored them meanwhile
    if raced:
        found.update(_find(conn, table, raced))
    return found


def _insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> dict[str, int]:
    """Insert these rows but those whose hash is taken; the ids of those inserted."""
    insert = dialect_insert(conn, table).on_conflict_do_nothing()
    stmt = insert.returning(table.c.hash, table.c.id)
    found: dict[str, int] = {}
    for batch in in_batches(rows):
        found.update({h: int(i) for h, i in conn.execute(stmt, list(batch))})
    return found


def _find(conn: Connection, table: Table, hashes: Collection[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for batch in in_batches(sorted(hashes)):
        rows = conn.execute(select(table.c.hash, table.c.id).where(table.c.hash.in_(batch)))
        found.update({h: int(i) for h, i in rows})
    return found
