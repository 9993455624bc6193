"""How alarms on modules and alarms on sources share a source's trouble: one outage, one notice.

A source in trouble (stale, unreachable, unparseable, format changed) leaves its modules
without trustworthy data. Who tells about it:

- a source alarm that reports the source's state *covers* it: the modules it left without data
  (greyed, or the only reader that could not fetch or read it) are no information for module
  and category alarms, which neither confirms nor breaks their state;
- with no such source alarm, the greyed modules whose own status is an error would each raise
  an error; instead each module alarm watching any of them sees the source itself, once, as an
  error that names the source and those modules. Greyed modules with a status of their own
  (stale data rated happy or unhappy) keep it, as before sources were judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..config.alarms import AlarmRule, matches
from ..quality import Quality, SourceReport
from ..status import Rated, Status, category_status
from .detect import level_of_quality

if TYPE_CHECKING:
    from ..config.site import Site


@dataclass(frozen=True)
class SourceOutage:
    """A troubled source whose greyed modules no source alarm covers: told once per alarm."""

    report: SourceReport
    modules: tuple[str, ...]  # the greyed modules whose own status is an error


@dataclass(frozen=True)
class Coverage:
    """What a run's sources mean for module and category alarms."""

    #: modules that module alarms see as no information in this run
    silenced: frozenset[str] = frozenset()
    #: troubled sources told through the module alarms, by key
    outages: Mapping[str, SourceOutage] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.silenced and not self.outages

    def statuses(self, own: Mapping[str, Status]) -> dict[str, Status]:
        """The statuses module alarms judge: the silenced and grouped modules as no data."""
        grouped = {m for outage in self.outages.values() for m in outage.modules}
        hidden = self.silenced | grouped
        return {m: Status.NOINFO if m in hidden else s for m, s in own.items()}


def coverage(
    rules: Iterable[AlarmRule],
    reports: Sequence[SourceReport],
    own: Mapping[str, Status],
) -> Coverage:
    """Which modules source alarms cover, and which outages module alarms tell once.

    `own` is each module's own status, before a source greyed it.
    """
    source_rules = [r for r in rules if r.sources]
    silenced: set[str] = set()
    outages: dict[str, SourceOutage] = {}
    for report in reports:
        if report.state is Quality.FRESH:
            continue
        left = _left_without_data(report, own)
        if covered(source_rules, report):
            silenced.update(left)
            continue
        failed = tuple(m for m in report.modules if report.greyed.get(m) is Status.ERROR)
        if failed:
            outages[report.key] = SourceOutage(report, failed)
    return Coverage(frozenset(silenced), outages)


def covered(source_rules: Iterable[AlarmRule], report: SourceReport) -> bool:
    """Whether an alarm on sources watches this source and reports its present state."""
    event = level_of_quality(report.state).value
    return any(matches(r.sources, report.key) and event in r.reported for r in source_rules)


def _left_without_data(report: SourceReport, own: Mapping[str, Status]) -> list[str]:
    """The greyed modules, and a sole reader that could not fetch or read the source."""
    return [m for m in report.modules if m in report.greyed or own.get(m) is Status.ERROR]


def watches_module(rule: AlarmRule, module_id: str, category_id: str) -> bool:
    """Whether a module or category alarm watches a module, itself or through its category."""
    return matches(rule.modules, module_id) or matches(rule.categories, category_id)


def rolled_up(site: Site, statuses: Mapping[str, Status]) -> dict[str, Status]:
    """Each category's roll-up of the statuses alarms judge, as the run rolls categories up."""
    rolled = {}
    for category in site.categories:
        members = [
            Rated(statuses[m.id], m.config.kind, m.config.weight)
            for m in site.modules_of(category.id)
            if m.id in statuses
        ]
        rolled[category.id] = category_status(members, category.algorithm)
    return rolled
