"""The health of the HappyFace host itself: free disk space and load."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from pydantic import Field

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..rules import Rule
from ..sources import Inputs


class HostHealthSettings(ModuleSettings):
    """Settings of the `host_health` type."""

    paths: list[Path] = Field(
        default_factory=lambda: [Path(".")],
        description="file systems to watch, by any path on them",
    )


class HostHealth(Module[HostHealthSettings]):
    """Disk space of the configured paths and the load of the host HappyFace runs on."""

    Settings = HostHealthSettings
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
    )

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        rows = []
        fractions = []
        for path in self.settings.paths:
            try:
                usage = shutil.disk_usage(path)
            except OSError as exc:
                raise ExtractError(f"cannot measure the disk of {str(path)!r}: {exc}") from exc
            free_fraction = usage.free / usage.total if usage.total else 0.0
            fractions.append(free_fraction)
            rows.append((str(path), usage.total, usage.free, round(free_fraction * 100, 1)))
        load1, load5, _ = os.getloadavg()
        cpus = os.cpu_count() or 1
        metrics = {"load.1m": load1, "load.5m": load5, "load.per_cpu": load5 / cpus}
        if fractions:
            metrics["disk.min_free_fraction"] = min(fractions)
        table = Table(
            "disks",
            ("path", "total bytes", "free bytes", "free %"),
            tuple(rows),
            title="File systems",
        )
        return Result(message=f"load {load5:.2f} on {cpus} CPUs", metrics=metrics, tables=(table,))
