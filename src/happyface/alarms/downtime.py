"""Downtimes: windows in which alarms stay silent, from the config, a feed, or entered by hand."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ..config.alarms import WEEKDAYS, AlarmConfig, DowntimeConfig, matches
from ..storage import Store
from ..storage.alarm_tables import alarm_downtimes
from ..storage.records import utc
from .records import Downtime
from .store import AlarmStore, alarm_store

if TYPE_CHECKING:
    from ..config.site import Site

MANUAL = "manual"


def config_windows(config: DowntimeConfig, since: datetime, until: datetime) -> list[Downtime]:
    """The windows of one `[[downtime]]` that overlap [since, until); none for a feed."""
    subjects = (*config.modules, *config.categories)
    if config.start is not None and config.end is not None:
        start, end = utc(config.aware(config.start)), utc(config.aware(config.end))
        window = Downtime(config.id, start, end, subjects, config.description)
        return [window] if start < until and end > since else []
    if config.every is None or config.at is None:
        return []
    return [
        Downtime(
            config.id,
            start,
            start + timedelta(seconds=config.duration),
            subjects,
            config.description,
        )
        for start in _recurrences(config, since, until)
    ]


def _recurrences(config: DowntimeConfig, since: datetime, until: datetime) -> Iterator[datetime]:
    """Starts of the recurring windows overlapping [since, until), in the configured zone."""
    assert config.at is not None
    zone, length = config.zone, timedelta(seconds=config.duration)
    day = (since - length).astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    while day <= last:
        if config.every == "day" or WEEKDAYS[day.weekday()] in config.days:
            start = datetime.combine(day, config.at, tzinfo=zone).astimezone(UTC)
            if start < until and start + length > since:
                yield start
        day += timedelta(days=1)


class Calendar:
    """Every downtime of a site, asked "is this subject silenced at t?"."""

    def __init__(
        self, config: AlarmConfig, store: AlarmStore, category_of: Mapping[str, str]
    ) -> None:
        self.config = config
        self.store = store
        self.category_of = category_of  # a module is silenced with its category

    def between(self, since: datetime, until: datetime) -> list[Downtime]:
        """Every downtime overlapping [since, until), configured and stored, by start."""
        found = [w for c in self.config.downtimes for w in config_windows(c, since, until)]
        found += self.store.read("reading downtimes", lambda c: stored(c, since, until))
        return sorted(found, key=lambda d: (d.start, d.end, d.source))

    def covering(
        self, subject_id: str, t: datetime, windows: list[Downtime] | None = None
    ) -> list[Downtime]:
        """The downtimes silencing a module or category at `t` (among `windows` if given)."""
        names = [subject_id]
        if subject_id in self.category_of:
            names.append(self.category_of[subject_id])
        if windows is None:
            windows = self.between(t, t + timedelta(microseconds=1))
        return [d for d in windows if d.covers(t) and any(matches(d.subjects, n) for n in names)]


def calendar_of(site: Site, store: Store | AlarmStore) -> Calendar:
    """The calendar of a site's configured and stored downtimes."""
    category_of = {m.id: m.config.category for m in site.modules}
    return Calendar(site.alarms, alarm_store(store), category_of)


def in_downtime(site: Site, store: Store | AlarmStore, subject_id: str, t: datetime) -> bool:
    """True when a module (or its category) or a category is in a downtime at `t`."""
    return bool(calendar_of(site, store).covering(subject_id, t))


def downtimes_at(
    site: Site, store: Store | AlarmStore, subject_id: str, t: datetime
) -> list[Downtime]:
    """The downtimes silencing a module or category at `t` (to show why, and until when)."""
    return calendar_of(site, store).covering(subject_id, t)


def downtimes(
    site: Site, store: Store | AlarmStore, since: datetime, until: datetime
) -> list[Downtime]:
    """Every downtime overlapping [since, until): configured, imported and manual, by start."""
    return calendar_of(site, store).between(since, until)


def stored(conn: Connection, since: datetime, until: datetime) -> list[Downtime]:
    """Stored downtimes (feeds, manual) overlapping [since, until)."""
    t = alarm_downtimes
    query = sa.select(t).where(t.c.start < utc(until), t.c.end > utc(since)).order_by(t.c.start)
    return [_downtime(r) for r in conn.execute(query)]


def replace_source(
    store: AlarmStore, source: str, downtimes: Iterable[Downtime], now: datetime
) -> int:
    """Make the stored downtimes of `source` exactly these (a feed's latest answer); a count."""
    rows = [_row(d, now) for d in downtimes]
    t = alarm_downtimes
    with store.writing(f"storing the downtimes of {source}") as conn:
        conn.execute(t.delete().where(t.c.source == source))
        if rows:
            conn.execute(t.insert(), rows)
    return len(rows)


def schedule_downtime(
    store: Store | AlarmStore,
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
    window = Downtime(MANUAL, start, end, tuple(subjects), description, created_by=user)
    row = _row(window, now) | {"source": MANUAL}
    with alarm_store(store).writing("scheduling a downtime") as conn:
        row["external_id"] = row["external_id"] or f"manual-{now.timestamp():.6f}"
        insert = alarm_downtimes.insert().values(row).returning(alarm_downtimes.c.id)
        return int(conn.execute(insert).scalar_one())


def manual_downtime(store: Store | AlarmStore, downtime_id: int) -> Downtime | None:
    """The downtime entered by hand with this id, if there is one."""
    t = alarm_downtimes
    query = sa.select(t).where(t.c.id == downtime_id, t.c.source == MANUAL)

    def read(conn: Connection) -> Downtime | None:
        row = conn.execute(query).first()
        return _downtime(row) if row is not None else None

    return alarm_store(store).read("reading a downtime", read)


def cancel_downtime(store: Store | AlarmStore, downtime_id: int) -> bool:
    """Remove a downtime entered by hand; False if there is none with that id."""
    t = alarm_downtimes
    with alarm_store(store).writing("cancelling a downtime") as conn:
        gone = conn.execute(t.delete().where(t.c.id == downtime_id, t.c.source == MANUAL))
        return gone.rowcount == 1


def _row(d: Downtime, now: datetime) -> dict[str, Any]:
    return {
        "source": d.source,
        "external_id": d.external_id,
        "severity": d.severity,
        "start": d.start,
        "end": d.end,
        "description": d.description,
        "hosts": " ".join(d.hosts),
        "subjects": json.dumps(list(d.subjects)),
        "created_by": d.created_by,
        "imported_at": now,
    }


def _downtime(row: Any) -> Downtime:
    return Downtime(
        source=row.source,
        start=row.start,
        end=row.end,
        subjects=tuple(json.loads(row.subjects)),
        description=row.description,
        severity=row.severity,
        external_id=row.external_id,
        hosts=tuple(row.hosts.split()),
        created_by=row.created_by,
        id=row.id,
    )
