"""The `dataset_consistency` module type: which files of each dataset storage really holds."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..rules import Rule
from ..sources import Inputs
from .common import read_input
from .datasetformats import Dataset, Storage, read_catalogue, read_storage

MAX_DATASET_ROWS = 500
MAX_FILE_ROWS = 200
_TB = 1e12


@dataclass
class DatasetCheck:
    """What storage holds of one dataset."""

    name: str
    files: int = 0
    bytes: int = 0
    present: int = 0
    present_bytes: int = 0
    size_mismatch: int = 0
    checksum_mismatch: int = 0

    @property
    def completeness(self) -> float:
        """Percent of the dataset's files on storage (an empty dataset is complete)."""
        return 100.0 * self.present / self.files if self.files else 100.0


class DatasetConsistencySettings(ModuleSettings):
    """Settings of the `dataset_consistency` module type."""

    lfn_prefix: str = Field(
        "", description='start of a logical file name replaced by `pfn_prefix`, e.g. "/store/"'
    )
    pfn_prefix: str = Field(
        "",
        description="what replaces `lfn_prefix` to give the path on storage, e.g. "
        '"/pnfs/gridka.de/cms/store/"; storage paths outside it are never orphans',
    )
    compare_checksums: bool = Field(
        True, description="count files whose checksum differs (when both sides give one)"
    )
    max_input_mb: int = Field(
        512,
        gt=0,
        description="largest storage dump or catalogue read, in MB (raise the sources' "
        "`max_bytes` to match)",
    )


class DatasetConsistency(Module[DatasetConsistencySettings]):
    """Datasets of a catalogue against a storage dump: completeness, mismatches and orphans."""

    Settings = DatasetConsistencySettings
    metric_units: ClassVar[Mapping[str, str]] = {
        "completeness*": "percent",
        "*bytes*": "bytes",
        "*": "count",
    }
    source_names = ("storage", "catalogue")
    default_rules = (
        Rule(metric="completeness.min", op="<", warning=100.0, critical=95.0,
             message="a dataset is only {value:.1f} % on storage", missing="error"),
        Rule(metric="files.corrupt", op=">", warning=0, critical=10,
             message="{value:.0f} files differ in size or checksum from the catalogue",
             missing="error"),
    )  # fmt: skip

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        limit = self.settings.max_input_mb * 1024 * 1024
        storage = read_storage(read_input(inputs, "storage", limit))
        datasets = read_catalogue(read_input(inputs, "catalogue", limit))
        checks, mismatches, catalogued = self._compare(storage, datasets)
        orphans = self._orphans(storage, catalogued)
        checks.sort(key=lambda c: (c.completeness, -(c.size_mismatch + c.checksum_mismatch)))
        metrics = _metrics(checks, storage, orphans)
        return Result(
            message=_message(metrics),
            metrics=metrics,
            tables=(
                _dataset_table(checks),
                _mismatch_table(mismatches, int(metrics["files.corrupt"])),
                _orphan_table(orphans, storage),
            ),
            details={
                "datasets": len(checks),
                "orphans": len(orphans),
                "worst": [c.name for c in checks[:10] if c.completeness < 100],
            },
        )

    def _pfn(self, lfn: str) -> str:
        s = self.settings
        if s.lfn_prefix and not lfn.startswith(s.lfn_prefix):
            return lfn
        return s.pfn_prefix + lfn[len(s.lfn_prefix) :]

    def _compare(
        self, storage: Storage, datasets: list[Dataset]
    ) -> tuple[list[DatasetCheck], list[tuple[str, str, int, int, str, str]], set[str]]:
        """One pass over the catalogue: per-dataset counts, the mismatches, every PFN seen."""
        compare_checksums = self.settings.compare_checksums
        on_disk, checks, catalogued = storage.files, [], set()
        mismatches: list[tuple[str, str, int, int, str, str]] = []
        for dataset in datasets:
            check = DatasetCheck(dataset.name)
            for lfn, size, checksum in dataset.files:
                pfn = self._pfn(lfn)
                catalogued.add(pfn)
                check.files += 1
                check.bytes += size
                found = on_disk.get(pfn)
                if found is None:
                    continue
                check.present += 1
                check.present_bytes += found[0]
                bad_size = found[0] != size
                bad_sum = compare_checksums and checksum and found[1] and found[1] != checksum
                check.size_mismatch += bad_size
                check.checksum_mismatch += bool(bad_sum)
                if (bad_size or bad_sum) and len(mismatches) < MAX_FILE_ROWS:
                    mismatches.append((dataset.name, lfn, size, found[0], checksum, found[1]))
            checks.append(check)
        return checks, mismatches, catalogued

    def _orphans(self, storage: Storage, catalogued: set[str]) -> list[str]:
        prefix = self.settings.pfn_prefix
        return [p for p in storage.files if p not in catalogued and p.startswith(prefix)]


