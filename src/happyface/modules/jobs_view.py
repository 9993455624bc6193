"""What the `jobs` type's template shows: the group tree, and its jobs filtered by group or user.

The filter is two query parameters of the module page, `group` and `user`. It narrows the
stored job table before paging, so a filtered page is a static link like any other, with `at=`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..display import DetailInput, DetailParameterError, DetailView, Query
from ..instants import format_at
from ..result import Table
from .jobs_empty import why_empty

#: the table of one row per job that the filter narrows
JOB_TABLE = "jobs"
#: the parameters of the filter, in the order they appear in links
FILTER_PARAMS = ("group", "user")
MAX_FILTER_TEXT = 200
#: on the category page the tree shows the top groups and their children; the rest is one click on
COMPACT_DEPTH = 1


@dataclass(frozen=True)
class JobFilter:
    """Which jobs the module page lists: those of a group (with its subgroups) and of a user."""

    group: str = ""
    user: str = ""

    @property
    def active(self) -> bool:
        return bool(self.group or self.user)


@dataclass(frozen=True)
class Counts:
    """The jobs of a group (or all), and its inefficient share of the running ones in percent."""

    total: int
    running: int
    pending: int
    held: int
    inefficient: int
    inefficient_percent: float | None


@dataclass(frozen=True)
class GroupNode(Counts):
    """A group of the tree, linked to the page filtered by it, with its subgroups."""

    group: str
    depth: int
    url: str
    children: tuple[GroupNode, ...]


@dataclass(frozen=True)
class FilterView:
    """The filter as the page shows it: the values, whether the group is known, a clear link."""

    group: str
    user: str
    active: bool
    unknown_group: bool
    groups: tuple[str, ...]
    clear_url: str
    #: the filter form keeps the shown time, as every link of a past page does
    at: str
    #: why no job matches the filter, in words; "" when some do
    empty_reason: str = ""


@dataclass(frozen=True)
class JobsView(DetailView):
    """The totals and group tree; on the module page also the filter of the job list."""

    tree: tuple[GroupNode, ...]
    totals: Counts
    jobs_total: int | None
    jobs_shown: int | None
    threshold_percent: int | None
    compact_depth: int
    #: the job table's user and group cells link to the page filtered by them at this time
    at: datetime | None
    filter: FilterView | None

    def tables(self, stored: Sequence[Table]) -> Sequence[Table]:
        """The tables with the job table narrowed to the chosen group (subgroups too) and user."""
        chosen = self.filter
        if chosen is None or not chosen.active:
            return stored
        groups = subtree(self.tree, chosen.group) if chosen.group else set()
        return [_narrowed(t, groups, chosen.user) if t.name == JOB_TABLE else t for t in stored]

    def query(self) -> Query:
        """The filter as query pairs, kept by the pagers; empty values are left out of URLs."""
        return [("group", self.filter.group), ("user", self.filter.user)] if self.filter else []


def jobs_view(given: DetailInput) -> JobsView:
    """The group tree with counts, inefficient shares and a filter link per group."""

    def link(name: str, value: str) -> str:
        return given.links.module([(name, value)])

    details = given.details
    tree = tuple(_tree_node(n, link, 0) for n in _list(details.get("tree")))
    threshold = details.get("efficiency_threshold")
    return JobsView(
        tree=tree,
        totals=_counts(details.get("totals")),
        jobs_total=_count(details.get("jobs_total")),
        jobs_shown=_count(details.get("jobs_shown")),
        threshold_percent=_percent(threshold),
        compact_depth=COMPACT_DEPTH,
        at=given.at,
        filter=_filter_view(given, tree) if given.full else None,
    )


def parse_filter(params: Mapping[str, str]) -> JobFilter:
    """The filter asked for in the query; a bad parameter names what it expects."""
    values = {}
    for name in FILTER_PARAMS:
        text = params.get(name, "").strip()
        if len(text) > MAX_FILTER_TEXT or not text.isprintable():
            raise DetailParameterError(
                name, text[:40], f"a {name} name of at most {MAX_FILTER_TEXT} characters"
            )
        values[name] = text
    return JobFilter(**values)


def _filter_view(given: DetailInput, tree: tuple[GroupNode, ...]) -> FilterView:
    chosen = parse_filter(given.params)
    known = {n.group for n in _nodes(tree)}
    node = next((n for n in _nodes(tree) if n.group == chosen.group), None)
    jobs = next((t for t in given.tables if t.name == JOB_TABLE), None)
    details = given.details
    listed = (_count(details.get("jobs_shown")), _count(details.get("jobs_total")))
    empty = (
        why_empty(
            jobs,
            chosen.group,
            chosen.user,
            subtree(tree, chosen.group),
            node.total if node is not None else None,
            listed,
        )
        if chosen.active
        else ""
    )
    return FilterView(
        group=chosen.group,
        user=chosen.user,
        active=chosen.active,
        unknown_group=bool(chosen.group) and chosen.group not in known,
        groups=tuple(sorted(known)),
        clear_url=given.links.module(),
        at=format_at(given.at) if given.at is not None else "",
        empty_reason=empty,
    )


def _narrowed(table: Table, groups: set[str], user: str) -> Table:
    columns = list(table.columns)
    group_at = columns.index("group") if "group" in columns else None
    user_at = columns.index("user") if "user" in columns else None

    def keep(row: Sequence[Any]) -> bool:
        if groups and (group_at is None or str(row[group_at]) not in groups):
            return False
        return not user or (user_at is not None and str(row[user_at]) == user)

    return replace(table, rows=tuple(r for r in table.rows if keep(r)))


def subtree(tree: Sequence[GroupNode], group: str) -> set[str]:
    """`group` and every group below it in the tree; just `group` when it is not there."""
    for node in _nodes(tree):
        if node.group == group:
            return {n.group for n in _nodes([node])}
    return {group}


def _nodes(tree: Sequence[GroupNode]) -> Iterator[GroupNode]:
    """Every node of the tree, depth first."""
    stack = list(reversed(tree))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _tree_node(node: Any, link: Callable[[str, str], str], depth: int) -> GroupNode:
    """A stored tree node; anything not shaped like one reads as an empty group."""
    node = node if isinstance(node, Mapping) else {}
    name = str(node.get("group", ""))
    kids = tuple(_tree_node(k, link, depth + 1) for k in _list(node.get("children")))
    url = link("group", name)
    return GroupNode(**vars(_counts(node)), group=name, depth=depth, url=url, children=kids)


def _counts(node: Any) -> Counts:
    """The counts of a group, and its inefficient share of the judged running jobs in percent."""
    node = node if isinstance(node, Mapping) else {}
    counts = {k: _int(node.get(k)) for k in ("total", "running", "pending", "held", "inefficient")}
    judged = node.get("judged", counts["running"])
    share = (
        round(100 * counts["inefficient"] / counts["running"], 1)
        if counts["running"] and judged
        else None
    )
    return Counts(**counts, inefficient_percent=share)


def _int(value: Any) -> int:
    return _count(value) or 0


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _percent(fraction: Any) -> int | None:
    number = isinstance(fraction, int | float) and not isinstance(fraction, bool)
    return round(fraction * 100) if number else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
