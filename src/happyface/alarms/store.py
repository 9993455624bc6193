"""The alarm queries: detector states, the outbox and its log, on the Store's engine."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

from ..storage import Store
from ..storage.alarm_tables import alarm_notifications, site_identity
from ..storage.alarm_tables import alarm_states as states_table
from ..storage.records import utc
from ..storage.schema import dialect_insert
from .detect import Level, State
from .records import Message, Notification, NotificationState, Planned, Subject

T = TypeVar("T")
StateKey = tuple[str, Subject]  # (alarm id, subject)


def alarm_store(store: Store | AlarmStore) -> AlarmStore:
    """The alarm tables of a Store (the one the web and the runner hold)."""
    return store if isinstance(store, AlarmStore) else AlarmStore(store)


class AlarmStore:
    """Every alarm table, read and written through the site's Store, each call one transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._site_key: str | None = None

    @contextmanager
    def writing(self, doing: str) -> Iterator[Connection]:
        """One write transaction; a database failure becomes a StorageError."""
        with self._store.writing(f"alarms: {doing}") as conn:
            yield conn

    def read(self, doing: str, query: Callable[[Connection], T]) -> T:
        """Run `query` on a read connection."""
        return self._store.read(f"alarms: {doing}", query)

    def pending(self, limit: int = 500) -> list[Notification]:
        """Notifications still to be delivered, due or waiting for a retry, oldest first."""
        t = alarm_notifications
        query = sa.select(t).where(t.c.state == "pending").order_by(t.c.id).limit(limit)
        return self.read(
            "reading the outbox", lambda c: [_notification(r) for r in c.execute(query)]
        )

    def site_key(self) -> str:
        """The site's random key, made once per database; notification identifiers use it."""
        if self._site_key is None:
            self._site_key = self.read("reading the site identity", _site_key)
            if not self._site_key:
                with self.writing("creating the site identity") as conn:
                    _create_site_key(conn)
                self._site_key = self.read("reading the site identity", _site_key)
        return self._site_key

    def claim(self, notification_id: int, attempts: int, retry_at: datetime) -> bool:
        """Take a due notification for one attempt; False if another process took it first.

        The next attempt is booked before sending, so a crash in the middle is retried later
        rather than lost, and a second process does not send it at the same time.
        """
        t = alarm_notifications
        with self.writing("claiming a notification") as conn:
            done = conn.execute(
                t.update()
                .where(
                    t.c.id == notification_id, t.c.state == "pending", t.c.attempts == attempts - 1
                )
                .values(attempts=attempts, next_attempt_at=utc(retry_at))
            )
            return done.rowcount == 1

    def settle(self, notification_id: int, state: NotificationState, **values: Any) -> None:
        """Record the outcome of an attempt: sent, failed for good, or an error to retry."""
        t = alarm_notifications
        with self.writing("recording a delivery") as conn:
            conn.execute(t.update().where(t.c.id == notification_id).values(state=state, **values))


def alarm_states(store: Store | AlarmStore) -> dict[StateKey, State]:
    """Each alarm's detector state per subject: confirmed level, flapping, escalation stage."""
    return alarm_store(store).read("reading alarm states", load_states)


def notification_log(
    store: Store | AlarmStore,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_id: str | None = None,
    state: NotificationState | None = None,
    limit: int = 500,
    subjects: Collection[Subject] | None = None,
) -> list[Notification]:
    """The notification log, newest first: sent, pending (retrying), failed and suppressed.

    `subjects`, if given, are the only subjects whose notifications are read.
    """
    t = alarm_notifications
    query = sa.select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(t.c.created_at >= utc(since))
    if until is not None:
        query = query.where(t.c.created_at <= utc(until))
    if subject_id is not None:
        query = query.where(t.c.subject_id == subject_id)
    if state is not None:
        query = query.where(t.c.state == state)
    if subjects is not None:
        query = query.where(_any_of(subjects))
    return alarm_store(store).read(
        "reading the notification log", lambda c: [_notification(r) for r in c.execute(query)]
    )


