"""The frame of every dashboard page: the site, the page's own links, the time bar, the nav."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .viewdata import SiteRef, StatusView


@dataclass(frozen=True)
class PageRef:
    """Which page this is, its JSON twin and the URL the live view polls."""

    kind: str
    id: str
    json: str
    live_url: str


@dataclass(frozen=True)
class TimeLinks:
    """The time bar's links; an empty one is a step that leads nowhere."""

    live: str
    static: str
    previous_run: str
    next_run: str
    back: str
    forward: str


@dataclass(frozen=True)
class TimeView:
    """The time bar: the run shown, how old the newest run is, and the steps through history."""

    live: bool
    run_id: int
    run_time: datetime
    requested: datetime | None
    notice: str
    stale: bool
    stale_after: float
    latest_time: datetime
    latest_age: float
    step: str
    date: str
    clock: str
    static_at: str
    links: TimeLinks


@dataclass(frozen=True)
class NavItem:
    """One category in the navigation."""

    id: str
    title: str
    status: StatusView
    url: str
    current: bool


@dataclass(frozen=True)
class Frame:
    """What every dashboard page shows around its content; each page's view extends it."""

    site: SiteRef
    page: PageRef
    time: TimeView
    nav: list[NavItem]
