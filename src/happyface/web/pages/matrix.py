"""The matrix page (`/matrix`): the HappyFace instances this site watches × common columns.

Each row is a module of type `happyface`; its stored result says what the other instance
reported at that run, already mapped onto the common columns. An instance that could not be
read is shown unreachable with the reason, one whose data is old is shown stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ...hrefs import safe_href
from ...status import Status
from ..cache import Rendered
from ..render import render_html, render_json
from ..viewdata import NoRunYet, StatusView, fields_of
from .module_boxes import WORDS, status_view
from .page_data import MatrixCell, MatrixRow, MatrixView
from .run_at import At, serve_at
from .views import ViewContext, frame, modules_of, snapshot_of

if TYPE_CHECKING:
    from ...storage import ResultRow
    from .routes import Dashboard

TYPE = "happyface"
# A cell of an instance whose data is old: neither its colour nor its icon says how the site is.
STALE = StatusView(
    value="stale",
    word="Stale",
    meaning="the instance's newest data is too old to say how the site is now",
)
#: what an instance reported, by common column name
Reported = dict[str, Mapping[str, Any]]


def matrix_view(at: At) -> MatrixView:
    """Rows of instances, columns of common category names, a status in every cell."""
    ctx, run = at.ctx, at.moment.run
    snapshot = snapshot_of(ctx, run.id)
    members = [m for m in modules_of(snapshot, None) if m.get("type") == TYPE]
    results = {r.module_id: r for r in ctx.store.results(run.id)} if members else {}
    rows = [_row(ctx, m, results.get(m["id"])) for m in members]
    columns = _column_names(ctx, members, [reported for _, reported in rows])
    return MatrixView(
        **fields_of(frame(ctx, at.moment, snapshot, "matrix")),
        columns=columns,
        rows=[replace(row, cells=[_cell(row, by, name) for name in columns]) for row, by in rows],
    )


def _row(
    ctx: ViewContext, meta: Mapping[str, Any], row: ResultRow | None
) -> tuple[MatrixRow, Reported]:
    """The row of one instance, without its cells, and what it reported by column."""
    details = row.details if row is not None else {}
    instance = details.get("instance") or {}
    state = "ok"
    if row is None:
        state = "nodata"
    elif "columns" not in details:
        state = "unreachable"  # the fetch or the reading failed: nothing was reported
    elif instance.get("stale"):
        state = "stale"
    source = next(iter(meta.get("sources", {}).values()), "")
    view = MatrixRow(
        id=meta["id"],
        title=instance.get("title") or meta.get("title") or meta["id"],
        url=safe_href(instance.get("url") or _base(source)),
        module_url=ctx.urls.module(meta["id"], row.time if row else None),
        state=state,
        status=status_view(row.status if row is not None else Status.NOINFO),
        reason=row.message if row is not None else "no result in this run",
        age=instance.get("age"),
        cells=[],
    )
    return view, {c["name"]: c for c in details.get("columns", [])}


def _base(source_url: str) -> str:
    """The instance's own address from the status URL its module fetched."""
    for tail in ("/api/v1/status", "/category?action=getxml"):
        source_url = source_url.split(tail)[0]
    return source_url.rstrip("/") + "/" if source_url else ""


def _column_names(
    ctx: ViewContext, members: Sequence[Mapping[str, Any]], reported: list[Reported]
) -> list[str]:
    """The configured columns first, in module order, then any others the results name."""
    names: dict[str, None] = {}
    for meta in members:
        instance = ctx.site.module(meta["id"])
        configured = getattr(instance.module.settings, "columns", {}) if instance else {}
        names.update(dict.fromkeys(configured))
    for by_column in reported:
        names.update(dict.fromkeys(by_column))
    return list(names)


def _cell(row: MatrixRow, by_column: Reported, name: str) -> MatrixCell:
    found = by_column.get(name)
    if row.state == "unreachable":
        return MatrixCell(status=status_view(Status.ERROR), url="", title=row.reason)
    if found is None:
        return MatrixCell(status=status_view(Status.NOINFO), url="", title="not reported")
    url = safe_href(found.get("url", ""))
    if row.state == "stale":
        # old data never looks happy: the cell says stale, and what it said only in its title
        said = WORDS[Status(found["status"])]
        return MatrixCell(status=STALE, url=url, title=f"stale; last reported: {said}")
    title = found.get("title") or found.get("note", "")
    return MatrixCell(status=status_view(Status(found["status"])), url=url, title=title)


def _render(fmt: str, env: Any) -> Any:
    def build(at: At) -> Rendered:
        view = matrix_view(at)
        if fmt == "json":
            return Rendered(render_json(view), "application/json")
        return Rendered(render_html(env, "matrix.html", view), "text/html; charset=utf-8")

    return build


async def matrix_page(dash: Dashboard, request: Request, fmt: str) -> Response:
    """The matrix as HTML or JSON, at the time the request asks for."""

    def empty() -> Rendered:
        return Rendered(render_json(NoRunYet()), "application/json")

    return await serve_at(dash, request, ("matrix", fmt), _render(fmt, dash.env), empty)