def _metrics(checks: list[DatasetCheck], storage: Storage, orphans: list[str]) -> dict[str, float]:
    files = sum(c.files for c in checks)
    present = sum(c.present for c in checks)
    size_bad = sum(c.size_mismatch for c in checks)
    sum_bad = sum(c.checksum_mismatch for c in checks)
    metrics = {
        "datasets": len(checks),
        "datasets.incomplete": sum(c.completeness < 100 for c in checks),
        "files.expected": files,
        "files.present": present,
        "files.missing": files - present,
        "files.size_mismatch": size_bad,
        "files.checksum_mismatch": sum_bad,
        "files.corrupt": size_bad + sum_bad,
        "bytes.expected": sum(c.bytes for c in checks),
        "bytes.present": sum(c.present_bytes for c in checks),
        "completeness": 100.0 * present / files if files else 100.0,
        "completeness.min": min((c.completeness for c in checks), default=100.0),
        "orphans.files": len(orphans),
        "orphans.bytes": sum(storage.files[p][0] for p in orphans),
        "storage.files": len(storage.files),
        "storage.replicas": storage.replicas,
        "storage.bytes": storage.bytes,
    }
    return {k: float(v) for k, v in metrics.items()}


def _message(m: dict[str, float]) -> str:
    return (
        f"{m['datasets']:.0f} datasets, {m['completeness']:.1f} % of {m['files.expected']:.0f} "
        f"files on storage; {m['files.corrupt']:.0f} mismatched, {m['orphans.files']:.0f} orphans "
        f"({m['orphans.bytes'] / _TB:.2f} TB)"
    )


def _dataset_table(checks: list[DatasetCheck]) -> Table:
    rows = tuple(
        (
            c.name,
            c.files,
            c.present,
            c.files - c.present,
            c.size_mismatch,
            c.checksum_mismatch,
            round(c.bytes / _TB, 3),
            round(c.present_bytes / _TB, 3),
            round(c.completeness, 2),
        )
        for c in checks[:MAX_DATASET_ROWS]
    )
    columns = ("dataset", "files", "present", "missing", "size mismatch", "checksum mismatch",
               "TB expected", "TB present", "complete %")  # fmt: skip
    title = "Datasets, least complete first"
    if len(checks) > MAX_DATASET_ROWS:
        title += f" (the worst {MAX_DATASET_ROWS} of {len(checks)})"
    return Table(name="datasets", columns=columns, rows=rows, title=title)


def _mismatch_table(rows: list[tuple[str, str, int, int, str, str]], total: int) -> Table:
    columns = ("dataset", "file", "catalogue size", "storage size", "catalogue checksum",
               "storage checksum")  # fmt: skip
    title = "Files differing from the catalogue"
    if total > len(rows):
        title += f" (the first {len(rows)} of {total})"
    return Table(name="mismatches", columns=columns, rows=tuple(rows), title=title)


def _orphan_table(orphans: list[str], storage: Storage) -> Table:
    largest = heapq.nlargest(MAX_FILE_ROWS, orphans, key=lambda p: storage.files[p][0])
    rows = tuple((p, storage.files[p][0]) for p in largest)
    title = f"Orphaned files, largest first ({len(rows)} of {len(orphans)})"
    return Table(name="orphans", columns=("path", "bytes"), rows=rows, title=title)
