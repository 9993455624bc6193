"""The statuses the classic XML export shows: the modules' own, as before sources were judged.

Old clients know no data-quality axis. A module shown as no data because its source is
unreachable or stale keeps, in the classic export, the status it had on its own (an
unreachable source: error, -1), and its category is rolled up from those, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...status import Algorithm, Kind, Rated, Status, category_status
from ..pages.page_data import CategoryCard
from ..pages.views import ViewContext


def own_statuses(ctx: ViewContext, run_id: int) -> dict[str, Status]:
    """The own status of each module the run's sources greyed, by module id."""
    own: dict[str, Status] = {}
    for state in ctx.store.run_sources(run_id):
        for module_id, status in state.greyed.items():
            own.setdefault(module_id, status)
    return own


def classic_category(
    category: CategoryCard, own: Mapping[str, Status], snapshot: Mapping[str, Any]
) -> Status:
    """A category of the overview rolled up from its modules' own statuses."""
    shown = Status(category.status.value)
    if not any(m.id in own for m in category.modules):
        return shown
    entries = {m["id"]: m for m in snapshot.get("modules", [])}
    members = [
        Rated(
            own.get(m.id, Status(m.status.value)),
            Kind(m.kind),
            float(entries.get(m.id, {}).get("weight", 1.0)),
        )
        for m in category.modules
    ]
    algorithm = next(
        (
            c.get("algorithm", "worst")
            for c in snapshot.get("categories", [])
            if c["id"] == category.id
        ),
        "worst",
    )
    return category_status(members, Algorithm(algorithm))
