"""The detector and the decisions on its states, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from happyface.alarms.detect import Detection, Level, State, level_of, observe
from happyface.alarms.rules import ACKNOWLEDGED, DOWNTIME, decide
from happyface.config.alarms import AlarmRule, Event
from happyface.status import Status

T = datetime(2024, 3, 5, tzinfo=UTC)
OK, BAD, ERR = Level.OK, Level.UNHAPPY, Level.ERROR
RULE = AlarmRule.model_validate({
    "id": "a", "modules": ["*"], "notify": ["first"], "reminder": "2h",
    "escalate": [{"after": "1h", "notify": ["second"]}, {"after": "3h", "notify": ["third"]}],
})  # fmt: skip


def confirmed_levels(levels: list[Level | None], params: Detection) -> list[Level]:
    state, seen = State(), []
    for run, level in enumerate(levels, start=1):
        state = observe(state, level, run, params)
        seen.append(state.confirmed)
    return seen


def test_statuses_map_to_levels() -> None:
    assert [level_of(s) for s in Status] == [OK, OK, BAD, None, ERR]


def test_a_change_counts_after_n_runs_in_a_row() -> None:
    params = Detection(confirm=3)
    assert confirmed_levels([BAD, BAD, OK, BAD, BAD, BAD, OK], params) == [
        OK, OK, OK, OK, OK, BAD, BAD
    ]  # fmt: skip


def test_no_information_neither_confirms_nor_breaks_a_streak() -> None:
    assert confirmed_levels([BAD, None, BAD], Detection(confirm=2)) == [OK, OK, BAD]


def test_flapping_is_confirmed_once_and_calms_down() -> None:
    params = Detection(confirm=2, flapping_changes=4, flapping_window=8)
    levels = [OK, BAD, OK, BAD, OK] + [OK] * 8
    seen = confirmed_levels(levels, params)
    assert seen[:4] == [OK] * 4 and seen[4] is Level.FLAPPING  # never confirmed unhappy
    # it calms down once at most one change is left in the window and the last runs agree
    assert seen[-1] is OK


def test_a_confirmed_problem_is_told_once_then_escalated_and_reminded() -> None:
    state = State(confirmed=BAD)
    state, out = decide(state, True, RULE, T, "")
    assert [(o.event, o.channels) for o in out] == [(Event.UNHAPPY, ("first",))]
    assert decide(state, False, RULE, T + timedelta(minutes=59), "")[1] == []
    state, out = decide(state, False, RULE, T + timedelta(hours=1), "")
    assert [(o.event, o.channels, o.key_suffix) for o in out] == [
        (Event.ESCALATION, ("second",), "1")
    ]
    state, out = decide(state, False, RULE, T + timedelta(hours=3), "")
    assert [(o.event, o.channels) for o in out] == [(Event.ESCALATION, ("third",))]
    state, out = decide(state, False, RULE, T + timedelta(hours=5), "")
    assert [(o.event, o.channels) for o in out] == [(Event.REMINDER, ("first", "second", "third"))]
    state, out = decide(replace(state, confirmed=OK), True, RULE,
                        T + timedelta(hours=6), "")  # fmt: skip
    assert [(o.event, o.channels) for o in out] == [(Event.RECOVERY, ("first", "second", "third"))]
    assert state.notified is OK and state.stage == 0


def test_a_downtime_defers_the_news_and_an_acknowledgement_lets_recovery_through() -> None:
    bad = State(confirmed=BAD)
    held, out = decide(bad, True, RULE, T, DOWNTIME)
    assert [o.suppressed for o in out] == ["downtime"] and held.notified is OK
    assert decide(held, False, RULE, T + timedelta(minutes=15), DOWNTIME)[1] == []
    told, out = decide(held, False, RULE, T + timedelta(hours=2), "")  # the downtime is over
    assert [o.event for o in out] == [Event.UNHAPPY]
    assert decide(told, False, RULE, T + timedelta(hours=9), ACKNOWLEDGED)[1] == []
    recovered = replace(told, confirmed=OK)
    assert [o.event for o in decide(recovered, True, RULE, T, ACKNOWLEDGED)[1]] == [Event.RECOVERY]


def test_a_recovery_nobody_heard_the_problem_of_is_not_told() -> None:
    rule = AlarmRule.model_validate({"id": "e", "modules": ["*"], "notify": ["x"],
                                     "on": ["error", "recovery"]})  # fmt: skip
    state, out = decide(State(confirmed=BAD), True, rule, T, "")
    assert out == [] and state.notified is BAD
    state, out = decide(replace(state, confirmed=OK), True, rule, T, "")
    assert out == [] and state.notified is OK


def test_every_level_keeps_its_own_letter_in_the_stored_history() -> None:
    letters = [level.letter for level in Level]
    assert len(set(letters)) == len(letters)
    state = State()
    for run, level in enumerate(Level, start=1):
        state = observe(state, level, run, Detection(flapping_window=20))
    assert state.recent(len(Level)) == list(Level)


def test_a_problem_with_for_counts_only_once_it_has_lasted_that_long() -> None:
    params = Detection(confirm=1, lasting=30 * 60)
    state = State()
    seen = []
    for run, minutes in enumerate((0, 15, 29, 30, 45), start=1):
        state = observe(state, Level.UNREACHABLE, run, params, T + timedelta(minutes=minutes))
        seen.append(state.confirmed)
    # the first run that showed it is the start: 30 minutes later it counts
    assert seen == [OK, OK, OK, Level.UNREACHABLE, Level.UNREACHABLE]
    # a recovery needs `confirm` runs only, and a new problem starts its time again
    state = observe(state, OK, 6, params, T + timedelta(minutes=60))
    assert state.confirmed is OK
    state = observe(state, Level.STALE, 7, params, T + timedelta(minutes=75))
    assert state.confirmed is OK and state.candidate_since == T + timedelta(minutes=75)


def test_a_broken_streak_starts_the_time_again() -> None:
    params = Detection(confirm=1, lasting=30 * 60)
    state = State()
    for run, (minutes, level) in enumerate(
        ((0, Level.UNREACHABLE), (15, OK), (30, Level.UNREACHABLE), (45, Level.UNREACHABLE)),
        start=1,
    ):
        state = observe(state, level, run, params, T + timedelta(minutes=minutes))
    assert state.confirmed is OK and state.candidate_since == T + timedelta(minutes=30)
    state = observe(state, Level.UNREACHABLE, 5, params, T + timedelta(minutes=60))
    assert state.confirmed is Level.UNREACHABLE
