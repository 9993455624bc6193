"""What the `rss` type's template shows: the feed's entries, their HTML sanitised again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from ..display import DetailInput, DetailView
from ..hrefs import safe_href
from .rss import clean_html


@dataclass(frozen=True)
class FeedEntry:
    """One entry as shown: its link only if a web address, its summary only as nh3 left it."""

    title: str
    href: str
    published: datetime | None
    author: str
    keyword: str
    summary: Markup


@dataclass(frozen=True)
class FeedView(DetailView):
    """The feed's title and its recent entries, newest first."""

    feed_title: str
    entries: tuple[FeedEntry, ...]


def feed_view(given: DetailInput) -> FeedView:
    """The stored entries; their HTML is sanitised again here, which is what makes it safe."""
    stored = given.details.get("entries")
    items = stored if isinstance(stored, list) else []
    entries = tuple(_entry(item) for item in items if isinstance(item, Mapping))
    return FeedView(str(given.details.get("feed_title") or ""), entries)


def _entry(item: Mapping[str, Any]) -> FeedEntry:
    return FeedEntry(
        title=str(item.get("title") or "(untitled)"),
        href=_feed_link(item.get("link")),
        published=_instant(item.get("published")),
        author=str(item.get("author") or ""),
        keyword=str(item.get("keyword") or ""),
        # cleaned by the module already; cleaned again because the stored details could come
        # from elsewhere, and only what nh3 returned is ever marked safe
        summary=Markup(clean_html(str(item.get("summary_html") or ""))),
    )


def _feed_link(value: Any) -> str:
    """The entry's link if a browser may follow it as a web address; nothing else is an href."""
    return safe_href(str(value or ""), here=False)


def _instant(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
