"""The typed view data of the data-quality axis: the overview's notices and a source's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..alarms.alarm_data import AlarmMark
from ..viewframe import Frame


@dataclass(frozen=True)
class SourceNotice:
    """One source in trouble, said once on the overview."""

    key: str
    state: str
    word: str
    since: str  # as the page shows it
    since_iso: str
    message: str
    effect: str  # "6 modules have no data", or "read by 1 module"
    modules: list[str]
    url: str
    text: str


@dataclass(frozen=True)
class SourceLink:
    """A source a module read, on the module's page."""

    key: str
    word: str
    state: str
    url: str


@dataclass(frozen=True)
class SourceInfo:
    """A source at the shown run."""

    key: str
    url: str  # scheme, host and port only
    state: str
    word: str
    since: datetime
    message: str
    last_good: datetime | None
    source_time: datetime | None
    appeared: list[str]
    disappeared: list[str]


@dataclass(frozen=True)
class SourceReader:
    """A module reading the source."""

    id: str
    title: str
    url: str
    no_data: bool


@dataclass(frozen=True)
class SourceRow:
    """The source in one run of its history."""

    time: datetime
    state: str
    word: str
    latency: float | None
    size: int | None
    source_time: datetime | None
    message: str


@dataclass(frozen=True)
class Curve:
    """An SVG polyline of a value over the runs shown, and its top value."""

    points: str
    max: float | None


@dataclass(frozen=True)
class SourceView(Frame):
    """One source's page: its state, its readers, its history and curves."""

    source: SourceInfo
    readers: list[SourceReader]
    history: list[SourceRow]
    latency: Curve
    size: Curve
    #: its acknowledgements and the form, set when the page's alarm marks are added
    alarm: AlarmMark | None = None
