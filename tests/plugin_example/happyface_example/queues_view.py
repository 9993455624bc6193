"""What the `example_queues` template shows: a bar per queue, and one queue picked by `queue=`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from happyface import Table
from happyface.display import DetailInput, DetailParameterError, DetailView, Query

MAX_NAME = 100


@dataclass(frozen=True)
class QueueBar:
    """One queue: its counts, and a link to the module page showing only it."""

    name: str
    waiting: int
    oldest_minutes: int
    url: str


@dataclass(frozen=True)
class QueuesView(DetailView):
    """The queues, busiest first; `chosen` narrows the module page's table to one queue."""

    queues: tuple[QueueBar, ...]
    most_waiting: int
    chosen: str

    def tables(self, stored: Sequence[Table]) -> Sequence[Table]:
        if not self.chosen:
            return stored
        return [replace(t, rows=tuple(r for r in t.rows if r[0] == self.chosen)) for t in stored]

    def query(self) -> Query:
        return [("queue", self.chosen)]


def queues_view(given: DetailInput) -> QueuesView:
    """The stored queues as bars; stored details are read defensively, as from anywhere."""
    stored = given.details.get("queues")
    entries = [e for e in stored if isinstance(e, Mapping)] if isinstance(stored, list) else []
    bars = sorted((_bar(e, given) for e in entries), key=lambda b: -b.waiting)
    most = max((b.waiting for b in bars), default=0)
    return QueuesView(tuple(bars), most, _chosen(given.params) if given.full else "")


def _bar(entry: Mapping[str, Any], given: DetailInput) -> QueueBar:
    name = str(entry.get("name", ""))
    url = given.links.module([("queue", name)])
    return QueueBar(name, _count(entry.get("waiting")), _count(entry.get("oldest_minutes")), url)


def _chosen(params: Mapping[str, str]) -> str:
    name = params.get("queue", "").strip()
    if len(name) > MAX_NAME or not name.isprintable():
        raise DetailParameterError(
            "queue", name[:40], f"a queue name of at most {MAX_NAME} characters"
        )
    return name


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
