"""A module's box: its status, message, instruction, details, sources and archived inputs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ...config.site import Site
from ...hrefs import safe_href
from ...result import Table
from ...status import Kind, Status, needs_attention
from ..urls import Urls
from ..viewdata import StatusView
from .box_data import ArchiveFile, BoxLink, Brief, ModuleBox, SourceRef, TableView, Timing
from .details import Shown, add_view, template_of
from .since import SinceView
from .why import fired, message_rest, reason, run_rules

if TYPE_CHECKING:
    from ...storage import ResultRow

log = logging.getLogger(__name__)

WORDS = {
    Status.HAPPY: "OK",
    Status.NEUTRAL: "Warning",
    Status.UNHAPPY: "Problem",
    Status.ERROR: "Error",
    Status.NOINFO: "No data",
}
MEANINGS = {
    Status.HAPPY: "everything is fine",
    Status.NEUTRAL: "something needs watching",
    Status.UNHAPPY: "something is wrong at the site",
    Status.ERROR: "the monitoring itself failed: the data could not be fetched or read",
    Status.NOINFO: "no data for this time",
}


class ArchiveReader(Protocol):
    """What the dashboard needs of the archive of raw inputs."""

    def list(self, relpath: str) -> list[str]: ...

    def open(self, relpath: str, name: str) -> bytes: ...


@dataclass(frozen=True)
class BoxContext:
    """What building boxes needs besides the data: the site, URLs, archive, template lookup."""

    site: Site
    urls: Urls
    archive: ArchiveReader | None
    has_template: Any  # Callable[[str], bool]; Any keeps the dataclass free of a jinja import


def status_view(status: Status) -> StatusView:
    """A status as the templates show it: the value, a word and what it means."""
    return _STATUS_VIEWS[status]


# made once: a page of a thousand modules asks for one per module
_STATUS_VIEWS = {s: StatusView(s.value, WORDS[s], MEANINGS[s]) for s in Status}


def module_brief(
    meta: Mapping[str, Any],
    row: ResultRow | None,
    ctx: BoxContext,
    at: datetime | None,
    since: SinceView | None = None,
) -> tuple[Brief, bool]:
    """What a list shows of a module, and whether it needs attention; a box builds on it.

    The overview makes only this for each module of the site: the row's status and message are
    all it reads, so rows read without their details serve it.
    """
    status = row.status if row is not None else Status.NOINFO
    withheld = str(meta.get("withheld", ""))
    category = meta.get("category", "")
    kind = meta.get("kind", "rated")
    brief = Brief(
        id=meta["id"],
        title=meta.get("title") or meta["id"],
        category=category,
        status=_STATUS_VIEWS[status],
        message=withheld
        or (row.message if row is not None else "This module has no result in this run."),
        instruction=meta.get("instruction", ""),
        url=ctx.urls.module(meta["id"], at),
        category_url=ctx.urls.category(category, at, anchor=meta["id"]),
        kind=kind,
        since=since if row is not None and not withheld else None,
    )
    return brief, needs_attention(status, Kind(kind)) and not withheld


def module_box(
    meta: Mapping[str, Any],
    row: ResultRow | None,
    ctx: BoxContext,
    run_id: int,
    at: datetime | None,
    table_rows: int | None,
    params: Mapping[str, str] | None = None,
    since: SinceView | None = None,
) -> ModuleBox:
    """The view data of one module at one run; `meta` is its entry in the run's config.

    `params` is the query of the module's own page, for its type's detail view; None elsewhere.
    """
    brief, troubled = module_brief(meta, row, ctx, at, since)
    parts = _result_parts(meta["id"], row, ctx, run_id, table_rows)
    box = ModuleBox(
        **vars(brief),
        **{f.name: getattr(parts, f.name) for f in fields(parts)},
        type=meta.get("type", ""),
        troubled=troubled,
        # set by access control for a viewer who may see the module's name only
        withheld=bool(meta.get("withheld")),
        instruction_prominent=bool(brief.instruction) and brief.status.value != "happy",
        description=meta.get("description", ""),
        sources=_sources(meta.get("sources", {})),
        time=row.time if row is not None else None,
        error=row.error if row is not None else "",
        template=None,
        view=None,
    )
    if row is None:
        return box
    box = _with_reasons(box, meta, row, ctx.site)
    return _with_detail(
        box, row, ctx, Shown(run_id, row.time, at, params is not None, params or {})
    )


@dataclass(frozen=True)
class _ResultParts:
    """The parts of a box that come from the module's result; empty without one."""

    links: list[BoxLink] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    archive: list[ArchiveFile] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    timing: Timing | None = None


