"""The site and the store as one viewer may see them.

Every view function reads through a `ViewContext`; giving it a scoped site and a scoped store
makes every page, export and image obey the access rules without checks of its own. What a
viewer may not see in full is left out (hidden) or reduced to its id and title with a note
(restricted): no status, message, metrics, tables, history, sources or archived inputs.
A module's history leaves out the runs whose stored configuration withheld it from the
viewer (versions.py), so opening a module does not open its past.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...site import ModuleInstance, Site
from ...status import Algorithm, Kind, Rated, Status, category_status
from .policy import WITHHELD, Policy, Sight
from .versions import StoredAccess

if TYPE_CHECKING:
    from ...storage import Point, ResultRow, Store

_LISTED_MODULE = ("id", "title", "category", "kind", "order", "access", "allow", "weight")
_LISTED_CATEGORY = ("id", "title", "order", "access", "allow", "algorithm")


def filter_snapshot(snapshot: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """A run's stored configuration without what the viewer may not see."""
    stored_categories = {c["id"]: c for c in snapshot.get("categories") or []}
    categories = []
    for cat in stored_categories.values():
        sight = policy.category(cat["id"], cat)
        if sight is not Sight.NONE:
            categories.append(cat if sight is Sight.FULL else _withheld(cat, _LISTED_CATEGORY))
    modules = []
    for mod in snapshot.get("modules") or []:
        sight = policy.module(mod["id"], mod, stored_categories)
        if sight is not Sight.NONE:
            modules.append(mod if sight is Sight.FULL else _withheld(mod, _LISTED_MODULE))
    return {**snapshot, "categories": categories, "modules": modules}


def _withheld(entry: Mapping[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: entry[k] for k in keep if k in entry}, "withheld": WITHHELD}


def scoped_site(site: Site, policy: Policy) -> Site:
    """The site with hidden items left out and restricted ones reduced to their names."""
    categories = []
    for cat in site.categories:
        sight = policy.category(cat.id)
        if sight is not Sight.NONE:
            categories.append(
                cat if sight is Sight.FULL else cat.model_copy(update={"description": ""})
            )
    modules = []
    for instance in site.modules:
        sight = policy.module(instance.id)
        if sight is Sight.FULL:
            modules.append(instance)
        elif sight is Sight.LISTED:
            modules.append(_listed_instance(instance))
    scoped = replace(site, categories=tuple(categories), modules=tuple(modules))
    # the snapshot would list the module objects' sources: give it the filtered one instead
    scoped.__dict__["snapshot"] = filter_snapshot(site.snapshot, policy)
    scoped.__dict__["version"] = site.version
    return scoped


def _listed_instance(instance: ModuleInstance) -> ModuleInstance:
    blank: dict[str, Any] = {
        "description": "",
        "instruction": "",
        "settings": {},
        "sources": {},
        "source": None,
        "rules": None,
    }
    return ModuleInstance(instance.config.model_copy(update=blank), instance.module, ())


def _rated(row: ResultRow, entry: Mapping[str, Any]) -> Rated:
    return Rated(row.status, Kind(entry.get("kind", "rated")), float(entry.get("weight", 1.0)))


