"""Erlang C: the textbook figures, stable for large teams, monotone, and strict on input."""

from __future__ import annotations

import doctest
import math
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.simulate import erlang
from supportflow.simulate.erlang import (
    REAL_DESK_DIFFERENCES,
    ErlangC,
    differences,
    erlang_c,
    mean_wait,
    occupancy,
    service_level,
)

# Slack for comparisons across two float computations that are equal in exact arithmetic.
ROUNDING = 1e-12

REFERENCE = ErlangC(arrivals_per_hour=120, handle_time=timedelta(minutes=6))


def textbook_erlang_c(agents: int, load: float) -> float:
    """The closed form, summed term by term with factorials (fine for small teams)."""
    queued = load**agents / math.factorial(agents) * agents / (agents - load)
    free = sum(load**k / math.factorial(k) for k in range(agents))
    return queued / (free + queued)


def log_space_erlang_c(agents: int, load: float) -> float:
    """The same closed form with every term in logarithms, for teams factorials overflow."""
    logs = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents)]
    queued = agents * math.log(load) - math.lgamma(agents + 1) + math.log(agents / (agents - load))
    top = max([*logs, queued])
    total = top + math.log(sum(math.exp(x - top) for x in [*logs, queued]))
    return math.exp(queued - total)


def percent(share: float) -> float:
    return round(100 * share, 2)


def test_reference_desk_waits_and_answers_as_published() -> None:
    """120 tickets/h, 6 min handling, 15 agents: 31.92% wait, 80.64% within 60 s."""
    assert REFERENCE.load == pytest.approx(12.0)
    assert REFERENCE.occupancy(15) == pytest.approx(0.8)
    assert percent(REFERENCE.p_wait(15)) == 31.92
    assert percent(REFERENCE.service_level(15, within=timedelta(seconds=60))) == 80.64


def test_reference_desk_needs_16_agents_for_80_percent_within_20_s() -> None:
    within = timedelta(seconds=20)
    assert REFERENCE.agents_for(0.8, within=within) == 16
    assert percent(REFERENCE.service_level(16, within)) == 83.62
    assert REFERENCE.service_level(15, within) < 0.8


def test_reference_desk_describes_itself_in_one_line() -> None:
    assert REFERENCE.describe(15, within=timedelta(seconds=60)) == (
        "15 agents: load 12.0 Erlangs, occupancy 80.0%, P(wait) 31.92%, "
        "80.64% answered within 60 s, mean wait 38.3 s"
    )


def test_an_overloaded_team_is_described_as_unstable() -> None:
    line = REFERENCE.describe(12, within=timedelta(seconds=60))
    assert line.startswith("12 agents: load 12.0 Erlangs")
    assert "the queue grows without bound" in line


@pytest.mark.parametrize("load", [0.1, 0.5, 0.8, 0.95])
def test_one_agent_waits_with_probability_rho(load: float) -> None:
    """M/M/1: an arrival waits exactly when the agent is busy, a share ρ of the time."""
    assert erlang_c(1, load) == pytest.approx(load, rel=1e-12)


@pytest.mark.parametrize("load", [0.3, 1.0, 1.6, 1.9])
def test_two_agents_match_the_closed_form(load: float) -> None:
    assert erlang_c(2, load) == pytest.approx(textbook_erlang_c(2, load), rel=1e-12)
    # By hand for N = 2 the closed form reduces to A² / (2 + A).
    assert erlang_c(2, load) == pytest.approx(load**2 / (2 + load), rel=1e-12)


@pytest.mark.parametrize(("agents", "load"), [(3, 2.4), (7, 5.0), (20, 17.5), (40, 38.0)])
def test_small_teams_match_the_closed_form(agents: int, load: float) -> None:
    assert erlang_c(agents, load) == pytest.approx(textbook_erlang_c(agents, load), rel=1e-10)


