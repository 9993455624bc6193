"""Aggregates of a rollup bucket, [n, sum, min, max], and how two of them fold into one."""

from __future__ import annotations

from typing import TypeVar

Aggregate = list[float]  # [n, sum, min, max]
K = TypeVar("K")


def fold_into(
    folded: dict[K, Aggregate], key: K, n: float, total: float, low: float, high: float
) -> None:
    """Add an aggregate (or one value: n=1, all three the value) to the one under `key`."""
    agg = folded.get(key)
    if agg is None:
        folded[key] = [n, total, low, high]
        return
    agg[0] += n
    agg[1] += total
    agg[2] = min(agg[2], low)
    agg[3] = max(agg[3], high)
