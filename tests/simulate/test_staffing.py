"""find_staff: lands on Erlang C where its assumptions hold, searches once per count."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.simulate import staffing
from supportflow.simulate.engine import Simulation
from supportflow.simulate.erlang import REAL_DESK_DIFFERENCES
from supportflow.simulate.results import Estimate, summarize
from supportflow.simulate.scenario import Scenario, load_scenario
from supportflow.simulate.staffing import (
    StaffingResult,
    Trial,
    erlang_reference,
    find_staff,
    reasons_for,
)

WITHIN = timedelta(seconds=20)
ERLANG = load_scenario("erlang").with_changes(duration=timedelta(hours=24))
"""Erlang C's own desk for a day: 120 tickets/h, 6 min each; Erlang C says 16 for 80%/20 s."""


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record (agents, seed) of every Simulation find_staff builds."""
    built: list[tuple[int, int]] = []

    class Counting(Simulation):
        def __init__(self, scenario: Scenario, **kwargs: Any) -> None:
            super().__init__(scenario, **kwargs)
            built.append((scenario.agents[0].count, self.seed))

    monkeypatch.setattr(staffing, "Simulation", Counting)
    return built


@pytest.fixture(scope="module")
def cautious() -> tuple[StaffingResult, list[tuple[int, int]], list[Trial]]:
    """The default (lower-bound) rule on the day-long Erlang desk, with a spy on runs."""
    reported: list[Trial] = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        built = _counting(monkeypatch)
        result = find_staff(
            ERLANG, group="agent", target_share=0.8, within=WITHIN, progress=reported.append
        )
    return result, built, reported


@pytest.fixture(scope="module")
def expected() -> StaffingResult:
    """The point-estimate rule on the same desk and seed."""
    return find_staff(ERLANG, group="agent", target_share=0.8, within=WITHIN, rule="estimate")


def test_lower_bound_rule_lands_within_one_of_erlang_c(cautious: Any) -> None:
    result, _, _ = cautious
    assert result.erlang_count == 16
    assert result.chosen is not None
    assert abs(result.chosen - 16) <= 1
    assert result.reasons == ()


def test_point_estimate_rule_lands_within_one_of_erlang_c(expected: StaffingResult) -> None:
    assert expected.chosen is not None
    assert abs(expected.chosen - 16) <= 1


def test_lower_bound_rule_never_asks_for_fewer_than_the_point_estimate(
    cautious: Any, expected: StaffingResult
) -> None:
    result, _, _ = cautious
    assert result.chosen >= expected.chosen


def test_no_count_is_simulated_twice(cautious: Any) -> None:
    result, built, reported = cautious
    counts = [trial.count for trial in result.trials]
    assert len(counts) == len(set(counts))
    assert built == [(count, ERLANG.seed) for count in counts]
    assert reported == list(result.trials)


def test_chosen_count_meets_and_the_one_below_does_not(cautious: Any) -> None:
    result, _, _ = cautious
    by_count = {trial.count: trial for trial in result.trials}
    assert by_count[result.chosen].meets
    assert result.chosen - 1 in by_count
    assert not by_count[result.chosen - 1].meets
    assert by_count[result.chosen].within.low >= 0.8


def test_more_agents_never_lower_the_share_beyond_the_interval(
    cautious: Any, expected: StaffingResult
) -> None:
    trials = {t.count: t for t in (*cautious[0].trials, *expected.trials)}
    counts = sorted(trials)
    assert len(counts) >= 3
    for fewer, more in itertools.pairwise(counts):
        assert trials[more].within.value >= trials[fewer].within.low
        assert trials[more].utilisation < trials[fewer].utilisation


def test_the_same_count_and_seed_give_the_same_estimate(
    cautious: Any, expected: StaffingResult
) -> None:
    """Determinism: both searches simulated 16 agents with the scenario's seed."""
    mine = {t.count: t.within for t in cautious[0].trials}
    theirs = {t.count: t.within for t in expected.trials}
    for count in mine.keys() & theirs.keys():
        assert mine[count] == theirs[count]


def test_lines_show_every_trial_the_answer_and_erlang_c(cautious: Any) -> None:
    result, _, _ = cautious
    text = "\n".join(result.lines())
    assert "80% of first responses within 20 s" in text
    assert "lower end of the 95% interval" in text
    assert f"smallest team meeting the target: {result.chosen} agents" in text
    assert "Erlang C: 16 agents in group agent for 120 tickets/h" in text
    assert "mean handling 6 min (exponential)" in text
    assert "meets Erlang C's assumptions" in text
    for trial in result.trials:
        assert f"{trial.count} agents: " in text


def test_estimate_matches_the_summary_definition() -> None:
    """One replication's share is exactly what summarize reports for the same run."""
    scenario = load_scenario("erlang").with_changes(duration=timedelta(hours=4))
    result = find_staff(
        scenario, group="agent", target_share=0.5, within=WITHIN, low=15, high=15, rule="estimate"
    )
    (trial,) = result.trials
    same = scenario.with_changes(first_response_target=WITHIN)
    summary = summarize(Simulation(same).run())
    assert trial.within == summary.within_target
    assert trial.tickets == summary.tickets


def test_replications_pool_their_batches() -> None:
    scenario = load_scenario("small")
    one = find_staff(scenario, group="agent", target_share=0.5, within=timedelta(hours=1), high=2)
    two = find_staff(
        scenario,
        group="agent",
        target_share=0.5,
        within=timedelta(hours=1),
        high=2,
        replications=2,
    )
    assert one.trials[0].within.batches == 20
    assert two.trials[0].within.batches == 40
    assert two.trials[0].tickets > one.trials[0].tickets


def test_a_target_out_of_reach_is_reported_not_met() -> None:
    """No team of at most `high` answers 99% at once: no answer, and the report says so."""
    result = find_staff(
        load_scenario("small"),
        group="agent",
        target_share=0.99,
        within=timedelta(0),
        high=2,
    )
    assert result.chosen is None
    assert [t.count for t in result.trials] == [2]  # monotone: 1 cannot meet it either
    text = "\n".join(result.lines())
    assert "not met with up to 2 agents in group agent" in text
    assert "why they differ:" in text
    for name in result.reasons:
        assert REAL_DESK_DIFFERENCES[name] in text
    assert "lognormal cv 0.8, not exponential" in text


def _fake_trial(threshold: int, calls: list[int]) -> Any:
    def trial(scenario: Scenario, index: int, count: int, *args: Any) -> Trial:
        calls.append(count)
        within = Estimate(1.0, 1.0, 1.0, 0.95, 20)
        return Trial(count, within, count >= threshold, 0, 0.0, 0.0)

    return trial


@settings(deadline=None, max_examples=200)
@given(
    threshold=st.integers(1, 80),
    low=st.integers(1, 40),
    span=st.integers(0, 40),
)
def test_search_finds_the_smallest_meeting_count_calling_each_once(
    threshold: int, low: int, span: int
) -> None:
    """With a monotone verdict, the answer is max(threshold, low), or None past high."""
    calls: list[int] = []
    high = low + span
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(staffing, "_trial", _fake_trial(threshold, calls))
        result = find_staff(
            ERLANG, group="agent", target_share=0.8, within=WITHIN, low=low, high=high
        )
    assert result.chosen == (max(threshold, low) if threshold <= high else None)
    assert len(calls) == len(set(calls))
    assert all(low <= count <= high for count in calls)


def test_search_near_erlang_c_needs_few_runs() -> None:
    calls: list[int] = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(staffing, "_trial", _fake_trial(17, calls))
        find_staff(ERLANG, group="agent", target_share=0.8, within=WITHIN)
    assert calls == [16, 17]


def test_reasons_follow_the_scenario() -> None:
    assert reasons_for(load_scenario("erlang")) == ()
    assert reasons_for(load_scenario("small")) == (
        "shifts",
        "concurrency",
        "handling",
        "calendar",
        "reply_delays",
    )
    assert set(reasons_for(load_scenario("default"))) == set(REAL_DESK_DIFFERENCES) - {
        "abandonment"
    }


def test_erlang_reference_counts_only_the_groups_team() -> None:
    """The documents' desk: technical gets a quarter of 16/h at 25 min; support has others."""
    desk = load_scenario("default")
    engineers = erlang_reference(desk, "engineer", 0.8, timedelta(hours=1))
    assert engineers.team == "technical"
    assert engineers.erlang.arrivals_per_hour == pytest.approx(4.0)
    assert engineers.erlang.handle_time == timedelta(minutes=25)
    assert engineers.others == 0
    specialists = erlang_reference(desk, "specialist", 0.8, timedelta(hours=1))
    assert specialists.others == 4
    assert specialists.count == max(1, specialists.team_agents - 4)
    assert not specialists.exponential


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"group": "nobody"}, "group", "groups: agent"),
        ({"group": 3}, "group", "no group"),
        ({"target_share": 0}, "target_share", "between 0 and 1"),
        ({"target_share": 1}, "target_share", "between 0 and 1"),
        ({"target_share": float("nan")}, "target_share", "number"),
        ({"target_share": True}, "target_share", "number"),
        ({"within": timedelta(seconds=-1)}, "within", "negative"),
        ({"within": 20}, "within", "timedelta"),
        ({"low": 0}, "low", "from 1"),
        ({"low": 2.5}, "low", "int"),
        ({"high": 10_001}, "high", "10,000"),
        ({"low": 5, "high": 4}, "high", "at least low"),
        ({"seed": -1}, "seed", "non-negative"),
        ({"replications": 0}, "replications", "from 1"),
        ({"rule": "median"}, "rule", "'lower' or 'estimate'"),
    ],
)
def test_bad_arguments_name_the_field(changes: dict[str, Any], field: str, words: str) -> None:
    arguments: dict[str, Any] = {"group": "agent", "target_share": 0.8, "within": WITHIN}
    arguments.update(changes)
    with pytest.raises(ValidationFailed) as caught:
        find_staff(ERLANG, **arguments)
    assert caught.value.field == field
    assert words in caught.value.reason


def test_a_group_that_takes_no_tickets_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        find_staff(load_scenario("small"), group="lead", target_share=0.8, within=WITHIN)
    assert caught.value.field == "group"
    assert "takes no tickets; groups that do: agent, senior" in caught.value.reason


def test_a_scenario_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        find_staff("erlang", group="agent", target_share=0.8, within=WITHIN)  # type: ignore[arg-type]
    assert caught.value.field == "scenario"
