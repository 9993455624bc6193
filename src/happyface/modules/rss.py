"""The `rss` module type: recent entries of an RSS or Atom feed, optionally rated by keywords."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import feedparser
import nh3
from pydantic import Field

from ..display import DetailInput, DetailView
from ..errors import ExtractError
from ..hrefs import FEED_LINK_SCHEMES, safe_href
from ..module import Module, ModuleSettings
from ..result import Link, Result, Table
from ..sources import Inputs, Source
from ..status import Status
from .common import read_input
from .feedcut import reduce_feed
from .feedselect import feed_time, keep_shown

# What an entry's HTML may keep: text formatting and links, nothing that runs or loads.
_TAGS = {"a", "b", "strong", "i", "em", "p", "br", "ul", "ol", "li", "code", "pre", "blockquote"}
_ATTRIBUTES = {"a": {"href", "title"}}


class RssSettings(ModuleSettings):
    """Settings of the `rss` module type."""

    days: float = Field(7.0, gt=0, description="entries older than this many days are left out")
    max_entries: int = Field(20, ge=1, le=500, description="most entries shown, newest first")
    unhappy_keywords: list[str] = Field(
        default_factory=list,
        description="words (case-insensitive) that make the module unhappy when a recent entry "
        'has one, e.g. ["outage", "down"]',
    )
    neutral_keywords: list[str] = Field(
        default_factory=list,
        description="words that make the module neutral when a recent entry has one",
    )


class Rss(Module[RssSettings]):
    """Recent entries of an RSS or Atom feed, sanitised; unrated unless keywords are set."""

    Settings = RssSettings
    metric_units: ClassVar[Mapping[str, str]] = {"*": "count"}
    template = "rss.html"

    @classmethod
    def detail_view(cls, given: DetailInput) -> DetailView:
        from .rss_view import feed_view  # it imports this module for the sanitiser

        return feed_view(given)

    def sources(self) -> Mapping[str, Source]:
        """The feed; stale when nothing in it is newer than the `days` it shows, unless the
        source sets its own `max_age`: a quiet news feed is not a broken one."""
        days = self.settings.days * 86400
        return {
            name: source
            if source.max_age is not None
            else source.model_copy(update={"max_age": days})
            for name, source in self.configured_sources.items()
        }

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        reduced = reduce_feed(read_input(inputs).content)
        source_time = feed_time(reduced.root, reduced.entries)
        keep_shown(reduced.entries, now, self.settings.days, self.settings.max_entries)
        feed = _parse(reduced.xml())
        recent = [_entry(e) for e in self._shown(feed.entries, now)]
        status, hits = self._rate(recent)
        metrics = {"entries": float(len(recent))}
        if self.settings.unhappy_keywords or self.settings.neutral_keywords:
            metrics["keyword_hits"] = float(len(hits))
        title = _text(feed.feed.get("title", "")) or "feed"
        link = _safe_url(feed.feed.get("link"))
        message = (
            f"{hits[0]['keyword']!r} in: {hits[0]['title']}"
            if hits
            else f"{len(recent)} entries in the last {self.settings.days:g} days"
        )
        if cut := reduced.cut.sentence():
            message = f"{message} ({cut})"
        return Result(
            status=status,
            message=message,
            metrics=metrics,
            source_time=source_time,
            tables=(_table(recent),),
            links=(Link(title=title, url=link),) if link else (),
            details={
                "feed_title": title,
                "entries": [_jsonable(e) for e in recent],
                "parse_warning": reduced.warning,
                "cut": reduced.cut.as_dict(),
            },
        )

    def _shown(self, entries: list[Any], now: datetime) -> list[Any]:
        """The recent entries, newest first, as many as are shown; only these are cleaned."""
        cutoff = now - timedelta(days=self.settings.days)
        dated = [(_time(e.get("published_parsed") or e.get("updated_parsed")), e) for e in entries]
        recent = [(t, e) for t, e in dated if t is None or t >= cutoff]
        recent.sort(key=lambda pair: pair[0] or now, reverse=True)
        return [e for _, e in recent[: self.settings.max_entries]]

    def _rate(self, entries: list[dict[str, Any]]) -> tuple[Status | None, list[dict[str, Any]]]:
        hits: list[dict[str, Any]] = []
        worst: Status | None = None
        for words, status in (
            (self.settings.unhappy_keywords, Status.UNHAPPY),
            (self.settings.neutral_keywords, Status.NEUTRAL),
        ):
            for entry in entries:
                word = _find_keyword(words, f"{entry['title']} {entry['text']}")
                if word and not entry.get("keyword"):
                    entry["keyword"] = word
                    hits.append(entry)
                    worst = worst or status
        return worst, hits


def _parse(xml: bytes) -> Any:
    """feedparser's reading of a reduced feed (well-formed, without a DTD, of bounded size)."""
    feed = feedparser.parse(xml, sanitize_html=False, resolve_relative_uris=False)
    if not feed.get("version") and not feed.entries:
        raise ExtractError("the input is not an RSS or Atom feed")
    return feed


def _entry(raw: Any) -> dict[str, Any]:
    summary = raw.get("summary", "") or ""
    contents = raw.get("content") or []
    if contents and isinstance(contents[0], dict):
        summary = contents[0].get("value", summary) or summary
    return {
        "title": _text(raw.get("title", "")) or "(untitled)",
        "link": _safe_url(raw.get("link")),
        "published": _time(raw.get("published_parsed") or raw.get("updated_parsed")),
        "author": _text(raw.get("author", "")),
        "summary_html": clean_html(str(summary)),
        "text": _text(str(summary)),
        "keyword": None,
    }


def clean_html(fragment: str) -> str:
    """An entry's HTML with only text formatting and web or mail links left; safe to show."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=set(FEED_LINK_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def _text(value: Any) -> str:
    """Plain text: every tag removed, entities decoded (the page escapes it again)."""
    return html.unescape(nh3.clean(str(value), tags=set())).strip()


def _safe_url(value: Any) -> str | None:
    return safe_href(str(value or ""), here=False) or None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _find_keyword(words: list[str], text: str) -> str | None:
    for word in words:
        if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
            return word
    return None


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    published = entry["published"]
    return {k: v for k, v in entry.items() if k != "text"} | {
        "published": published.isoformat() if published else None
    }


def _table(entries: list[dict[str, Any]]) -> Table:
    rows = tuple(
        (
            e["published"].strftime("%Y-%m-%d %H:%M") if e["published"] else None,
            e["title"],
            e["link"],
            e["author"],
            e["keyword"],
        )
        for e in entries
    )
    columns = ("published", "title", "link", "author", "keyword")
    return Table(name="entries", columns=columns, rows=rows, title="Recent entries")
