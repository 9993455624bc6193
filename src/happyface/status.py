"""The status model: what a module or category is rated, and how categories roll modules up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """The rating of a module or a category at one run."""

    HAPPY = "happy"
    NEUTRAL = "neutral"
    UNHAPPY = "unhappy"
    NOINFO = "noinfo"  # no data for that time, or not authorised to see it
    ERROR = "error"  # fetching or parsing failed: a technical problem, not a rating

    @property
    def score(self) -> float:
        """The float of the classic XML export (1, 0.5, 0, -1 for error, -2 for no info)."""
        return _SCORES[self]

    @property
    def severity(self) -> int:
        """How bad this status is; the `worst` algorithm takes the highest."""
        return _SEVERITY[self]

    @property
    def is_rating(self) -> bool:
        """True for happy, neutral and unhappy: a status that says something about the site."""
        return self in (Status.HAPPY, Status.NEUTRAL, Status.UNHAPPY)

    @classmethod
    def from_score(cls, score: float) -> Status:
        """The status the classic float stands for, with the old thresholds (0.66, 0.33)."""
        if score <= -1.5:
            return cls.NOINFO
        if score < 0:
            return cls.ERROR
        if score > 0.66:
            return cls.HAPPY
        if score > 0.33:
            return cls.NEUTRAL
        return cls.UNHAPPY


_SCORES = {
    Status.HAPPY: 1.0,
    Status.NEUTRAL: 0.5,
    Status.UNHAPPY: 0.0,
    Status.ERROR: -1.0,
    Status.NOINFO: -2.0,
}

# An error ranks above neutral so that a failure is never hidden behind a green neighbour,
# but below unhappy: a real problem at the site outranks a technical one.
_SEVERITY = {
    Status.HAPPY: 0,
    Status.NOINFO: 1,
    Status.NEUTRAL: 2,
    Status.ERROR: 3,
    Status.UNHAPPY: 4,
}


class Kind(StrEnum):
    """How a module counts towards its category (see `counted_status`)."""

    RATED = "rated"  # rated and counted in full
    UNRATED = "unrated"  # shown with its own status, counted as a warning at most
    PLOTS = "plots"  # shows plots: counted like an unrated module


class Algorithm(StrEnum):
    """How a category rolls up the statuses of its rated modules."""

    WORST = "worst"
    WEIGHTED = "weighted"


@dataclass(frozen=True)
class Rated:
    """One module's contribution to its category."""

    status: Status
    kind: Kind = Kind.RATED
    weight: float = 1.0


def counted_status(status: Status, kind: Kind) -> Status | None:
    """What one module brings to its category: the one rule for modules that are not rated.

    A rated module brings its own status. A module of another kind is shown with its own
    status, and whatever it shows is not ignored: a warning, problem or failure of it makes
    its category a warning (never a problem or an error, as it is not rated), a happy one
    counts as happy, and one without data brings nothing. The overview's list of modules that
    need attention, the category pages, the API, the exports and the alarms all follow this.
    """
    if kind is Kind.RATED:
        return status
    if status is Status.NOINFO:
        return None
    return Status.HAPPY if status is Status.HAPPY else Status.NEUTRAL


def needs_attention(status: Status, kind: Kind) -> bool:
    """True when the module keeps its category from being happy (see `counted_status`)."""
    counted = counted_status(status, kind)
    return counted is not None and counted is not Status.HAPPY


def category_status(members: Iterable[Rated], algorithm: Algorithm) -> Status:
    """Roll the members up into one status, each as `counted_status` says it counts.

    The rated members are rolled up by the algorithm. A category with no rated member that
    has data is as its other members say (no information without any); otherwise they can
    only make it worse, as far as a warning. A category whose rated members all failed is an
    error, and one with a failed member is never happy.
    """
    members = list(members)
    rated = [m for m in members if m.kind is Kind.RATED]
    others = [
        counted
        for m in members
        if m.kind is not Kind.RATED and (counted := counted_status(m.status, m.kind)) is not None
    ]
    status = _rated_status(rated, algorithm)
    if status is Status.NOINFO and others:
        return max(others, key=lambda s: s.severity)
    return max([status, *others], key=lambda s: s.severity)


def _rated_status(rated: list[Rated], algorithm: Algorithm) -> Status:
    if not rated:
        return Status.NOINFO
    ratings = [m for m in rated if m.status.is_rating]
    if not ratings:
        return Status.ERROR if any(m.status is Status.ERROR for m in rated) else Status.NOINFO
    if algorithm is Algorithm.WORST:
        return max((m.status for m in rated), key=lambda s: s.severity)
    status = _weighted(ratings)
    if status is Status.HAPPY and any(m.status is Status.ERROR for m in rated):
        return Status.NEUTRAL
    return status


def _weighted(ratings: list[Rated]) -> Status:
    total_weight = sum(m.weight for m in ratings)
    if total_weight <= 0:
        return max((m.status for m in ratings), key=lambda s: s.severity)
    score = sum(m.status.score * m.weight for m in ratings) / total_weight
    return Status.from_score(score)
