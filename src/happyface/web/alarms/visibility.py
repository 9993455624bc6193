"""What of the alarms one viewer may see: the alarm side of the scoped site.

A module's alarm state, acknowledgements, notifications and downtimes belong to the module:
whoever sees it in full sees them, anyone else as little as of a module that does not exist.

A category's alarm watches the category's stored roll-up, which every member feeds, hidden
ones included. So its stored state and its notifications (they name the troubled members) are
shown only to viewers who see every member; others get the state replayed from what they see
(`alarmreplay`), like the pages roll the category up from the members they see. An
acknowledgement of the category is shown to them only while the category looks troubled to
them: on a category that looks happy it could only be about a member they cannot see.

A downtime is seen by whoever sees one of the modules or categories it names, and managed only
by someone who sees every one of them: cancelling it would also end the silence of the others.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...alarms import Downtime, Subject
from ...config.alarms import matches
from ...config.site import Site
from ..access import Sight
from ..access.policy import Policy


class AlarmSight:
    """One viewer's sight of a site's alarm subjects, worked out once per request."""

    def __init__(self, site: Site, policy: Policy) -> None:
        self.policy = policy
        self.modules = [m.id for m in site.modules if self._full("module", m.id)]
        self.categories = [c.id for c in site.categories if self._full("category", c.id)]
        seen = set(self.modules)
        #: categories seen in full with every member
        self.whole = {c for c in self.categories if all(m.id in seen for m in site.modules_of(c))}
        #: every module and category id the site has, seen or not
        self.existing = [m.id for m in site.modules] + [c.id for c in site.categories]
        self.everything = len(self.modules) + len(self.categories) == len(self.existing)

    def _full(self, kind: str, ident: str) -> bool:
        sight = self.policy.module(ident) if kind == "module" else self.policy.category(ident)
        return sight is Sight.FULL

    @property
    def ids(self) -> list[str]:
        """The module and category ids the viewer sees in full."""
        return self.modules + self.categories

    def sees(self, kind: str, ident: str) -> bool:
        """Whether the viewer sees a module or category in full (also one no longer configured).

        A source's alarm names every module reading it: it is for those who see everything.
        """
        if kind == "source":
            return self.everything
        return self._full(kind, ident)

    def sees_alarm_of(self, subject: Subject) -> bool:
        """Whether the stored alarm state and the notifications of `subject` are for this viewer."""
        if subject.kind == "category" and subject.id in self.existing:
            return subject.id in self.whole
        return self.sees(subject.kind, subject.id)

    def sees_acknowledgement(self, subject: Subject, troubled: bool) -> bool:
        """Whether an acknowledgement of `subject` is shown, `troubled` as the viewer sees it."""
        if subject.kind == "module" or self.sees_alarm_of(subject):
            return self.sees(subject.kind, subject.id)
        return troubled and self.sees(subject.kind, subject.id)

    def named(self, patterns: Iterable[str]) -> list[str]:
        """The ids the viewer sees that ids or patterns name."""
        names = list(patterns)
        return [i for i in self.ids if matches(names, i)]

    def sees_downtime(self, window: Downtime) -> bool:
        """A downtime is listed where it names something the viewer sees.

        One that names nothing existing (its modules are gone) is for those who see everything.
        """
        if self.named(window.subjects):
            return True
        return self.everything and not any(matches(window.subjects, i) for i in self.existing)

    def may_cancel(self, window: Downtime) -> bool:
        """Whether the viewer sees every module and category the downtime silences."""
        seen = set(self.ids)
        names = [i for i in self.existing if matches(window.subjects, i)]
        return self.sees_downtime(window) and all(i in seen for i in names)
