"""A reader of the dCache info service XML (`/info`, namespace http://www.dcache.org/2008/01/Info).

Only the parts the dCache module types use are read: each pool's space, pool groups, mover
queues and heartbeat, and the pool groups' own space totals.

The info document carries no time of its own; its freshest sign of life is the pools'
`last-heartbeat` (milliseconds since PoolManager last heard from the pool, when the info
service collected it). `info_time` turns that into the document's time, so the source is
judged stale when no pool has reported for longer than its `max_age`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element

from pydantic import Field

from ..errors import ExtractError, FormatError
from ..module import ModuleSettings
from .common import to_float
from .xmlsafe import local_name, parse

SPACE_KEYS = ("total", "free", "precious", "removable", "used")


@dataclass
class Queue:
    """One mover queue of a pool: movers running, allowed at once, and waiting."""

    active: int = 0
    max: int = 0
    queued: int = 0


@dataclass
class Pool:
    """One pool: its space in bytes, whether it is enabled, its groups and mover queues."""

    name: str
    enabled: bool = True
    read_only: bool = False
    space: dict[str, float] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    queues: dict[str, Queue] = field(default_factory=dict)
    heartbeat: float | None = None  # seconds since the pool's last heartbeat, if reported

    @property
    def total(self) -> float:
        return self.space.get("total", 0.0)


@dataclass
class PoolGroup:
    """A pool group: its member pools and, when dCache reports it, its space."""

    name: str
    pools: list[str] = field(default_factory=list)
    space: dict[str, float] = field(default_factory=dict)


@dataclass
class DCacheInfo:
    """The pools and pool groups of one dCache instance."""

    pools: list[Pool]
    groups: dict[str, PoolGroup]


def read_info(content: bytes) -> DCacheInfo:
    """Pools and pool groups from the info XML; ExtractError when it is not such a document."""
    root = parse(content)
    if local_name(root.tag) != "dCache":
        raise FormatError(
            "the dCache info XML (<dCache>)", f"the root element <{local_name(root.tag)}>"
        )
    if not any(local_name(box.tag) == "pools" for box in root):
        sections = sorted({f"<{local_name(box.tag)}>" for box in root})
        raise FormatError(
            "the dCache info XML with a <pools> section",
            f"{', '.join(sections[:8]) or 'no section'}",
            "point the source at /info or /info/pools",
        )
    pools = [_pool(p) for p in _children(root, "pools", "pool")]
    groups = {g.name: g for g in (_group(e) for e in _children(root, "poolgroups", "poolgroup"))}
    for pool in pools:
        for name in pool.groups:
            group = groups.setdefault(name, PoolGroup(name=name))
            if pool.name not in group.pools:
                group.pools.append(pool.name)
    return DCacheInfo(pools=pools, groups=groups)


def info_time(info: DCacheInfo, now: datetime) -> datetime | None:
    """The time of the freshest pool heartbeat, read at `now`; None when no pool reports one.

    A negative heartbeat age gives a time in the future, which is judged a data-quality
    problem rather than accepted.
    """
    ages = [p.heartbeat for p in info.pools if p.heartbeat is not None]
    if not ages:
        return None
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return aware - timedelta(seconds=min(ages))


class PoolSelection(ModuleSettings):
    """The pool groups a dCache module type looks at; the settings of every such type have it."""

    pool_groups: list[str] = Field(
        default_factory=list, description="only pools in these pool groups count; empty: all"
    )


def selected_pools(info: DCacheInfo, pool_groups: Iterable[str]) -> list[Pool]:
    """The enabled pools in the chosen pool groups (all groups when none is chosen).

    ExtractError when the answer lists no pool, or none in the chosen groups: a module that
    would rate an empty selection would say "all fine" about nothing.
    """
    wanted = set(pool_groups)
    check_selection(info, wanted)
    return [p for p in info.pools if p.enabled and (not wanted or wanted & set(p.groups))]


def check_selection(info: DCacheInfo, wanted: set[str]) -> None:
    """ExtractError when the document lists no pool, or none in the wanted pool groups."""
    if not info.pools:
        raise ExtractError("the dCache answer lists no pools")
    if wanted and not any(wanted & set(p.groups) for p in info.pools):
        known = sorted({g for p in info.pools for g in p.groups})
        raise ExtractError(
            f"no pool is in the pool groups {sorted(wanted)}; the answer's pools are in "
            f"{known or 'no pool group (the REST answer covers one group: select it by URL)'}"
        )


def _children(element: Element, container: str, item: str) -> list[Element]:
    return [
        child
        for box in element
        if local_name(box.tag) == container
        for child in box
        if local_name(child.tag) == item
    ]


def metrics_of(element: Element) -> dict[str, str]:
    """The `<metric name="...">value</metric>` children of an element, by name."""
    return {
        child.get("name", ""): (child.text or "").strip()
        for child in element
        if local_name(child.tag) == "metric"
    }


def _space(element: Element | None) -> dict[str, float]:
    if element is None:
        return {}
    values = {k: to_float(v) for k, v in metrics_of(element).items() if k in SPACE_KEYS}
    return {k: max(v, 0.0) for k, v in values.items() if v is not None}


def _find(element: Element, name: str) -> Element | None:
    return next((c for c in element if local_name(c.tag) == name), None)


def _pool(element: Element) -> Pool:
    name = element.get("name")
    if not name:
        raise ExtractError("a <pool> in the dCache info XML has no name attribute")
    flags = metrics_of(element)
    refs = _find(element, "poolgroups")
    heartbeat = to_float(flags.get("last-heartbeat"))
    return Pool(
        name=name,
        enabled=flags.get("enabled", "true").lower() != "false",
        read_only=flags.get("read-only", "false").lower() == "true",
        heartbeat=heartbeat / 1000 if heartbeat is not None else None,
        space=_space(_find(element, "space")),
        groups=[r.get("name", "") for r in (refs if refs is not None else []) if r.get("name")],
        queues=_queues(_find(element, "queues")),
    )


def _queues(element: Element | None) -> dict[str, Queue]:
    """Typed queues (`type="store"`) and named ones (`named-queues/queue name="regular"`)."""
    if element is None:
        return {}
    found: dict[str, Queue] = {}
    for child in element.iter():
        if local_name(child.tag) != "queue":
            continue
        name = child.get("name") or child.get("type")
        if not name:
            continue
        values = metrics_of(child)

        def count(*keys: str, values: dict[str, str] = values) -> int:
            numbers = [to_float(values.get(k)) for k in keys]
            return max(int(next((n for n in numbers if n is not None), 0.0)), 0)

        found[name] = Queue(
            active=count("active"), max=count("max-active", "max"), queued=count("queued")
        )
    return found


def _group(element: Element) -> PoolGroup:
    refs = _find(element, "pools")
    members = [] if refs is None else [r.get("name", "") for r in refs if r.get("name")]
    return PoolGroup(
        name=element.get("name", "?"), pools=members, space=_space(_find(element, "space"))
    )
