"""The job-centric view of a `jobs` module: its group tree, its jobs filtered by group or user.

The filter is two query parameters of the module page, `group` and `user`. It is applied to the
stored job table before paging, so a filtered page is a static link like any other, with `at=`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..result import Table
from .errors import bad_parameter
from .urls import Urls, format_at

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

    def query(self) -> list[tuple[str, str]]:
        """The filter as query pairs; empty values are left out of URLs anyway."""
        return [("group", self.group), ("user", self.user)]


def parse_filter(params: Mapping[str, str]) -> JobFilter:
    """The filter asked for in the query; a bad parameter names what it expects."""
    values = {}
    for name in FILTER_PARAMS:
        text = params.get(name, "").strip()
        if len(text) > MAX_FILTER_TEXT or not text.isprintable():
            raise bad_parameter(
                name, text[:40], f"a {name} name of at most {MAX_FILTER_TEXT} characters"
            )
        values[name] = text
    return JobFilter(**values)


def filter_tables(
    tables: Sequence[Table], details: Mapping[str, Any], chosen: JobFilter
) -> list[Table]:
    """The tables with the job table narrowed to the chosen group (subgroups too) and user."""
    if not chosen.active:
        return list(tables)
    groups = subtree(details.get("tree"), chosen.group) if chosen.group else set()
    return [_narrowed(t, groups, chosen.user) if t.name == JOB_TABLE else t for t in tables]


def _narrowed(table: Table, groups: set[str], user: str) -> Table:
    columns = list(table.columns)
    group_at = columns.index("group") if "group" in columns else None
    user_at = columns.index("user") if "user" in columns else None

    def keep(row: Sequence[Any]) -> bool:
        if groups and (group_at is None or str(row[group_at]) not in groups):
            return False
        return not user or (user_at is not None and str(row[user_at]) == user)

    return replace(table, rows=tuple(r for r in table.rows if keep(r)))


def subtree(tree: Any, group: str) -> set[str]:
    """`group` and every group below it in the stored tree; just `group` when it is not there."""
    for node in _nodes(tree):
        if node.get("group") == group:
            return {str(n.get("group")) for n in _nodes([node])}
    return {group}


def _nodes(tree: Any) -> Iterable[Mapping[str, Any]]:
    """Every node of a nested tree, depth first; anything not shaped like a node is skipped."""
    stack = list(reversed(tree)) if isinstance(tree, list) else []
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            yield node
            kids = node.get("children")
            stack.extend(reversed(kids) if isinstance(kids, list) else [])


def filter_view(
    urls: Urls, module_id: str, at: datetime | None, chosen: JobFilter, details: Mapping[str, Any]
) -> dict[str, Any]:
    """The filter as the page shows it: the values, whether the group is known, a clear link."""
    known = {str(n.get("group")) for n in _nodes(details.get("tree"))}
    return {
        "group": chosen.group,
        "user": chosen.user,
        "active": chosen.active,
        "unknown_group": bool(chosen.group) and chosen.group not in known,
        "groups": sorted(known),
        "clear_url": urls.module(module_id, at),
        # the filter form keeps the shown time, as every link of a past page does
        "at": format_at(at) if at is not None else "",
    }


def jobs_view(
    details: Mapping[str, Any], urls: Urls, module_id: str, at: datetime | None
) -> dict[str, Any]:
    """The group tree with counts, inefficient shares and a filter link per group."""

    def link(name: str, value: str) -> str:
        return urls.module(module_id, at, None, [(name, value)])

    threshold = details.get("efficiency_threshold")
    return {
        "tree": [_tree_node(n, link, 0) for n in _list(details.get("tree"))],
        "totals": _counts(details.get("totals")),
        "jobs_total": details.get("jobs_total"),
        "jobs_shown": details.get("jobs_shown"),
        "threshold_percent": round(threshold * 100) if isinstance(threshold, int | float) else None,
        "compact_depth": COMPACT_DEPTH,
        # the job table's user and group cells link to the page filtered by them at this time
        "at": at,
    }


def _tree_node(node: Any, link: Callable[[str, str], str], depth: int) -> dict[str, Any]:
    node = node if isinstance(node, Mapping) else {}
    name = str(node.get("group", ""))
    return {
        "group": name,
        "depth": depth,
        "url": link("group", name),
        **_counts(node),
        "children": [_tree_node(k, link, depth + 1) for k in _list(node.get("children"))],
    }


def _counts(node: Any) -> dict[str, Any]:
    """The counts of a group, and its inefficient share of the judged running jobs in percent."""
    node = node if isinstance(node, Mapping) else {}
    counts = {k: _int(node.get(k)) for k in ("total", "running", "pending", "held", "inefficient")}
    judged = node.get("judged", counts["running"])
    share = (
        round(100 * counts["inefficient"] / counts["running"], 1)
        if counts["running"] and judged
        else None
    )
    return {**counts, "inefficient_percent": share}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
