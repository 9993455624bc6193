"""The status model: scores, severities and how categories roll modules up."""

import pytest

from happyface import Algorithm, Kind, Status
from happyface.status import Rated, category_status, counted_status, needs_attention

H, N, U, E, NI = Status.HAPPY, Status.NEUTRAL, Status.UNHAPPY, Status.ERROR, Status.NOINFO
WORST = Algorithm.WORST


def members(*statuses: Status, kind: Kind = Kind.RATED) -> list[Rated]:
    return [Rated(s, kind) for s in statuses]


def test_classic_scores() -> None:
    assert [s.score for s in (H, N, U, E, NI)] == [1.0, 0.5, 0.0, -1.0, -2.0]


@pytest.mark.parametrize("status", list(Status))
def test_score_round_trips(status: Status) -> None:
    assert Status.from_score(status.score) is status


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_all_failed_is_error_not_happy(algorithm: Algorithm) -> None:
    assert category_status(members(E, E), algorithm) is E


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_no_member_with_data_is_noinfo(algorithm: Algorithm) -> None:
    assert category_status(members(NI, kind=Kind.UNRATED), algorithm) is NI
    assert category_status([], algorithm) is NI


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_only_unrated_members_decide_as_far_as_a_warning(algorithm: Algorithm) -> None:
    # the news category: its only module is unrated and shows a warning
    assert category_status(members(N, kind=Kind.UNRATED), algorithm) is N
    assert category_status(members(U, kind=Kind.UNRATED), algorithm) is N
    assert category_status(members(H, kind=Kind.UNRATED), algorithm) is H
    assert category_status(members(E, kind=Kind.PLOTS), algorithm) is N


def test_worst_takes_unhappy_over_error_and_error_over_happy() -> None:
    assert category_status(members(H, E, U), Algorithm.WORST) is U
    assert category_status(members(H, E), Algorithm.WORST) is E
    assert category_status(members(H, N), Algorithm.WORST) is N


def test_unrated_and_plots_count_as_a_warning_at_most() -> None:
    rated = members(H)
    assert category_status([*rated, Rated(H, Kind.UNRATED), Rated(NI, Kind.PLOTS)], WORST) is H
    assert category_status([*rated, Rated(U, Kind.UNRATED)], WORST) is N
    assert category_status([*rated, Rated(E, Kind.PLOTS)], WORST) is N
    assert category_status([*members(U), Rated(H, Kind.UNRATED)], WORST) is U
    assert category_status([*members(E, E), Rated(H, Kind.UNRATED)], WORST) is E


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("status", list(Status))
def test_a_module_needs_attention_exactly_when_it_keeps_its_category_from_happy(
    kind: Kind, status: Status
) -> None:
    alone = category_status([Rated(H), Rated(status, kind)], WORST)
    assert needs_attention(status, kind) is (alone is not H)
    assert (counted_status(status, kind) is None) is (kind is not Kind.RATED and status is NI)


def test_weighted_averages_by_weight() -> None:
    heavy_happy = [Rated(H, weight=3.0), Rated(U, weight=1.0)]
    assert category_status(heavy_happy, Algorithm.WEIGHTED) is H  # 0.75
    even = [Rated(H), Rated(U)]
    assert category_status(even, Algorithm.WEIGHTED) is N  # 0.5
    heavy_unhappy = [Rated(H, weight=1.0), Rated(U, weight=3.0)]
    assert category_status(heavy_unhappy, Algorithm.WEIGHTED) is U


def test_weighted_with_a_failure_is_never_happy() -> None:
    assert category_status(members(H, H, H, E), Algorithm.WEIGHTED) is N


def test_weighted_with_zero_weights_falls_back_to_worst() -> None:
    zero = [Rated(H, weight=0.0), Rated(N, weight=0.0)]
    assert category_status(zero, Algorithm.WEIGHTED) is N
