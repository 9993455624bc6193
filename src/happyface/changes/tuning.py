"""The detector's parameters, from `[site.changes]`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """How the detector weighs evidence; see `ChangeSettings` for each one's meaning."""

    window: float = 30 * 86400.0
    min_relative: float = 0.1
    penalty: float = 20.0
    confirm: int = 6
    #: seconds of history a series needs before it is judged: its daily cycle is measured on
    #: the points with a whole day around them and must repeat, so three days
    warmup: float = 3 * 86400.0
