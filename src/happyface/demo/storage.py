"""A simulated dCache instance: the info service XML (pools, space, movers) and active transfers."""

from __future__ import annotations

import json
from datetime import datetime

from .signals import level, rng, wave

TB = 10**12
# (pool, pool groups, size in TB, base fill ratio, regular mover slots, has a tape queue)
POOLS = (
    [
        (f"f01-080-{n:03d}-e_D_cms", ["cms-disk", "default"], 220, fill, 100, False)
        for n, fill in ((110, 0.78), (111, 0.93), (112, 0.84), (113, 0.70))
    ]
    + [
        (f"f01-090-{n:03d}-e_D_atlas", ["atlas-disk", "default"], 330, fill, 150, False)
        for n, fill in ((101, 0.72), (102, 0.81), (103, 0.88))
    ]
    + [
        ("f01-070-101-e_D_lhcb", ["lhcb-disk", "default"], 160, 0.6, 100, False),
        ("f01-081-101-e_T_cms", ["cms-tape"], 110, 0.5, 100, True),
        ("f01-091-101-e_T_atlas", ["atlas-tape"], 110, 0.55, 100, True),
    ]
)
NS = "http://www.dcache.org/2008/01/Info"


def _metric(name: str, value: object, kind: str = "integer") -> str:
    return f'<metric name="{name}" type="{kind}">{value}</metric>'


def _queue(attribute: str, active: int, max_active: int, queued: int) -> str:
    metrics = _metric("active", active) + _metric("max-active", max_active)
    return f"<queue {attribute}>{metrics}{_metric('queued', queued)}</queue>"


def _space(now: datetime, name: str, size: int, fill: float, tape: bool) -> dict[str, int]:
    total = size * TB
    # disk pools fill slowly and are cleaned at night; one cms pool runs nearly full by design
    used_ratio = min(fill + 0.05 * wave(now, 24.0, len(name) / 7), 0.995)
    used = round(total * used_ratio)
    precious = round(used * 0.3) if tape else 0
    removable = round(used * 0.5) if tape else 0
    return {
        "total": total,
        "free": total - used,
        "precious": precious,
        "removable": removable,
        "used": used,
    }


def _pool_xml(now: datetime, pool: tuple[str, list[str], int, float, int, bool]) -> str:
    name, groups, size, fill, slots, tape = pool
    r = rng(now, "pool", name)
    space = _space(now, name, size, fill, tape)
    active = min(round(level(now, slots * 0.6, 0.5, 3.0, name)), slots)
    queued = max(round((active - slots * 0.9) * 3), 0) + (
        r.randint(0, 3) if r.random() < 0.3 else 0
    )
    queues = [
        _queue('type="p2p-queue"', r.randint(0, 3), 10, 0),
        _queue('type="p2p-clientqueue"', 0, 10, 0),
    ]
    if tape:
        restores = round(level(now, 15, 0.8, 8.0, name, "restore"))
        queues.append(_queue('type="restore"', min(restores, 20), 20, max(restores - 20, 0)))
        queues.append(_queue('type="store"', r.randint(2, 10), 10, r.randint(0, 4)))
    regular = _queue('name="regular"', active, slots, queued)
    queues.append(f"<named-queues>{regular}</named-queues>")
    space_xml = "".join(_metric(k, v) for k, v in space.items())
    refs = "".join(f'<poolgroupref name="{g}"/>' for g in groups)
    return (
        f'  <pool name="{name}">{_metric("enabled", "true", "boolean")}'
        f"{_metric('read-only', 'false', 'boolean')}"
        f"{_metric('last-heartbeat', r.randint(500, 30000))}"
        f"<queues>{''.join(queues)}</queues><space>{space_xml}</space>"
        f"<poolgroups>{refs}</poolgroups></pool>"
    )


def info_xml(now: datetime) -> bytes:
    """The dCache info service XML at `now`."""
    pools = "\n".join(_pool_xml(now, p) for p in POOLS)
    groups: dict[str, list[str]] = {}
    for name, pool_groups, *_ in POOLS:
        for group in pool_groups:
            groups.setdefault(group, []).append(name)
    group_xml = "\n".join(_group_xml(g, members) for g, members in groups.items())
    body = (
        f'<dCache xmlns="{NS}">\n<pools>\n{pools}\n</pools>\n'
        f"<poolgroups>\n{group_xml}\n</poolgroups>\n</dCache>\n"
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def _group_xml(name: str, members: list[str]) -> str:
    refs = "".join(f'<poolref name="{p}"/>' for p in members)
    return f'  <poolgroup name="{name}"><pools>{refs}</pools></poolgroup>'


_DOORS = [
    "WebDAV-f01-080-s01@webdavDomain",
    "xrootd-f01-080-s02@xrootdDomain",
    "GFTP-f01-080-s03@gftpDomain",
]
_CLIENTS = [
    ("cmsprd", "vocms0%d.cern.example"),
    ("atlasprd", "fts3-atlas%d.cern.example"),
    ("lhcbprd", "lhcb-dirac%d.cern.example"),
    ("cmsuser", "wn%04d.gridka.example"),
]


def transfers_json(now: datetime) -> bytes:
    """Active transfers at `now`, as the `dcache_transfers` type reads them."""
    r = rng(now, "transfers")
    count = round(level(now, 60, 0.4, 2.0, "transfers"))
    stuck_host = f"wn{r.randint(1, 300):04d}.gridka.example"
    transfers = []
    for i in range(count):
        client, host_pattern = r.choice(_CLIENTS)
        pool = r.choice(POOLS)[0]
        host = host_pattern % r.randint(1, 9 if "%d" in host_pattern else 300)
        age = r.randint(5, 1800)
        speed = r.uniform(20e6, 400e6)
        if i < 3 and wave(now, 2.0) > 0:  # now and then a client host stalls its transfers
            host, speed, age = stuck_host, r.uniform(10e3, 300e3), r.randint(1200, 30000)
        transfers.append(
            {
                "door": (door := r.choice(_DOORS)),
                "protocol": door.split("-", 1)[0].lower(),
                "pool": pool,
                "host": host,
                "client": client,
                "bytes": round(speed * age),
                "speed": round(speed),
                "age": age,
                "path": f"/pnfs/gridka.example/{client}/store/f{r.randint(1, 10**6)}.root",
            }
        )
    return json.dumps({"transfers": transfers}, indent=1).encode()
