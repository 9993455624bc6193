"""The health of the HappyFace host itself: free disk, load, and how the recent runs went."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..rules import Rule
from ..sources import Inputs
from .common import load_json, read_input


class HostHealthSettings(ModuleSettings):
    """Settings of the `host_health` type."""

    paths: list[Path] = Field(
        default_factory=lambda: [Path(".")],
        description="file systems to watch, by any path on them",
    )


class HostHealth(Module[HostHealthSettings]):
    """Disk space and load of the host HappyFace runs on, and its recent runs.

    The optional source `runs` is this instance's own `/api/v1/runs?failed=true` (give it as
    `sources.runs = "http://127.0.0.1:8080/api/v1/runs?failed=true"`): the duration of the
    runs and how many failed are then measured too.
    """

    Settings = HostHealthSettings
    metric_units: ClassVar[Mapping[str, str]] = {
        "disk.min_free_fraction": "fraction",
        "runs.duration.*": "seconds",
        "runs.failed": "count",
    }
    source_names = ()
    default_rules = (
        Rule(
            metric="disk.min_free_fraction",
            op="<",
            warning=0.15,
            critical=0.05,
            message="a watched file system has only {value:.0%} free",
        ),
        Rule(
            metric="load.per_cpu",
            op=">",
            warning=2.0,
            critical=4.0,
            message="the host is loaded: {value:.1f} per CPU over 5 minutes",
        ),
        Rule(
            metric="runs.failed",
            op=">",
            warning=0,
            critical=2,
            missing="ignore",
            message="{value:.0f} of the recent runs failed",
        ),
    )

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        disks, fractions = self._disks()
        load1, load5, _ = os.getloadavg()
        cpus = os.cpu_count() or 1
        metrics = {"load.1m": load1, "load.5m": load5, "load.per_cpu": load5 / cpus}
        if fractions:
            metrics["disk.min_free_fraction"] = min(fractions)
        tables = [disks]
        message = f"load {load5:.2f} on {cpus} CPUs"
        if "runs" in inputs:
            runs_metrics, runs_table = _recent_runs(load_json(read_input(inputs, "runs")))
            metrics |= runs_metrics
            tables.append(runs_table)
            message += f"; {runs_metrics['runs.failed']:.0f} of {len(runs_table.rows)} runs failed"
        return Result(message=message, metrics=metrics, tables=tuple(tables))

    def _disks(self) -> tuple[Table, list[float]]:
        rows, fractions = [], []
        for path in self.settings.paths:
            try:
                usage = shutil.disk_usage(path)
            except OSError as exc:
                raise ExtractError(f"cannot measure the disk of {str(path)!r}: {exc}") from exc
            free_fraction = usage.free / usage.total if usage.total else 0.0
            fractions.append(free_fraction)
            rows.append((str(path), usage.total, usage.free, round(free_fraction * 100, 1)))
        columns = ("path", "total bytes", "free bytes", "free %")
        return Table("disks", columns, tuple(rows), title="File systems"), fractions


def _recent_runs(data: Any) -> tuple[dict[str, float], Table]:
    """Failures and durations of the runs listed by /api/v1/runs (newest first)."""
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ExtractError("the runs source is not a list of runs (expected /api/v1/runs)")
    try:
        rows = [
            (r["id"], r["started_at"], r["state"], r.get("duration"), r.get("error", ""))
            for r in data
        ]
    except KeyError as exc:
        raise ExtractError(f"a run in the runs source has no {exc.args[0]!r}") from exc
    durations = [float(d) for _, _, state, d, _ in rows if state == "ok" and d is not None]
    metrics = {"runs.failed": float(sum(state == "failed" for _, _, state, _, _ in rows))}
    if durations:
        metrics["runs.duration.max"] = max(durations)
        metrics["runs.duration.last"] = durations[0]
    columns = ("run", "started", "state", "duration s", "error")
    return metrics, Table("runs", columns, tuple(rows), title="Recent runs")
