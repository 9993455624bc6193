"""`[site.shifts]`: when the shifts of the crew begin, for the handover digest and its mail."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ShiftSettings(BaseModel):
    """The shifts: the handover digest covers the time since the current one began."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts: list[str] = Field(
        ["06:00", "14:00", "22:00"],
        min_length=1,
        description='times of day a shift begins, "HH:MM" in `timezone`',
    )
    timezone: str = Field("UTC", description="IANA time zone of `starts`, e.g. Europe/Berlin")
    mail: list[str] = Field(
        [],
        description="`[[channel]]` ids the handover digest is sent to when a shift begins "
        "(it shows what an anonymous viewer may see)",
    )

    @field_validator("starts")
    @classmethod
    def _starts(cls, starts: list[str]) -> list[str]:
        for text in starts:
            _time_of(text)
        return sorted(set(starts), key=_time_of)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'{name!r} is not an IANA time zone; write e.g. "UTC" or "Europe/Berlin"'
            ) from None
        return name

    def current_start(self, now: datetime) -> datetime:
        """When the shift under way at `now` began (UTC)."""
        return max(s for s in self._candidates(now) if s <= now)

    def starts_between(self, since: datetime, until: datetime) -> list[datetime]:
        """The shift beginnings in (since, until], oldest first (UTC)."""
        found: list[datetime] = []
        moment = until
        while True:
            start = self.current_start(moment)
            if start <= since:
                return found[::-1]
            found.append(start)
            moment = start - timedelta(microseconds=1)

    def _candidates(self, now: datetime) -> list[datetime]:
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone).date()
        days = [local - timedelta(days=d) for d in (2, 1, 0)]
        return [
            datetime.combine(day, _time_of(text), zone).astimezone(now.tzinfo)
            for day in days
            for text in self.starts
        ]


def _time_of(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(
            f'{text!r} is not a time of day; write it as "HH:MM", e.g. "06:00"'
        ) from None
