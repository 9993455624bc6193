"""Settings a module type no longer has, and the config error that says what to write instead.

A site's old setting must never be silently ignored: a threshold that became a rule is
answered with the rules to write, the type's defaults with the site's own values in them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .rules import Rule

Level = Literal["warning", "critical"]


@dataclass(frozen=True)
class BecameRule:
    """The setting's value is now a threshold of the type's default rule(s) on these metrics."""

    targets: tuple[tuple[str, Level], ...]


@dataclass(frozen=True)
class Renamed:
    """The setting keeps its meaning under another name."""

    new: str


Retired = BecameRule | Renamed


def retired_problems(
    type_name: str,
    retired: Mapping[str, Retired],
    settings: Mapping[str, Any],
    defaults: Sequence[Rule],
) -> list[str]:
    """One sentence per kind of retired setting this module still gives; none when it gives none."""
    given = {k: v for k, v in settings.items() if k in retired}
    renamed = {k: r.new for k in given if isinstance(r := retired[k], Renamed)}
    problems = [
        f"settings.{old}: type {type_name!r} calls this setting `{new}` now; rename it"
        for old, new in renamed.items()
    ]
    moved = {k: (r, v) for k, v in given.items() if isinstance(r := retired[k], BecameRule)}
    if moved:
        problems.append(_as_rules(type_name, moved, defaults))
    return problems


def _as_rules(
    type_name: str, moved: Mapping[str, tuple[BecameRule, Any]], defaults: Sequence[Rule]
) -> str:
    rules, targets = list(defaults), set()
    for spec, value in moved.values():
        for metric, level in spec.targets:
            rules = [_with(r, level, value) if r.metric == metric else r for r in rules]
            targets.add(metric)
    listed = ", ".join(r.as_toml() for r in rules if r.metric in targets)
    keys = ", ".join(f"`{k}`" for k in moved)
    return (
        f"settings: {keys} of type {type_name!r} are thresholds of rules now; remove them and "
        f"write `rules = [{listed}]` in this [[module]], above any [module.settings] line (a rule "
        "you write replaces the type's default rule on the same metric)"
    )


def _with(rule: Rule, level: Level, value: Any) -> Rule:
    """The rule with the old setting's value as its threshold (checked when the site writes it)."""
    return rule.model_copy(update={level: value})
