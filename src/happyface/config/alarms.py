"""The `[[alarm]]`, `[[channel]]` and `[[downtime]]` tables: who is told what, how, and when not."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, time
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from ..durations import Duration
from ..sources import SecretRef, Source
from .model import _check_id

_STRICT = ConfigDict(extra="forbid", frozen=True)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GLOB = re.compile(r"[*?\[]")


class Event(StrEnum):
    """A confirmed change an alarm can report, and the follow-ups of a lasting problem."""

    UNHAPPY = "unhappy"
    ERROR = "error"
    STALE = "stale"
    UNREACHABLE = "unreachable"
    UNPARSEABLE = "unparseable"
    FORMAT_CHANGED = "format_changed"
    RECOVERY = "recovery"
    FLAPPING = "flapping"
    ESCALATION = "escalation"  # never listed in `on`: it comes from `[[alarm.escalate]]`
    REMINDER = "reminder"  # never listed in `on`: it comes from `reminder`


Transition = Literal[
    "unhappy",
    "error",
    "stale",
    "unreachable",
    "unparseable",
    "format_changed",
    "recovery",
    "flapping",
]
#: what an alarm on modules or categories reports, and what one on sources does
MODULE_TRANSITIONS: tuple[Transition, ...] = ("unhappy", "error", "recovery", "flapping")
SOURCE_TRANSITIONS: tuple[Transition, ...] = (
    "stale",
    "unreachable",
    "unparseable",
    "format_changed",
    "recovery",
    "flapping",
)


def is_pattern(text: str) -> bool:
    """True when `text` is a glob (`dcache_*`) rather than one id."""
    return bool(_GLOB.search(text))


def matches(patterns: Iterable[str], subject_id: str) -> bool:
    """True when any id or glob pattern names `subject_id`."""
    return any(fnmatchcase(subject_id, p) for p in patterns)


def _retry_after() -> Any:
    return Field(
        60, gt=0, description="wait before retrying a failed delivery; it doubles up to an hour"
    )


def _give_up_after() -> Any:
    return Field(
        12 * 3600,
        gt=0,
        description="a notification not delivered this long after it was written"
        " is given up (marked failed) and the next one of the channel goes",
    )


class EmailChannel(BaseModel):
    """`type = "email"`: a mail through an SMTP server."""

    model_config = _STRICT

    id: str = Field(description="short unique name the alarms refer to")
    type: Literal["email"] = Field(description='`"email"`')
    host: str = Field(description="SMTP server")
    port: int = Field(587, ge=1, le=65535, description="SMTP port")
    security: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="none, starttls (upgrade, port 587) or tls (implicit, port 465)"
    )
    ca_file: Path | None = Field(None, description="CA bundle to verify the server with")
    username: str | None = Field(None, description="user name to log in with")
    password: SecretRef | None = Field(None, description="password, by reference")
    sender: str = Field(description="the From address")
    to: list[str] = Field(min_length=1, description="recipient addresses")
    timeout: Duration = Field(20, gt=0, description="deadline of one delivery")
    retry_after: Duration = _retry_after()
    give_up_after: Duration = _give_up_after()

    _valid_id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _login_needs_both(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("logging in needs both `username` and `password`")
        return self


class WebhookChannel(BaseModel):
    """`type = "webhook"`: a JSON POST, e.g. to a Mattermost or Slack incoming webhook."""

    model_config = _STRICT

    id: str = Field(description="short unique name the alarms refer to")
    type: Literal["webhook"] = Field(description='`"webhook"`')
    url: str | SecretRef = Field(description="URL to POST to; by reference when it holds a token")
    format: Literal["json", "text"] = Field(
        "json",
        description='json: the whole notification; text: only `{"text": ...}` (Mattermost, Slack)',
    )
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    token: SecretRef | None = Field(None, description="bearer token, by reference")
    ca_file: Path | None = Field(None, description="CA bundle to verify the server with")
    timeout: Duration = Field(10, gt=0, description="deadline of one delivery")
    retry_after: Duration = _retry_after()
    give_up_after: Duration = _give_up_after()

    _valid_id = field_validator("id")(_check_id)


class AppriseChannel(BaseModel):
    """`type = "apprise"`: any service Apprise knows, by URL (needs `happyface[apprise]`)."""

    model_config = _STRICT

    id: str = Field(description="short unique name the alarms refer to")
    type: Literal["apprise"] = Field(description='`"apprise"`')
    urls: list[str | SecretRef] = Field(
        min_length=1, description="Apprise URLs; by reference when they hold tokens"
    )
    retry_after: Duration = _retry_after()
    give_up_after: Duration = _give_up_after()

    _valid_id = field_validator("id")(_check_id)


ChannelConfig = Annotated[
    EmailChannel | WebhookChannel | AppriseChannel, Field(discriminator="type")
]


class ChannelEntry(RootModel[ChannelConfig]):
    """One `[[channel]]` as the loader validates it: any channel type, chosen by `type`."""

    @property
    def id(self) -> str:
        return self.root.id


class Escalation(BaseModel):
    """One `[[alarm.escalate]]` stage: still bad after a while, tell more people."""

    model_config = _STRICT

    after: Duration = Field(gt=0, description="time since the problem was first notified")
    notify: list[str] = Field(min_length=1, description="channel ids told at this stage")


class AlarmRule(BaseModel):
    """One `[[alarm]]`: which modules, categories or sources, which changes, told to whom."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(description="short unique name, shown in the notification log")
    modules: list[str] = Field(default_factory=list, description="module ids or glob patterns")
    categories: list[str] = Field(default_factory=list, description="category ids or glob patterns")
    sources: list[str] = Field(
        default_factory=list,
        description="source keys or glob patterns (the key shown on /source/KEY and in "
        "/api/v1/sources, e.g. `batch_example_org_squeue`): an alarm on data quality",
    )
    on: list[Transition] = Field(
        default_factory=list,
        description="changes reported; modules and categories: unhappy, error, recovery, "
        "flapping (default all); sources: stale, unreachable, unparseable, format_changed, "
        "recovery, flapping (default all)",
    )
    notify: list[str] = Field(min_length=1, description="channel ids told first")
    confirm: int = Field(2, ge=1, description="runs in a row a new status must hold to count")
    for_: Duration = Field(
        0,
        ge=0,
        alias="for",
        description="a problem counts only once it has lasted this long as well, e.g. "
        '`"30min"` (measured from the first run that showed it); 0: `confirm` alone',
    )
    flapping_changes: int = Field(
        4, ge=2, description="this many changes within `flapping_window` runs is flapping"
    )
    flapping_window: int = Field(12, ge=2, description="runs looked back at for flapping")
    reminder: Duration = Field(0, ge=0, description="repeat while bad, this often; 0: never")
    escalate: list[Escalation] = Field(default_factory=list, description="later stages")
    change: Literal["drop", "rise", "any"] | None = Field(
        None,
        description="fire on a detected change of the modules' series instead of their status: "
        "drop or rise of the level, any (also a change of variance); recovery when a later "
        "change of the series no longer matches",
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["*"],
        description='change alarms: metric names or glob patterns ("status": the status)',
    )
    min_relative: float = Field(
        0.3, ge=0, description="change alarms: smallest change, relative to the level before"
    )
    min_duration: Duration = Field(
        3600, ge=0, description="change alarms: how long the new level must have held"
    )

    _valid_id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _names_something(self) -> AlarmRule:
        if not self.modules and not self.categories and not self.sources:
            raise ValueError(
                'give `modules = ["id or pattern"]`, `categories = [...]` or `sources = [...]`'
            )
        if self.sources and (self.modules or self.categories):
            raise ValueError(
                "an alarm on `sources` is about data quality and names no modules or "
                "categories: write a second [[alarm]] for those"
            )
        if self.change is not None and (self.categories or self.sources):
            raise ValueError("a change alarm watches the series of modules: give `modules`")
        allowed = self.transitions
        wrong = [event for event in self.on if event not in allowed]
        if wrong:
            kind = "sources" if self.sources else "modules and categories"
            raise ValueError(f"`on` has {wrong}; an alarm on {kind} reports {list(allowed)}")
        if self.flapping_changes >= self.flapping_window:
            raise ValueError("`flapping_changes` must be smaller than `flapping_window`")
        return self

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """Every change an alarm of this kind can report."""
        return SOURCE_TRANSITIONS if self.sources else MODULE_TRANSITIONS

    @property
    def reported(self) -> tuple[Transition, ...]:
        """The changes this alarm reports: `on`, or every one of its kind."""
        return tuple(self.on) or self.transitions

    def channels(self) -> set[str]:
        """Every channel id this alarm may use."""
        return {*self.notify, *(c for stage in self.escalate for c in stage.notify)}


class DowntimeConfig(BaseModel):
    """One `[[downtime]]`: a one-off window, a recurring one, or a GOCDB-style feed."""

    model_config = _STRICT

    id: str = Field(description="short unique name")
    description: str = Field("", description="why, shown with the downtime")
    modules: list[str] = Field(default_factory=list, description="module ids or glob patterns")
    categories: list[str] = Field(default_factory=list, description="category ids or glob patterns")
    start: datetime | None = Field(None, description="one-off: beginning (TOML date-time)")
    end: datetime | None = Field(None, description="one-off: end (TOML date-time)")
    every: Literal["day", "week"] | None = Field(None, description="recurring: day or week")
    days: list[str] = Field(default_factory=list, description="weekly: mon, tue, ... sun")
    at: time | None = Field(None, description="recurring: local start time, e.g. 08:00:00")
    duration: Duration = Field(0, ge=0, description="recurring: length of each window")
    timezone: str = Field("UTC", description="zone of `at` and of date-times without offset")
    feed: str | Source | None = Field(None, description="GOCDB-style downtime XML to import")
    hosts: dict[str, list[str]] = Field(
        default_factory=dict,
        description="feed: hostname pattern -> module or category ids/patterns it affects",
    )
    severities: list[str] = Field(
        default_factory=lambda: ["OUTAGE"], description="feed: severities that silence alarms"
    )
    refresh: Duration = Field(3600, gt=0, description="feed: how often it is read again")

    _valid_id = field_validator("id")(_check_id)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone {value!r}; e.g. "Europe/Berlin"') from None
        return value

    @field_validator("days")
    @classmethod
    def _known_days(cls, days: list[str]) -> list[str]:
        lowered = [d.lower()[:3] for d in days]
        bad = [d for d, short in zip(days, lowered, strict=True) if short not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use mon, tue, wed, thu, fri, sat, sun")
        return lowered

    @model_validator(mode="after")
    def _one_kind(self) -> DowntimeConfig:
        kinds = [
            self.start is not None or self.end is not None,
            self.every is not None,
            self.feed is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of `start`/`end`, `every` or `feed`")
        if kinds[0]:
            _check_one_off(self)
        elif kinds[1]:
            _check_recurring(self)
        elif not self.hosts:
            raise ValueError('a feed needs `hosts = { "pattern" = ["module ids"] }`')
        if not kinds[2] and not self.modules and not self.categories:
            raise ValueError('give `modules = ["id or pattern"]` or `categories = [...]`')
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def aware(self, moment: datetime) -> datetime:
        """`moment` in this downtime's zone when it was written without an offset."""
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)


def _check_one_off(downtime: DowntimeConfig) -> None:
    if downtime.start is None or downtime.end is None:
        raise ValueError("a one-off downtime needs both `start` and `end`")
    if downtime.aware(downtime.end) <= downtime.aware(downtime.start):
        raise ValueError("`end` must be after `start`")


def _check_recurring(downtime: DowntimeConfig) -> None:
    if downtime.at is None or downtime.duration <= 0:
        raise ValueError('a recurring downtime needs `at = 08:00:00` and `duration = "2h"`')
    if downtime.every == "week" and not downtime.days:
        raise ValueError('a weekly downtime needs `days = ["tue"]`')


class AlarmConfig(BaseModel):
    """Everything about alarms in one site: rules, channels, downtimes."""

    model_config = _STRICT

    alarms: tuple[AlarmRule, ...] = ()
    channels: tuple[EmailChannel | WebhookChannel | AppriseChannel, ...] = ()
    downtimes: tuple[DowntimeConfig, ...] = ()

    def channel(self, channel_id: str) -> EmailChannel | WebhookChannel | AppriseChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)


