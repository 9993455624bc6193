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
from ..status import Status
from ..storage.changes import latest_changes
from .ack import active, clear_recovered
from .changes import change_statuses
from .detect import Level, State, level_of, observe
from .downtime import Calendar, calendar_of
from .gocdb import FeedReader
from .message import About, compose
from .notify import Channel, make_channel
from .outbox import Backoff, Delivered, Outbox, retries_of
from .records import Downtime, Planned, Subject
from .rules import ACKNOWLEDGED, DOWNTIME, Outgoing, decide, detection, watched
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
        # a module shown as no data because of its source is judged on its own status, as
        # before sources were judged, until alarms on sources say such an outage once
        own = {m: status for source in outcome.sources for m, status in source.greyed.items()}
        self.modules = {r.module_id: own.get(r.module_id, r.status) for r in outcome.records}
        self.messages = {r.module_id: r.message for r in outcome.records}
        rules = service.site.alarms.alarms
        self.latest = latest_changes(conn) if any(r.change for r in rules) else {}
        self.notes: dict[tuple[str, str], str] = {}

    def run(self) -> list[Planned]:
        now = self.service.clock()
        changed: dict[StateKey, State] = {}
        planned: list[Planned] = []
        for rule in self.service.site.alarms.alarms:
            modules, categories = self._watched_by(rule)
            for subject, status in watched(rule, modules, categories):
                step = self._step(rule, subject, status)
                if step is not None:
                    changed[(rule.id, subject)], outgoing = step
                    planned += self._plan(rule, subject, status, outgoing)
        self.states.update(changed)
        clear_recovered(self.conn, self._recovered(), self.outcome.started_at)
        save_states(self.conn, changed, now)
        add_notifications(self.conn, planned, now)
        return planned

    def _watched_by(self, rule: AlarmRule) -> tuple[Mapping[str, Status], Mapping[str, Status]]:
        """The statuses an alarm judges: the modules' and categories', or a change alarm's."""
        if rule.change is None:
            return self.modules, self.outcome.own_categories or self.outcome.categories
        statuses, notes = change_statuses(rule, self.modules, self.latest, self.outcome.started_at)
        self.notes.update({(rule.id, m): note for m, note in notes.items()})
        return statuses, {}

    def _step(
        self, rule: AlarmRule, subject: Subject, status: Status
    ) -> tuple[State, list[Outgoing]] | None:
        old = self.states.get((rule.id, subject), State())
        if old.last_run_id >= self.outcome.run_id:
            return None  # seen already: a repeated observer call, or another process
        new = observe(old, level_of(status), self.outcome.run_id, detection(rule))
        t = self.outcome.started_at
        return decide(new, new.confirmed is not old.confirmed, rule, t, self._quiet(subject))

    def _quiet(self, subject: Subject) -> str:
        if self.service.calendar.covering(subject.id, self.outcome.started_at, self.windows):
            return DOWNTIME
        return ACKNOWLEDGED if subject in self.acked else ""

    def _recovered(self) -> list[Subject]:
        """Acknowledged subjects whose every alarm is back to ok."""
        return [
            s
            for s in self.acked
            if all(st.confirmed is Level.OK for (_, sub), st in self.states.items() if sub == s)
        ]

    def _plan(
        self, rule: AlarmRule, subject: Subject, status: Status, outgoing: list[Outgoing]
    ) -> list[Planned]:
        site, outcome = self.service.site, self.outcome
        planned = []
        for out in outgoing:
            about = self._about(subject, status)
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

    def _about(self, subject: Subject, status: Status) -> About:
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
                status.value,
            )
        category = site.category(subject.id)
        members = {m.id for m in site.modules_of(subject.id)}
        troubled = sorted(m for m, s in self.modules.items() if m in members and s in _TROUBLED)
        note = f"modules not happy: {', '.join(troubled)}" if troubled else ""
        title = category.title if category else subject.id
        return About(subject, title, subject.id, "", note, status.value)
