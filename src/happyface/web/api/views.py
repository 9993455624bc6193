"""The API's models filled from the pages' view data: one source of truth, another rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...status import Kind, Status
from ..exports.xml import category_type
from ..pages.box_data import Brief, ModuleBox, Timing
from ..pages.module_page import module_view
from ..pages.page_data import CategoryCard
from ..pages.run_at import At
from ..pages.views import overview_view
from . import models as m

if TYPE_CHECKING:
    from ...storage import RunInfo


def run_model(info: RunInfo) -> m.Run:
    """A stored run as the API shows it."""
    return m.Run(
        id=info.id,
        started_at=info.started_at,
        finished_at=info.finished_at,
        state=info.state,
        error=info.error,
        duration=info.duration,
    )


def snapshot(at: At) -> m.Snapshot:
    """The site at the resolved run, from the overview's view data."""
    view = overview_view(at.ctx, at.moment)
    moment = at.moment
    return m.Snapshot(
        title=view.site.title,
        run=run_model(moment.run),
        live=moment.live,
        stale=at.stale,
        requested=moment.requested,
        notice=moment.notice,
        url=at.absolute(at.ctx.urls.overview(moment.run.started_at)),
        categories=[_category(at, c) for c in view.categories],
    )


def _category(at: At, view: CategoryCard) -> m.Category:
    status = Status(view.status.value)
    return m.Category(
        id=view.id,
        title=view.title,
        description=view.description,
        status=status,
        score=status.score,
        type=category_type([b.kind for b in view.modules]),
        url=at.absolute(at.ctx.urls.category(view.id, at.moment.run.started_at)),
        since=view.since.since if view.since else None,
        duration=view.since.seconds if view.since else None,
        modules=[m.ModuleStatus(**_module_fields(at, b)) for b in view.modules],
    )


def _module_fields(at: At, box: Brief | ModuleBox) -> dict[str, Any]:
    status = Status(box.status.value)
    run_time = at.moment.run.started_at
    return {
        "id": box.id,
        "title": box.title,
        "category": box.category,
        "kind": Kind(box.kind),
        "status": status,
        "score": status.score,
        "message": box.message,
        "time": run_time,
        "url": at.absolute(at.ctx.urls.module(box.id, run_time)),
        "since": box.since.since if box.since else None,
        "duration": box.since.seconds if box.since else None,
    }


def module_detail(at: At, module_id: str) -> m.ModuleDetail:
    """One module at the resolved run, from its page's view data."""
    view = module_view(at.ctx, at.moment, module_id, {})
    box = view.module
    timing = box.timing or Timing(fetch=0.0, extract=0.0)
    return m.ModuleDetail(
        **_module_fields(at, box),
        description=box.description,
        instruction=box.instruction,
        error=box.error,
        metrics=box.metrics,
        units={v.metric: v.unit for v in view.values},
        values={v.metric: v.text for v in view.values},
        links=[m.Link(title=x.title, url=x.url) for x in box.links],
        details=box.details,
        fetch_seconds=timing.fetch,
        extract_seconds=timing.extract,
    )
