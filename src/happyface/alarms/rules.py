"""Which subjects an alarm watches, and what it tells whom about a subject's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..config.alarms import AlarmRule, Event, matches
from ..quality import Quality
from ..status import Status
from .detect import Detection, Level, State, level_of_quality
from .records import Subject

DOWNTIME = "downtime"
ACKNOWLEDGED = "acknowledged"

_EVENT_OF_LEVEL = {
    Level.OK: Event.RECOVERY,
    Level.UNHAPPY: Event.UNHAPPY,
    Level.ERROR: Event.ERROR,
    Level.FLAPPING: Event.FLAPPING,
    Level.STALE: Event.STALE,
    Level.UNREACHABLE: Event.UNREACHABLE,
    Level.UNPARSEABLE: Event.UNPARSEABLE,
    Level.FORMAT_CHANGED: Event.FORMAT_CHANGED,
}


def detection(rule: AlarmRule) -> Detection:
    """The detector parameters an alarm asks for."""
    return Detection(rule.confirm, rule.flapping_changes, rule.flapping_window, rule.for_)


def watched(
    rule: AlarmRule, modules: Mapping[str, Status], categories: Mapping[str, Status]
) -> list[tuple[Subject, Status]]:
    """The subjects of one run that an alarm watches, with their status in that run."""
    found = [(Subject("module", m), s) for m, s in modules.items() if matches(rule.modules, m)]
    found += [
        (Subject("category", c), s) for c, s in categories.items() if matches(rule.categories, c)
    ]
    return found


def watched_sources(rule: AlarmRule, sources: Mapping[str, Quality]) -> list[tuple[Subject, Level]]:
    """The sources of one run that an alarm on data quality watches, with their level."""
    return [
        (Subject("source", key), level_of_quality(quality))
        for key, quality in sources.items()
        if matches(rule.sources, key)
    ]


@dataclass(frozen=True)
class Outgoing:
    """One event to tell some channels about, or to log as silenced."""

    event: Event
    channels: tuple[str, ...]
    key_suffix: str = ""
    suppressed: str = ""


def decide(
    state: State, changed: bool, rule: AlarmRule, t: datetime, quiet: str
) -> tuple[State, list[Outgoing]]:
    """What to tell about a state at `t`, and the state once told.

    `changed` says the confirmed level changed in this run; `quiet` is why nothing may be sent
    now ("downtime", "acknowledged") or empty. A change that could not be told is told later,
    when nothing silences it any more, if it still holds.
    """
    if state.confirmed is not state.notified:
        return _tell_change(state, changed, rule, t, quiet)
    if quiet or not state.confirmed.is_bad or state.confirmed is Level.FLAPPING:
        return state, []
    if state.notified_at is None:  # a bad level this alarm does not report
        return state, []
    return _follow_up(state, rule, t)


def _tell_change(
    state: State, changed: bool, rule: AlarmRule, t: datetime, quiet: str
) -> tuple[State, list[Outgoing]]:
    event = _EVENT_OF_LEVEL[state.confirmed]
    if event is Event.RECOVERY:
        return _tell_recovery(state, changed, rule, quiet)
    if event.value not in rule.reported:
        return replace(state, notified=state.confirmed, notified_at=None, stage=0), []
    if quiet:
        silenced = [Outgoing(event, tuple(rule.notify), suppressed=quiet)]
        return state, silenced if changed else []
    fresh = state.notified in (Level.OK, Level.FLAPPING) or state.notified_at is None
    told = replace(
        state,
        notified=state.confirmed,
        notified_at=t if fresh else state.notified_at,
        stage=0 if fresh else state.stage,
        last_sent_at=t,
    )
    return told, [Outgoing(event, _reached(rule, told))]


def _tell_recovery(
    state: State, changed: bool, rule: AlarmRule, quiet: str
) -> tuple[State, list[Outgoing]]:
    # a recovery is worth telling only to those who heard of the problem
    if state.notified_at is None or Event.RECOVERY.value not in rule.reported:
        return _recovered(state), []
    out = Outgoing(Event.RECOVERY, _reached(rule, state))
    if quiet == DOWNTIME:  # an acknowledgement, unlike a downtime, lets a recovery through
        return state, [replace(out, suppressed=quiet)] if changed else []
    return _recovered(state), [out]


def _recovered(state: State) -> State:
    return replace(state, notified=Level.OK, notified_at=None, stage=0, last_sent_at=None)


def _follow_up(state: State, rule: AlarmRule, t: datetime) -> tuple[State, list[Outgoing]]:
    """Escalation stages that fell due, then a reminder if one is due."""
    since = state.notified_at
    assert since is not None
    out: list[Outgoing] = []
    for index, stage in enumerate(rule.escalate[state.stage :], start=state.stage):
        if since + timedelta(seconds=stage.after) > t:
            break
        out.append(Outgoing(Event.ESCALATION, tuple(stage.notify), key_suffix=str(index + 1)))
        state = replace(state, stage=index + 1, last_sent_at=t)
    last = state.last_sent_at or since
    if rule.reminder and not out and last + timedelta(seconds=rule.reminder) <= t:
        out.append(Outgoing(Event.REMINDER, _reached(rule, state)))
        state = replace(state, last_sent_at=t)
    return state, out


def _reached(rule: AlarmRule, state: State) -> tuple[str, ...]:
    """The first channels and those of every escalation stage reached, each once."""
    channels = list(rule.notify)
    for stage in rule.escalate[: state.stage]:
        channels += [c for c in stage.notify if c not in channels]
    return tuple(channels)
