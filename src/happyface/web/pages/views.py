"""The view data of the overview and category pages: one function per page, typed.

A page shows the site as it was configured at the shown run (titles, instructions, which
modules existed), read from the configuration stored with that run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...config.site import Site
from ...status import Status
from ..errors import WebError, not_found
from ..urls import Urls
from ..viewdata import SiteRef, fields_of
from ..viewframe import Frame, NavItem, PageRef
from .box_data import Brief, ModuleBox, OverviewTroubled, Troubled
from .change_data import overview_changes
from .module_boxes import (
    BoxContext,
    module_box,
    module_brief,
    status_view,
    troubled_first,
    worst_first,
)
from .page_data import CategoryCard, CategoryHead, CategoryView, OverviewView
from .since import SinceView, since_of
from .source_notices import source_notices
from .timemachine import Moment, time_view

if TYPE_CHECKING:
    from ...storage import ResultRow
    from ...storage.periods import Period, Subject
    from ..access import ScopedStore

CATEGORY_TABLE_ROWS = 20


@dataclass(frozen=True)
class ViewContext:
    """Everything a view function reads: the site, the store, URLs, and the time of the request."""

    site: Site
    store: ScopedStore
    urls: Urls
    boxes: BoxContext
    now: datetime


def snapshot_of(ctx: ViewContext, run_id: int) -> dict[str, Any]:
    """The site's configuration at a run; the current one if the run has none stored."""
    snapshot = ctx.store.config_of(run_id)
    return snapshot if snapshot and snapshot.get("categories") is not None else ctx.site.snapshot