def _result_parts(
    module_id: str, row: ResultRow | None, ctx: BoxContext, run_id: int, table_rows: int | None
) -> _ResultParts:
    if row is None:
        return _ResultParts()
    tables = [table_view(t, 1, table_rows) for t in row.tables] if table_rows is not None else []
    # linked for a failed module, and where no table is cut short (table_rows None)
    linked = row.status is Status.ERROR or table_rows is None
    archive = archive_files(ctx, run_id, module_id, row.archive) if row.archive and linked else []
    return _ResultParts(
        links=[BoxLink(link.title, link.url, safe_href(link.url)) for link in row.links],
        tables=tables,
        details=dict(row.details),
        archive=archive,
        metrics=dict(row.metrics),
        timing=Timing(row.fetch_seconds, row.extract_seconds),
    )


def _with_detail(box: ModuleBox, row: ResultRow, ctx: BoxContext, shown: Shown) -> ModuleBox:
    """The type's detail template and view, when the module still exists and its type has one."""
    instance = ctx.site.module(box.id)
    if instance is None:
        return box
    module_type = type(instance.module)
    template = template_of(module_type, ctx)
    if template is None:
        return box
    return add_view(replace(box, template=template), module_type, row, ctx, shown)


def _with_reasons(box: ModuleBox, meta: Mapping[str, Any], row: ResultRow, site: Site) -> ModuleBox:
    """The box leading with the rules that fired (the run's own rules on its own metrics)."""
    if box.withheld:
        return box
    reasons = [
        reason(f, _STATUS_VIEWS[f.verdict.status]) for f in fired(run_rules(meta, site), row)
    ]
    if not reasons:
        return box
    rest = message_rest(box.message, reasons)
    return replace(box, reasons=reasons, message_rest="" if rest == box.message else rest)


def _sources(sources: Mapping[str, str]) -> list[SourceRef]:
    return [SourceRef(name, url, safe_href(url)) for name, url in sorted(sources.items())]


def archive_files(ctx: BoxContext, run_id: int, module_id: str, relpath: str) -> list[ArchiveFile]:
    """Links to the archived raw inputs of one module in one run."""
    if ctx.archive is None:
        return []
    try:
        names = ctx.archive.list(relpath)
    except Exception:  # a missing or pruned archive only loses the links, never the page
        log.warning("archive %s cannot be listed", relpath, exc_info=True)
        return []
    return [ArchiveFile(n, ctx.urls.archive(run_id, module_id, n)) for n in names]


def table_view(table: Table, page: int, per_page: int) -> TableView:
    """One page of a detail table, with the counts to link the other pages."""
    total = len(table.rows)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return TableView(
        name=table.name,
        title=table.title or table.name,
        columns=list(table.columns),
        rows=[list(r) for r in table.rows[start : start + per_page]],
        total=total,
        page=page,
        pages=pages,
        first_row=start + 1 if total else 0,
        more=total - min(total, start + per_page),
        numeric=[_is_numeric_column(table, i) for i in range(len(table.columns))],
    )


def _is_numeric_column(table: Table, index: int) -> bool:
    cells = [r[index] for r in table.rows[:50] if r[index] is not None]
    return bool(cells) and all(
        isinstance(c, int | float) and not isinstance(c, bool) for c in cells
    )


def troubled_first(boxes: list[ModuleBox]) -> list[ModuleBox]:
    """The boxes that are not happy, worst first, in their configured order within a status."""
    return worst_first([b for b in boxes if b.troubled])


class _Rated(Protocol):
    @property
    def status(self) -> StatusView: ...


T = TypeVar("T", bound=_Rated)


def worst_first(items: list[T]) -> list[T]:
    """Boxes or briefs worst status first, in their configured order within a status."""
    return sorted(items, key=lambda b: -Status(b.status.value).severity)
