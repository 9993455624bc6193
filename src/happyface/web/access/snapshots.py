"""Stored configurations parsed once, and what each viewer sees of them worked out once.

Every page shows the site as it was configured at the shown run, and every access check on a
run reads that run's stored configuration. Parsed and scanned on each request, that made a
page on a site of 1,000 modules cost ten times one on a site of 100. A stored configuration
never changes: it is kept by the hash of its content (so a reused version id cannot mix two
up), parsed once and indexed by id, and the sight each group set has of it is worked out
once. Both are bounded: versions and group sets are few, the bounds only guard surprises.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .policy import WITHHELD, Policy, Sight

if TYPE_CHECKING:
    from ...storage import Store

_LISTED_MODULE = ("id", "title", "category", "kind", "order", "access", "allow", "weight")
_LISTED_CATEGORY = ("id", "title", "order", "access", "allow", "algorithm")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class StoredConfig:
    """A run's stored configuration, parsed, with its entries indexed by id."""

    hash: str
    data: Mapping[str, Any]
    modules: Mapping[str, Mapping[str, Any]]
    categories: Mapping[str, Mapping[str, Any]]

    @classmethod
    def of(cls, digest: str, data: Mapping[str, Any]) -> StoredConfig:
        # built from the end, so that (as with a scan) the first of equal ids is found
        modules = {m["id"]: m for m in reversed(data.get("modules") or [])}
        categories = {c["id"]: c for c in reversed(data.get("categories") or [])}
        return cls(digest, data, modules, categories)


#: the configuration of a run that has none stored
NO_CONFIG = StoredConfig("", {}, {}, {})


@dataclass(frozen=True)
class ConfigSight:
    """What one viewer sees of one stored configuration."""

    #: the configuration without what the viewer may not see (see `filter_snapshot`)
    shown: Mapping[str, Any]
    #: each stored module's and category's sight
    modules: Mapping[str, Sight]
    categories: Mapping[str, Sight]
    #: the categories with a stored member the viewer does not see in full
    partial: frozenset[str]


def sight_of(config: StoredConfig, policy: Policy) -> ConfigSight:
    """Work out, in one pass, what `policy`'s viewer sees of a stored configuration."""
    categories = {c: policy.category(c, entry) for c, entry in config.categories.items()}
    modules = {m: policy.module(m, entry, config.categories) for m, entry in config.modules.items()}
    partial = frozenset(
        str(entry.get("category", ""))
        for m, entry in config.modules.items()
        if modules[m] is not Sight.FULL
    )
    shown = _shown(config.data, categories, modules) if config.data else {}
    return ConfigSight(shown, modules, categories, partial)


def filter_snapshot(snapshot: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """A stored configuration without what the viewer may not see.

    Hidden categories and modules are left out; restricted ones keep only their names.
    """
    return dict(sight_of(StoredConfig.of("", snapshot), policy).shown)


def _shown(
    data: Mapping[str, Any], categories: Mapping[str, Sight], modules: Mapping[str, Sight]
) -> dict[str, Any]:
    return {
        **data,
        "categories": _kept(data.get("categories") or [], categories, _LISTED_CATEGORY),
        "modules": _kept(data.get("modules") or [], modules, _LISTED_MODULE),
    }


def _kept(
    entries: list[Mapping[str, Any]], sights: Mapping[str, Sight], listed: tuple[str, ...]
) -> list[Mapping[str, Any]]:
    kept: list[Mapping[str, Any]] = []
    for entry in entries:
        sight = sights[entry["id"]]
        if sight is Sight.FULL:
            kept.append(entry)
        elif sight is Sight.LISTED:
            kept.append({**{k: entry[k] for k in listed if k in entry}, "withheld": WITHHELD})
    return kept


class _Bounded(Generic[K, V]):
    """A small least-recently-used map, safe across threads."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


class Snapshots:
    """The stored configurations of one site's runs, and each group set's sight of them."""

    def __init__(self, max_configs: int = 16, max_sights: int = 256) -> None:
        self._configs: _Bounded[str, StoredConfig] = _Bounded(max_configs)
        self._sights: _Bounded[tuple[str, frozenset[str]], ConfigSight] = _Bounded(max_sights)

    def config(self, store: Store, run_id: int) -> StoredConfig:
        """Run `run_id`'s configuration: one indexed lookup of its hash, parsed the first time."""
        digest = store.config_hash(run_id)
        if digest is None:
            return NO_CONFIG
        found = self._configs.get(digest)
        if found is None:
            data = store.config_of(run_id)
            found = StoredConfig.of(digest, data) if data else NO_CONFIG
            self._configs.put(digest, found)
        return found

    def sight(self, config: StoredConfig, policy: Policy) -> ConfigSight:
        """What `policy`'s viewer sees of `config`; the policies are of this one site."""
        key = (config.hash, policy.groups)
        found = self._sights.get(key)
        if found is None:
            found = sight_of(config, policy)
            self._sights.put(key, found)
        return found
