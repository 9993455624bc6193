"""The typed view data of alarms: marks on boxes and categories, the alarm and downtime pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..viewdata import SiteRef


@dataclass(frozen=True)
class SubjectRef:
    """What an alarm is about: a module or a category."""

    kind: str
    id: str


@dataclass(frozen=True)
class AckView:
    """One acknowledgement, with the withdraw URL when the viewer may withdraw it."""

    id: int
    subject: SubjectRef
    user: str
    comment: str
    created_at: datetime
    expires_at: datetime | None
    withdraw_url: str


@dataclass(frozen=True)
class DowntimeBadge:
    """One downtime as a badge shows it: why, from where, and until when."""

    id: int
    source: str
    description: str
    start: datetime
    end: datetime
    severity: str


@dataclass(frozen=True)
class AlarmMark:
    """The acknowledgements and downtimes of one module or category, and its forms."""

    subject: SubjectRef
    acknowledged: bool
    acks: list[AckView]
    downtime: bool
    downtimes: list[DowntimeBadge]
    can_acknowledge: bool
    acknowledge_url: str
    back: str


@dataclass(frozen=True)
class AlarmLinks:
    alarms: str
    downtimes: str


@dataclass(frozen=True)
class AlarmFrame:
    """What both alarm pages show around their content."""

    site: SiteRef
    title: str
    links: AlarmLinks


@dataclass(frozen=True)
class AlarmFilter:
    subject: str
    state: str
    states: list[str]


@dataclass(frozen=True)
class StateRow:
    """The detector state of one alarm and subject."""

    alarm: str
    subject: SubjectRef
    state: str
    bad: bool
    since: datetime | None
    stage: int
    url: str


@dataclass(frozen=True)
class LogEntry:
    """One line of the notification log."""

    id: int
    time: datetime
    alarm: str
    subject: SubjectRef
    transition: str
    channel: str
    recipients: str
    state: str
    attempts: int
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str
    title: str


@dataclass(frozen=True)
class LogPages:
    page: int
    total: int
    capped: bool
    previous: str
    next: str


@dataclass(frozen=True)
class AlarmsView(AlarmFrame):
    """The alarm page: states and one page of the notification log."""

    filter: AlarmFilter
    states: list[StateRow]
    log: list[LogEntry]
    pages: LogPages
    json: str


@dataclass(frozen=True)
class DowntimeEntry(DowntimeBadge):
    """One downtime on the downtime page, with what it covers that the viewer sees."""

    origin: str
    current: bool
    covers: list[str]
    created_by: str
    cancel_url: str


@dataclass(frozen=True)
class DowntimesView(AlarmFrame):
    """The downtime page: in force now, and starting within `days`."""

    now: datetime
    days: int
    current: list[DowntimeEntry]
    upcoming: list[DowntimeEntry]
    can_schedule: bool
    schedule_url: str
    known: list[str]
    json: str
