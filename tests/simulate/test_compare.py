"""compare: same customers in both runs, paired intervals, and refusal of unpaired streams."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any

import pytest

from supportflow.errors import ValidationFailed
from supportflow.simulate.compare import Comparison, compare, paired_difference
from supportflow.simulate.scenario import Scenario, load_scenario

ERLANG = load_scenario("erlang").with_changes(duration=timedelta(hours=4))
WITHIN = timedelta(seconds=20)


def _agents(scenario: Scenario, count: int) -> Scenario:
    group = scenario.agents[0].model_dump(mode="python")
    group["count"] = count
    return scenario.with_changes(agents=[group], name=f"{count} agents")


@pytest.fixture(scope="module")
def itself() -> Comparison:
    return compare(ERLANG, ERLANG, seeds=(1, 2))


@pytest.fixture(scope="module")
def more_agents() -> Comparison:
    """15 against 17 agents on Erlang C's desk: 73% against 90% within 20 s in theory."""
    return compare(_agents(ERLANG, 15), _agents(ERLANG, 17), target=WITHIN)


def test_a_scenario_against_itself_differs_by_exactly_zero(itself: Comparison) -> None:
    """Same seeds give identical runs: every difference and its interval is 0."""
    assert itself.figures
    for figure in itself.figures:
        assert figure.a == figure.b
        diff = figure.difference
        assert (diff.value, diff.low, diff.high) == (0.0, 0.0, 0.0)
        assert diff.contains(0.0)
        assert not figure.clear
    assert all(a == b for a, b in itself.tickets)


def test_figures_of_a_run_without_sla_or_surveys(itself: Comparison) -> None:
    keys = [figure.key for figure in itself.figures]
    assert keys == ["within_target", "waited", "mean_wait", "utilisation", "resolved"]
    assert itself.target == ERLANG.first_response_target
    assert itself.method == "paired seeds"


def test_more_agents_answer_more_within_target(more_agents: Comparison) -> None:
    within = more_agents.figure("within_target")
    assert within.b > within.a
    assert within.difference.low > 0
    assert within.difference.batches == 5
    assert within.clear
    assert more_agents.figure("waited").difference.high < 0
    assert more_agents.figure("mean_wait").difference.high < 0


def test_the_same_arrivals_reach_both(more_agents: Comparison) -> None:
    assert more_agents.same_arrivals
    assert all(a == b for a, b in more_agents.tickets)
    assert more_agents.figure("resolved").difference.value == 0


def test_lines_render_a_table(more_agents: Comparison) -> None:
    lines = more_agents.lines()
    assert lines[:2] == ["A: 15 agents", "B: 17 agents"]
    assert "seeds 1, 2, 3, 4, 5: the same customers in both" in lines[2]
    assert "95% t intervals" in lines[3]
    assert lines[4].split() == ["figure", "A", "B", "B", "-", "A", "95%", "interval"]
    row = next(line for line in lines if line.startswith("first response within 20 s"))
    assert row.endswith(" pp *")
    assert lines[-1].startswith("* the interval excludes 0")
    json.dumps(more_agents.as_data())


def test_one_seed_pairs_tickets_by_batch_means() -> None:
    """One seed: per-ticket figures get batch-means intervals, run-level figures none."""
    result = compare(_agents(ERLANG, 15), _agents(ERLANG, 17), seeds=[3], target=WITHIN)
    assert result.method == "batch means"
    within = result.figure("within_target")
    assert within.difference.batches == 20
    assert within.difference.value == pytest.approx(within.b - within.a)
    assert within.difference.low < within.difference.value < within.difference.high
    assert result.figure("utilisation").difference.batches == 1
    assert not result.figure("utilisation").clear
    assert "no interval for run-level figures" in "\n".join(result.lines())


def test_sla_and_csat_figures_appear_when_the_desk_has_them() -> None:
    small = load_scenario("small")
    result = compare(small, small.with_changes(routing="round_robin"), seeds=(1, 2))
    keys = [figure.key for figure in result.figures]
    assert "sla.first_response" in keys
    assert "csat" in keys
    assert result.figure("sla.first_response").label == "SLA first response met"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"duration": timedelta(hours=5)}, ["duration"]),
        ({"arrivals": {"per_hour": 100}}, ["arrivals"]),
        ({"start": ERLANG.start + timedelta(days=1)}, ["start"]),
        ({"duration": timedelta(hours=5), "arrivals": {"per_hour": 100}}, ["duration", "arrivals"]),
    ],
)
def test_different_arrivals_are_refused(changes: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compare(ERLANG, ERLANG.with_changes(**changes), seeds=[1])
    assert [field for field, _ in caught.value.errors] == fields
    assert "allow_different_arrivals=True" in caught.value.reason


def test_a_time_zone_change_is_refused_when_arrivals_follow_the_clock() -> None:
    desk = load_scenario("default")
    with pytest.raises(ValidationFailed) as caught:
        compare(desk, desk.with_changes(timezone="UTC"), seeds=[1])
    assert caught.value.field == "timezone"


def test_different_arrivals_compare_when_allowed() -> None:
    small = load_scenario("small")
    busier = small.with_changes(arrivals={"per_hour": 12})
    result = compare(small, busier, seeds=[1], allow_different_arrivals=True)
    assert not result.same_arrivals
    assert result.tickets[0][1] > result.tickets[0][0]
    assert "different arrivals" in result.lines()[2]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"seeds": ()}, "seeds"),
        ({"seeds": (1, 1)}, "seeds"),
        ({"seeds": "12"}, "seeds"),
        ({"seeds": (-1,)}, "seeds"),
        ({"seeds": (True,)}, "seeds"),
        ({"target": timedelta(0)}, "target"),
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": "high"}, "confidence"),
    ],
)
def test_bad_arguments_name_the_field(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        compare(ERLANG, ERLANG, **arguments)
    assert caught.value.field == field


def test_a_scenario_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        compare(ERLANG, "erlang")  # type: ignore[arg-type]
    assert caught.value.field == "b"


def test_an_unknown_figure_lists_the_known(itself: Comparison) -> None:
    with pytest.raises(ValidationFailed, match="figures: within_target, waited"):
        itself.figure("csat")


@pytest.mark.parametrize(
    ("pairs", "quantile"),
    [(2, 12.7062), (3, 4.3027), (5, 2.7764), (10, 2.2622), (31, 2.0423)],
)
def test_paired_difference_uses_exact_t_quantiles(pairs: int, quantile: float) -> None:
    """Differences of -1 and +1 alternating: the half-width is t * sd / sqrt(n)."""
    diffs = [(-1.0) ** i for i in range(pairs)]
    estimate = paired_difference([0.0] * pairs, diffs)
    sd = math.sqrt(sum((d - estimate.value) ** 2 for d in diffs) / (pairs - 1))
    half = (estimate.high - estimate.low) / 2
    assert half == pytest.approx(quantile * sd / math.sqrt(pairs), rel=1e-4)
    assert estimate.batches == pairs


def test_paired_difference_of_one_pair_has_no_interval() -> None:
    estimate = paired_difference([1.0], [3.0])
    assert (estimate.value, estimate.low, estimate.high, estimate.batches) == (2.0, 2.0, 2.0, 1)


def test_paired_difference_needs_matching_lengths() -> None:
    with pytest.raises(ValidationFailed) as caught:
        paired_difference([1.0, 2.0], [1.0])
    assert caught.value.field == "b"
