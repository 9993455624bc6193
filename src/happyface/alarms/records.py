"""The records alarms store and give back: subjects, planned and logged notifications, acks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SubjectKind = Literal["module", "category", "source"]
NotificationState = Literal["pending", "sent", "failed", "suppressed"]


@dataclass(frozen=True, order=True)
class Subject:
    """What an alarm watches: one module, one category or one source (by its key)."""

    kind: SubjectKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True)
class Message:
    """What a channel delivers: a title, a plain-text body and the link to the view."""

    title: str
    body: str
    link: str


@dataclass(frozen=True)
class Planned:
    """A notification decided by the detector, to be written to the outbox."""

    alarm_id: str
    subject: Subject
    event: str
    channel_id: str
    run_id: int
    run_time: datetime
    message: Message
    key_suffix: str = ""  # tells apart two escalation stages on one channel in one run
    suppressed: str = ""  # why it is logged but not sent: "downtime", "acknowledged"

    @property
    def dedupe_key(self) -> str:
        """Equal for the same notification planned twice, e.g. after a restart."""
        parts = (
            self.alarm_id,
            self.subject.kind,
            self.subject.id,
            str(self.run_id),
            self.event + self.key_suffix,
            self.channel_id,
        )
        return "|".join(parts)


@dataclass(frozen=True)
class Notification:
    """One logged notification: what was (or will be, or could not be) sent, and to where."""

    id: int
    alarm_id: str
    subject: Subject
    event: str
    channel_id: str
    run_id: int
    run_time: datetime
    created_at: datetime
    message: Message
    state: NotificationState
    reason: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True)
class Acknowledgement:
    """Somebody took care of a subject's problem: its notifications stop until it recovers."""

    id: int
    subject: Subject
    user: str
    comment: str
    created_at: datetime
    expires_at: datetime | None
    cleared_at: datetime | None
    cleared_why: str

    def active(self, t: datetime) -> bool:
        """True when it silences notifications at `t`."""
        if t < self.created_at:
            return False
        if self.cleared_at is not None and self.cleared_at <= t:
            return False
        return self.expires_at is None or t < self.expires_at


@dataclass(frozen=True)
class Downtime:
    """A window in which a subject's alarms are silent, from the config, a feed or by hand."""

    source: str  # the [[downtime]] id, or "manual"
    start: datetime
    end: datetime
    subjects: tuple[str, ...]  # module or category ids or glob patterns
    description: str = ""
    severity: str = ""
    external_id: str = ""
    hosts: tuple[str, ...] = ()
    created_by: str = ""
    id: int = 0  # the stored row's id; 0 for a window of the configuration

    def covers(self, t: datetime) -> bool:
        return self.start <= t < self.end
