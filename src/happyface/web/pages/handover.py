"""The handover digest: what happened since the shift began, one small function per section.

Everything is read as one viewer may see it: status periods, results and sources through the
scoped store, acknowledgements and downtimes through the viewer's alarm sight. The reads are
bounded by the interval (the periods are one index range, see storage/periods.py), never a
scan of the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...alarms import acknowledgement_history, downtimes
from ...alarms.records import Acknowledgement, Subject
from ...changes.query import changes_between, most_significant
from ...config.site import Site
from ...durations import parse_duration
from ...quality import Quality
from ...status import Status
from ...storage.periods import Period
from ..errors import WebError, bad_parameter
from ..urls import Urls
from .change_data import ChangeItem, change_item
from .handover_data import (
    AckEntry,
    Counts,
    DowntimeEntry,
    HandoverDigest,
    NoteEntry,
    SourceEntry,
    Stretch,
)
from .module_boxes import status_view
from .since import duration_text

if TYPE_CHECKING:
    from ...storage import RunInfo, Store
    from ..access import AccessControl, ScopedStore, Viewer
    from ..alarms.visibility import AlarmSight

#: the longest interval a digest covers: its reads stay bounded
MAX_SPAN = timedelta(days=31)
#: how many acknowledgements, newest first, a digest looks through
ACK_LOOKBACK = 500
#: the digest lists this many changes, the largest first, and counts the rest
CHANGES_SHOWN = 20
_NOT_OK = (Status.NEUTRAL, Status.UNHAPPY, Status.ERROR)


@dataclass(frozen=True)
class DigestInput:
    """What the sections read: the site and store as one viewer sees them, and the interval."""

    site: Site
    store: ScopedStore
    sight: AlarmSight
    alarms: Store  # acknowledgements and downtimes, filtered here by `sight`
    urls: Urls
    latest: RunInfo | None
    since: datetime
    until: datetime
    #: notes are read from here on: the start of the shift before `since`, so that the note
    #: left at a handover appears in the next shift's digest
    notes_since: datetime


def parse_since(text: str, now: datetime, default: datetime) -> datetime:
    """`?since=`: empty (the shift's start), a duration back from now ("8h") or an ISO time."""
    value = text.strip()
    if not value:
        return default
    try:
        since = now - timedelta(seconds=abs(parse_duration(value)))
    except (ValueError, OverflowError):
        from .timemachine import parse_instant

        since = parse_instant(value, "since")
    if since > now:
        raise bad_parameter("since", text, "a time in the past, e.g. 8h or 2026-11-25T06:00Z")
    if now - since > MAX_SPAN:
        raise WebError(
            f"since={text!r} is further back than the {MAX_SPAN.days} days a digest covers.",
            hint="Ask for a later time, or read the module pages' history.",
        )
    return since


def digest_of(
    site: Site,
    store: Store,
    access: AccessControl,
    sight: AlarmSight,
    viewer: Viewer,
    urls: Urls,
    interval: tuple[datetime, datetime],
) -> HandoverDigest:
    """The digest of the interval as `viewer` may see it (`sight` is that viewer's)."""
    since, until = interval
    return build_digest(
        DigestInput(
            site=access.site_for(viewer),
            store=access.store_for(store, viewer),
            sight=sight,
            alarms=store,
            urls=urls,
            latest=store.run_at(until),
            since=since,
            until=until,
            notes_since=site.settings.shifts.current_start(since - timedelta(microseconds=1)),
        )
    )


def build_digest(inp: DigestInput) -> HandoverDigest:
    """The digest of [since, until], section by section."""
    stretches = problem_stretches(inp)
    downtime_entries = downtime_sections(inp)
    changes, more = what_changed(inp)
    return HandoverDigest(
        since=inp.since,
        until=inp.until,
        counts=counts(inp),
        started=[s for s in stretches if s.since >= inp.since],
        ended=[s for s in stretches if s.until is not None and s.until <= inp.until],
        still_open=[s for s in stretches if s.until is None or s.until > inp.until],
        acknowledgements=acknowledgements(inp),
        downtimes_started=downtime_entries[0],
        downtimes_ended=downtime_entries[1],
        sources=troubled_sources(inp),
        notes=notes(inp),
        changes=changes,
        changes_more=more,
    )


def what_changed(inp: DigestInput) -> tuple[list[ChangeItem], int]:
    """The largest changes of the interval, of modules the viewer sees in full, and how many
    more there were."""
    found = changes_between(inp.store, inp.since, inp.until)
    shown = [change_item(inp.site, inp.urls, c) for c in most_significant(found, CHANGES_SHOWN)]
    return shown, len(found) - len(shown)


def problem_stretches(inp: DigestInput) -> list[Stretch]:
    """Every stretch of a module in a status that is not OK overlapping the interval."""
    if inp.latest is None:
        return []
    periods = inp.store.periods_between(inp.latest.id, inp.since, inp.until)
    messages = {r.module_id: r.message for r in inp.store.results(inp.latest.id, payload=False)}
    # an open period of a module no longer in the runs (removed from the config) is not news
    return [
        _stretch(inp, p, messages.get(p.id, "") if p.until is None else "")
        for p in periods
        if p.kind == "module" and p.status in _NOT_OK and (p.until or p.id in messages)
    ]


def _stretch(inp: DigestInput, period: Period, message: str) -> Stretch:
    instance = inp.site.module(period.id)
    category = inp.site.category(instance.config.category) if instance else None
    seconds = period.seconds(inp.until)
    return Stretch(
        id=period.id,
        title=instance.config.title if instance and instance.config.title else period.id,
        category=(category.title or category.id) if category else "",
        status=status_view(period.status),
        since=period.since,
        until=period.until,
        seconds=seconds,
        duration=duration_text(seconds),
        message=message,
        url=inp.urls.module(period.id),
    )


def counts(inp: DigestInput) -> Counts:
    """How many modules are in each status at the newest run."""
    rows = inp.store.results(inp.latest.id, payload=False) if inp.latest else []
    tally = {s: sum(1 for r in rows if r.status is s) for s in Status}
    total = len(rows)
    parts = [f"{tally[Status.UNHAPPY]} of {total} modules have a problem"]
    parts += [
        text
        for n, text in (
            (tally[Status.NEUTRAL], f"{tally[Status.NEUTRAL]} a warning"),
            (tally[Status.ERROR], f"{tally[Status.ERROR]} cannot be read"),
            (tally[Status.NOINFO], f"{tally[Status.NOINFO]} have no data"),
        )
        if n
    ]
    return Counts(
        modules=total,
        problems=tally[Status.UNHAPPY],
        warnings=tally[Status.NEUTRAL],
        errors=tally[Status.ERROR],
        no_data=tally[Status.NOINFO],
        text=", ".join(parts),
    )


def acknowledgements(inp: DigestInput) -> list[AckEntry]:
    """Acknowledgements made in the interval, or still in force at its end; newest first."""
    found = acknowledgement_history(inp.alarms, None, ACK_LOOKBACK)
    return [
        _ack_entry(inp, a)
        for a in found
        if (inp.since <= a.created_at <= inp.until or a.active(inp.until))
        and inp.sight.sees_alarm_of(a.subject)
    ]


def _ack_entry(inp: DigestInput, ack: Acknowledgement) -> AckEntry:
    ended = ack.cleared_at
    why = ack.cleared_why
    if ended is None and ack.expires_at is not None and ack.expires_at <= inp.until:
        ended, why = ack.expires_at, "expired"
    return AckEntry(
        kind=ack.subject.kind,
        id=ack.subject.id,
        title=_title(inp, ack.subject),
        user=ack.user,
        comment=ack.comment,
        created_at=ack.created_at,
        expires_at=ack.expires_at,
        ended_at=ended,
        ended_why=why,
        url=_subject_url(inp, ack.subject),
    )


def _title(inp: DigestInput, subject: Subject) -> str:
    if subject.kind == "module":
        instance = inp.site.module(subject.id)
        return instance.config.title if instance and instance.config.title else subject.id
    category = inp.site.category(subject.id)
    return category.title if category and category.title else subject.id


def _subject_url(inp: DigestInput, subject: Subject) -> str:
    if subject.kind == "module":
        return inp.urls.module(subject.id)
    return inp.urls.category(subject.id)


def downtime_sections(inp: DigestInput) -> tuple[list[DowntimeEntry], list[DowntimeEntry]]:
    """The downtimes that began in the interval, and those that ended in it."""
    windows = [
        w
        for w in downtimes(inp.site, inp.alarms, inp.since, inp.until + timedelta(microseconds=1))
        if inp.sight.sees_downtime(w)
    ]

    def entry(start: datetime, end: datetime, subjects: list[str], text: str) -> DowntimeEntry:
        return DowntimeEntry(start, end, subjects, text)

    started = [
        entry(w.start, w.end, sorted(inp.sight.named(w.subjects)), w.description)
        for w in windows
        if inp.since <= w.start <= inp.until
    ]
    ended = [
        entry(w.start, w.end, sorted(inp.sight.named(w.subjects)), w.description)
        for w in windows
        if inp.since <= w.end <= inp.until
    ]
    return started, ended


def troubled_sources(inp: DigestInput) -> list[SourceEntry]:
    """The sources not fresh at the newest run; `became` when that began in the interval."""
    if inp.latest is None:
        return []
    return [
        SourceEntry(
            key=s.key,
            state=s.state.word,
            since=s.since,
            became=s.since >= inp.since,
            message=s.message,
            modules=list(s.modules),
            url=inp.urls.source(s.key),
        )
        for s in inp.store.run_sources(inp.latest.id)
        if s.state is not Quality.FRESH
    ]


def notes(inp: DigestInput) -> list[NoteEntry]:
    """The shift notes written in the interval or the shift before it, oldest first."""
    written = inp.store.shift_notes(inp.notes_since, inp.until)
    return [NoteEntry(n.written_at, n.author, n.text) for n in written]
