"""Scenario files: the shipped ones load, bad ones are refused naming the field."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow import ValidationFailed
from supportflow.simulate.scenario import SHIPPED, Distribution, Scenario, load_scenario


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_scenarios_load(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.duration > timedelta(0)
    assert any(group.works_tickets for group in scenario.agents)


def test_the_default_scenario_is_the_documents_team() -> None:
    scenario = load_scenario("default")
    counts: dict[str, int] = {}
    for group in scenario.agents:
        counts[group.team if group.works_tickets else group.role.value] = (
            counts.get(group.team if group.works_tickets else group.role.value, 0) + group.count
        )
    assert counts == {
        "sales": 5,
        "support": 8,
        "technical": 4,
        "lead": 1,
        "quality": 1,
        "trainer": 1,
    }
    assert scenario.first_response_target == timedelta(hours=1)
    assert scenario.sla == "default"


def _data() -> dict[str, Any]:
    return load_scenario("small").model_dump(mode="json")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["agents"][0].update(team="sales"), "agents[0].team"),
        (lambda d: d["agents"][0].update(shift="night"), "agents[0].shift"),
        (lambda d: d["agents"][0].update(count=0), "agents.0.count"),
        (lambda d: d["teams"][0].update(escalation_team="nobody"), "teams[0].escalation_team"),
        (lambda d: d.update(duration="0s"), "duration"),
        (lambda d: d.update(timezone="Mars/Base"), "timezone"),
        (lambda d: d["arrivals"].update(hour_of_day=[1, 2, 3]), "arrivals.hour_of_day"),
        (lambda d: d["arrivals"].update(per_hour=0), "arrivals.per_hour"),
        (lambda d: d["mix"].update(channel={"email": 0}), "mix.channel"),
        (lambda d: d["mix"].update(channel={"pigeon": 1}), "mix.channel.pigeon"),
        (lambda d: d["mix"].update(team_of={"billing": "nobody"}), "mix.team_of.billing"),
        (lambda d: d["behaviour"].update(reopens=1.5), "behaviour.reopens"),
        (lambda d: d["handling"]["default"].update(mean="-5m"), "handling.default"),
        (lambda d: d.update(sla="strict"), "sla"),
        (lambda d: d.update(surprise=1), "surprise"),
    ],
)
def test_a_bad_field_is_named(change: Any, field: str) -> None:
    data = _data()
    change(data)
    with pytest.raises(ValidationFailed) as raised:
        Scenario.from_dict(data)
    assert any(f.startswith(field) or field in reason for f, reason in raised.value.errors), (
        raised.value.errors
    )


def test_files_and_text_errors_name_the_scenario(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as raised:
        load_scenario(tmp_path / "missing.toml")
    assert raised.value.field == "scenario"
    assert "default, small, erlang" in raised.value.reason
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed", encoding="utf-8")
    with pytest.raises(ValidationFailed) as raised:
        load_scenario(bad)
    assert raised.value.field == "toml"


def test_profiles_average_one() -> None:
    arrivals = load_scenario("default").arrivals
    hours, days = arrivals.profile()
    assert statistics.fmean(hours) == pytest.approx(1.0)
    assert statistics.fmean(days) == pytest.approx(1.0)
    assert load_scenario("erlang").arrivals.profile() == ((1.0,) * 24, (1.0,) * 7)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["exponential", "lognormal", "gamma", "fixed"]),
    minutes=st.integers(1, 600),
    cv=st.floats(0.2, 2.0),
    seed=st.integers(0, 2**32),
)
def test_a_distribution_has_the_mean_it_says(kind: str, minutes: int, cv: float, seed: int) -> None:
    distribution = Distribution.model_validate({"kind": kind, "mean": f"{minutes}m", "cv": cv})
    rng = random.Random(seed)
    draws = [distribution.sample(rng) for _ in range(4000)]
    assert min(draws) >= 0
    spread = {"exponential": 1.0, "fixed": 0.0}.get(kind, cv)
    # Four standard errors of the mean of 4,000 draws.
    tolerance = 4 * spread / 4000**0.5 + 1e-9
    assert statistics.fmean(draws) == pytest.approx(minutes * 60, rel=tolerance)
