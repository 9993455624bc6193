"""Pool space from dCache's REST API (the frontend): `/api/v1/poolgroups/{group}/space`.

That answer (dCache's PoolGroupInfo) holds `costDataForPools`, each pool's cost data with its
`space` in bytes (total, free, precious, removable), and `groupSpaceData`, the group's sum.
`/api/v1/pools` only names the pools and their groups; a pool's own `/usage` is one pool.
"""

from __future__ import annotations

from typing import Any

from ..errors import FormatError
from .common import json_shape, to_float
from .dcacheinfo import DCacheInfo, Pool

_EXPECTED = "dCache pool space from /api/v1/poolgroups/<group>/space (costDataForPools)"
_REST_SPACE = ("total", "free", "precious", "removable")


def read_rest_space(data: Any) -> DCacheInfo:
    """The pools of one pool group with their space; FormatError for any other answer.

    A pool without cost data (offline, or not yet heard from) is kept, disabled, with no space.
    """
    if isinstance(data, list) and data and all(_is_pool_listing(p) for p in data):
        raise FormatError(
            _EXPECTED,
            "the pool list of /api/v1/pools, which has no space",
            "point the source at /api/v1/poolgroups/<group>/space",
        )
    if not isinstance(data, dict) or not isinstance(data.get("costDataForPools"), dict):
        raise FormatError(_EXPECTED, json_shape(data))
    pools = [_pool(str(name), cost) for name, cost in data["costDataForPools"].items()]
    return DCacheInfo(pools=sorted(pools, key=lambda p: p.name), groups={})


def _is_pool_listing(item: Any) -> bool:
    return isinstance(item, dict) and "name" in item and "groups" in item


def _pool(name: str, cost: Any) -> Pool:
    space = cost.get("space") if isinstance(cost, dict) else None
    if not isinstance(space, dict):
        return Pool(name=name, enabled=False)
    values = {k: to_float(space.get(k)) for k in _REST_SPACE}
    found = {k: max(v, 0.0) for k, v in values.items() if v is not None}
    if "total" in found:
        found["used"] = max(found["total"] - found.get("free", 0.0), 0.0)
    return Pool(name=name, space=found)