def categories_of(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    return sorted(snapshot.get("categories", []), key=lambda c: c.get("order", 0))


def modules_of(snapshot: Mapping[str, Any], category_id: str | None) -> list[dict[str, Any]]:
    members = [
        m
        for m in snapshot.get("modules", [])
        if category_id is None or m.get("category") == category_id
    ]
    return sorted(members, key=lambda m: m.get("order", 0))


def frame(
    ctx: ViewContext,
    moment: Moment,
    snapshot: Mapping[str, Any],
    kind: str,
    ident: str = "",
    statuses: Mapping[str, Status] | None = None,
) -> Frame:
    """What every page around its content shows: title, navigation, the time bar.

    `snapshot` (and `statuses`, when the page has read them) are the shown run's, passed in
    so that a page reads them from the store once.
    """
    run = moment.run
    at = None if moment.live else run.started_at

    def link(when: datetime | None, step: float | None) -> str:
        return ctx.urls.page(kind, ident, when, step)

    if statuses is None:
        statuses = ctx.store.category_statuses(run.id)
    return Frame(
        site=SiteRef(
            title=snapshot.get("title") or ctx.site.settings.title,
            home=ctx.urls.overview(at),
        ),
        page=PageRef(
            kind=kind,
            id=ident,
            json=ctx.urls.json_of(kind, ident, at),
            live_url=ctx.urls.live(run.id),
        ),
        time=time_view(moment, link, ctx.now, ctx.site.settings.stale_after),
        nav=[
            NavItem(
                id=c["id"],
                title=c.get("title") or c["id"],
                status=status_view(statuses.get(c["id"], Status.NOINFO)),
                url=ctx.urls.category(c["id"], at),
                current=kind == "category" and c["id"] == ident,
            )
            for c in categories_of(snapshot)
        ],
    )


@dataclass(frozen=True)
class Durations:
    """Since when each module and category of a page's run is in its status, read once."""

    periods: Mapping[Subject, Period]
    shown_at: datetime

    @classmethod
    def of(
        cls, ctx: ViewContext, moment: Moment, module_ids: Collection[str] | None = None
    ) -> Durations:
        """The periods at the shown run (of `module_ids` only, when given), measured to now
        when live, else to the run's start."""
        run = moment.run
        shown_at = ctx.now if moment.live else run.started_at
        return cls(ctx.store.periods_at(run.id, run.started_at, module_ids), shown_at)

    def of_module(self, module_id: str, row: ResultRow | None) -> SinceView | None:
        if row is None:
            return None
        return since_of(self.periods, "module", module_id, row.status, self.shown_at)

    def of_category(self, category_id: str, status: Status) -> SinceView | None:
        return since_of(self.periods, "category", category_id, status, self.shown_at)


def _rows(
    ctx: ViewContext, run_id: int, module_ids: Collection[str] | None, payload: bool = True
) -> dict[str, ResultRow]:
    """The results a page shows, read for its modules only (None: all), so that its cost does
    not grow with the modules it does not show."""
    return {r.module_id: r for r in ctx.store.results(run_id, module_ids, payload)}


def overview_view(ctx: ViewContext, moment: Moment) -> OverviewView:
    """Every category with its status, and the troubled modules first, one click away."""
    run = moment.run
    at = None if moment.live else run.started_at
    snapshot = snapshot_of(ctx, run.id)
    statuses = ctx.store.category_statuses(run.id)
    # statuses and messages only: the details of a thousand modules would cost more than all else
    rows = _rows(ctx, run.id, None, payload=False)
    durations = Durations.of(ctx, moment)
    briefs = [
        module_brief(
            m, rows.get(m["id"]), ctx.boxes, at, durations.of_module(m["id"], rows.get(m["id"]))
        )
        for m in modules_of(snapshot, None)
    ]
    by_category: dict[str, list[Brief]] = {}
    for brief, _ in briefs:
        by_category.setdefault(brief.category, []).append(brief)
    categories = []
    for cat in categories_of(snapshot):
        members = by_category.get(cat["id"], [])
        counts: dict[str, int] = {}
        for b in members:
            counts[b.status.word] = counts.get(b.status.word, 0) + 1
        status = statuses.get(cat["id"], Status.NOINFO)
        categories.append(
            CategoryCard(
                id=cat["id"],
                title=cat.get("title") or cat["id"],
                description=cat.get("description", ""),
                status=status_view(status),
                url=ctx.urls.category(cat["id"], at),
                counts=sorted(counts.items()),
                modules=members,
                since=durations.of_category(cat["id"], status),
            )
        )
    titles = {c.id: c.title for c in categories}
    troubled = [
        OverviewTroubled(**vars(b), category_title=titles.get(b.category, ""))
        for b in worst_first([b for b, needs_attention in briefs if needs_attention])
    ]
    return OverviewView(
        **fields_of(frame(ctx, moment, snapshot, "overview", statuses=statuses)),
        categories=categories,
        troubled=troubled,
        source_notices=source_notices(ctx, run.id, at),
        changes=overview_changes(ctx, run),
    )


def _brief(box: ModuleBox) -> dict[str, Any]:
    """The fields of a Brief, taken from a box."""
    return {name: getattr(box, name) for name in BRIEF_FIELDS}


BRIEF_FIELDS = [f.name for f in fields(Brief)]


def category_view(ctx: ViewContext, moment: Moment, category_id: str) -> CategoryView:
    """A category's modules as boxes, with the instruction of every troubled one."""
    run = moment.run
    at = None if moment.live else run.started_at
    snapshot = snapshot_of(ctx, run.id)
    category = next((c for c in snapshot.get("categories", []) if c["id"] == category_id), None)
    if category is None:
        raise unknown_at_run(ctx, snapshot, "category", category_id)
    members = modules_of(snapshot, category_id)
    rows = _rows(ctx, run.id, [m["id"] for m in members])
    durations = Durations.of(ctx, moment, [m["id"] for m in members])
    boxes = [
        module_box(
            m,
            rows.get(m["id"]),
            ctx.boxes,
            run.id,
            at,
            CATEGORY_TABLE_ROWS,
            since=durations.of_module(m["id"], rows.get(m["id"])),
        )
        for m in members
    ]
    statuses = ctx.store.category_statuses(run.id)
    status = statuses.get(category_id, Status.NOINFO)
    return CategoryView(
        **fields_of(frame(ctx, moment, snapshot, "category", category_id, statuses)),
        category=CategoryHead(
            id=category_id,
            title=category.get("title") or category_id,
            description=category.get("description", ""),
            algorithm=category.get("algorithm", "worst"),
            status=status_view(status),
            since=durations.of_category(category_id, status),
        ),
        modules=boxes,
        troubled=[Troubled(**_brief(b)) for b in troubled_first(boxes)],
    )


def unknown_at_run(
    ctx: ViewContext, snapshot: Mapping[str, Any], kind: str, ident: str
) -> WebError:
    """The 404 of a category or module (`kind`) missing from the shown run's configuration."""
    exists_now = ctx.site.category(ident) if kind == "category" else ctx.site.module(ident)
    if exists_now is not None:
        return WebError(
            f"The {kind} {ident!r} did not exist at the time shown.",
            status=404,
            links=(("Show it now", ctx.urls.page(kind, ident, None, None)),),
        )
    known = snapshot.get("categories" if kind == "category" else "modules", [])
    return not_found(kind, ident, [item["id"] for item in known])
