"""Instants as HappyFace writes them in URLs (the `at=` of the time machine and of notifications),
and the time ranges the pages and the API ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Interval:
    """A closed time range; `empty` when it ends before it starts."""

    start: datetime
    end: datetime

    @property
    def empty(self) -> bool:
        return self.end < self.start


def format_at(moment: datetime) -> str:
    """The `at=` form of a time: ISO 8601 in UTC with a Z, seconds kept only when needed.

    Fractions of a second are kept too: a run's own start time then selects exactly that run,
    where a time cut to the second would select the one before it.
    """
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    elif moment.second:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        text = moment.strftime("%Y-%m-%dT%H:%M")
    return text + "Z"
