"""The typed view data of the handover digest: what happened since the shift began.

`HandoverDigest` is the digest itself, one field per section, each built by its own small
function in `handover.py`; a new section is a field here and a function there. The page,
its JSON and the mail are renderings of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..viewdata import SiteRef, StatusView
from .change_data import ChangeItem


@dataclass(frozen=True)
class Stretch:
    """A module in one status that is not OK, from `since` to `until` (None: still so)."""

    id: str
    title: str
    category: str
    status: StatusView
    since: datetime
    until: datetime | None
    seconds: float
    duration: str  # "2 h 10 min"
    message: str  # the newest message, for a problem still open
    url: str


@dataclass(frozen=True)
class AckEntry:
    """An acknowledgement made in the interval or in force at its end."""

    kind: str
    id: str
    title: str
    user: str
    comment: str
    created_at: datetime
    expires_at: datetime | None
    ended_at: datetime | None
    ended_why: str
    url: str


@dataclass(frozen=True)
class DowntimeEntry:
    """A downtime that began or ended in the interval."""

    start: datetime
    end: datetime
    covers: list[str]
    description: str


@dataclass(frozen=True)
class SourceEntry:
    """A source that is unreachable, stale or unreadable at the end of the interval."""

    key: str
    state: str
    since: datetime
    became: bool  # it entered that state within the interval
    message: str
    modules: list[str]
    url: str


@dataclass(frozen=True)
class NoteEntry:
    """A shift note written in the interval."""

    written_at: datetime
    author: str
    text: str


@dataclass(frozen=True)
class Counts:
    """The site at the end of the interval, in numbers and in one sentence."""

    modules: int
    problems: int
    warnings: int
    errors: int
    no_data: int
    text: str  # "3 of 42 modules have a problem, 2 a warning"


@dataclass(frozen=True)
class HandoverDigest:
    """What happened in [since, until], section by section."""

    since: datetime
    until: datetime
    counts: Counts
    started: list[Stretch]
    ended: list[Stretch]
    still_open: list[Stretch]
    acknowledgements: list[AckEntry]
    downtimes_started: list[DowntimeEntry]
    downtimes_ended: list[DowntimeEntry]
    sources: list[SourceEntry]
    notes: list[NoteEntry]
    #: the largest changes of the interval, largest first; `changes_more` were left out
    changes: list[ChangeItem]
    changes_more: int


@dataclass(frozen=True)
class NoteForm:
    """Where a shift note is posted, and whether this viewer may write one."""

    action: str
    allowed: bool
    why_not: str  # what a viewer who may not write one is told


@dataclass(frozen=True)
class HandoverView:
    """The handover page: the digest, its links, and the note form."""

    site: SiteRef
    title: str
    digest: HandoverDigest
    since_text: str  # the `since` asked for, as the form shows it
    json: str
    home: str
    note: NoteForm
