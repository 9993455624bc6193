"""The alarm service: after each stored run, detect, write the outbox, and deliver."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from ..config.alarms import AlarmRule
from ..offloop import off_loop
from ..quality import Quality
from ..status import Status
from ..storage.changes import latest_changes
from .ack import active, clear_recovered
from .changes import change_statuses
from .coverage import coverage, rolled_up, watches_module
from .detect import Level, State, level_of, observe
from .downtime import Calendar, calendar_of
from .gocdb import FeedReader
from .message import About, compose
from .notify import Channel, make_channel
from .outbox import Backoff, Delivered, Outbox, retries_of
from .records import Downtime, Planned, Subject
from .rules import ACKNOWLEDGED, DOWNTIME, Outgoing, decide, detection, watched, watched_sources
from .store import AlarmStore, StateKey, add_notifications, load_states, save_states

if TYPE_CHECKING:
    from ..acquisition.fetch import Fetcher
    from ..acquisition.run import RunOutcome
    from ..config.site import Site
    from ..storage import Store

log = logging.getLogger("happyface.alarms")

_TROUBLED = (Status.UNHAPPY, Status.ERROR)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AlarmService:
    """One site's alarms: call it with each run's outcome (it is a Runner observer)."""

    site: Site
    store: AlarmStore
    outbox: Outbox
    calendar: Calendar
    feeds: FeedReader | None = None
    clock: Callable[[], datetime] = _now

    @classmethod
    def build(
        cls,
        site: Site,
        store: Store,
        fetcher: Fetcher | None = None,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], datetime] = _now,
        backoff: Backoff | None = None,
    ) -> AlarmService:
        """Wire the parts for a site; `channels` replaces the configured ones (tests)."""
        config = site.alarms
        alarm_store = AlarmStore(store)
        if channels is None:
            channels = {c.id: make_channel(c) for c in config.channels}
        # a backoff given here (tests) replaces every channel's own
        backoffs = {} if backoff else {c.id: retries_of(c) for c in config.channels}
        outbox = Outbox(alarm_store, channels, backoff or Backoff(), backoffs)
        calendar = calendar_of(site, alarm_store)
        feeds = [d for d in config.downtimes if d.feed is not None]
        reader = (
            FeedReader(feeds, alarm_store, fetcher, site.settings.fetch_timeout)
            if feeds and fetcher is not None
            else None
        )
        return cls(site, alarm_store, outbox, calendar, reader, clock)

    async def __call__(self, outcome: RunOutcome) -> None:
        """Observe one stored run: refresh downtime feeds, detect, deliver."""
        if self.feeds is not None:
            await self.feeds.refresh(self.clock())
        # one transaction over every alarm: in a thread, so the pages stay responsive
        await off_loop(self.detect, outcome)
        await self.tick()

    async def tick(self) -> Delivered:
        """Deliver whatever is due in the outbox (retries included)."""
        return await self.outbox.deliver(self.clock())

    def detect(self, outcome: RunOutcome) -> list[Planned]:
        """Advance every alarm's state by one run and write the resulting notifications.

        States and notifications are written in one transaction, and a run an alarm has
        already seen is skipped, so a restart or a second process never notifies twice.
        """
        t = outcome.started_at
        windows = self.calendar.between(t, t + timedelta(microseconds=1))
        with self.store.writing(f"detecting alarms of run {outcome.run_id}") as conn:
            planned = _Pass(self, outcome, windows, conn).run()
        return planned


class _Pass:
    """One run's detection inside one transaction."""

    def __init__(
        self, service: AlarmService, outcome: RunOutcome, windows: list[Downtime], conn: Connection
    ) -> None:
        self.service = service
        self.outcome = outcome
        self.windows = windows
        self.conn = conn
        self.states = load_states(conn)
        self.acked = {a.subject for a in active(conn, outcome.started_at)}
        site = service.site
        # each module's own status, before a source greyed it
        greyed = {m: status for source in outcome.sources for m, status in source.greyed.items()}
        own = {r.module_id: greyed.get(r.module_id, r.status) for r in outcome.records}
        self.coverage = coverage(site.alarms.alarms, outcome.sources, own)
        self.modules = self.coverage.statuses(own)
        self.categories = (
            (outcome.own_categories or outcome.categories)
            if self.coverage.empty
            else rolled_up(site, self.modules)
        )
        self.sources = {s.key: s for s in outcome.sources}
        self.messages = {r.module_id: r.message for r in outcome.records}
        rules = service.site.alarms.alarms
        self.latest = latest_changes(conn) if any(r.change for r in rules) else {}
        self.notes: dict[tuple[str, str], str] = {}

    def run(self) -> list[Planned]:
        now = self.service.clock()
        changed: dict[StateKey, State] = {}
        planned: list[Planned] = []
        for rule in self.service.site.alarms.alarms:
            for subject, level in self._watched(rule):
                step = self._step(rule, subject, level)
                if step is not None:
                    changed[(rule.id, subject)], outgoing = step
                    planned += self._plan(rule, subject, level, outgoing)
        self.states.update(changed)
        clear_recovered(self.conn, self._recovered(), self.outcome.started_at)
        save_states(self.conn, changed, now)
        add_notifications(self.conn, planned, now)
        return planned

    def _watched(self, rule: AlarmRule) -> list[tuple[Subject, Level | None]]:
        """The subjects an alarm watches in this run, with the level each shows."""
        if rule.sources:
            qualities = {key: report.state for key, report in self.sources.items()}
            return [(s, level) for s, level in watched_sources(rule, qualities)]
        modules, categories = self._watched_by(rule)
        found = [(s, level_of(status)) for s, status in watched(rule, modules, categories)]
        return found if rule.change is not None else found + self._outages(rule)

    def _watched_by(self, rule: AlarmRule) -> tuple[Mapping[str, Status], Mapping[str, Status]]:
        """The statuses an alarm judges: the modules' and categories', or a change alarm's."""
        if rule.change is None:
            return self.modules, self.categories
        statuses, notes = change_statuses(rule, self.modules, self.latest, self.outcome.started_at)
        self.notes.update({(rule.id, m): note for m, note in notes.items()})
        return statuses, {}

    def _outages(self, rule: AlarmRule) -> list[tuple[Subject, Level | None]]:
        """The sources a module alarm tells once instead of each module they left without data.

        One told before is watched until the source is fresh again, so its recovery is told
        (while a source alarm covers it instead, it is no information); a source the alarm has
        never been told about costs no state.
        """
        category_of = self.service.calendar.category_of
        found: list[tuple[Subject, Level | None]] = []
        for key, report in self.sources.items():
            subject = Subject("source", key)
            outage = self.coverage.outages.get(key)
            if outage is not None:
                if any(watches_module(rule, m, category_of.get(m, "")) for m in outage.modules):
                    found.append((subject, Level.ERROR))
            elif _unsettled(self.states.get((rule.id, subject))):
                fresh = report.state is Quality.FRESH
                found.append((subject, Level.OK if fresh else None))
        return found

    def _step(
        self, rule: AlarmRule, subject: Subject, level: Level | None
    ) -> tuple[State, list[Outgoing]] | None:
        old = self.states.get((rule.id, subject), State())
        if old.last_run_id >= self.outcome.run_id:
            return None  # seen already: a repeated observer call, or another process
        t = self.outcome.started_at
        new = observe(old, level, self.outcome.run_id, detection(rule), t)
        return decide(new, new.confirmed is not old.confirmed, rule, t, self._quiet(subject))

    def _quiet(self, subject: Subject) -> str:
        if self._in_downtime(subject):
            return DOWNTIME
        return ACKNOWLEDGED if subject in self.acked else ""

    def _in_downtime(self, subject: Subject) -> bool:
        """A module or category in a downtime; a source whose every module is in one."""
        calendar, t = self.service.calendar, self.outcome.started_at
        if subject.kind != "source":
            return bool(calendar.covering(subject.id, t, self.windows))
        report = self.sources.get(subject.id)
        modules = report.modules if report is not None else ()
        return bool(modules) and all(calendar.covering(m, t, self.windows) for m in modules)

    def _recovered(self) -> list[Subject]:
        """Acknowledged subjects whose every alarm is back to ok."""
        return [
            s
            for s in self.acked
            if all(st.confirmed is Level.OK for (_, sub), st in self.states.items() if sub == s)
        ]

    def _plan(
        self, rule: AlarmRule, subject: Subject, level: Level | None, outgoing: list[Outgoing]
    ) -> list[Planned]:
        site, outcome = self.service.site, self.outcome
        planned = []
        for out in outgoing:
            about = self._about(rule, subject, level)
            note = self.notes.get((rule.id, subject.id))
            if note:
                about = replace(about, status_message=note)
            message = compose(
                site.settings.title,
                site.settings.web.base_url,
                about,
                out.event,
                rule.id,
                outcome.started_at,
            )
            planned += [
                Planned(
                    rule.id,
                    subject,
                    out.event.value,
                    channel,
                    outcome.run_id,
                    outcome.started_at,
                    message,
                    out.key_suffix,
                    out.suppressed,
                )
                for channel in out.channels
            ]
        return planned

    def _about(self, rule: AlarmRule, subject: Subject, level: Level | None) -> About:
        shown = level.value if level is not None else Status.NOINFO.value
        if subject.kind == "source":
            return self._about_source(rule, subject, shown)
        site = self.service.site
        if subject.kind == "module":
            instance = site.module(subject.id)
            config = instance.config if instance else None
            return About(
                subject,
                config.title if config else subject.id,
                config.category if config else "",
                config.instruction if config else "",
                self.messages.get(subject.id, ""),
                shown,
            )
        category = site.category(subject.id)
        members = {m.id for m in site.modules_of(subject.id)}
        troubled = sorted(m for m, s in self.modules.items() if m in members and s in _TROUBLED)
        note = f"modules not happy: {', '.join(troubled)}" if troubled else ""
        title = category.title if category else subject.id
        return About(subject, title, subject.id, "", note, shown)

    def _about_source(self, rule: AlarmRule, subject: Subject, shown: str) -> About:
        """A source: its URL, its state and message, and the modules it leaves without data."""
        report = self.sources.get(subject.id)
        if report is None:
            return About(subject, subject.id, "", "", "", shown)
        outage = self.coverage.outages.get(subject.id)
        if rule.sources:
            modules, said = report.modules, "read by"
        else:
            modules, said = (outage.modules if outage else ()), "no data for"
        note = f"{report.state.word}" + (f": {report.message}" if report.message else "")
        if modules:
            note += f"; {said} {len(modules)} module(s): {', '.join(modules)}"
        return About(subject, report.url, "", "", note, shown)


def _unsettled(state: State | None) -> bool:
    """Whether a state still has something to confirm or to tell."""
    if state is None:
        return False
    return (
        state.confirmed is not Level.OK
        or state.candidate is not None
        or state.notified is not Level.OK
    )
