"""The scoped store: the reads the web makes, each filtered, and nothing else of the store.

Every read is called here as the pages call it, for every module of the access site, by an
anonymous viewer and by an admin: the anonymous answers carry no marker of a hidden module and
no content of a restricted one, while the admin's do (so each probe reaches the data it must
filter). A Store method not written into ScopedStore is not reachable through it at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from happyface.storage import Store
from happyface.storage.engine import parse_url
from happyface.storage.shift_notes import ShiftNote
from happyface.storage.store import BEGINNING, END
from happyface.web.access.policy import Policy
from happyface.web.access.scope import ScopedStore
from tests.fixtures.access import (
    ALTERNATIVES,
    DATA,
    HIDDEN,
    WITHHELD_OPS,
    WITHHELD_QUEUE,
    AccessSite,
)

ADMIN_GROUPS = ("authenticated", "admins")
#: the modules an anonymous viewer may not see in full: hidden or restricted
CLOSED = ("secretjobs", "vaultbox", "queue", "opsmod")
#: what may never reach an anonymous viewer
NEVER = [m for m in HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS if m not in ALTERNATIVES]

Probe = Callable[[ScopedStore, int], Any]


def _each(read: Callable[[str], Any]) -> dict[str, Any]:
    """`read` of every module, keeping only non-empty answers (an id alone would be a leak)."""
    return {m: found for m in DATA if (found := read(m))}


def _metric(module_id: str) -> str:
    return DATA[module_id][2]


#: every read of ScopedStore, as the web calls it, on the newest run
MODULE_READS: dict[str, Probe] = {
    "config_of": lambda s, run: s.config_of(run),
    "results": lambda s, run: [
        s.results(run),
        s.results(run, list(DATA)),
        s.results(run, ["secretjobs"], payload=False),
    ],
    "result": lambda s, run: _each(lambda m: s.result(run, m)),
    "category_statuses": lambda s, run: s.category_statuses(run),
    "module_history": lambda s, run: _each(lambda m: s.module_history(m, BEGINNING, END)),
    "metric_names": lambda s, run: _each(s.metric_names),
    "metric_series": lambda s, run: _each(lambda m: s.metric_series(m, _metric(m), BEGINNING, END)),
    "status_series": lambda s, run: _each(lambda m: s.status_series(m, BEGINNING, END)),
    "run_sources": lambda s, run: s.run_sources(run),
    "source_history": lambda s, run: _each(lambda m: s.source_history(f"{m}_source", run)),
    "periods_at": lambda s, run: s.periods_at(run, END),
    "periods_between": lambda s, run: s.periods_between(run, BEGINNING, END),
    "changes": lambda s, run: [
        s.changes(BEGINNING, END),
        _each(lambda m: s.changes(BEGINNING, END, [m])),
    ],
}
#: reads about runs: when they ran and whether they succeeded, the same for every viewer
RUN_READS: dict[str, Probe] = {
    "latest_run": lambda s, run: s.latest_run(),
    "run": lambda s, run: s.run(run),
    "runs": lambda s, run: s.runs(),
    "shift_notes": lambda s, run: s.shift_notes(BEGINNING, END),
}


def scoped(access_site: AccessSite, *groups: str) -> ScopedStore:
    return ScopedStore(access_site.store, Policy(access_site.site, frozenset(groups)))


def leaks(answer: Any) -> list[str]:
    text = repr(answer)
    return [marker for marker in NEVER if marker in text]


def test_every_read_of_the_scoped_store_is_probed() -> None:
    public = {n for n in vars(ScopedStore) if not n.startswith("_")}
    assert public == set(MODULE_READS) | set(RUN_READS)


@pytest.mark.parametrize("name", sorted(MODULE_READS))
def test_a_closed_modules_data_is_absent_from_each_scoped_read(
    access_site: AccessSite, name: str
) -> None:
    probe, newest = MODULE_READS[name], access_site.ids[-1]
    anonymous = probe(scoped(access_site), newest)
    admin = probe(scoped(access_site, *ADMIN_GROUPS), newest)
    assert leaks(anonymous) == []
    assert leaks(admin) != []  # the probe reaches what the filter must hold back


@pytest.mark.parametrize("name", sorted(RUN_READS))
def test_the_reads_about_runs_are_the_same_for_every_viewer(
    access_site: AccessSite, name: str
) -> None:
    probe, newest = RUN_READS[name], access_site.ids[-1]
    if not access_site.store.shift_notes(BEGINNING, END):
        access_site.store.add_shift_note(ShiftNote(END.replace(year=2026), "crew", "all quiet"))
    anonymous = probe(scoped(access_site), newest)
    assert anonymous and leaks(anonymous) == []
    assert anonymous == probe(scoped(access_site, *ADMIN_GROUPS), newest)


def test_per_module_reads_answer_nothing_of_a_closed_module(access_site: AccessSite) -> None:
    store, newest = scoped(access_site), access_site.ids[-1]
    for module_id in CLOSED:
        assert store.result(newest, module_id) is None
        assert store.results(newest, [module_id]) == []
        assert store.metric_names(module_id) == []
        assert store.module_history(module_id, BEGINNING, END) == []
        assert store.metric_series(module_id, _metric(module_id), BEGINNING, END) == []
        assert store.status_series(module_id, BEGINNING, END) == []
    assert store.result(newest, "jobs") is not None
    since = {p.id for p in store.periods_between(newest, BEGINNING, END)}
    assert "jobs" in since and since.isdisjoint(CLOSED)


def test_a_roll_up_is_of_the_members_the_viewer_sees(access_site: AccessSite) -> None:
    newest = access_site.ids[-1]
    # the stored roll-up of batch is unhappy because of secretjobs, which is hidden
    assert scoped(access_site).category_statuses(newest) == {"batch": "happy", "ops": "noinfo"}
    assert scoped(access_site, *ADMIN_GROUPS).category_statuses(newest) == {
        "batch": "unhappy",
        "vault": "neutral",
        "ops": "happy",
    }


class GrownStore(Store):
    """A store that gained a read nobody has scoped yet."""

    def every_message(self) -> list[str]:
        return [message for _, message, _, _ in DATA.values()]


def test_a_store_method_not_written_into_the_scoped_store_is_not_reachable(
    access_site: AccessSite,
) -> None:
    grown = GrownStore(access_site.store.engine, parse_url(access_site.site.database_url))
    store = ScopedStore(grown, Policy(access_site.site, frozenset()))
    assert grown.every_message()
    assert not hasattr(store, "every_message")
    unscoped = {n for n in dir(GrownStore) if not n.startswith("_")} - set(vars(ScopedStore))
    assert {"engine", "config_versions", "begin_run", "every_message"} <= unscoped
    assert [n for n in sorted(unscoped) if hasattr(store, n)] == []
    assert "__getattr__" not in vars(ScopedStore)
    assert ScopedStore.__getattribute__ is object.__getattribute__