class ScopedStore:
    """A store's reads filtered for one viewer; everything about runs passes through."""

    def __init__(self, store: Store, policy: Policy, stored: StoredAccess | None = None) -> None:
        self._store = store
        self._policy = policy
        self._stored = stored if stored is not None else StoredAccess()
        self._snapshots: dict[int, Mapping[str, Any]] = {}
        self._withheld: dict[str, frozenset[int]] = {}

    def __getattr__(self, name: str) -> Any:
        # runs, locks and the engine carry no module data (test_access_web lists them)
        return getattr(self._store, name)

    def _snapshot(self, run_id: int) -> Mapping[str, Any]:
        if run_id not in self._snapshots:
            self._snapshots[run_id] = self._store.config_of(run_id) or {}
        return self._snapshots[run_id]

    def _sight(self, run_id: int | None, module_id: str, category_id: str = "") -> Sight:
        if run_id is None:
            return self._policy.module(module_id, category_id=category_id)
        snapshot = self._snapshot(run_id)
        stored = next((m for m in snapshot.get("modules") or [] if m["id"] == module_id), None)
        categories = {c["id"]: c for c in snapshot.get("categories") or []}
        return self._policy.module(module_id, stored, categories, category_id)

    def config_of(self, run_id: int) -> dict[str, Any]:
        return (
            filter_snapshot(self._snapshot(run_id), self._policy) if self._snapshot(run_id) else {}
        )

    def results(self, run_id: int) -> list[ResultRow]:
        rows = self._store.results(run_id)
        return [r for r in rows if self._sight(run_id, r.module_id, r.category_id) is Sight.FULL]

    def result(self, run_id: int, module_id: str) -> ResultRow | None:
        row = self._store.result(run_id, module_id)
        if row is None or self._sight(run_id, module_id, row.category_id) is not Sight.FULL:
            return None
        return row

    def category_statuses(self, run_id: int) -> dict[str, Status]:
        """Stored roll-ups only where the viewer sees every member; else from what they see."""
        statuses = self._store.category_statuses(run_id)
        snapshot = self._snapshot(run_id)
        categories = {c["id"]: c for c in snapshot.get("categories") or []}
        shown: dict[str, Status] = {}
        for cat_id, status in statuses.items():
            sight = self._policy.category(cat_id, categories.get(cat_id))
            if sight is Sight.LISTED:
                shown[cat_id] = Status.NOINFO
            elif sight is Sight.FULL:
                shown[cat_id] = self._rollup(run_id, cat_id, status, categories.get(cat_id))
        return shown

    def _rollup(
        self, run_id: int, cat_id: str, stored: Status, entry: Mapping[str, Any] | None
    ) -> Status:
        members = {
            m["id"]: m
            for m in self._snapshot(run_id).get("modules") or []
            if m.get("category") == cat_id
        }
        if all(self._sight(run_id, m, cat_id) is Sight.FULL for m in members):
            return stored
        rated = [
            _rated(r, members.get(r.module_id, {}))
            for r in self.results(run_id)
            if r.category_id == cat_id
        ]
        current = self._policy.site.category(cat_id)
        algorithm = current.algorithm if current else (entry or {}).get("algorithm", "worst")
        return category_status(rated, Algorithm(algorithm))

    def _open(self, module_id: str) -> bool:
        return self._sight(None, module_id) is Sight.FULL

    def _past(self, module_id: str, excluded: Collection[int]) -> frozenset[int] | None:
        """None when the module is not open to the viewer now; else the versions to leave out."""
        if not self._open(module_id):
            return None
        if module_id not in self._withheld:
            self._withheld[module_id] = self._stored.withheld(self._store, self._policy, module_id)
        return self._withheld[module_id].union(excluded)

    def config_versions(self, known: Collection[int] = ()) -> dict[int, dict[str, Any]]:
        versions = self._store.config_versions(known)
        return {v: filter_snapshot(snapshot, self._policy) for v, snapshot in versions.items()}

    def module_history(
        self,
        module_id: str,
        since: datetime,
        until: datetime,
        limit: int = 1000,
        excluded: Collection[int] = (),
    ) -> list[ResultRow]:
        past = self._past(module_id, excluded)
        if past is None:
            return []
        return self._store.module_history(module_id, since, until, limit, excluded=past)

    def metric_names(self, module_id: str) -> list[str]:
        return self._store.metric_names(module_id) if self._open(module_id) else []

    def metric_series(
        self,
        module_id: str,
        name: str,
        since: datetime,
        until: datetime,
        max_points: int = 2000,
        excluded: Collection[int] = (),
    ) -> list[Point]:
        past = self._past(module_id, excluded)
        if past is None:
            return []
        return self._store.metric_series(module_id, name, since, until, max_points, past)

    def status_series(
        self, module_id: str, since: datetime, until: datetime, excluded: Collection[int] = ()
    ) -> list[tuple[datetime, Status]]:
        past = self._past(module_id, excluded)
        if past is None:
            return []
        return self._store.status_series(module_id, since, until, past)
