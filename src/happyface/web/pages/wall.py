"""The wall display (`/wall`): categories and the modules that need attention, in large type.

Built from the overview's view data, so the wall and the overview never disagree; nothing on
it can be clicked or filled in, and `live.js` keeps it current (and says when it cannot).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..viewdata import StatusView, fields_of
from ..viewframe import Frame
from .since import SinceView
from .timemachine import Moment
from .views import ViewContext, overview_view


@dataclass(frozen=True)
class WallModule:
    """A module that needs attention, as the wall shows it."""

    id: str
    title: str
    status: StatusView
    since: SinceView | None
    message: str


@dataclass(frozen=True)
class WallCategory:
    """A category with its status, since when, and its modules that need attention."""

    id: str
    title: str
    status: StatusView
    since: SinceView | None
    troubled: list[WallModule]


@dataclass(frozen=True)
class WallView(Frame):
    """Every category, worst modules first within each; a sentence of counts."""

    categories: list[WallCategory]
    summary: str


def wall_view(ctx: ViewContext, moment: Moment) -> WallView:
    """The overview, reduced to what a screen on the wall shows."""
    overview = overview_view(ctx, moment)
    by_category: dict[str, list[WallModule]] = {}
    for t in overview.troubled:
        module = WallModule(t.id, t.title, t.status, t.since, t.message)
        by_category.setdefault(t.category, []).append(module)
    categories = [
        WallCategory(c.id, c.title, c.status, c.since, by_category.get(c.id, []))
        for c in overview.categories
    ]
    count = len(overview.troubled)
    summary = f"{count} module{'s' if count != 1 else ''} need attention" if count else "All OK"
    frame = {k: v for k, v in fields_of(overview).items() if k in _FRAME}
    frame["page"] = replace(overview.page, kind="wall", json=ctx.urls.wall(json=True))
    return WallView(**frame, categories=categories, summary=summary)


_FRAME = ("site", "page", "time", "nav")
