"""GOCDB-style downtime feeds: parse the XML, map hosts to modules, keep the answer stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..acquisition.fetch import Fetcher
from ..config.alarms import DowntimeConfig, matches
from ..errors import FetchError, HappyFaceError
from ..offloop import off_loop
from ..sources import Source
from .downtime import replace_source
from .records import Downtime
from .store import AlarmStore

log = logging.getLogger("happyface.alarms")


class FeedError(HappyFaceError):
    """Raised when a downtime feed cannot be read or understood."""


@dataclass(frozen=True)
class FeedEntry:
    """One downtime as the feed announces it, before it is mapped to modules."""

    id: str
    severity: str
    start: datetime
    end: datetime
    description: str
    hosts: tuple[str, ...]


def parse_feed(content: bytes) -> list[FeedEntry]:
    """The downtimes of a GOCDB `get_downtime` answer (flat or with nested `<SERVICES>`).

    The flat form repeats a downtime once per affected service; those are merged by id.
    """
    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException) as exc:
        raise FeedError(f"the downtime feed is not well-formed XML: {exc}") from exc
    if root.tag != "results":
        raise FeedError(f"the downtime feed's root is <{root.tag}>, expected <results>")
    merged: dict[str, FeedEntry] = {}
    for element in root.iter("DOWNTIME"):
        entry = _entry(element)
        known = merged.get(entry.id)
        hosts = (*known.hosts, *entry.hosts) if known else entry.hosts
        merged[entry.id] = FeedEntry(
            entry.id,
            entry.severity,
            entry.start,
            entry.end,
            entry.description,
            tuple(dict.fromkeys(hosts)),
        )
    return list(merged.values())


def _entry(element: Element) -> FeedEntry:
    ident = element.get("ID") or _text(element, "PRIMARY_KEY") or element.get("PRIMARY_KEY")
    if not ident:
        raise FeedError("a <DOWNTIME> has neither an ID attribute nor a <PRIMARY_KEY>")
    hosts = [_text(element, "HOSTNAME")]
    hosts += [(h.text or "").strip() for h in element.findall("./SERVICES/SERVICE/HOSTNAME")]
    return FeedEntry(
        id=ident,
        severity=_text(element, "SEVERITY").upper(),
        start=_epoch(element, "START_DATE", ident),
        end=_epoch(element, "END_DATE", ident),
        description=_text(element, "DESCRIPTION"),
        hosts=tuple(h.lower() for h in hosts if h),
    )


def _text(element: Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _epoch(element: Element, tag: str, ident: str) -> datetime:
    text = _text(element, tag)
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError):
        raise FeedError(f"downtime {ident}: <{tag}> is {text!r}, not seconds since 1970") from None


def mapped(
    entries: Sequence[FeedEntry],
    source: str,
    hosts: Mapping[str, Sequence[str]],
    severities: Sequence[str],
) -> list[Downtime]:
    """The feed's downtimes that silence something here: a listed severity, a mapped host."""
    wanted = {s.upper() for s in severities}
    found = []
    for entry in entries:
        subjects = [
            target
            for pattern, targets in hosts.items()
            if any(matches([pattern.lower()], h) for h in entry.hosts)
            for target in targets
        ]
        if entry.severity in wanted and subjects:
            found.append(
                Downtime(
                    source,
                    entry.start,
                    entry.end,
                    tuple(dict.fromkeys(subjects)),
                    entry.description,
                    entry.severity,
                    entry.id,
                    entry.hosts,
                )
            )
    return found


def import_feed(
    store: AlarmStore, config: DowntimeConfig, content: bytes, now: datetime
) -> list[Downtime]:
    """Replace the stored downtimes of one feed by what `content` announces."""
    downtimes = mapped(parse_feed(content), config.id, config.hosts, config.severities)
    replace_source(store, config.id, downtimes, now)
    return downtimes


@dataclass
class FeedReader:
    """Reads every downtime feed of the site again once its `refresh` time has passed."""

    feeds: Sequence[DowntimeConfig]
    store: AlarmStore
    fetcher: Fetcher
    fetch_timeout: float = 30.0
    _last: dict[str, datetime] = field(default_factory=dict)

    async def refresh(self, now: datetime) -> None:
        """Import the feeds that are due; a failing feed keeps its last good answer."""
        for config in self.feeds:
            last = self._last.get(config.id)
            if last is not None and (now - last).total_seconds() < config.refresh:
                continue
            self._last[config.id] = now
            try:
                raw = await self.fetcher.fetch(self._source(config), now)
                found = await off_loop(import_feed, self.store, config, raw.content, now)
            except (FetchError, FeedError) as exc:
                log.warning("downtime feed %s: %s; keeping what it said before", config.id, exc)
                continue
            log.info("downtime feed %s: %d downtime(s) apply here", config.id, len(found))

    def _source(self, config: DowntimeConfig) -> Source:
        feed: Any = config.feed
        if isinstance(feed, Source):
            return feed
        return Source.model_validate({"url": feed, "timeout": self.fetch_timeout})
