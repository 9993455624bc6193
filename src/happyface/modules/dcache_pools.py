"""The `dcache_pools` module type: free space per dCache pool, per pool group and overall."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput
from ..status import Status
from .common import Verdict, load_json, metric_name, read_input, worst
from .dcacheinfo import SPACE_KEYS, DCacheInfo, Pool, check_selection, read_info
from .dcacherest import read_rest_space

_TB = 1e12


class DCachePoolsSettings(ModuleSettings):
    """Settings of the `dcache_pools` module type."""

    format: Literal["auto", "info", "rest"] = Field(
        "auto",
        description="info: the info service XML (/info); rest: the frontend's "
        "/api/v1/poolgroups/<group>/space; auto tells XML from JSON",
    )
    pool_groups: list[str] = Field(
        default_factory=list, description="only pools in these pool groups count; empty: all"
    )
    removable_is_free: bool = Field(
        True, description="count removable (cached, safe to evict) space as free"
    )
    pool_warning: float = Field(
        0.10, ge=0, le=1, description="a pool with a lower free ratio is low on space"
    )
    pool_critical: float = Field(
        0.02, ge=0, le=1, description="a pool with a lower free ratio is full"
    )
    max_pools_below: int = Field(
        2,
        ge=0,
        description="pools that may be low (or full) before the module is neutral (or unhappy)",
    )
    warning: float = Field(
        0.15, ge=0, le=1, description="overall free ratio below which the module is neutral"
    )
    critical: float = Field(
        0.05, ge=0, le=1, description="overall free ratio below which the module is unhappy"
    )

    @model_validator(mode="after")
    def _ordered(self) -> DCachePoolsSettings:
        if self.pool_critical > self.pool_warning or self.critical > self.warning:
            raise ValueError("a critical free ratio must not be above its warning ratio")
        return self


class DCachePools(Module[DCachePoolsSettings]):
    """Free space of dCache pools from the info service XML, rated per pool and overall."""

    Settings = DCachePoolsSettings

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        info = self._read(read_input(inputs))
        wanted = set(self.settings.pool_groups)
        check_selection(info, wanted)
        pools = [
            p
            for p in info.pools
            if p.enabled and p.total > 0 and (not wanted or wanted & set(p.groups))
        ]
        ratios = {p.name: self._free(p.space) / p.total for p in pools}
        low = sorted(n for n, r in ratios.items() if r < self.settings.pool_warning)
        full = sorted(n for n, r in ratios.items() if r < self.settings.pool_critical)
        overall = {k: sum(p.space.get(k, 0.0) for p in pools) for k in SPACE_KEYS}
        ratio = self._free(overall) / overall["total"] if overall["total"] else None
        status, problems = self._rate(ratio, low, full)
        if not pools:
            status, problems = Status.UNHAPPY, [f"none of {len(info.pools)} pools reports space"]
        metrics = _space_metrics("", overall)
        metrics.update(pools=len(pools), pools_low=len(low), pools_full=len(full))
        if ratio is not None:
            metrics["free_ratio"] = ratio
        for group in info.groups.values():
            if not wanted or group.name in wanted:
                space = group.space or _sum_pools(info.pools, group.pools)
                metrics.update(_space_metrics(metric_name("group", group.name), space))
        summary = f"{len(pools)} pools, {_tb(self._free(overall))} of {_tb(overall['total'])} free"
        return Result(
            status=status,
            message="; ".join(problems) or summary,
            metrics=metrics,
            tables=(_pool_table(info.pools, ratios, self.settings),),
            details={
                "low_pools": low,
                "full_pools": full,
                "free_ratio": ratio,
                "pools_without_space": sorted(p.name for p in info.pools if p.total <= 0),
            },
        )

    def _read(self, raw: RawInput) -> DCacheInfo:
        fmt = self.settings.format
        if fmt == "auto":
            fmt = "rest" if raw.content.lstrip()[:1] in (b"{", b"[") else "info"
        return read_rest_space(load_json(raw)) if fmt == "rest" else read_info(raw.content)

    def _free(self, space: dict[str, float]) -> float:
        free = space.get("free", 0.0)
        return free + space.get("removable", 0.0) if self.settings.removable_is_free else free

    def _rate(
        self, ratio: float | None, low: list[str], full: list[str]
    ) -> tuple[Status | None, list[str]]:
        s = self.settings
        verdicts: list[Verdict] = []
        if ratio is not None and ratio < s.critical:
            verdicts.append((Status.UNHAPPY, f"only {ratio:.1%} free overall"))
        elif ratio is not None and ratio < s.warning:
            verdicts.append((Status.NEUTRAL, f"only {ratio:.1%} free overall"))
        if len(full) > s.max_pools_below:
            verdicts.append((Status.UNHAPPY, f"{len(full)} pools full: {_names(full)}"))
        elif len(low) > s.max_pools_below:
            verdicts.append((Status.NEUTRAL, f"{len(low)} pools low on space: {_names(low)}"))
        return worst(verdicts)


def _space_metrics(prefix: str, space: dict[str, float]) -> dict[str, float]:
    return {metric_name(prefix, k) if prefix else k: space.get(k, 0.0) for k in SPACE_KEYS}


def _sum_pools(pools: list[Pool], names: list[str]) -> dict[str, float]:
    wanted = set(names)
    members = [p for p in pools if p.name in wanted]
    return {k: sum(p.space.get(k, 0.0) for p in members) for k in SPACE_KEYS}


def _names(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _tb(value: float) -> str:
    return f"{value / _TB:,.1f} TB"


def _pool_table(pools: list[Pool], ratios: dict[str, float], s: DCachePoolsSettings) -> Table:
    rows = []
    for p in sorted(pools, key=lambda p: (ratios.get(p.name, 2.0), p.name)):
        ratio = ratios.get(p.name)
        state = (
            "not rated"
            if ratio is None
            else "full"
            if ratio < s.pool_critical
            else "low"
            if ratio < s.pool_warning
            else "ok"
        )
        tb = [round(p.space.get(k, 0.0) / _TB, 2) for k in SPACE_KEYS]
        pct = round(ratio * 100, 1) if ratio is not None else None
        rows.append((p.name, ", ".join(p.groups), p.enabled, *tb, pct, state))
    columns = (
        "pool",
        "pool groups",
        "enabled",
        "total TB",
        "free TB",
        "precious TB",
        "removable TB",
        "used TB",
        "free %",
        "state",
    )
    return Table(name="pools", columns=columns, rows=tuple(rows), title="Pools, fullest first")
