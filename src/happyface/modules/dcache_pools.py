"""The `dcache_pools` module type: free space per dCache pool, per pool group and overall."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ..module import Module
from ..result import Result, Table
from ..retired import BecameRule, Renamed, Retired
from ..rules import Rule
from ..sources import Inputs, RawInput
from .common import load_json, metric_name, read_input
from .dcacheinfo import (
    SPACE_KEYS,
    DCacheInfo,
    Pool,
    PoolSelection,
    info_time,
    read_info,
    selected_pools,
)
from .dcacherest import read_rest_space

_TB = 1e12
#: pools beyond this many (by name) are rated in the counts but get no series of their own
MAX_METRIC_POOLS = 300


class DCachePoolsSettings(PoolSelection):
    """Settings of the `dcache_pools` module type."""

    format: Literal["auto", "info", "rest"] = Field(
        "auto",
        description="info: the info service XML (/info); rest: the frontend's "
        "/api/v1/poolgroups/<group>/space; auto tells XML from JSON",
    )
    removable_is_free: bool = Field(
        True, description="count removable (cached, safe to evict) space as free"
    )
    low_free_ratio: float = Field(
        0.10, ge=0, le=1, description="a pool with a lower free ratio counts in `pools_low`"
    )
    full_free_ratio: float = Field(
        0.02, ge=0, le=1, description="a pool with a lower free ratio counts in `pools_full`"
    )

    @model_validator(mode="after")
    def _ordered(self) -> DCachePoolsSettings:
        if self.full_free_ratio > self.low_free_ratio:
            raise ValueError("`full_free_ratio` must not be above `low_free_ratio`")
        return self


class DCachePools(Module[DCachePoolsSettings]):
    """Free space of dCache pools from the info service XML, rated per pool and overall."""

    Settings = DCachePoolsSettings
    metric_units: ClassVar[Mapping[str, str]] = {
        "*free_ratio": "fraction",
        "pools*": "count",
        "*": "bytes",
    }
    default_rules = (
        Rule(metric="free_ratio", op="<", warning=0.15, critical=0.05, missing="ignore"),
        Rule(metric="pools_low", op=">", warning=2,
             message="{value} pools are low on space, more than {threshold}: {summary}"),
        Rule(metric="pools_full", op=">", critical=2,
             message="{value} pools are full, more than {threshold}: {summary}"),
        Rule(metric="pools", op="<", critical=1, message="no pool reports space: {summary}"),
    )  # fmt: skip
    retired_settings: ClassVar[Mapping[str, Retired]] = {
        "warning": BecameRule((("free_ratio", "warning"),)),
        "critical": BecameRule((("free_ratio", "critical"),)),
        "max_pools_below": BecameRule((("pools_low", "warning"), ("pools_full", "critical"))),
        "pool_warning": Renamed("low_free_ratio"),
        "pool_critical": Renamed("full_free_ratio"),
    }

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        info = self._read(read_input(inputs))
        wanted = set(self.settings.pool_groups)
        pools = [p for p in selected_pools(info, wanted) if p.total > 0]
        ratios = {p.name: self._free(p.space) / p.total for p in pools}
        low = sorted(n for n, r in ratios.items() if r < self.settings.low_free_ratio)
        full = sorted(n for n, r in ratios.items() if r < self.settings.full_free_ratio)
        overall = {k: sum(p.space.get(k, 0.0) for p in pools) for k in SPACE_KEYS}
        ratio = self._free(overall) / overall["total"] if overall["total"] else None
        metrics = _space_metrics("", overall)
        metrics.update(pools=len(pools), pools_low=len(low), pools_full=len(full))
        metrics.update(_pool_metrics(ratios))
        if ratio is not None:
            metrics["free_ratio"] = ratio
        for group in info.groups.values():
            if not wanted or group.name in wanted:
                space = group.space or _sum_pools(info.pools, group.pools)
                metrics.update(_space_metrics(metric_name("group", group.name), space))
        return Result(
            source_time=info_time(info, now),
            message=_summary(len(info.pools), pools, overall, self._free(overall), low, full),
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


def _space_metrics(prefix: str, space: dict[str, float]) -> dict[str, float]:
    return {metric_name(prefix, k) if prefix else k: space.get(k, 0.0) for k in SPACE_KEYS}


def _pool_metrics(ratios: dict[str, float]) -> dict[str, float]:
    """`pool.<name>.free_ratio` of the first pools by name, for rules on single pools."""
    names = sorted(ratios)[:MAX_METRIC_POOLS]
    return {metric_name("pool", name, "free_ratio"): ratios[name] for name in names}


def _summary(
    listed: int,
    pools: list[Pool],
    overall: dict[str, float],
    free: float,
    low: list[str],
    full: list[str],
) -> str:
    """Free space overall, and which pools are full or low, for the shift crew."""
    if not pools:
        return f"0 of {listed} listed pools report space"
    text = f"{len(pools)} pools, {_tb(free)} of {_tb(overall['total'])} free"
    if full:
        text += f"; {len(full)} full: {_names(full)}"
    fuller = [n for n in low if n not in full]
    if fuller:
        text += f"; {len(fuller)} more low on space: {_names(fuller)}"
    return text


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
            if ratio < s.full_free_ratio
            else "low"
            if ratio < s.low_free_ratio
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
