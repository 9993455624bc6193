"""Detection: hysteresis and flapping over the statuses of successive runs, one subject at a time.

The detector is pure: it takes a state and one observation and gives the next state and the
confirmed change, if any. Storing states and acting on changes is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ..status import Status


class Level(StrEnum):
    """What an alarm cares about in a status; `flapping` is a level of its own."""

    OK = "ok"
    UNHAPPY = "unhappy"
    ERROR = "error"
    FLAPPING = "flapping"

    @property
    def letter(self) -> str:
        return self.value[0]

    @property
    def is_bad(self) -> bool:
        return self is not Level.OK


_BY_LETTER = {level.letter: level for level in Level}


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


def observe(state: State, level: Level | None, run_id: int, params: Detection) -> State:
    """The state after one more run; `confirmed` holds the level that now counts."""
    if level is None:
        return replace(state, last_run_id=run_id)
    history = (state.history + level.letter)[-params.flapping_window :]
    state = replace(state, history=history, last_run_id=run_id)
    if state.confirmed is Level.FLAPPING:
        return _while_flapping(state, level, params)
    if state.changes >= params.flapping_changes:
        return replace(state, confirmed=Level.FLAPPING, candidate=None, streak=0)
    return _hysteresis(state, level, params)


def _hysteresis(state: State, level: Level, params: Detection) -> State:
    """A different level counts once it has held for `confirm` runs in a row."""
    if level is state.confirmed:
        return replace(state, candidate=None, streak=0)
    streak = state.streak + 1 if level is state.candidate else 1
    if streak >= params.confirm:
        return replace(state, confirmed=level, candidate=None, streak=0)
    return replace(state, candidate=level, streak=streak)


def _while_flapping(state: State, level: Level, params: Detection) -> State:
    """Flapping ends when the window has calmed down and the last runs agree."""
    settled = state.recent(params.confirm)
    calm = state.changes <= params.calm_changes
    if calm and len(settled) == params.confirm and all(s is level for s in settled):
        return replace(state, confirmed=level, candidate=None, streak=0)
    return state
