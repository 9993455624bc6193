"""A module's results of one day packed into one value: the day's rows, column by column.

A `results` row costs PostgreSQL about 170 bytes of tuple header, line pointer and key entry
before its content: at 200 modules, 36 KB a run, three quarters of a year's gigabyte. Once a
day has ended, its rows are moved into one row per (module, day) (see pack_days.py), whose
value is this: the day's results as columns of fixed-width numbers and one JSON list of
texts, zlib-compressed, where the columns compress well (the same category, layout and
details run after run).

Layout of the uncompressed value, little-endian: a version byte and the count n; then n
run ids, category ids, layout ids and details ids (int32, 0 for none), n statuses (int8),
n fetch and n extract seconds (float64, exactly as stored before), n metric lengths
(uint32) and the packed metrics one after another; the rest is the JSON array
[messages, archives, errors].
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

VERSION = 1
_HEAD = struct.Struct("<BI")
# the numeric columns, in order: (type code, StoredResult field)
_NUMBERS = (
    ("i", "run_id"),
    ("i", "category_id"),
    ("i", "layout_id"),
    ("i", "details_id"),
    ("b", "status"),
    ("d", "fetch_seconds"),
    ("d", "extract_seconds"),
)
_SWAP = sys.byteorder == "big"


class StoredResult(NamedTuple):
    """One module's result in one run as the store keeps it, in a row or in a packed day."""

    module_id: int
    run_id: int
    category_id: int
    status: int
    message: str
    layout_id: int | None
    metrics: bytes | None
    details_id: int | None
    archive: str | None
    fetch_seconds: float
    extract_seconds: float
    error: str


def encode(rows: Sequence[StoredResult]) -> bytes:
    """The packed value of one module's results (any order; stored by run id)."""
    rows = sorted(rows, key=lambda r: r.run_id)
    parts = [_HEAD.pack(VERSION, len(rows))]
    for code, field in _NUMBERS:
        values = [getattr(r, field) or 0 for r in rows]
        parts.append(_little(array(code, values)).tobytes())
    blobs = [r.metrics or b"" for r in rows]
    parts.append(_little(array("I", [len(b) for b in blobs])).tobytes())
    parts.extend(blobs)
    texts = [[r.message for r in rows], [r.archive for r in rows], [r.error for r in rows]]
    parts.append(json.dumps(texts, separators=(",", ":"), ensure_ascii=False).encode())
    return zlib.compress(b"".join(parts))


def decode(module_id: int, data: bytes) -> list[StoredResult]:
    """The results packed in `data`, by run id."""
    raw = memoryview(zlib.decompress(data))
    version, n = _HEAD.unpack_from(raw)
    if version != VERSION:
        raise ValueError(f"packed results of version {version}, this store reads {VERSION}")
    offset = _HEAD.size
    columns = []
    for code in [c for c, _ in _NUMBERS] + ["I"]:
        values = array(code)
        end = offset + n * values.itemsize
        values.frombytes(raw[offset:end])
        columns.append(_little(values))
        offset = end
    *numbers, lengths = columns
    metrics = []
    for length in lengths:
        metrics.append(bytes(raw[offset : offset + length]))
        offset += length
    messages, archives, errors = json.loads(bytes(raw[offset:]))
    run_ids, category_ids, layout_ids, details_ids, statuses, fetches, extracts = numbers
    return [
        StoredResult(
            module_id,
            run_ids[i],
            category_ids[i],
            statuses[i],
            messages[i],
            layout_ids[i] or None,
            metrics[i] if layout_ids[i] else None,  # packed metrics come with their layout
            details_ids[i] or None,
            archives[i],
            fetches[i],
            extracts[i],
            errors[i],
        )
        for i in range(n)
    ]


def details_of(rows: Iterable[StoredResult]) -> set[int]:
    """The details rows these results reference."""
    return {r.details_id for r in rows if r.details_id is not None}


def _little(values: array[Any]) -> array[Any]:
    """`values` in little-endian order (in place; a no-op on little-endian machines)."""
    if _SWAP:
        values.byteswap()
    return values
