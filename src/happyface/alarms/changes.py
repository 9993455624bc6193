"""Change alarms: a module is troubled while a matching change of one of its series holds.

The detector's hysteresis, acknowledgements and downtimes then apply as for statuses: the
module's level for such an alarm is unhappy while the newest change of one of its series
matches the alarm (direction, relative size) and has held for `min_duration`, ok otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from ..changes.query import series_label
from ..config.alarms import AlarmRule, matches
from ..status import Status
from ..storage.changes import ChangePoint

ChangeKey = tuple[str, str]


def matching(rule: AlarmRule, change: ChangePoint, t: datetime) -> bool:
    """True when `change` is one `rule` fires on, at `t`."""
    if not matches(rule.metrics, series_label(change.metric)):
        return False
    if rule.change != "any" and (change.kind != "level" or change.direction != rule.change):
        return False
    held = t - change.at >= timedelta(seconds=rule.min_duration)
    return held and abs(change.relative) >= rule.min_relative


def change_statuses(
    rule: AlarmRule,
    modules: Iterable[str],
    latest: Mapping[ChangeKey, ChangePoint],
    t: datetime,
) -> tuple[dict[str, Status], dict[str, str]]:
    """Each watched module as unhappy (a matching change holds) or happy; and why."""
    watched = {m for m in modules if matches(rule.modules, m)}
    statuses = dict.fromkeys(watched, Status.HAPPY)
    notes: dict[str, str] = {}
    for (module_id, _), change in sorted(latest.items()):
        if module_id in watched and matching(rule, change, t):
            statuses[module_id] = Status.UNHAPPY
            notes[module_id] = describe(change)
    return statuses, notes


def describe(change: ChangePoint) -> str:
    """One line for a notification: what changed, when, from what to what."""
    what = "spread" if change.kind == "variance" else "level"
    unit = " per hour" if change.measure == "rate" else ""
    before, after = (
        (change.sd_before, change.sd_after)
        if change.kind == "variance"
        else (change.before, change.after)
    )
    return (
        f"{series_label(change.metric)}: {what} {change.direction} from {before:.4g} to "
        f"{after:.4g}{unit} ({change.relative:+.0%}) since {change.at:%Y-%m-%d %H:%M} UTC"
    )
