"""View data of the type-specific detail templates, keyed by the template that shows it.

A detail template reads `box.view`; the function registered for it builds that from the stored
details. Stored details may come from an older version or another instance, so each function
reads them defensively and a failure falls back to the generic table view, never a broken page.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .jobview import jobs_view

if TYPE_CHECKING:
    from ..storage import ResultRow
    from .boxes import BoxContext

log = logging.getLogger(__name__)

ARCHIVE_META = "meta.json"


@dataclass(frozen=True)
class DetailInput:
    """What a detail view reads: the stored result and where its box is shown."""

    row: ResultRow
    ctx: BoxContext
    run_id: int
    module_id: str
    at: datetime | None


DetailView = Callable[[DetailInput], dict[str, Any]]


def _jobs(given: DetailInput) -> dict[str, Any]:
    return jobs_view(given.row.details, given.ctx.urls, given.module_id, given.at)


def _plot(given: DetailInput) -> dict[str, Any]:
    """The images of the shown run, each linked to its archived file, with caption and size."""
    files = _archived_files(given)
    images = []
    for item in _list(given.row.details.get("images")):
        if not isinstance(item, Mapping):
            continue
        source = str(item.get("source", ""))
        name = files.get(source)
        caption = str(item.get("caption") or source)
        images.append(
            {
                "source": source,
                "caption": caption,
                "url": given.ctx.urls.archive(given.run_id, given.module_id, name) if name else "",
                "width": _dimension(item.get("width")),
                "height": _dimension(item.get("height")),
                "content_type": str(item.get("content_type", "")),
                "bytes": item.get("bytes"),
            }
        )
    return {"images": images}


def _archived_files(given: DetailInput) -> dict[str, str]:
    """Source name -> archived file name, from the archive's record of the run's inputs."""
    archive, relpath = given.ctx.archive, given.row.archive
    if archive is None or not relpath:
        return {}
    try:
        inputs = json.loads(archive.open(relpath, ARCHIVE_META)).get("inputs", {})
    except Exception:  # a pruned or unreadable archive loses the images, not the page
        log.warning("archive %s has no readable %s", relpath, ARCHIVE_META, exc_info=True)
        return {}
    return {
        str(source): str(entry["file"])
        for source, entry in inputs.items()
        if isinstance(entry, Mapping) and isinstance(entry.get("file"), str)
    }


def _dimension(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 10_000
    return value if ok else None


def _rss(given: DetailInput) -> dict[str, Any]:
    """The feed's entries; their HTML is sanitised again here, which is what makes it safe."""
    from ..modules.rss import clean_html  # module types load lazily; so does their parser

    entries = []
    for item in _list(given.row.details.get("entries")):
        if not isinstance(item, Mapping):
            continue
        entries.append(
            {
                "title": str(item.get("title") or "(untitled)"),
                "href": _feed_link(item.get("link")),
                "published": _instant(item.get("published")),
                "author": str(item.get("author") or ""),
                "keyword": str(item.get("keyword") or ""),
                # cleaned by the module already; cleaned again because the stored details
                # could come from elsewhere, and only what nh3 returned is ever marked safe
                "summary": Markup(clean_html(str(item.get("summary_html") or ""))),
            }
        )
    title = given.row.details.get("feed_title")
    return {"feed_title": str(title or ""), "entries": entries}


def _feed_link(value: Any) -> str:
    """The entry's link if it is a web address; nothing else becomes an href."""
    href = str(value or "").strip()
    return href if re.match(r"https?://[^\s]", href, re.IGNORECASE) else ""


def _instant(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


DETAIL_VIEWS: dict[str, DetailView] = {
    "modules/jobs.html": _jobs,
    "modules/plot.html": _plot,
    "modules/rss.html": _rss,
}


def add_view(box: dict[str, Any], given: DetailInput) -> None:
    """Set `box["view"]` for the box's detail template; without one if building it fails."""
    build = DETAIL_VIEWS.get(box.get("template") or "")
    if build is None:
        return
    try:
        box["view"] = build(given)
    except Exception:  # odd stored details cost the type's view, never the page
        log.warning("detail view of %s failed", given.module_id, exc_info=True)
        box["template"] = None
