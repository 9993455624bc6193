"""A category's alarm state for a viewer who does not see all of its members.

The stored state follows the category's stored roll-up, which members hidden from the viewer
feed. For such a viewer the state is replayed instead: the same detector with the alarm's own
parameters, over the category's status in the last runs as the pages show it to them (rolled
up from the members they see). The replay covers the runs that hysteresis and flapping look
at (`flapping_window + confirm`), so in a steady state it agrees with the overview. It changes
only with a new run, so `Replays` remembers it per group set and newest run.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ...alarms.detect import Level, State, level_of, observe
from ...alarms.rules import detection
from ...config.alarms import AlarmRule
from ...status import Status

if TYPE_CHECKING:
    from ...storage import RunInfo
    from ..access import ScopedStore


@dataclass(frozen=True)
class Seen:
    """A category's status in one run, as one viewer sees it."""

    run_id: int
    started_at: datetime
    status: Status


@dataclass(frozen=True)
class Replayed:
    """The confirmed level of a replayed alarm, and since when it is bad."""

    level: Level
    since: datetime | None


def replay(rule: AlarmRule, history: list[Seen]) -> Replayed:
    """The detector's confirmed level after `history` (oldest first)."""
    params = detection(rule)
    state, since = State(), None
    for seen in history[-(rule.flapping_window + rule.confirm) :]:
        before = state.confirmed
        state = observe(state, level_of(seen.status), seen.run_id, params, seen.started_at)
        if state.confirmed is not before:
            since = seen.started_at if state.confirmed.is_bad else None
    return Replayed(state.confirmed, since)


def seen_history(
    store: ScopedStore, runs: list[RunInfo], categories: set[str]
) -> dict[str, list[Seen]]:
    """Each category's status in `runs` (newest first) as `store`'s viewer sees it, oldest first."""
    history: dict[str, list[Seen]] = {c: [] for c in categories}
    for run in reversed(runs):
        statuses = store.category_statuses(run.id)
        for category in categories:
            status = statuses.get(category, Status.NOINFO)
            history[category].append(Seen(run.id, run.started_at, status))
    return history


def replayed_states(
    store: ScopedStore, rules: Iterable[AlarmRule], keys: Iterable[tuple[str, str]]
) -> Mapping[tuple[str, str], Replayed]:
    """The replayed state of each (alarm id, category id) whose alarm is still configured.

    `store` is the viewer's scoped store: its roll-ups are those of the members they see.
    """
    by_id = {r.id: r for r in rules}
    wanted = [(a, c) for a, c in keys if a in by_id]
    if not wanted:
        return {}
    depth = max(by_id[a].flapping_window + by_id[a].confirm for a, _ in wanted)
    history = seen_history(store, store.runs(limit=depth), {c for _, c in wanted})
    return {(a, c): replay(by_id[a], history[c]) for a, c in wanted}


class Replays:
    """Replayed states remembered per viewer's groups and newest run, safe across threads."""

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._items: dict[Hashable, Mapping[tuple[str, str], Replayed]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        store: ScopedStore,
        groups: Hashable,
        rules: Iterable[AlarmRule],
        keys: Iterable[tuple[str, str]],
    ) -> Mapping[tuple[str, str], Replayed]:
        """`replayed_states` for the viewer of the scoped `store`, whose groups are `groups`."""
        wanted = frozenset(keys)
        latest = store.latest_run()
        key = (groups, latest.id if latest is not None else None, wanted)
        with self._lock:
            found = self._items.get(key)
        if found is not None:
            return found
        found = replayed_states(store, rules, wanted)
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items.clear()  # distinct group sets are few: this is only a bound
            self._items[key] = found
        return found
