"""Detection: hysteresis and flapping over the statuses of successive runs, one subject at a time.

The detector is pure: it takes a state and one observation and gives the next state and the
confirmed change, if any. Storing states and acting on changes is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ..quality import Quality
from ..status import Status


class Level(StrEnum):
    """What an alarm cares about in a status or a source's quality; `flapping` is its own."""

    OK = "ok"
    UNHAPPY = "unhappy"
    ERROR = "error"
    FLAPPING = "flapping"
    STALE = "stale"
    UNREACHABLE = "unreachable"
    UNPARSEABLE = "unparseable"
    FORMAT_CHANGED = "format_changed"

    @property
    def letter(self) -> str:
        """The level in a state's stored history, one letter each."""
        return _LETTERS[self]

    @property
    def is_bad(self) -> bool:
        return self is not Level.OK


# the first letter, except where two levels share it
_LETTERS = {level: level.value[0] for level in Level} | {
    Level.UNREACHABLE: "r",
    Level.UNPARSEABLE: "p",
    Level.FORMAT_CHANGED: "c",
}
_BY_LETTER = {letter: level for level, letter in _LETTERS.items()}
_OF_QUALITY = {
    Quality.FRESH: Level.OK,
    Quality.STALE: Level.STALE,
    Quality.UNREACHABLE: Level.UNREACHABLE,
    Quality.UNPARSEABLE: Level.UNPARSEABLE,
    Quality.FORMAT_CHANGED: Level.FORMAT_CHANGED,
}


def level_of_quality(quality: Quality) -> Level:
    """The level a source's data quality means for an alarm on sources."""
    return _OF_QUALITY[quality]


def level_of(status: Status) -> Level | None:
    """The level a status means; None for no information, which neither confirms nor breaks."""
    if status is Status.UNHAPPY:
        return Level.UNHAPPY
    if status is Status.ERROR:
        return Level.ERROR
    if status is Status.NOINFO:
        return None
    return Level.OK  # neutral is a warning shown on the page, not worth waking anybody


@dataclass(frozen=True)
class Detection:
    """The detector's parameters: hysteresis and what counts as flapping."""

    confirm: int = 2
    flapping_changes: int = 4
    flapping_window: int = 12
    #: seconds a bad level must also have lasted, from the first run that showed it
    lasting: float = 0.0

    @property
    def calm_changes(self) -> int:
        """Flapping ends at this many changes in the window or fewer (hysteresis)."""
        return max(0, self.flapping_changes // 2 - 1)


@dataclass(frozen=True)
class State:
    """One subject's detector state, as it is stored between runs."""

    confirmed: Level = Level.OK
    candidate: Level | None = None
    streak: int = 0
    candidate_since: datetime | None = None  # the start of the first run of the streak
    history: str = ""  # the levels of the last runs, oldest first, one letter each
    notified: Level = Level.OK
    notified_at: datetime | None = None
    stage: int = 0
    last_sent_at: datetime | None = None
    last_run_id: int = 0

    @property
    def changes(self) -> int:
        """How often the level changed within the remembered runs."""
        return sum(a != b for a, b in zip(self.history, self.history[1:], strict=False))

    def recent(self, runs: int) -> list[Level]:
        """The levels of the last `runs` runs, oldest first."""
        return [_BY_LETTER[c] for c in self.history[-runs:]]


def observe(
    state: State, level: Level | None, run_id: int, params: Detection, t: datetime | None = None
) -> State:
    """The state after one more run (started at `t`); `confirmed` holds the level that counts.

    `t` is needed only when `params.lasting` is set: without it a streak has no duration.
    """
    if level is None:
        return replace(state, last_run_id=run_id)
    history = (state.history + level.letter)[-params.flapping_window :]
    state = replace(state, history=history, last_run_id=run_id)
    if state.confirmed is Level.FLAPPING:
        return _while_flapping(state, level, params)
    if state.changes >= params.flapping_changes:
        return _settled(state, Level.FLAPPING)
    return _hysteresis(state, level, params, t)


def _settled(state: State, confirmed: Level) -> State:
    """`state` with `confirmed` counting and no candidate level left."""
    return replace(state, confirmed=confirmed, candidate=None, streak=0, candidate_since=None)


def _hysteresis(state: State, level: Level, params: Detection, t: datetime | None) -> State:
    """A different level counts once it has held for `confirm` runs in a row.

    A bad level must also have lasted `lasting` seconds since the first run of its streak.
    """
    if level is state.confirmed:
        return _settled(state, state.confirmed)
    if level is state.candidate:
        streak, since = state.streak + 1, state.candidate_since
    else:
        streak, since = 1, t
    if streak >= params.confirm and _lasted(level, since, t, params.lasting):
        return _settled(state, level)
    return replace(state, candidate=level, streak=streak, candidate_since=since)


def _lasted(level: Level, since: datetime | None, t: datetime | None, lasting: float) -> bool:
    if not lasting or not level.is_bad:
        return True  # a recovery is confirmed by `confirm` alone
    if since is None or t is None:
        return False
    return t - since >= timedelta(seconds=lasting)


def _while_flapping(state: State, level: Level, params: Detection) -> State:
    """Flapping ends when the window has calmed down and the last runs agree."""
    settled = state.recent(params.confirm)
    calm = state.changes <= params.calm_changes
    if calm and len(settled) == params.confirm and all(s is level for s in settled):
        return _settled(state, level)
    return state