def reference_problems(
    alarm: AlarmRule, channels: set[str], modules: Sequence[str], categories: Sequence[str]
) -> list[str]:
    """What is wrong with the ids one alarm names: unknown channels, modules, categories."""
    problems = [
        f"channel {c!r} does not exist (channels: {', '.join(sorted(channels)) or 'none'})"
        for c in sorted(alarm.channels() - channels)
    ]
    problems += _unknown_ids("module", alarm.modules, modules)
    problems += _unknown_ids("category", alarm.categories, categories)
    return problems


def downtime_problems(
    downtime: DowntimeConfig, modules: Sequence[str], categories: Sequence[str]
) -> list[str]:
    """What is wrong with the ids one downtime names."""
    problems = _unknown_ids("module", downtime.modules, modules)
    problems += _unknown_ids("category", downtime.categories, categories)
    for host, targets in downtime.hosts.items():
        known = [*modules, *categories]
        problems += [
            f"hosts.{host!r}: {p}" for p in _unknown_ids("module or category", targets, known)
        ]
    return problems


def _unknown_ids(kind: str, named: Iterable[str], known: Sequence[str]) -> list[str]:
    """Plain ids that name nothing; a pattern matching nothing today is allowed."""
    return [
        f"{kind} {name!r} does not exist"
        for name in named
        if not is_pattern(name) and name not in known
    ]
