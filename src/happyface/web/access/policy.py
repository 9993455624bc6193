"""What a viewer may see of each category and module: everything, its name only, or nothing.

A category or module is `open`, `restricted` (listed, content withheld) or `hidden` (not
listed). Its `allow` names the groups that see it in full; without `allow` the `[access]`
`default_allow` groups do. A module is never shown more than its category: a module of a
hidden category is hidden, one of a restricted category at most listed.

The current configuration decides, so tightening access also covers the past; for a module
or category that no longer exists, the access stored with the shown run decides. Where both
exist the stricter one wins. A module of a past run is capped by its category now and by the
category it was in then: moved out of a hidden category, its past stays hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ...config.access import AccessConfig
from ...config.site import Site
from .claims import TokenIdentity
from .groups import Identity


class Sight(IntEnum):
    """How much of an item a viewer sees; comparable, the smaller is stricter."""

    NONE = 0  # not listed at all
    LISTED = 1  # listed with its title, content and data withheld
    FULL = 2


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: their identity (None: anonymous) and their groups."""

    identity: Identity | TokenIdentity | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> frozenset[str]:
        """What the viewer's sight depends on: equal keys see equal pages (the cache key)."""
        return self.groups

    @property
    def name(self) -> str:
        if isinstance(self.identity, TokenIdentity):
            return self.identity.name
        return str(self.identity.subject) if self.identity else "anonymous"

    @property
    def by_bearer(self) -> bool:
        """Known by a bearer token: a script's request, which no other site can forge."""
        return isinstance(self.identity, TokenIdentity) and self.identity.via == "bearer"


ANONYMOUS = Viewer()

#: the note shown instead of withheld content
WITHHELD = (
    "Restricted: log in with your grid certificate or your organisation's account "
    "(and be in an allowed group) to see this."
)


@dataclass(frozen=True)
class AccessRule:
    """The access level and allowed groups of one category or module."""

    access: str = "open"
    allow: tuple[str, ...] = ()

    def sight(self, groups: frozenset[str], default_allow: Sequence[str]) -> Sight:
        if self.access == "open" or groups.intersection(self.allow or default_allow):
            return Sight.FULL
        return Sight.LISTED if self.access == "restricted" else Sight.NONE


def _rule(entry: Mapping[str, Any] | None) -> AccessRule | None:
    if entry is None:
        return None
    return AccessRule(str(entry.get("access", "open")), tuple(entry.get("allow") or ()))


class Policy:
    """The access rules of a site, applied to one viewer's groups."""

    def __init__(self, site: Site, groups: frozenset[str]) -> None:
        self.site = site
        self.access: AccessConfig = site.access
        self.groups = groups
        levels = [c.access for c in site.categories] + [m.config.access for m in site.modules]
        #: no restricted or hidden item in the current configuration
        self.unrestricted = all(level == "open" for level in levels)

    def _sight(self, *rules: AccessRule | None) -> Sight:
        known = [r for r in rules if r is not None]
        if not known:
            # an item nobody configured (a module gone from the config, asked for without a
            # run): visible only on a site that restricts nothing, else to nobody
            return Sight.FULL if self.unrestricted else Sight.NONE
        return min(r.sight(self.groups, self.access.default_allow) for r in known)

    def category(self, category_id: str, stored: Mapping[str, Any] | None = None) -> Sight:
        """The viewer's sight of a category; `stored` is its entry in the run's snapshot."""
        current = self.site.category(category_id)
        rule = AccessRule(current.access, tuple(current.allow)) if current is not None else None
        return self._sight(rule, _rule(stored))

    def module(
        self,
        module_id: str,
        stored: Mapping[str, Any] | None = None,
        stored_categories: Mapping[str, Mapping[str, Any]] | None = None,
        category_id: str = "",
    ) -> Sight:
        """The viewer's sight of a module: its own rule, capped by its category's."""
        current = self.site.module(module_id)
        own = AccessRule(current.config.access, tuple(current.config.allow)) if current else None
        now = current.config.category if current else ""
        then = str((stored or {}).get("category", ""))
        categories = {c for c in (now, then) if c} or {category_id}
        entries = stored_categories or {}
        return min(
            self._sight(own, _rule(stored)),
            *(self.category(c, entries.get(c)) for c in categories),
        )
