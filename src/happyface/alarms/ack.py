"""Acknowledgements: somebody is on it, so a subject's problem notifications stop.

An acknowledgement silences every alarm of its subject until it expires, is withdrawn, or the
subject recovers (every alarm watching it is back to ok); the recovery itself is still sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import HappyFaceError
from ..storage import Store
from ..storage.alarm_tables import alarm_acknowledgements
from ..storage.records import utc
from .records import Acknowledgement, Subject, SubjectKind
from .store import AlarmStore, alarm_store


def acknowledge(
    store: Store | AlarmStore,
    subject: Subject,
    user: str,
    comment: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> Acknowledgement:
    """Record that `user` took care of `subject`'s problem; the stored acknowledgement.

    `user` is who the web layer authorised (e.g. the certificate's DN). Raises HappyFaceError
    when the user or the comment is empty or the expiry is not in the future.
    """
    if not user.strip():
        raise HappyFaceError("an acknowledgement needs the user who makes it")
    if not comment.strip():
        raise HappyFaceError("an acknowledgement needs a comment: what is being done about it")
    if expires_at is not None and utc(expires_at) <= utc(now):
        raise HappyFaceError("an acknowledgement must expire in the future")
    row = {
        "subject_kind": subject.kind,
        "subject_id": subject.id,
        "user": user.strip(),
        "comment": comment.strip(),
        "created_at": utc(now),
        "expires_at": utc(expires_at) if expires_at else None,
        "cleared_at": None,
        "cleared_why": "",
    }
    with alarm_store(store).writing("storing an acknowledgement") as conn:
        insert = alarm_acknowledgements.insert().values(row)
        key = conn.execute(insert.returning(alarm_acknowledgements.c.id)).scalar_one()
    return _ack({**row, "id": int(key)})


def active_acknowledgements(
    store: Store | AlarmStore, t: datetime, subject: Subject | None = None
) -> list[Acknowledgement]:
    """The acknowledgements in force at `t`, for one subject or all, newest first."""
    return alarm_store(store).read("reading acknowledgements", lambda c: active(c, t, subject))


def acknowledgement_history(
    store: Store | AlarmStore, subject: Subject | None = None, limit: int = 200
) -> list[Acknowledgement]:
    """Every acknowledgement, also expired and cleared ones, newest first (the history)."""
    t = alarm_acknowledgements
    query = sa.select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(t.c.subject_kind == subject.kind, t.c.subject_id == subject.id)
    return alarm_store(store).read(
        "reading acknowledgements", lambda c: [_ack(r._mapping) for r in c.execute(query)]
    )


def withdraw_acknowledgement(
    store: Store | AlarmStore, ack_id: int, user: str, now: datetime
) -> bool:
    """End an acknowledgement early; False if it does not exist or has already ended."""
    t = alarm_acknowledgements
    with alarm_store(store).writing("withdrawing an acknowledgement") as conn:
        done = conn.execute(
            t.update()
            .where(t.c.id == ack_id, t.c.cleared_at.is_(None))
            .values(cleared_at=utc(now), cleared_why=f"withdrawn by {user}")
        )
        return done.rowcount == 1


def active(conn: Connection, t: datetime, subject: Subject | None = None) -> list[Acknowledgement]:
    """The acknowledgements in force at `t`, within an open connection."""
    table = alarm_acknowledgements
    moment = utc(t)
    query = (
        sa.select(table)
        .where(
            table.c.created_at <= moment,
            sa.or_(table.c.cleared_at.is_(None), table.c.cleared_at > moment),
            sa.or_(table.c.expires_at.is_(None), table.c.expires_at > moment),
        )
        .order_by(table.c.created_at.desc(), table.c.id.desc())
    )
    if subject is not None:
        query = query.where(table.c.subject_kind == subject.kind, table.c.subject_id == subject.id)
    return [_ack(r._mapping) for r in conn.execute(query)]


def clear_recovered(conn: Connection, subjects: Iterable[Subject], now: datetime) -> None:
    """End the acknowledgements of subjects that recovered: their problem is over."""
    table = alarm_acknowledgements
    for subject in subjects:
        conn.execute(
            table.update()
            .where(
                table.c.subject_kind == subject.kind,
                table.c.subject_id == subject.id,
                table.c.cleared_at.is_(None),
                table.c.created_at <= utc(now),
            )
            .values(cleared_at=utc(now), cleared_why="recovered")
        )


def _ack(row: Any) -> Acknowledgement:
    kind: SubjectKind = row["subject_kind"]
    return Acknowledgement(
        id=row["id"],
        subject=Subject(kind, row["subject_id"]),
        user=row["user"],
        comment=row["comment"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]) if row["expires_at"] else None,
        cleared_at=utc(row["cleared_at"]) if row["cleared_at"] else None,
        cleared_why=row["cleared_why"],
    )