def _any_of(subjects: Collection[Subject]) -> sa.ColumnElement[bool]:
    t = alarm_notifications
    ids: dict[str, list[str]] = {"module": [], "category": [], "source": []}
    for subject in subjects:
        ids[subject.kind].append(subject.id)
    return sa.or_(
        sa.false(),
        *(
            sa.and_(t.c.subject_kind == kind, t.c.subject_id.in_(names))
            for kind, names in ids.items()
            if names
        ),
    )


def load_states(conn: Connection) -> dict[StateKey, State]:
    """Every detector state, keyed by alarm and subject."""
    t = states_table
    return {
        (r.alarm_id, Subject(r.subject_kind, r.subject_id)): _state(r)
        for r in conn.execute(sa.select(t))
    }


def save_states(conn: Connection, states: dict[StateKey, State], now: datetime) -> None:
    """Insert or update the given states."""
    if not states:
        return
    rows = [_state_row(key, state, now) for key, state in states.items()]
    insert = dialect_insert(conn, states_table)
    keys = ("alarm_id", "subject_kind", "subject_id")
    updated = {c: insert.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(insert.on_conflict_do_update(index_elements=list(keys), set_=updated), rows)


def add_notifications(conn: Connection, planned: Iterable[Planned], now: datetime) -> None:
    """Write planned notifications to the outbox; one planned twice is written once."""
    rows = [_planned_row(p, now) for p in planned]
    if rows:
        insert = dialect_insert(conn, alarm_notifications).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        conn.execute(insert, rows)


def _site_key(conn: Connection) -> str:
    key = conn.execute(sa.select(site_identity.c.key).where(site_identity.c.id == 1)).scalar()
    return str(key or "")


def _create_site_key(conn: Connection) -> None:
    """The identity the migration makes, made again if the row was lost (a partial restore)."""
    row = {"id": 1, "key": secrets.token_hex(16), "created_at": utc(datetime.now(UTC))}
    conn.execute(dialect_insert(conn, site_identity).on_conflict_do_nothing(), [row])


def _state(row: Any) -> State:
    return State(
        confirmed=Level(row.confirmed),
        candidate=Level(row.candidate) if row.candidate else None,
        streak=row.streak,
        candidate_since=row.candidate_since,
        history=row.history,
        notified=Level(row.notified),
        notified_at=row.notified_at,
        stage=row.stage,
        last_sent_at=row.last_sent_at,
        last_run_id=row.last_run_id,
    )


def _state_row(key: StateKey, state: State, now: datetime) -> dict[str, Any]:
    alarm_id, subject = key
    return {
        "alarm_id": alarm_id,
        "subject_kind": subject.kind,
        "subject_id": subject.id,
        "confirmed": state.confirmed.value,
        "candidate": state.candidate.value if state.candidate else None,
        "streak": state.streak,
        "candidate_since": state.candidate_since,
        "history": state.history,
        "notified": state.notified.value,
        "notified_at": state.notified_at,
        "stage": state.stage,
        "last_sent_at": state.last_sent_at,
        "last_run_id": state.last_run_id,
        "updated_at": now,
    }


def _planned_row(p: Planned, now: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": p.dedupe_key,
        "alarm_id": p.alarm_id,
        "subject_kind": p.subject.kind,
        "subject_id": p.subject.id,
        "event": p.event,
        "channel_id": p.channel_id,
        "run_id": p.run_id,
        "run_time": p.run_time,
        "created_at": now,
        "title": p.message.title,
        "body": p.message.body,
        "link": p.message.link,
        "state": "suppressed" if p.suppressed else "pending",
        "reason": p.suppressed,
        "attempts": 0,
        "next_attempt_at": None if p.suppressed else now,
        "sent_at": None,
    }


def _notification(row: Any) -> Notification:
    return Notification(
        id=row.id,
        alarm_id=row.alarm_id,
        subject=Subject(row.subject_kind, row.subject_id),
        event=row.event,
        channel_id=row.channel_id,
        run_id=row.run_id,
        run_time=row.run_time,
        created_at=row.created_at,
        message=Message(row.title, row.body, row.link),
        state=row.state,
        reason=row.reason,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )
