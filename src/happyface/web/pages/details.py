"""A module's detail view: the template its type names and the view data its hook builds.

The web knows no module type by name. It asks the type (`Module.template_name`,
`Module.detail_view`) through the same contract for built-in and third-party types, and gives
the hook a `DetailInput`. Stored details may come from an older version or another instance:
a hook that fails costs the type's view, never the page (the box falls back to its tables).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from ...display import DetailInput, DetailParameterError, DetailView, Query
from ...module import Module
from ..errors import bad_parameter

if TYPE_CHECKING:
    from ...storage import ResultRow
    from .box_data import ModuleBox
    from .module_boxes import BoxContext

log = logging.getLogger(__name__)

ARCHIVE_META = "meta.json"
#: the dashboard's shared detail templates, for a type naming one it does not bring itself
SHARED = "modules"


@dataclass(frozen=True)
class Shown:
    """Where a box is shown: the run, the time its links keep, the page and its query."""

    run_id: int
    run_time: datetime
    at: datetime | None
    full: bool
    params: Mapping[str, str]


@dataclass(frozen=True)
class Links:
    """The links a view hook may ask for, for one module in one shown run."""

    ctx: BoxContext
    module_id: str
    shown: Shown
    relpath: str | None

    def module(self, query: Query = ()) -> str:
        return self.ctx.urls.module(self.module_id, self.shown.at, None, query)

    def archived(self) -> Mapping[str, str]:
        run_id = self.shown.run_id
        return {
            source: self.ctx.urls.archive(run_id, self.module_id, name)
            for source, name in _archived_files(self.ctx, self.relpath).items()
        }


def _archived_files(ctx: BoxContext, relpath: str | None) -> dict[str, str]:
    """Source name -> archived file name, from the archive's record of the run's inputs."""
    if ctx.archive is None or not relpath:
        return {}
    try:
        inputs = json.loads(ctx.archive.open(relpath, ARCHIVE_META)).get("inputs", {})
    except Exception:  # a pruned or unreadable archive loses the files, not the page
        log.warning("archive %s has no readable %s", relpath, ARCHIVE_META, exc_info=True)
        return {}
    return {
        str(source): str(entry["file"])
        for source, entry in inputs.items()
        if isinstance(entry, Mapping) and isinstance(entry.get("file"), str)
    }


def template_of(module_type: type[Module], ctx: BoxContext) -> str | None:
    """The type's detail template: its package's own, else a shared one of that name."""
    names = [module_type.template_name()]
    if module_type.template:
        names.append(f"{SHARED}/{module_type.template}")
    return next((n for n in names if n and ctx.has_template(n)), None)


def add_view(
    box: ModuleBox, module_type: type[Module], row: ResultRow, ctx: BoxContext, shown: Shown
) -> ModuleBox:
    """The box with `view` from the type's hook; without its template if the hook fails.

    A query parameter the hook cannot read is the viewer's mistake: a 400, not a fallback.
    """
    given = DetailInput(
        module_id=box.id,
        details=row.details,
        tables=tuple(row.tables),
        run_time=shown.run_time,
        at=shown.at,
        full=shown.full,
        params=shown.params,
        links=Links(ctx, box.id, shown, row.archive),
    )
    try:
        return replace(box, view=module_type.detail_view(given))
    except DetailParameterError as exc:
        raise bad_parameter(exc.name, exc.value, exc.expected) from exc
    except Exception:  # odd stored details cost the type's view, never the page
        log.warning("detail view of %s failed", box.id, exc_info=True)
        return replace(box, template=None, view=None)


def view_of(box: ModuleBox) -> DetailView:
    """The box's detail view, or the default one (all tables, no query) when it has none."""
    return box.view if isinstance(box.view, DetailView) else DetailView()
