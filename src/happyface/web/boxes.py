"""A module's box: its status, message, instruction, details, sources and archived inputs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..result import Table
from ..site import Site
from ..status import Status
from .detailviews import Shown, add_view, template_of
from .hrefs import safe_href
from .urls import Urls

if TYPE_CHECKING:
    from ..storage import ResultRow

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


def status_view(status: Status) -> dict[str, str]:
    """A status as the templates show it: the value, a word and what it means."""
    return {"value": status.value, "word": WORDS[status], "meaning": MEANINGS[status]}


def module_box(
    meta: Mapping[str, Any],
    row: ResultRow | None,
    ctx: BoxContext,
    run_id: int,
    at: datetime | None,
    table_rows: int | None,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The view data of one module at one run; `meta` is its entry in the run's config.

    `params` is the query of the module's own page, for its type's detail view; None elsewhere.
    """
    status = row.status if row is not None else Status.NOINFO
    box = brief_box(meta, row, ctx, at)
    box.update(
        {
            "type": meta.get("type", ""),
            "instruction_prominent": bool(box["instruction"]) and status is not Status.HAPPY,
            "description": meta.get("description", ""),
            "sources": _sources(meta.get("sources", {})),
            "time": row.time if row is not None else None,
            "error": row.error if row is not None else "",
            "links": [],
            "tables": [],
            "details": {},
            "template": None,
            "view": None,
            "archive": [],
            "metrics": {},
            "timing": None,
        }
    )
    if row is not None:
        _add_result(box, row, ctx, run_id, table_rows)
        _add_detail(box, row, ctx, Shown(run_id, row.time, at, params is not None, params or {}))
    return box


def brief_box(
    meta: Mapping[str, Any], row: ResultRow | None, ctx: BoxContext, at: datetime | None
) -> dict[str, Any]:
    """What a list of modules shows of one: status, message, instruction and its links.

    Only the row's status and message are read: the overview passes rows read without their
    details, so that it costs the same whatever the modules' details hold.
    """
    status = row.status if row is not None else Status.NOINFO
    # set by access control for a viewer who may see the module's name only
    withheld = str(meta.get("withheld", ""))
    return {
        "id": meta["id"],
        "title": meta.get("title") or meta["id"],
        "category": meta.get("category", ""),
        "kind": meta.get("kind", "rated"),
        "status": status_view(status),
        "troubled": status is not Status.HAPPY and not withheld,
        "withheld": bool(withheld),
        "message": withheld
        or (row.message if row is not None else "This module has no result in this run."),
        "instruction": meta.get("instruction", ""),
        "url": ctx.urls.module(meta["id"], at),
        "category_url": ctx.urls.category(meta.get("category", ""), at, anchor=meta["id"]),
    }


def _add_result(
    box: dict[str, Any], row: ResultRow, ctx: BoxContext, run_id: int, table_rows: int | None
) -> None:
    box["links"] = [
        {"title": link.title, "url": link.url, "href": safe_href(link.url)} for link in row.links
    ]
    box["details"] = dict(row.details)
    box["metrics"] = dict(row.metrics)
    box["timing"] = {"fetch": row.fetch_seconds, "extract": row.extract_seconds}
    if table_rows is not None:
        box["tables"] = [table_view(t, 1, table_rows) for t in row.tables]
    if row.archive and (row.status is Status.ERROR or table_rows is None):
        box["archive"] = archive_files(ctx, run_id, box["id"], row.archive)


def _add_detail(box: dict[str, Any], row: ResultRow, ctx: BoxContext, shown: Shown) -> None:
    """The type's detail template and view, when the module still exists and its type has one."""
    instance = ctx.site.module(box["id"])
    if instance is None:
        return
    module_type = type(instance.module)
    box["template"] = template_of(module_type, ctx)
    if box["template"] is not None:
        add_view(box, module_type, row, ctx, shown)


def _sources(sources: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "url": url, "href": safe_href(url)} for name, url in sorted(sources.items())
    ]


def archive_files(
    ctx: BoxContext, run_id: int, module_id: str, relpath: str
) -> list[dict[str, str]]:
    """Links to the archived raw inputs of one module in one run."""
    if ctx.archive is None:
        return []
    try:
        names = ctx.archive.list(relpath)
    except Exception:  # a missing or pruned archive only loses the links, never the page
        log.warning("archive %s cannot be listed", relpath, exc_info=True)
        return []
    return [{"name": n, "url": ctx.urls.archive(run_id, module_id, n)} for n in names]


def table_view(table: Table, page: int, per_page: int) -> dict[str, Any]:
    """One page of a detail table, with the counts to link the other pages."""
    total = len(table.rows)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return {
        "name": table.name,
        "title": table.title or table.name,
        "columns": list(table.columns),
        "rows": [list(r) for r in table.rows[start : start + per_page]],
        "total": total,
        "page": page,
        "pages": pages,
        "first_row": start + 1 if total else 0,
        "more": total - min(total, start + per_page),
        "numeric": [_is_numeric_column(table, i) for i in range(len(table.columns))],
    }


def _is_numeric_column(table: Table, index: int) -> bool:
    cells = [r[index] for r in table.rows[:50] if r[index] is not None]
    return bool(cells) and all(
        isinstance(c, int | float) and not isinstance(c, bool) for c in cells
    )


def troubled_first(boxes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The boxes that are not happy, worst first, in their configured order within a status."""
    bad = [b for b in boxes if b["troubled"]]
    return sorted(bad, key=lambda b: -Status(b["status"]["value"]).severity)
