"""Why a module has its status: the rules that fired, their values, and since when they fire.

A run stores each module's status and message, not the verdicts behind them. The rules are
stored with the run's configuration, and the metrics with its result, so the verdicts are
found again by evaluating the same rules on the same numbers: what the page says is exactly
what rated the module, for a past run as for the newest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ...config.site import Site
from ...reasons import RELATIONS
from ...rules import Rule, Verdict, evaluate, with_unit
from ...status import Status
from ...units import distinct
from ..viewdata import StatusView
from .box_data import Reason

if TYPE_CHECKING:
    from ...storage import ResultRow
    from ..access import ScopedStore

log = logging.getLogger(__name__)

#: how far back the start of a firing streak is looked for
LOOKBACK = timedelta(days=7)
#: a streak whose first firing run is this close to the start of the history read began earlier
BEFORE_MARGIN = timedelta(hours=2)
#: reasons a box leads with; a family of a hundred metrics is summed up by the message
MAX_REASONS = 10


@dataclass(frozen=True)
class Fired:
    """A verdict and the rule that gave it."""

    rule: Rule
    verdict: Verdict


def run_rules(meta: Mapping[str, Any], site: Site) -> list[Rule]:
    """The rules stored with the run's configuration, each with its metric's unit."""
    instance = site.module(str(meta.get("id", "")))
    units = instance.module.units() if instance is not None else {}
    rules = []
    for data in meta.get("rules", []):
        try:
            rules.append(with_unit(Rule.model_validate(data), units))
        except ValidationError:  # a rule of an older version this one no longer reads
            log.warning("module %s: stored rule %r cannot be read", meta.get("id"), data)
    return rules


def fired(rules: Sequence[Rule], row: ResultRow | None) -> list[Fired]:
    """The verdicts that crossed a threshold in this result, worst first, in rule order.

    Only a rated module has them: an error, or no data (a source down or stale, greyed), is
    never explained by a rating of data that is not trusted.
    """
    if row is None or row.status not in (Status.NEUTRAL, Status.UNHAPPY):
        return []
    found = [
        Fired(rule, v)
        for rule in rules
        for v in evaluate(rule, row.metrics, row.message)
        if v.value is not None and v.threshold is not None
    ]
    return sorted(found, key=lambda f: -f.verdict.status.severity)[:MAX_REASONS]


def reason(item: Fired, status: StatusView) -> Reason:
    """A fired verdict as the page shows it; `status` is its status as the pages show one."""
    verdict, rule = item.verdict, item.rule
    value, threshold = verdict.value or 0.0, verdict.threshold or 0.0
    value_text, threshold_text = distinct([value, threshold], rule.unit)
    return Reason(
        status=status,
        text=verdict.message,
        metric=verdict.metric,
        unit=rule.unit,
        value=value,
        value_text=value_text,
        threshold=threshold,
        threshold_text=threshold_text,
        relation=RELATIONS[rule.op],
    )


def by_metric(reasons: Sequence[Reason]) -> dict[str, Reason]:
    """The reason of each metric; reasons come worst first, so two rules on one show the worse."""
    found: dict[str, Reason] = {}
    for r in reasons:
        found.setdefault(r.metric, r)
    return found


def message_rest(message: str, reasons: Sequence[Reason]) -> str:
    """The parts of a message that are not the reasons shown: the module's own words."""
    texts = {r.text for r in reasons}
    parts = [p for p in message.split("; ") if p not in texts and not p.startswith("and ")]
    return "; ".join(parts) if len(parts) < len(message.split("; ")) else message


def with_since(
    reasons: Sequence[Reason],
    items: Sequence[Fired],
    store: ScopedStore,
    module_id: str,
    until: datetime,
) -> list[Reason]:
    """The reasons (made of `items`) with the first run of the streak in which each fired."""
    out = []
    for shown, item in zip(reasons, items, strict=True):
        verdict = item.verdict
        since, before = firing_since(
            store, module_id, item.rule, verdict.metric, verdict.status, until
        )
        out.append(replace(shown, since=since, since_before=before))
    return out


def firing_since(
    store: ScopedStore, module_id: str, rule: Rule, metric: str, status: Status, until: datetime
) -> tuple[datetime | None, bool]:
    """Since when the rule has fired on the metric at `status` or worse without a break, and
    whether that streak reaches back past the history read (then it began before)."""
    start = until - LOOKBACK
    points = store.metric_series(module_id, metric, start, until)
    since = None
    for point in reversed(points):
        verdicts = evaluate(rule, {metric: point.value})
        if not any(v.status.severity >= status.severity for v in verdicts):
            return since, False
        since = point.t
    return since, since is not None and since - start < BEFORE_MARGIN
