"""The `happyface` module type: another HappyFace instance's categories (meta²-monitoring).

Reads the other instance's JSON API (`/api/v1/status`) or, from old instances, the classic XML
export (`/category?action=getxml`), and maps its categories onto common columns, so that many
sites, each naming its categories its own way, line up in one matrix (`/matrix`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from ..durations import Duration
from ..errors import FormatError
from ..module import Module, ModuleSettings
from ..result import Result, Table
from ..sources import Inputs, RawInput, Source
from ..status import Status
from .common import load_json, metric_name, read_input
from .happyface_remote import Remote, RemoteCategory, from_snapshot, from_xml


class HappyFaceInstanceSettings(ModuleSettings):
    """Settings of the `happyface` module type."""

    format: Literal["json", "xml"] = Field(
        "json",
        description="json: the instance's API /api/v1/status; xml: the classic export "
        "/category?action=getxml of any HappyFace, old ones included",
    )
    columns: dict[str, list[str]] = Field(
        default_factory=dict,
        description="common column -> the instance's category ids shown in it (the worst "
        "counts); empty: each of its categories is a column of its own",
    )
    stale_after: Duration = Field(
        3600, gt=0, description="the instance is stale when its newest data is older than this"
    )
    timezone: str = Field(
        "UTC",
        description="IANA zone of the times the instance writes without an offset, e.g. "
        '"Europe/Berlin" for a HappyFace 3 XML export (it writes its local time)',
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone_of(name)
        return name


def zone_of(name: str) -> tzinfo:
    """The IANA time zone of this name; ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f'{name!r} is not an IANA time zone (e.g. "Europe/Berlin")') from exc


#: clocks of two hosts differ; a newest time less than this far ahead of ours is not "future"
FUTURE_TOLERANCE = 300.0


class HappyFaceInstance(Module[HappyFaceInstanceSettings]):
    """Another HappyFace instance: its categories' statuses mapped onto common columns."""

    Settings = HappyFaceInstanceSettings
    metric_units: ClassVar[Mapping[str, str]] = {"age_seconds": "seconds"}

    def sources(self) -> Mapping[str, Source]:
        """The status URL of the configured instance, credentials and deadline kept."""
        base = self.configured_sources.get("main")
        if base is None:
            return {}
        return {"main": base.model_copy(update={"url": status_url(base.url, self.settings.format)})}

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        raw = read_input(inputs)
        remote = self._remote(raw)
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        age = (now - remote.time).total_seconds() if remote.time else None
        future = age is not None and age < -FUTURE_TOLERANCE
        stale = remote.stale or age is None or age > self.settings.stale_after or future
        columns = self._columns(remote)
        worst = max((c["status"] for c in columns), key=lambda s: s.severity, default=Status.NOINFO)
        message = _message(remote, columns, stale, age)
        if future and age is not None:
            message = (
                f"{remote.title}: its newest data is dated {-age / 3600:.1f} h in the future "
                f"(read as {self.settings.timezone}); set `timezone` to the instance's zone"
            )
        metrics = {metric_name(c["name"]): c["status"].score for c in columns}
        metrics["stale"] = float(stale)
        if age is not None:
            metrics["age_seconds"] = age
        return Result(
            source_time=remote.time,
            status=Status.ERROR if stale else worst,
            message=message,
            metrics=metrics,
            tables=(_table(columns),),
            details={
                "instance": _instance(remote, stale, age) | {"future": future},
                "columns": _jsonable(columns),
            },
        )

    def _remote(self, raw: RawInput) -> Remote:
        zone = zone_of(self.settings.timezone)
        if self.settings.format == "xml":
            return from_xml(raw.content, zone)
        try:
            return from_snapshot(load_json(raw), zone)
        except (TypeError, KeyError, ValueError) as exc:
            missing = f"no {exc}" if isinstance(exc, KeyError) else str(exc)[:200]
            raise FormatError("a HappyFace status (/api/v1/status)", missing) from None

    def _columns(self, remote: Remote) -> list[dict[str, Any]]:
        by_id = {c.id: c for c in remote.categories}
        mapping = self.settings.columns or {c.id: [c.id] for c in remote.categories}
        return [
            _column(name, [by_id[i] for i in ids if i in by_id], ids)
            for name, ids in mapping.items()
        ]


def status_url(base: str, fmt: str) -> str:
    """The instance's status document under its base URL, unless the URL already names one."""
    if "/api/v1/status" in base or "action=getxml" in base:
        return base
    path = "/api/v1/status" if fmt == "json" else "/category?action=getxml"
    return base.rstrip("/") + path


def _column(name: str, found: list[RemoteCategory], ids: list[str]) -> dict[str, Any]:
    if not found:
        return {
            "name": name,
            "status": Status.NOINFO,
            "title": "",
            "url": "",
            "categories": ids,
            "note": "not reported by the instance",
        }
    worst = max(found, key=lambda c: c.status.severity)
    return {
        "name": name,
        "status": worst.status,
        "title": ", ".join(c.title for c in found),
        "url": worst.url,
        "categories": [c.id for c in found],
        "note": "",
    }


def _message(remote: Remote, columns: list[dict[str, Any]], stale: bool, age: float | None) -> str:
    if stale:
        when = f"{age / 3600:.1f} h old" if age is not None else "of unknown age"
        return f"{remote.title}: stale, its newest data is {when}"
    bad = [c["name"] for c in columns if c["status"] is not Status.HAPPY]
    return f"{remote.title}: " + (f"not happy: {', '.join(bad)}" if bad else "all happy")


def _instance(remote: Remote, stale: bool, age: float | None) -> dict[str, Any]:
    return {
        "title": remote.title,
        "url": remote.url,
        "time": remote.time.isoformat() if remote.time else None,
        "stale": stale,
        "age": age,
    }


def _jsonable(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**c, "status": c["status"].value} for c in columns]


def _table(columns: list[dict[str, Any]]) -> Table:
    rows = tuple(
        (c["name"], ", ".join(c["categories"]), c["title"], c["status"].value) for c in columns
    )
    return Table("columns", ("column", "their categories", "title", "status"), rows, "Columns")
