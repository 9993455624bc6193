"""The `dcache_movers` module type: mover queues per dCache pool, rated on queued over active."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from pydantic import Field

from ..errors import FormatError
from ..module import Module
from ..result import Result, Table
from ..retired import BecameRule, Retired
from ..rules import Rule
from ..sources import Inputs
from .common import metric_name, read_input
from .dcacheinfo import Pool, PoolSelection, Queue, info_time, read_info, selected_pools


class DCacheMoversSettings(PoolSelection):
    """Settings of the `dcache_movers` module type."""

    queues: list[str] = Field(
        default_factory=lambda: ["regular", "restore", "store", "p2p-queue"],
        description="mover queues (type or name) that are shown and rated; empty: all",
    )
    min_queued: int = Field(
        10,
        ge=0,
        description="a queue is rated (given as `rated.<queue>.ratio`) and counts a pool as "
        "congested only with at least this many movers waiting",
    )
    congested_ratio: float = Field(
        0.5,
        ge=0,
        description="a pool counts in `pools_congested` when a watched queue of its own has "
        "more queued over active movers than this",
    )


class DCacheMovers(Module[DCacheMoversSettings]):
    """dCache mover queues per pool: active, allowed and queued movers, from the info XML."""

    Settings = DCacheMoversSettings
    metric_units: ClassVar[Mapping[str, str]] = {
        # `*.ratio` (queued per active mover) is a plain number, not a share
        "*.active": "count",
        "*.max": "count",
        "*.queued": "count",
        "pools_*": "count",
    }
    default_rules = (
        Rule(metric="rated.*.ratio", op=">", warning=0.5, critical=2.0, missing="ignore"),
    )
    retired_settings: ClassVar[Mapping[str, Retired]] = {
        "warning": BecameRule((("rated.*.ratio", "warning"),)),
        "critical": BecameRule((("rated.*.ratio", "critical"),)),
    }

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        info = read_info(read_input(inputs).content)
        pools = selected_pools(info, self.settings.pool_groups)
        if not any(p.queues for p in info.pools):
            raise FormatError(
                "the dCache info XML with mover <queues> per pool", "pools without queues"
            )
        sums = _sum_queues(pools, self._watched(pools))
        metrics: dict[str, float] = {}
        for name, q in sums.items():
            ratio = q.queued / max(q.active, 1)
            metrics.update(
                {
                    metric_name(name, "active"): q.active,
                    metric_name(name, "max"): q.max,
                    metric_name(name, "queued"): q.queued,
                    metric_name(name, "ratio"): ratio,
                }
            )
            if q.queued >= self.settings.min_queued:
                metrics[metric_name("rated", name, "ratio")] = ratio
        queueing = sorted(
            {p.name for p in pools for n, q in p.queues.items() if n in sums and q.queued}
        )
        congested = self._congested(pools, list(sums))
        metrics["pools_with_queued"] = len(queueing)
        metrics["pools_congested"] = len(congested)
        message = ", ".join(f"{n}: {q.active} active, {q.queued} queued" for n, q in sums.items())
        return Result(
            source_time=info_time(info, now),
            message=message or "no mover queues reported",
            metrics=metrics,
            tables=(_queue_table(pools, list(sums)),),
            details={
                "pools_with_queued": queueing,
                "pools_congested": congested,
                "queues": list(sums),
            },
        )

    def _watched(self, pools: list[Pool]) -> list[str]:
        present = sorted({name for p in pools for name in p.queues})
        wanted = self.settings.queues
        return [q for q in wanted if q in present] if wanted else present

    def _congested(self, pools: list[Pool], names: list[str]) -> list[str]:
        """Pools where a watched queue alone is over the congested ratio, for a rule to count."""
        s = self.settings
        return sorted(
            p.name
            for p in pools
            if any(
                q.queued >= s.min_queued and q.queued / max(q.active, 1) > s.congested_ratio
                for n, q in p.queues.items()
                if n in names
            )
        )


def _sum_queues(pools: list[Pool], names: list[str]) -> dict[str, Queue]:
    sums = {name: Queue() for name in names}
    for pool in pools:
        for name, q in pool.queues.items():
            if name in sums:
                total = sums[name]
                total.active += q.active
                total.max += q.max
                total.queued += q.queued
    return sums


def _queue_table(pools: list[Pool], names: list[str]) -> Table:
    rows = [
        (p.name, name, q.active, q.max, q.queued)
        for p in pools
        for name, q in p.queues.items()
        if name in names
    ]
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))  # the longest queues first
    columns = ("pool", "queue", "active", "max", "queued")
    return Table(name="movers", columns=columns, rows=tuple(rows), title="Mover queues per pool")
