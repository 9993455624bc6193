"""Acknowledgements and downtimes on the dashboard pages: the marks on boxes, and their version.

Pages are cached per run, but who acknowledged what and which downtime is on change between
runs. `AlarmMarks.version` names that state (what is in force now, and a stamp of the stored
rows), so the page cache key changes as soon as an acknowledgement or downtime does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from ...alarms import Acknowledgement, Downtime, Subject, active_acknowledgements, downtimes
from ...alarms.store import alarm_store
from ...config.alarms import matches
from ...dn import DN, DnError
from ...quality import Quality
from ...storage.alarm_tables import alarm_acknowledgements, alarm_downtimes
from ..access import AccessControl, Viewer
from ..access.control import MAX_SCOPES
from ..cache import Memo
from ..pages.box_data import ModuleBox, OverviewTroubled, Troubled
from ..pages.page_data import CategoryCard, CategoryHead, CategoryView, DashboardView, ModuleView
from ..pages.source_data import SourceView
from ..pages.timemachine import Moment
from ..urls import Urls
from .alarm_data import AckView, AlarmMark, DowntimeBadge, SubjectRef
from .replay import Replays
from .visibility import AlarmSight

if TYPE_CHECKING:
    from ...config.site import Site
    from ...storage import Store

#: one microsecond: the shortest window that asks "what is in force at t"
INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Permissions:
    """What a viewer may do about alarms, from `[site.web]` acknowledge and downtime groups."""

    acknowledge: bool = False
    admin: bool = False
    identified: bool = False
    name: str = ""

    def may_withdraw(self, ack: Acknowledgement) -> bool:
        """Authors withdraw their own acknowledgements; admins anybody's."""
        return self.admin or (self.acknowledge and ack.user == self.name)


def permissions_of(site: Site, viewer: Viewer) -> Permissions:
    """The alarm permissions of a viewer; none without a verified identity."""
    if viewer.identity is None:
        return Permissions()
    web = site.settings.web
    admin = bool(viewer.groups.intersection(web.downtime_groups))
    may_ack = admin or bool(viewer.groups.intersection(web.acknowledge_groups))
    return Permissions(may_ack, admin, True, viewer.name)


def display_name(user: str, identified: bool) -> str:
    """Who acknowledged, as shown: the whole DN to a logged-in viewer, else its common name."""
    if identified:
        return user
    try:
        name = DN.parse(user).common_name()
    except DnError:
        name = None
    return name or "a shifter"


def ack_view(ack: Acknowledgement, urls: Urls, perm: Permissions) -> AckView:
    """One acknowledgement as the pages show it, with the withdraw URL when allowed."""
    return AckView(
        id=ack.id,
        subject=SubjectRef(ack.subject.kind, ack.subject.id),
        user=display_name(ack.user, perm.identified),
        comment=ack.comment,
        created_at=ack.created_at,
        expires_at=ack.expires_at,
        withdraw_url=urls.withdraw(ack.id) if perm.may_withdraw(ack) else "",
    )


def downtime_view(window: Downtime) -> DowntimeBadge:
    """One downtime as a badge shows it: why, from where, and until when."""
    return DowntimeBadge(
        id=window.id,
        source=window.source,
        description=window.description or f"downtime {window.source}",
        start=window.start,
        end=window.end,
        severity=window.severity,
    )


@dataclass(frozen=True)
class Marks:
    """The acknowledgements and downtimes in force at one moment, for one viewer."""

    acks: list[Acknowledgement]
    windows: list[Downtime]
    urls: Urls
    perm: Permissions
    live: bool
    back: str
    sight: AlarmSight

    def of_source(self, key: str, troubled: bool) -> AlarmMark:
        """The mark of a source whose page the viewer sees: its acknowledgements and form.

        A source has no downtimes of its own: they are set on the modules reading it.
        """
        subject = Subject("source", key)
        _looking = Permissions(identified=self.perm.identified)
        acks = [a for a in self.acks if a.subject == subject]
        return AlarmMark(
            subject=SubjectRef("source", key),
            acknowledged=bool(acks),
            acks=[ack_view(a, self.urls, self.perm if self.live else _looking) for a in acks],
            downtime=False,
            downtimes=[],
            can_acknowledge=self.perm.acknowledge and self.live and troubled,
            acknowledge_url=self.urls.acknowledge(),
            back=self.back,
        )

    def of(
        self, kind: str, ident: str, category: str = "", troubled: bool = True
    ) -> AlarmMark | None:
        """The mark of one module (in `category`) or category: its acks, downtimes and forms.

        None for what the viewer may not see in full: a comment can tell as much as a message.
        `troubled` is how the viewer sees it: a category's acknowledgement may be about a
        member they cannot see (see alarmsight).
        """
        if not self.sight.sees(kind, ident):
            return None
        _looking = Permissions(identified=self.perm.identified)
        names = [ident, category] if category else [ident]
        covering = [w for w in self.windows if any(matches(w.subjects, n) for n in names)]
        acks = [
            a
            for a in self.acks
            if a.subject == Subject("module" if kind == "module" else "category", ident)
            and self.sight.sees_acknowledgement(a.subject, troubled)
        ]
        return AlarmMark(
            subject=SubjectRef(kind, ident),
            acknowledged=bool(acks),
            # no buttons on a past page: it shows what was, and may sit in a shared cache
            acks=[ack_view(a, self.urls, self.perm if self.live else _looking) for a in acks],
            downtime=bool(covering),
            downtimes=[downtime_view(w) for w in covering],
            # acknowledging is for a problem shown now, not for the past or a happy module
            can_acknowledge=self.perm.acknowledge and self.live and troubled,
            acknowledge_url=self.urls.acknowledge(),
            back=self.back,
        )


