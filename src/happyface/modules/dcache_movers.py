"""The `dcache_movers` module type: mover queues per dCache pool, rated on queued over active."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..errors import FormatError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs
from ..status import Status
from .common import Verdict, metric_name, read_input, worst
from .dcacheinfo import Pool, Queue, check_selection, read_info


class DCacheMoversSettings(ModuleSettings):
    """Settings of the `dcache_movers` module type."""

    queues: list[str] = Field(
        default_factory=lambda: ["regular", "restore", "store", "p2p-queue"],
        description="mover queues (type or name) that are shown and rated; empty: all",
    )
    pool_groups: list[str] = Field(
        default_factory=list, description="only pools in these pool groups count; empty: all"
    )
    min_queued: int = Field(
        10, ge=0, description="a queue is rated only with at least this many movers waiting"
    )
    warning: float = Field(
        0.5, ge=0, description="queued over active movers above which the module is neutral"
    )
    critical: float = Field(
        2.0, ge=0, description="queued over active movers above which the module is unhappy"
    )


class DCacheMovers(Module[DCacheMoversSettings]):
    """dCache mover queues per pool: active, allowed and queued movers, from the info XML."""

    Settings = DCacheMoversSettings

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        info = read_info(read_input(inputs).content)
        wanted_groups = set(self.settings.pool_groups)
        check_selection(info, wanted_groups)
        if not any(p.queues for p in info.pools):
            raise FormatError(
                "the dCache info XML with mover <queues> per pool", "pools without queues"
            )
        pools = [
            p
            for p in info.pools
            if p.enabled and (not wanted_groups or wanted_groups & set(p.groups))
        ]
        sums = _sum_queues(pools, self._watched(pools))
        status, problems = self._rate(sums)
        metrics: dict[str, float] = {}
        for name, q in sums.items():
            metrics.update(
                {
                    metric_name(name, "active"): q.active,
                    metric_name(name, "max"): q.max,
                    metric_name(name, "queued"): q.queued,
                    metric_name(name, "ratio"): q.queued / max(q.active, 1),
                }
            )
        queueing = sorted(
            {p.name for p in pools for n, q in p.queues.items() if n in sums and q.queued}
        )
        congested = self._congested(pools, list(sums))
        metrics["pools_with_queued"] = len(queueing)
        metrics["pools_congested"] = len(congested)
        message = "; ".join(problems) or ", ".join(
            f"{n}: {q.active} active, {q.queued} queued" for n, q in sums.items()
        )
        return Result(
            status=status,
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
        """Pools where a watched queue alone is over the warning ratio, for a rule to count."""
        s = self.settings
        return sorted(
            p.name
            for p in pools
            if any(
                q.queued >= s.min_queued and q.queued / max(q.active, 1) > s.warning
                for n, q in p.queues.items()
                if n in names
            )
        )

    def _rate(self, sums: dict[str, Queue]) -> tuple[Status | None, list[str]]:
        s = self.settings
        verdicts: list[Verdict] = []
        for name, q in sums.items():
            ratio = q.queued / max(q.active, 1)
            if q.queued < s.min_queued:
                continue
            for limit, status in ((s.critical, Status.UNHAPPY), (s.warning, Status.NEUTRAL)):
                if ratio > limit:
                    text = f"{name}: {q.queued} movers queued for {q.active} active ({ratio:.1f})"
                    verdicts.append((status, text))
                    break
        return worst(verdicts)


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
