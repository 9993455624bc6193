"""What the site says about a metric besides its values: its unit and the thresholds rating it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ...config.site import Site
from ...rules import Rule
from ...units import distinct, unit_of


@dataclass(frozen=True)
class Threshold:
    """A limit a rule draws on a metric: its value, written in the unit, and its level."""

    value: float
    text: str
    level: str  # "warning" or "critical"
    op: str


def rules_on(rules: Sequence[Rule], metric: str) -> list[Rule]:
    """The rules that judge `metric`: by its name or a glob matching it."""
    return [r for r in rules if r.metric == metric or (r.is_glob and fnmatchcase(metric, r.metric))]


def site_rules(site: Site, module_id: str) -> tuple[Rule, ...]:
    """The rules the site's configuration gives a module now; none for a removed one."""
    instance = site.module(module_id)
    return instance.rules if instance is not None else ()


def metric_unit(site: Site, module_id: str, metric: str, rules: Sequence[Rule] = ()) -> str:
    """The metric's unit: a rule's on it, else the one its module declares; "" for none."""
    for rule in rules_on(rules or site_rules(site, module_id), metric):
        if rule.unit:
            return rule.unit
    instance = site.module(module_id)
    return unit_of(metric, instance.module.units()) if instance is not None else ""


def thresholds(site: Site, module_id: str, metric: str) -> list[Threshold]:
    """The warning and critical limits the module's rules set on the metric, to draw them."""
    unit = metric_unit(site, module_id, metric)
    found = [
        (value, level, rule.op)
        for rule in rules_on(site_rules(site, module_id), metric)
        for value, level in ((rule.warning, "warning"), (rule.critical, "critical"))
        if value is not None
    ]
    texts = distinct([value for value, _, _ in found], unit)
    return [
        Threshold(value, text, level, op)
        for (value, level, op), text in zip(found, texts, strict=True)
    ]
