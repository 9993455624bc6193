"""What the web and the CLI use: acknowledgements, downtimes, the notification log, states."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..storage import Store
from . import ack
from .detect import State
from .downtime import Calendar, add_manual, delete_manual
from .records import Acknowledgement, Downtime, Notification, NotificationState, Subject
from .store import AlarmStore, StateKey, alarm_store

if TYPE_CHECKING:
    from ..site import Site

AnyStore = Store | AlarmStore


def acknowledge(
    store: AnyStore,
    subject: Subject,
    user: str,
    comment: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> Acknowledgement:
    """Record that an authorised `user` took care of `subject`'s problem (see ack.acknowledge)."""
    return ack.acknowledge(alarm_store(store), subject, user, comment, now, expires_at)


def active_acknowledgements(
    store: AnyStore, t: datetime, subject: Subject | None = None
) -> list[Acknowledgement]:
    """The acknowledgements in force at `t`, for one subject or all, newest first."""
    return ack.active_acknowledgements(alarm_store(store), t, subject)


def acknowledgement_history(
    store: AnyStore, subject: Subject | None = None, limit: int = 200
) -> list[Acknowledgement]:
    """Every acknowledgement, also ended ones, newest first."""
    return ack.acknowledgements(alarm_store(store), subject, limit)


def withdraw_acknowledgement(store: AnyStore, ack_id: int, user: str, now: datetime) -> bool:
    """End an acknowledgement early; False if there is no such active one."""
    return ack.withdraw(alarm_store(store), ack_id, user, now)


def _calendar(site: Site, store: AnyStore) -> Calendar:
    category_of = {m.id: m.config.category for m in site.modules}
    return Calendar(site.alarms, alarm_store(store), category_of)


def in_downtime(site: Site, store: AnyStore, subject_id: str, t: datetime) -> bool:
    """True when a module (or its category) or a category is in a downtime at `t`."""
    return bool(_calendar(site, store).covering(subject_id, t))


def downtimes_at(site: Site, store: AnyStore, subject_id: str, t: datetime) -> list[Downtime]:
    """The downtimes silencing a module or category at `t` (to show why, and until when)."""
    return _calendar(site, store).covering(subject_id, t)


def downtimes(site: Site, store: AnyStore, since: datetime, until: datetime) -> list[Downtime]:
    """Every downtime overlapping [since, until): configured, imported and manual, by start."""
    return _calendar(site, store).between(since, until)


def schedule_downtime(
    store: AnyStore,
    subjects: list[str],
    start: datetime,
    end: datetime,
    description: str,
    user: str,
    now: datetime,
) -> int:
    """Enter a downtime by hand for module or category ids (or patterns); its id."""
    if end <= start:
        raise ValueError("a downtime must end after it starts")
    if not subjects:
        raise ValueError("a downtime needs at least one module or category")
    window = Downtime("manual", start, end, tuple(subjects), description, created_by=user)
    return add_manual(alarm_store(store), window, now)


def cancel_downtime(store: AnyStore, downtime_id: int) -> bool:
    """Remove a downtime entered by hand; False if there is none with that id."""
    return delete_manual(alarm_store(store), downtime_id)


def notification_log(
    store: AnyStore,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_id: str | None = None,
    state: NotificationState | None = None,
    limit: int = 500,
) -> list[Notification]:
    """The notification log, newest first: sent, pending (retrying), failed and suppressed."""
    return alarm_store(store).notifications(since, until, subject_id, state, limit)


def alarm_states(store: AnyStore) -> dict[StateKey, State]:
    """Each alarm's detector state per subject: confirmed level, flapping, escalation stage."""
    return alarm_store(store).states()
