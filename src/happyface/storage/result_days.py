"""A module's results of one day packed into one value: the day's rows, column by column.

A `results` row costs PostgreSQL about 170 bytes of tuple header, line pointer and key entry
before its content: at 200 modules, 36 KB a run, three quarters of a year's gigabyte. Once a
day has ended, its rows are moved into one row per (module, day) (see pack_days.py), whose
value is this: the day's results as columns, zlib-compressed, where the columns compress well
(the same category, layout and details run after run).

Layout of the uncompressed value, little-endian: a version byte and the count n; then n each
of run ids, category ids, layout ids and details ids (int32, 0 for none), statuses (int8),
fetch and extract times (int64 microseconds: the store keeps them rounded so, see
`in_micros`), whether the archive is None (int8) and the run's start (int64 microseconds
since 1970); then 4n byte lengths (uint32) of what follows: each result's packed metrics,
then each message, archive and error (UTF-8). Every column is found without reading the
others, so a reader that wants one run of the day, or only the metrics, reads just that.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, NamedTuple

from .records import EPOCH, INSTANT

VERSION = 2
_HEAD = struct.Struct("<BI")
_SWAP = sys.byteorder == "big"


# what a curve or a rollup reads of a result: (start, run id, module id, status, layout id,
# packed metrics)
TimedSample = tuple[datetime, int, int, int, int | None, bytes | None]


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


def encode(rows: Sequence[StoredResult], started: Mapping[int, int]) -> bytes:
    """The packed value of one module's results (any order; stored by run id); `started`:
    each run's start, in microseconds since 1970 (see `micros`)."""
    rows = sorted(rows, key=lambda r: r.run_id)
    blobs = [r.metrics or b"" for r in rows]
    blobs += [r.message.encode() for r in rows]
    blobs += [(r.archive or "").encode() for r in rows]
    blobs += [r.error.encode() for r in rows]
    columns: list[array[Any]] = [
        array(code, [getattr(r, field) or 0 for r in rows]) for code, field in _FIXED[:-4]
    ]
    columns.append(array("q", [to_micros(r.fetch_seconds) for r in rows]))
    columns.append(array("q", [to_micros(r.extract_seconds) for r in rows]))
    columns.append(array("b", [r.archive is None for r in rows]))
    columns.append(array("q", [started[r.run_id] for r in rows]))
    # lengths, not offsets: they repeat run after run, and compress to almost nothing
    columns.append(array("I", [len(b) for b in blobs]))
    parts = [_HEAD.pack(VERSION, len(rows))]
    parts += [_little(column).tobytes() for column in columns]
    return zlib.compress(b"".join(parts + blobs))


def to_micros(seconds: float) -> int:
    """A duration in whole microseconds: how the store keeps fetch and extract times."""
    return round(seconds * 1_000_000)


def in_micros(seconds: float) -> float:
    """A duration rounded to the microsecond, exactly as it comes back from a packed day."""
    return to_micros(seconds) / 1_000_000


def micros(t: datetime) -> int:
    """An aware time as the microseconds since 1970 that packed days store."""
    return (t - EPOCH) // INSTANT


# the fixed-width columns in order: (type code, StoredResult field)
_FIXED = (
    ("i", "run_id"),
    ("i", "category_id"),
    ("i", "layout_id"),
    ("i", "details_id"),
    ("b", "status"),
    ("q", "fetch_seconds"),  # in microseconds, as the store keeps them (see to_micros)
    ("q", "extract_seconds"),
    ("b", "archive"),  # 1 when it is None
    ("q", "started"),  # the run's start, not a column of results: see encode
)
_RUNS, _CATEGORIES, _LAYOUTS, _DETAILS, _STATUSES, _FETCHES, _EXTRACTS, _NO_ARCHIVE = range(8)
_STARTED = 8
_LENGTHS = len(_FIXED)
_METRICS, _MESSAGES, _ARCHIVES, _ERRORS = range(4)


_CODES = [code for code, _ in _FIXED] + ["I"]
_ITEMSIZES = [array(code).itemsize for code in _CODES]
_STARTS = list(accumulate(_ITEMSIZES[:-1], initial=0))
_WIDTH = _STARTS[-1] + 4 * array("I").itemsize  # the bytes of all columns, per result


