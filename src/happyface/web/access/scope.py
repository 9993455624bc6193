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

from ...config.site import ModuleInstance, Site
from ...status import Algorithm, Kind, Rated, Status, category_status
from ...storage.points import Points
from ...storage.store import BEGINNING, END
from .policy import Policy, Sight
from .snapshots import ConfigSight, Snapshots, StoredConfig, filter_snapshot
from .sourcescope import visible_sources
from .versions import StoredAccess

if TYPE_CHECKING:
    from ...storage import ResultRow, RunInfo, Store
    from ...storage.changes import ChangePoint
    from ...storage.periods import Period, Subject
    from ...storage.quality.read import SourceState
    from ...storage.shift_notes import ShiftNote


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
    """The reads the web makes of a store, each filtered for one viewer; nothing else.

    There is no attribute forwarding on purpose: a Store method stays out of the web's reach
    until it is written here with its filter, and mypy checks every call the web makes against
    these methods. Runs (when they ran, whether they succeeded) carry no module data and pass
    through; everything about modules is filtered.
    """

    def __init__(
        self,
        store: Store,
        policy: Policy,
        stored: StoredAccess | None = None,
        snapshots: Snapshots | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._stored = stored if stored is not None else StoredAccess()
        self._snapshots = snapshots if snapshots is not None else Snapshots()
        self._sights: dict[int, tuple[StoredConfig, ConfigSight]] = {}
        self._withheld: dict[str, frozenset[int]] = {}

    # -- runs: no module data ----------------------------------------------------------------

    def latest_run(self) -> RunInfo | None:
        """The newest visible run."""
        return self._store.latest_run()

    def run(self, run_id: int) -> RunInfo | None:
        """Run `run_id` in whatever state it is."""
        return self._store.run(run_id)

    def runs(
        self,
        since: datetime = BEGINNING,
        until: datetime = END,
        limit: int = 1000,
        include_failed: bool = False,
    ) -> list[RunInfo]:
        """Runs started in [since, until], newest first."""
        return self._store.runs(since, until, limit, include_failed)

    # -- one run, as its stored configuration allowed ------------------------------------------

    def _seen(self, run_id: int) -> tuple[StoredConfig, ConfigSight]:
        if run_id not in self._sights:
            config = self._snapshots.config(self._store, run_id)
            self._sights[run_id] = (config, self._snapshots.sight(config, self._policy))
        return self._sights[run_id]

    def _sight(self, run_id: int, module_id: str, category_id: str) -> Sight:
        config, seen = self._seen(run_id)
        found = seen.modules.get(module_id)
        if found is not None:
            return found
        # a result of a module its run's configuration does not list: the current rules decide
        return self._policy.module(module_id, None, config.categories, category_id)

    def config_of(self, run_id: int) -> dict[str, Any]:
        """The run's configuration without what the viewer may not see (empty if it has none)."""
        return dict(self._seen(run_id)[1].shown)

    def results(
        self, run_id: int, module_ids: Collection[str] | None = None, payload: bool = True
    ) -> list[ResultRow]:
        """The results of the modules the viewer sees in full (see `Store.results`)."""
        rows = self._store.results(run_id, module_ids, payload)
        return [r for r in rows if self._sight(run_id, r.module_id, r.category_id) is Sight.FULL]

    def result(self, run_id: int, module_id: str) -> ResultRow | None:
        """One module's result, None unless the viewer sees the module in full."""
        row = self._store.result(run_id, module_id)
        if row is None or self._sight(run_id, module_id, row.category_id) is not Sight.FULL:
            return None
        return row

    def category_statuses(self, run_id: int) -> dict[str, Status]:
        """Stored roll-ups only where the viewer sees every member; else from what they see."""
        statuses = self._store.category_statuses(run_id)
        config, seen = self._seen(run_id)
        shown: dict[str, Status] = {}
        rows: list[ResultRow] | None = None
        for cat_id, status in statuses.items():
            sight = seen.categories.get(cat_id)
            if sight is None:
                sight = self._policy.category(cat_id)
            if sight is Sight.LISTED:
                shown[cat_id] = Status.NOINFO
            elif sight is Sight.FULL and cat_id not in seen.partial:
                shown[cat_id] = status
            elif sight is Sight.FULL:
                rows = self.results(run_id, payload=False) if rows is None else rows
                shown[cat_id] = self._rollup(config, cat_id, rows)
        return shown

    def periods_at(
        self, run_id: int, at: datetime, module_ids: Collection[str] | None = None
    ) -> dict[Subject, Period]:
        """Since when each module (or `module_ids`) and category the viewer sees in full is in
        its status at `at`, as run `run_id`'s configuration allowed; a category seen only in
        part is left out, as its stored status is not the one the viewer is shown."""
        periods = self._store.periods_at(at, module_ids)
        return {key: p for key, p in periods.items() if self._sees_period(run_id, key)}

    def periods_between(self, run_id: int, since: datetime, until: datetime) -> list[Period]:
        """The status periods in [since, until] of what the viewer sees in full at run `run_id`."""
        periods = self._store.periods_between(since, until)
        return [p for p in periods if self._sees_period(run_id, (p.kind, p.id))]

    def _sees_period(self, run_id: int, key: Subject) -> bool:
        kind, ident = key
        _, seen = self._seen(run_id)
        if kind == "module":
            return self._sight(run_id, ident, "") is Sight.FULL
        sight = seen.categories.get(ident)
        if sight is None:
            sight = self._policy.category(ident)
        return sight is Sight.FULL and ident not in seen.partial

    def shift_notes(self, since: datetime, until: datetime) -> list[ShiftNote]:
        """The shift notes of [since, until]: the crew's own words, shown to every viewer."""
        return self._store.shift_notes(since, until)

    def run_sources(self, run_id: int) -> list[SourceState]:
        """The sources of a run that the viewer sees a module of, told of those modules only."""
        return visible_sources(self._store.run_sources(run_id), self._sees)

    def source_history(self, key: str, until_run: int, limit: int = 200) -> list[SourceState]:
        """A source's runs in which the viewer sees a module reading it."""
        return visible_sources(self._store.source_history(key, until_run, limit), self._sees)

    def _sees(self, state: SourceState, module_id: str) -> bool:
        return self._sight(state.run_id, module_id, "") is Sight.FULL

    def _rollup(self, config: StoredConfig, cat_id: str, rows: list[ResultRow]) -> Status:
        """A category's status from the members the viewer sees."""
        rated = [
            _rated(r, config.modules.get(r.module_id, {})) for r in rows if r.category_id == cat_id
        ]
        current = self._policy.site.category(cat_id)
        stored = config.categories.get(cat_id, {})
        algorithm = current.algorithm if current else stored.get("algorithm", "worst")
        return category_status(rated, Algorithm(algorithm))

    # -- one module's history, as each run's configuration allowed ----------------------------

    def _open(self, module_id: str) -> bool:
        return self._policy.module(module_id) is Sight.FULL

    def _past(self, module_id: str, excluded: Collection[int]) -> frozenset[int] | None:
        """None when the module is not open to the viewer now; else the versions to leave out."""
        if not self._open(module_id):
            return None
        if module_id not in self._withheld:
            self._withheld[module_id] = self._stored.withheld(self._store, self._policy, module_id)
        return self._withheld[module_id].union(excluded)

    def module_history(
        self,
        module_id: str,
        since: datetime,
        until: datetime,
        limit: int = 1000,
        excluded: Collection[int] = (),
    ) -> list[ResultRow]:
        """The module's results in [since, until], none of runs that withheld it."""
        past = self._past(module_id, excluded)
        if past is None:
            return []
        return self._store.module_history(module_id, since, until, limit, excluded=past)

    def changes(
        self,
        since: datetime,
        until: datetime,
        module_ids: Collection[str] | None = None,
        metric: str | None = None,
        limit: int = 1000,
    ) -> list[ChangePoint]:
        """Stored changes, of modules the viewer sees in full now only."""
        found = self._store.changes(since, until, module_ids, metric, limit)
        return [c for c in found if self._open(c.module_id)]

    def metric_names(self, module_id: str) -> list[str]:
        """The module's metric names, none unless the viewer sees it in full now."""
        return self._store.metric_names(module_id) if self._open(module_id) else []

    def metric_series(
        self,
        module_id: str,
        name: str,
        since: datetime,
        until: datetime,
        max_points: int = 2000,
        excluded: Collection[int] = (),
    ) -> Points:
        """A metric of the module, none of runs that withheld it."""
        past = self._past(module_id, excluded)
        if past is None:
            return Points.of(())
        return self._store.metric_series(module_id, name, since, until, max_points, past)

    def status_series(
        self, module_id: str, since: datetime, until: datetime, excluded: Collection[int] = ()
    ) -> list[tuple[datetime, Status]]:
        """The module's status over time, none of runs that withheld it."""
        past = self._past(module_id, excluded)
        if past is None:
            return []
        return self._store.status_series(module_id, since, until, past)
