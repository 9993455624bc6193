"""What another HappyFace instance reports, read from its JSON API or its classic XML export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from xml.etree.ElementTree import Element

from ..errors import ExtractError, FormatError
from ..status import Status
from .common import to_float
from .xmlsafe import parse


@dataclass(frozen=True)
class RemoteCategory:
    """One category of the other instance."""

    id: str
    title: str
    status: Status
    url: str


@dataclass(frozen=True)
class Remote:
    """The other instance at the time it reported: title, data time, categories."""

    title: str
    time: datetime | None
    stale: bool
    url: str
    categories: tuple[RemoteCategory, ...]


def from_snapshot(data: Any, zone: tzinfo = UTC) -> Remote:
    """An `/api/v1/status` answer (see docs/api.md); KeyError or TypeError when it is not one.

    A time without an offset is in `zone`.
    """
    if not isinstance(data, dict):
        raise TypeError(f"expected an object, got {type(data).__name__}")
    categories = tuple(
        RemoteCategory(
            id=str(c["id"]),
            title=str(c.get("title", c["id"])),
            status=_status(c["status"]),
            url=str(c.get("url", "")),
        )
        for c in data["categories"]
    )
    return Remote(
        title=str(data.get("title", "")),
        time=_iso(data["run"]["started_at"], zone),
        stale=bool(data.get("stale", False)),
        url=str(data.get("url", "")),
        categories=categories,
    )


def from_xml(content: bytes, zone: tzinfo = UTC) -> Remote:
    """A classic `<happyface>` export of any HappyFace version; its times are in `zone`.

    HappyFace 3 writes the local time of its host (`datetime.fromtimestamp`) without a zone.
    """
    root = parse(content)
    if root.tag != "happyface":
        raise FormatError("a <happyface> export", f"a <{root.tag}> document")
    if root.find("category") is None:
        raise FormatError("a <happyface> export with <category> elements", "none")
    categories = []
    times: list[datetime] = []
    for element in root.findall("category"):
        categories.append(
            RemoteCategory(
                id=_text(element, "name"),
                title=_text(element, "title") or _text(element, "name"),
                status=Status.from_score(_score(element)),
                url=_text(element, "link"),
            )
        )
        modules = element.findall("module")
        times += [t for t in (_old_time(_text(m, "time"), zone) for m in modules) if t]
    return Remote(
        title=_text(root, "title"),
        time=max(times) if times else None,
        stale=False,  # the old format has no such flag: the age of `<time>` decides
        url="",
        categories=tuple(categories),
    )


def _text(element: Element, name: str) -> str:
    return (element.findtext(name) or "").strip()


def _score(element: Element) -> float:
    text = _text(element, "status")
    # to_float refuses "nan" and "inf", which the old thresholds would rate unhappy or happy
    score = to_float(text)
    if score is None:
        raise ExtractError(
            f"category {_text(element, 'name')!r} has status {text[:40]!r}, not a number"
        )
    return score


def _status(value: Any) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise ExtractError(f"unknown status {str(value)[:40]!r}") from None


def _iso(value: Any, zone: tzinfo) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _old_time(text: str, zone: tzinfo) -> datetime | None:
    """`YYYY-MM-DD HH:MM` as the old export writes module times, in the instance's zone."""
    try:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    except ValueError:
        return None
    return local.astimezone(UTC)
