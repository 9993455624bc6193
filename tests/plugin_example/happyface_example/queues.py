"""The `example_queues` type: every queue of a JSON status page, with how long its oldest waits.

It reads `{"queues": [{"name": "short", "waiting": 12, "oldest_minutes": 5}, ...]}`, leaves
the rating to its default rules, and brings its own display: `templates/queues.html` and the
view hook below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from happyface import ExtractError, Inputs, Module, ModuleSettings, Result, Rule, Table
from happyface.display import DetailInput

from .queues_view import QueuesView, queues_view


class Queues(Module[ModuleSettings]):
    """Batch queues from a JSON status page: waiting jobs and the oldest wait of each."""

    template = "queues.html"
    default_rules = (
        Rule(
            metric="oldest_wait_minutes",
            warning=60,
            critical=240,
            message="a job has waited {value:.0f} min",
        ),
    )

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        queues = [_queue(q) for q in _entries(inputs["main"].json())]
        waiting = sum(q["waiting"] for q in queues)
        oldest = max((q["oldest_minutes"] for q in queues), default=0)
        rows = tuple((q["name"], q["waiting"], q["oldest_minutes"]) for q in queues)
        return Result(
            message=f"{waiting} jobs waiting in {len(queues)} queues",
            metrics={"waiting": float(waiting), "oldest_wait_minutes": float(oldest)},
            tables=(Table("queues", ("queue", "waiting", "oldest min"), rows, title="Queues"),),
            details={"queues": queues},
        )

    @classmethod
    def detail_view(cls, given: DetailInput) -> QueuesView:
        return queues_view(given)


def _entries(document: Any) -> list[Any]:
    queues = document.get("queues") if isinstance(document, dict) else None
    if not isinstance(queues, list):
        raise ExtractError('expected {"queues": [...]}, found no list of queues')
    return queues


def _queue(entry: Any) -> dict[str, Any]:
    try:
        return {
            "name": str(entry["name"]),
            "waiting": int(entry["waiting"]),
            "oldest_minutes": int(entry["oldest_minutes"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise ExtractError(
            f"a queue entry lacks name, waiting or oldest_minutes ({exc!r})"
        ) from exc
