"""The access each stored configuration version gave, so history obeys the rules of its time.

Every run references the configuration snapshot it ran with (stored once per version). A
module's history must not show a viewer the runs in which the module, or the category it was
in, was hidden or restricted from them, even after it has been opened since. The versions are
few and never change once stored; their access entries are read once per process and kept.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .policy import Policy, Sight

if TYPE_CHECKING:
    from ...storage import Store

_MODULE_KEYS = ("id", "category", "access", "allow")
_CATEGORY_KEYS = ("id", "access", "allow")

#: per version: module id -> its stored entry, and category id -> its stored entry
Entries = tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]


class StoredAccess:
    """The access entries of every stored configuration version, read once each."""

    def __init__(self) -> None:
        self._versions: dict[int, Entries] = {}
        self._lock = threading.Lock()

    def versions(self, store: Store) -> Mapping[int, Entries]:
        """Every version's entries, reading only those stored since the last call."""
        with self._lock:
            known = set(self._versions)
        fresh = {v: _entries(c) for v, c in store.config_versions(known).items()}
        with self._lock:
            self._versions.update(fresh)
            return dict(self._versions)

    def withheld(self, store: Store, policy: Policy, module_id: str) -> frozenset[int]:
        """The versions in which this viewer may not see `module_id` in full."""
        return frozenset(
            version
            for version, (modules, categories) in self.versions(store).items()
            if module_id in modules
            and policy.module(module_id, modules[module_id], categories) is not Sight.FULL
        )


def _entries(snapshot: Mapping[str, Any]) -> Entries:
    """Only what access depends on: no titles, sources or rules are kept."""
    modules = {
        m["id"]: {k: m[k] for k in _MODULE_KEYS if k in m} for m in snapshot.get("modules") or []
    }
    categories = {
        c["id"]: {k: c[k] for k in _CATEGORY_KEYS if k in c}
        for c in snapshot.get("categories") or []
    }
    return modules, categories
