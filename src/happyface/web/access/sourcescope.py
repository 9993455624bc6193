"""Sources as one viewer may see them: only those read by a module the viewer sees in full."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from ...storage.quality.read import SourceState


def visible_sources(
    states: Iterable[SourceState], sees: Callable[[SourceState, str], bool]
) -> list[SourceState]:
    """The states whose source the viewer sees a module of, naming those modules only.

    A source whose every reader is hidden or restricted is left out: its URL, its state and
    its history would tell of modules the viewer may not see.
    """
    shown = []
    for state in states:
        modules = tuple(m for m in state.modules if sees(state, m))
        if modules:
            greyed = {m: s for m, s in state.greyed.items() if m in modules}
            shown.append(replace(state, modules=modules, greyed=greyed))
    return shown