class AlarmMarks:
    """Reads acknowledgements and downtimes for the pages, and knows when they changed."""

    def __init__(
        self, site: Site, store: Store, access: AccessControl, clock: Callable[[], datetime]
    ) -> None:
        self.site = site
        self.store = store
        self.access = access
        self.clock = clock
        self._version: Memo[Hashable] = Memo(lambda: self.state_at(self.clock()), ttl=1.0)
        #: category alarm states replayed for viewers who do not see every member
        self.replays = Replays()
        #: each group set's sight: it looks at every module, too much to work out per page
        self._sights: dict[frozenset[str], AlarmSight] = {}

    def state_at(self, t: datetime) -> Hashable:
        """What the pages show of alarms at `t`, plus a stamp of every stored change."""
        acks = tuple((a.id, a.expires_at) for a in active_acknowledgements(self.store, t))
        current = downtimes(self.site, self.store, t, t + INSTANT)
        windows = tuple((w.source, w.id, w.start, w.end) for w in current)
        return acks, windows, alarm_store(self.store).read("stamping alarm state", _stamp)

    async def version(self) -> Hashable:
        """The alarm state's version, from memory when asked within the last second."""
        fresh, value = self._version.peek()
        if fresh:
            return value
        return await run_in_threadpool(self._version.get)

    def changed(self) -> None:
        """Forget the remembered version: this process has just changed the state."""
        self._version.reset()

    async def cache_key(self, viewer: Viewer) -> Hashable:
        """What of the alarm state a cached page depends on, for this viewer."""
        perm = permissions_of(self.site, viewer)
        # withdraw buttons depend on who made the acknowledgement: per person for those who act
        who = perm.name if perm.acknowledge else ""
        return await self.version(), who

    def marks(self, moment: Moment, now: datetime, viewer: Viewer, back: str) -> Marks:
        """The marks at the shown moment: now on the live view, else the run's time."""
        t = now if moment.live else moment.run.started_at
        acks = active_acknowledgements(self.store, t)
        windows = downtimes(self.site, self.store, t, t + INSTANT)
        perm = permissions_of(self.site, viewer)
        urls = Urls(self.site.settings.web.base_url)
        return Marks(acks, windows, urls, perm, moment.live, back, self.sight_of(viewer))

    def sight_of(self, viewer: Viewer) -> AlarmSight:
        """What of the alarms the viewer may see (the same for everyone with their groups)."""
        found = self._sights.get(viewer.key)
        if found is None:
            found = AlarmSight(self.site, self.access.policy(viewer))
            if len(self._sights) >= MAX_SCOPES:
                self._sights.clear()  # group sets are few: this is only a bound
            self._sights[viewer.key] = found
        return found


def _stamp(conn: sa.Connection) -> tuple[Any, ...]:
    """Counts and newest changes of the stored acknowledgements and downtimes."""
    a, d = alarm_acknowledgements.c, alarm_downtimes.c
    acks = conn.execute(sa.select(sa.func.count(), sa.func.max(a.id), sa.func.max(a.cleared_at)))
    downs = conn.execute(sa.select(sa.func.count(), sa.func.max(d.id), sa.func.max(d.imported_at)))
    return (*acks.one(), *downs.one())


def decorate(view: DashboardView, marks: Marks) -> DashboardView:
    """The page's view data with the alarm marks: on each box, the troubled and the category."""
    if isinstance(view, SourceView):
        troubled = view.source.state != Quality.FRESH.value
        return replace(view, alarm=marks.of_source(view.source.key, troubled))
    if isinstance(view, ModuleView):
        return replace(view, module=_marked_box(view.module, marks))
    if isinstance(view, CategoryView):
        return replace(
            view,
            category=_marked_category(view.category, marks),
            modules=[_marked_box(box, marks) for box in view.modules],
            troubled=[_marked_brief(brief, marks) for brief in view.troubled],
        )
    return replace(
        view,
        categories=[_marked_category(card, marks) for card in view.categories],
        troubled=[_marked_brief(brief, marks) for brief in view.troubled],
    )


def _marked_box(box: ModuleBox, marks: Marks) -> ModuleBox:
    return replace(box, alarm=marks.of("module", box.id, box.category, box.troubled))


_Brief = TypeVar("_Brief", Troubled, OverviewTroubled)
_Category = TypeVar("_Category", CategoryCard, CategoryHead)


def _marked_brief(brief: _Brief, marks: Marks) -> _Brief:
    return replace(brief, alarm=marks.of("module", brief.id, brief.category))


def _marked_category(category: _Category, marks: Marks) -> _Category:
    mark = marks.of("category", category.id, troubled=category.status.value != "happy")
    return replace(category, alarm=mark)
