"""A metric curve held as columns: each `Point`, with its datetime, built only when read.

A 30-day raw curve is 2,880 points; building a datetime and a named tuple for each cost
more than reading and unpacking the month's packed days together. The columns come
straight from the packed days (times in microseconds since 1970, values as doubles), and a
reader that needs no datetimes (the plots' JSON, in milliseconds) reads them as they are.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import overload

from .records import EPOCH, INSTANT, Point


class Points(Sequence[Point]):
    """A curve's points, oldest first, as parallel columns; a sequence of `Point`.

    For raw samples the three value columns are one and the same: a sample is its own
    mean, minimum and maximum.
    """

    __slots__ = ("maxs", "micros", "mins", "values")

    def __init__(
        self,
        micros: array[int],
        values: array[float],
        mins: array[float] | None = None,
        maxs: array[float] | None = None,
    ) -> None:
        self.micros = micros  #: each point's time, in microseconds since 1970
        self.values = values
        self.mins = values if mins is None else mins
        self.maxs = values if maxs is None else maxs

    @classmethod
    def of(cls, points: Iterable[Point]) -> Points:
        """The columns of these points (aware datetimes)."""
        micros, values, mins, maxs = array("q"), array("d"), array("d"), array("d")
        for p in points:
            micros.append((p.t - EPOCH) // INSTANT)
            values.append(p.value)
            mins.append(p.min)
            maxs.append(p.max)
        return cls(micros, values, mins, maxs)

    def millis(self) -> list[int]:
        """Each point's time in whole milliseconds since 1970 (rounded down)."""
        return [t // 1000 for t in self.micros]

    def __len__(self) -> int:
        return len(self.micros)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> Points: ...

    def __getitem__(self, index: int | slice) -> Point | Points:
        i = index
        if isinstance(i, slice):
            return Points(self.micros[i], self.values[i], self.mins[i], self.maxs[i])
        return Point(
            EPOCH + timedelta(0, 0, self.micros[i]), self.values[i], self.mins[i], self.maxs[i]
        )

    def __iter__(self) -> Iterator[Point]:
        epoch, delta, point = EPOCH, timedelta, Point
        for t, value, low, high in zip(*self._columns(), strict=True):
            yield point(epoch + delta(0, 0, t), value, low, high)

    def __reversed__(self) -> Iterator[Point]:
        return (self[i] for i in range(len(self) - 1, -1, -1))

    def __eq__(self, other: object) -> bool:
        """Equal to a list, tuple or `Points` of the same points."""
        if not isinstance(other, Points | list | tuple):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Points({list(self)!r})"

    def _columns(self) -> tuple[array[int], array[float], array[float], array[float]]:
        return self.micros, self.values, self.mins, self.maxs