def test_mean_wait_and_service_level_follow_from_p_wait() -> None:
    wait = textbook_erlang_c(7, 5.0)
    assert mean_wait(7, 5.0, 300) == pytest.approx(wait * 300 / 2, rel=1e-10)
    expected = 1 - wait * math.exp(-2 * 30 / 300)
    assert service_level(7, 5.0, 300, 30) == pytest.approx(expected, rel=1e-10)
    assert occupancy(7, 5.0) == pytest.approx(5 / 7)


def test_large_teams_stay_finite_and_match_log_space() -> None:
    """N = 500 at A = 480: A**N / N! overflows a float; the recursion does not."""
    with pytest.raises(OverflowError):
        _ = 480.0**500
    value = erlang_c(500, 480.0)
    assert 0 < value < 1
    assert value == pytest.approx(log_space_erlang_c(500, 480.0), rel=1e-9)


def test_a_large_desk_is_staffed_quickly() -> None:
    desk = ErlangC(arrivals_per_hour=3000, handle_time=timedelta(minutes=8))  # 400 Erlangs
    agents = desk.agents_for(0.9, within=timedelta(seconds=30))
    assert 400 < agents < 450
    assert (
        desk.service_level(agents, timedelta(seconds=30))
        >= 0.9
        > desk.service_level(agents - 1, timedelta(seconds=30))
    )


def test_no_load_means_no_wait() -> None:
    assert erlang_c(3, 0.0) == 0.0
    assert service_level(3, 0.0, 60, 0) == 1.0
    assert mean_wait(3, 0.0, 60) == 0.0
    assert (
        ErlangC(arrivals_per_hour=0, handle_time=timedelta(minutes=5)).agents_for(
            0.99, within=timedelta(0)
        )
        == 1
    )


@pytest.mark.parametrize("agents", [10, 12])
def test_a_load_at_or_above_the_team_never_settles(agents: int) -> None:
    """The queue grows without bound: everyone waits, forever on average."""
    assert erlang_c(agents, 12.0) == 1.0
    assert service_level(agents, 12.0, 360, 60) == 0.0
    assert mean_wait(agents, 12.0, 360) == math.inf
    assert occupancy(agents, 12.0) == 1.0


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=400), st.floats(min_value=0, max_value=500))
def test_p_wait_is_a_probability(agents: int, load: float) -> None:
    assert 0.0 <= erlang_c(agents, load) <= 1.0


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=300), st.floats(min_value=0, max_value=300))
def test_p_wait_falls_as_agents_are_added(agents: int, load: float) -> None:
    assert erlang_c(agents + 1, load) <= erlang_c(agents, load) + ROUNDING


@settings(deadline=None)
@given(
    st.integers(min_value=1, max_value=300),
    st.floats(min_value=0, max_value=300),
    st.floats(min_value=0, max_value=50),
)
def test_p_wait_rises_with_the_load(agents: int, load: float, more: float) -> None:
    assert erlang_c(agents, load) <= erlang_c(agents, load + more) + ROUNDING


stable_desks = st.integers(min_value=1, max_value=300).flatmap(
    lambda agents: st.tuples(
        st.just(agents),
        st.floats(min_value=0, max_value=0.99).map(lambda rho: rho * agents),
        st.floats(min_value=1, max_value=3600),
    )
)


@settings(deadline=None)
@given(
    stable_desks,
    st.floats(min_value=0, max_value=3600),
    st.floats(min_value=0, max_value=3600),
)
def test_service_level_rises_with_the_target_time(
    desk: tuple[int, float, float], target: float, more: float
) -> None:
    agents, load, handle = desk
    shorter = service_level(agents, load, handle, target)
    assert shorter <= service_level(agents, load, handle, target + more)


@settings(deadline=None)
@given(stable_desks, st.floats(min_value=0, max_value=3600))
def test_service_level_rises_as_agents_are_added(
    desk: tuple[int, float, float], target: float
) -> None:
    agents, load, handle = desk
    fewer = service_level(agents, load, handle, target)
    assert fewer <= service_level(agents + 1, load, handle, target) + ROUNDING


