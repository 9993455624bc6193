"""Shift notes: free text a shift crew leaves for the next, shown in the handover digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Index, Integer, String, Table, Text, insert, select

from .records import utc
from .schema import UTCDateTime, metadata

#: the longest note kept; a digest is read at a glance, not a log
MAX_NOTE = 4000

shift_notes = Table(
    "shift_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("written_at", UTCDateTime, nullable=False),
    Column("author", String(400), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_shift_notes_written_at", "written_at"),
)


@dataclass(frozen=True)
class ShiftNote:
    """One note, who wrote it and when."""

    written_at: datetime
    author: str
    text: str


def add_note(conn: Connection, note: ShiftNote) -> None:
    """Store a note."""
    conn.execute(
        insert(shift_notes).values(
            written_at=note.written_at, author=note.author, text=note.text[:MAX_NOTE]
        )
    )


def notes_between(conn: Connection, since: datetime, until: datetime) -> list[ShiftNote]:
    """The notes written in [since, until], oldest first."""
    t = shift_notes.c
    rows = conn.execute(
        select(t.written_at, t.author, t.text)
        .where(t.written_at >= since, t.written_at <= until)
        .order_by(t.written_at, t.id)
    )
    return [ShiftNote(utc(r.written_at), r.author, r.text) for r in rows]