class PackedDay:
    """A packed value opened: each column read when first asked for, a result built from
    the columns only when wanted."""

    def __init__(self, module_id: int, data: bytes) -> None:
        raw = self._raw = zlib.decompress(data)
        version, n = _HEAD.unpack_from(raw)
        if version != VERSION:
            raise ValueError(f"packed results of version {version}, this store reads {VERSION}")
        self.module_id = module_id
        self._n = n
        self._view = memoryview(raw)
        self._columns: list[Sequence[Any] | None] = [None] * len(_CODES)
        self._base = _HEAD.size + n * _WIDTH
        self._blob_ends: list[int] | None = None

    @property
    def run_ids(self) -> Sequence[int]:
        """The runs whose results this day holds, ascending."""
        return self._column(_RUNS)

    def indices(self, run_ids: Collection[int]) -> list[int]:
        """Where the results of these runs are in this day (those it has)."""
        ids = self.run_ids
        if len(run_ids) > 8:
            return [i for i, run_id in enumerate(ids) if run_id in run_ids]
        found = []
        for run_id in run_ids:
            i = bisect_left(ids, run_id)
            if i < len(ids) and ids[i] == run_id:
                found.append(i)
        return sorted(found)

    def started(self) -> Sequence[int]:
        """Each result's run start, in microseconds since 1970."""
        return self._column(_STARTED)

    def timed_samples(self, first: int, last: int, excluded: Collection[int]) -> list[TimedSample]:
        """(start, run, module, status, layout id, packed metrics) of the results of runs
        started in [first, last] (microseconds since 1970), but for the `excluded` runs."""
        layouts, statuses, started = (self._column(k) for k in (_LAYOUTS, _STATUSES, _STARTED))
        ids, module, ends = self.run_ids, self.module_id, self._ends()
        raw, base, epoch, delta = self._raw, self._base, EPOCH, timedelta
        return [
            (
                epoch + delta(0, 0, t),  # the start back as a time, inline: per point
                ids[i],
                module,
                statuses[i],
                layouts[i] or None,
                raw[base + (ends[i - 1] if i else 0) : base + ends[i]] if layouts[i] else None,
            )
            for i, t in enumerate(started)
            if first <= t <= last and ids[i] not in excluded
        ]

    def layout_ids(self) -> set[int]:
        """The metric layouts this day's results use (0: none)."""
        return set(self._column(_LAYOUTS))

    def metric(
        self,
        first: int,
        last: int,
        excluded: Collection[int],
        fields: Mapping[int, tuple[int, struct.Struct] | None],
        into: tuple[array[int], array[float]],
    ) -> None:
        """Append one metric's samples of the runs started in [first, last] (microseconds
        since 1970), but the `excluded` runs, to the columns `into` (times, values);
        `fields`: where each layout holds the metric (None: not)."""
        if self._whole_day(first, last, excluded, fields, into):
            return
        layouts, started, ends = self._column(_LAYOUTS), self._column(_STARTED), self._ends()
        ids, raw, base = self.run_ids, self._raw, self._base
        times, values = into
        for i, t in enumerate(started):
            field = fields.get(layouts[i])
            if field is None or t < first or t > last or ids[i] in excluded:
                continue
            offset, unpacker = field
            times.append(t)
            values.append(unpacker.unpack_from(raw, base + (ends[i - 1] if i else 0) + offset)[0])

    def _whole_day(
        self,
        first: int,
        last: int,
        excluded: Collection[int],
        fields: Mapping[int, tuple[int, struct.Struct] | None],
        into: tuple[array[int], array[float]],
    ) -> bool:
        """`metric` for the common case, in C calls but for a few per day: every run of the
        day in range, none excluded, one layout holding the metric, every result's metrics
        of one size. False, with nothing appended, when that is not so."""
        n, layouts, started = self._n, self._column(_LAYOUTS), self._column(_STARTED)
        if not n or excluded or min(started) < first or max(started) > last:
            return False
        if len(set(layouts)) != 1 or fields.get(layouts[0]) is None:
            return False
        offset, unpacker = fields[layouts[0]]  # type: ignore[misc]
        sizes = self._column(_LENGTHS)[:n]
        size = sizes[0]
        if len(set(sizes)) != 1:
            return False
        # the metrics are the first blobs, n records of `size` bytes: the value's bytes are
        # gathered by strided slices, one per byte of the value, into one array
        records = self._raw[self._base : self._base + n * size]
        width = unpacker.size
        gathered = bytearray(n * width)
        for k in range(width):
            gathered[k::width] = records[offset + k :: size]
        times, values = into
        times.frombytes(memoryview(started).cast("B"))  # type: ignore[arg-type]
        values.fromlist(_little(array(unpacker.format[-1], gathered)).tolist())
        return True

    def result(self, i: int) -> StoredResult:
        """The `i`-th result, whole."""
        runs, categories, layouts, details, statuses, fetches, extracts, no_archive = (
            self._column(k) for k in range(_STARTED)
        )
        ends = self._ends()
        n, raw, base = self._n, self._raw, self._base

        def blob(column: int) -> bytes:
            k = column * n + i
            return raw[base + (ends[k - 1] if k else 0) : base + ends[k]]

        return StoredResult(
            self.module_id,
            runs[i],
            categories[i],
            statuses[i],
            blob(_MESSAGES).decode(),
            layouts[i] or None,
            blob(_METRICS) if layouts[i] else None,  # packed metrics come with their layout
            details[i] or None,
            None if no_archive[i] else blob(_ARCHIVES).decode(),
            fetches[i] / 1_000_000,
            extracts[i] / 1_000_000,
            blob(_ERRORS).decode(),
        )

    def _ends(self) -> Sequence[int]:
        """Where each blob ends, from the stored lengths (computed once, when first needed)."""
        if self._blob_ends is None:
            self._blob_ends = list(accumulate(self._column(_LENGTHS)))
        return self._blob_ends

    def _column(self, k: int) -> Sequence[Any]:
        found = self._columns[k]
        if found is None:
            start = _HEAD.size + self._n * _STARTS[k]
            count = self._n * (4 if k == _LENGTHS else 1)
            code = _CODES[k]
            view = self._view[start : start + count * _ITEMSIZES[k]]
            # in place where the machine is little-endian, as nearly all are: no copy
            found = _little(array(code, view.tobytes())) if _SWAP else view.cast(code)  # type: ignore[call-overload]
            self._columns[k] = found
        return found


def decode(module_id: int, data: bytes) -> tuple[list[StoredResult], dict[int, int]]:
    """Every result packed in `data`, by run id, and each run's start (as `encode` takes it)."""
    day = PackedDay(module_id, data)
    rows = [day.result(i) for i in range(len(day.run_ids))]
    return rows, dict(zip(day.run_ids, day.started(), strict=True))


def details_of(rows: Iterable[StoredResult]) -> set[int]:
    """The details rows these results reference."""
    return {r.details_id for r in rows if r.details_id is not None}


def _little(values: array[Any]) -> array[Any]:
    """`values` in little-endian order (in place; a no-op on little-endian machines)."""
    if _SWAP:
        values.byteswap()
    return values