@settings(deadline=None)
@given(
    st.floats(min_value=0, max_value=1500),
    st.integers(min_value=10, max_value=1800),
    st.floats(min_value=0.05, max_value=0.99),
    st.integers(min_value=0, max_value=600),
)
def test_agents_for_is_the_smallest_team_meeting_the_target(
    arrivals: float, handle: int, share: float, within: int
) -> None:
    desk = ErlangC(arrivals_per_hour=arrivals, handle_time=timedelta(seconds=handle))
    target = timedelta(seconds=within)
    agents = desk.agents_for(share, within=target)
    assert agents > desk.load
    assert desk.service_level(agents, target) >= share
    assert agents - 1 <= desk.load or desk.service_level(agents - 1, target) < share


def test_differences_are_picked_by_name_in_order() -> None:
    picked = differences("abandonment", "concurrency")
    assert picked == [REAL_DESK_DIFFERENCES["abandonment"], REAL_DESK_DIFFERENCES["concurrency"]]
    assert set(REAL_DESK_DIFFERENCES) == {
        "shifts",
        "skills",
        "concurrency",
        "abandonment",
        "handling",
        "arrivals",
        "calendar",
        "reply_delays",
    }


def test_an_unknown_difference_lists_the_known_ones() -> None:
    with pytest.raises(ValidationFailed) as refused:
        differences("shifts", "weather")
    assert refused.value.field == "names"
    assert "'weather'" in refused.value.reason
    assert "reply_delays" in refused.value.reason


NAN = math.nan
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: erlang_c(0, 1.0), "agents"),
        (lambda: erlang_c(2.0, 1.0), "agents"),  # type: ignore[arg-type]
        (lambda: erlang_c(True, 0.5), "agents"),
        (lambda: erlang_c(2, -0.1), "load"),
        (lambda: erlang_c(2, NAN), "load"),
        (lambda: erlang_c(2, math.inf), "load"),
        (lambda: erlang_c(2, "1"), "load"),  # type: ignore[arg-type]
        (lambda: occupancy(-1, 1.0), "agents"),
        (lambda: mean_wait(2, 1.0, 0), "handle_seconds"),
        (lambda: service_level(2, 1.0, -60, 20), "handle_seconds"),
        (lambda: service_level(2, 1.0, NAN, 20), "handle_seconds"),
        (lambda: service_level(2, 1.0, 60, -1), "target_seconds"),
        (lambda: service_level(2, 1.0, 60, NAN), "target_seconds"),
        (lambda: ErlangC(arrivals_per_hour=-1, handle_time=MINUTE), "arrivals_per_hour"),
        (lambda: ErlangC(arrivals_per_hour=NAN, handle_time=MINUTE), "arrivals_per_hour"),
        (lambda: ErlangC(arrivals_per_hour=10, handle_time=timedelta(0)), "handle_time"),
        (lambda: ErlangC(arrivals_per_hour=10, handle_time=60), "handle_time"),  # type: ignore[arg-type]
        (lambda: REFERENCE.agents_for(0.0, within=MINUTE), "target_share"),
        (lambda: REFERENCE.agents_for(1.0, within=MINUTE), "target_share"),
        (lambda: REFERENCE.agents_for(NAN, within=MINUTE), "target_share"),
        (lambda: REFERENCE.agents_for(0.8, within=-MINUTE), "within"),
        (lambda: REFERENCE.service_level(0, within=MINUTE), "agents"),
        (lambda: REFERENCE.describe(15, within=60), "within"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_the_field(call: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        call()
    assert refused.value.field == field
    assert isinstance(refused.value, ValueError)


def test_the_docstring_examples_run() -> None:
    results = doctest.testmod(erlang, raise_on_error=False, verbose=False)
    assert results.attempted > 0
    assert results.failed == 0
