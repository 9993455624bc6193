"""The time machine: which run a request asks for, and the links that step through history.

All times are UTC. A request without `at`, `date` or `time` is the live view; any of them
makes a past view, which always shows the same content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from ...durations import parse_duration
from ..errors import WebError, bad_parameter
from ..urls import format_at, format_step
from ..viewframe import TimeLinks, TimeView

if TYPE_CHECKING:
    from ...storage import RunInfo, Store

MIN_STEP = 60.0
MAX_STEP = 366 * 86400.0
_HHMM = re.compile(r"^(\d{1,3}):(\d{2})$")
# before this nothing was monitored; it keeps absurd years out of the database queries
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TimeQuery:
    """What a request asks for: a time (None for live) and the step size in seconds."""

    at: datetime | None
    step: float


@dataclass(frozen=True)
class Moment:
    """The run a page shows and its place in history."""

    run: RunInfo
    latest: RunInfo
    live: bool
    requested: datetime | None
    step: float
    previous: RunInfo | None
    next: RunInfo | None
    notice: str = ""


def parse_instant(text: str, name: str = "at") -> datetime:
    """An ISO 8601 time (date, or date and time, Z or offset; naive means UTC) as aware UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(0), UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise bad_parameter(name, text, "an ISO time such as 2026-11-25T12:00Z") from None
    except OverflowError:  # an offset pushing year 1 or 9999 out of range
        raise bad_parameter(name, text, f"a time between {EARLIEST.year} and 9999") from None
    if parsed < EARLIEST:
        raise bad_parameter(name, text, f"a time after {EARLIEST.year}")
    return parsed


def parse_at(text: str, now: datetime) -> datetime:
    """`at`: an ISO time, or a time relative to now as plots take it (`-6h`, `-1d12h`)."""
    value = text.strip()
    if not value.startswith("-"):
        return parse_instant(value)
    try:
        moment = now - timedelta(seconds=parse_duration(value[1:]))
    except (ValueError, OverflowError):
        raise bad_parameter(
            "at", text, "an ISO time such as 2026-11-25T12:00Z, or -6h, -2d before now"
        ) from None
    if moment < EARLIEST:
        raise bad_parameter("at", text, f"a time after {EARLIEST.year}")
    return moment


def parse_step(text: str) -> float:
    """A step as HH:MM (the old form) or a duration such as 15m, 2h, 1d, in seconds."""
    match = _HHMM.match(text.strip())
    try:
        if match:
            seconds = int(match.group(1)) * 3600 + int(match.group(2)) * 60.0
        else:
            seconds = parse_duration(text)
    except ValueError:
        raise bad_parameter("s", text, "a step such as 00:15, 01:00, 15m or 1d") from None
    if not MIN_STEP <= seconds <= MAX_STEP:
        raise bad_parameter("s", text, "a step between one minute and one year")
    return seconds


def _old_style(params: Mapping[str, str], now: datetime) -> datetime:
    """`date=YYYY-MM-DD` and `time=HH:MM`: a missing date is today, a missing time the day's end."""
    date_text, time_text = params.get("date", ""), params.get("time", "")
    try:
        day = date.fromisoformat(date_text.strip()) if date_text else now.date()
    except ValueError:
        raise bad_parameter("date", date_text, "a date such as 2026-11-25") from None
    if not time_text:
        clock = time(23, 59, 59)
    else:
        try:
            clock = time.fromisoformat(time_text.strip())
        except ValueError:
            raise bad_parameter("time", time_text, "a time of day such as 12:00") from None
    # the old form had no offsets; a time that carries one is read in that offset, not as UTC
    moment = datetime.combine(day, clock, clock.tzinfo or UTC).astimezone(UTC)
    if moment < EARLIEST:
        raise bad_parameter("date", date_text, f"a date after {EARLIEST.year}")
    return moment


def parse_time_query(params: Mapping[str, str], default_step: float, now: datetime) -> TimeQuery:
    """The time and step a request asks for; a WebError explains any mistake."""
    step = parse_step(params["s"]) if params.get("s") else default_step
    at_text = params.get("at", "")
    if at_text and (params.get("date") or params.get("time")):
        raise WebError("Give either at= or date= and time=, not both.")
    if at_text:
        return TimeQuery(parse_at(at_text, now), step)
    if params.get("date") or params.get("time"):
        return TimeQuery(_old_style(params, now), step)
    return TimeQuery(None, step)


def resolve(
    store: Store,
    query: TimeQuery,
    latest: RunInfo,
    now: datetime,
    first_link: Callable[[datetime], str],
) -> Moment:
    """The run shown for a query; a WebError (404) when the time is before the first run."""
    if query.at is None:
        previous, _ = store.neighbours(latest.id)
        return Moment(latest, latest, True, None, query.step, previous, None)
    if query.at > now:
        previous, _ = store.neighbours(latest.id)
        notice = (
            f"{_clock(query.at)} is in the future; this is the newest run, "
            f"of {_clock(latest.started_at)}."
        )
        return Moment(latest, latest, False, query.at, query.step, previous, None, notice)
    run = store.run_at(query.at)
    if run is None:
        raise _before_first(store, query.at, first_link)
    previous, following = store.neighbours(run.id)
    return Moment(run, latest, False, query.at, query.step, previous, following)


def _before_first(store: Store, at: datetime, first_link: Callable[[datetime], str]) -> WebError:
    first = store.first_run()
    links: tuple[tuple[str, str], ...] = ()
    message = f"There is no run at or before {_clock(at)}."
    if first is not None:
        message += f" Monitoring began with the run of {_clock(first.started_at)}."
        links = (("Show the first run", first_link(first.started_at)),)
    return WebError(message, status=404, title="Before the first run", links=links)


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def time_view(
    moment: Moment,
    link: Callable[[datetime | None, float | None], str],
    now: datetime,
    stale_after: float,
) -> TimeView:
    """The time bar's data: what is shown, and links to step by run, by step, and back to live."""
    run = moment.run
    anchor = moment.requested or run.started_at
    step = moment.step
    # compared before adding: a requested time near year 9999 plus a step does not exist
    can_go_forward = anchor <= now - timedelta(seconds=step)
    age = (now - moment.latest.started_at).total_seconds()
    return TimeView(
        live=moment.live,
        run_id=run.id,
        run_time=run.started_at,
        requested=moment.requested,
        notice=moment.notice,
        stale=age > stale_after,
        stale_after=stale_after,
        latest_time=moment.latest.started_at,
        latest_age=age,
        step=format_step(step),
        date=anchor.strftime("%Y-%m-%d"),
        clock=anchor.strftime("%H:%M"),
        static_at=format_at(run.started_at),
        links=TimeLinks(
            live=link(None, None),
            static=link(run.started_at, None),
            previous_run=link(moment.previous.started_at, step) if moment.previous else "",
            next_run=_next_link(moment, link, step),
            back=link(anchor - timedelta(seconds=step), step),
            forward=(
                link(anchor + timedelta(seconds=step), step) if can_go_forward else link(None, None)
            ),
        ),
    )


def _next_link(
    moment: Moment, link: Callable[[datetime | None, float | None], str], step: float
) -> str:
    if moment.live:
        return ""
    if moment.next is None or moment.next.id == moment.latest.id:
        return link(None, None)  # the newest run is the live view
    return link(moment.next.started_at, step)
