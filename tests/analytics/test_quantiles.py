"""Durations: exact quantiles for small sets, within 0.5% once sketched, memory bounded."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.analytics.quantiles import EXACT_LIMIT, RELATIVE_ACCURACY, Durations


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def filled(values: list[float]) -> Durations:
    durations = Durations()
    for value in values:
        durations.append(value)
    return durations


def test_empty_has_no_figures() -> None:
    durations = Durations()
    assert (len(durations), durations.min, durations.max) == (0, None, None)
    assert durations.quantile(0.5) is None


def test_small_sets_are_exact() -> None:
    durations = filled([60.0, 10.0, 30.0, 20.0])
    assert durations.exact
    assert durations.quantile(0.5) == 25.0  # halfway between 20 and 30
    assert durations.quantile(0.9) == pytest.approx(51.0)  # 30 + 0.7 * (60 - 30)
    assert (durations.min, durations.max) == (10.0, 60.0)


def test_large_sets_switch_to_the_sketch_and_stay_small() -> None:
    rng = random.Random(1)
    durations = filled([rng.expovariate(1 / 3600) for _ in range(50_000)])
    assert not durations.exact
    assert len(durations) == 50_000
    assert len(durations._buckets) < 2_000  # bounded by the range, not the count


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=EXACT_LIMIT + 1, max_value=EXACT_LIMIT + 400),
    st.floats(min_value=0.0, max_value=17.0),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
)
def test_sketched_quantiles_are_within_the_stated_accuracy(
    seed: int, count: int, spread: float, q: float
) -> None:
    rng = random.Random(seed)
    values = [math.exp(rng.uniform(0.0, spread)) for _ in range(count)]  # 1 s and up
    durations = filled(values)
    ordered = sorted(values)
    found = durations.quantile(q)
    assert found is not None
    # The sketch answers with an order statistic's bucket: within 0.5% of a value lying
    # between the two order statistics that the exact interpolation uses.
    position = (len(ordered) - 1) * q
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    assert low * (1 - RELATIVE_ACCURACY) - 1e-9 <= found <= high * (1 + RELATIVE_ACCURACY) + 1e-9
    assert durations.min == ordered[0]
    assert durations.max == ordered[-1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e6, allow_nan=False), max_size=50))
def test_quantiles_stay_between_min_and_max(values: list[float]) -> None:
    durations = filled(values)
    for q in (0.0, 0.5, 0.9, 1.0):
        found = durations.quantile(q)
        if values:
            assert found == pytest.approx(exact(values, q))
            assert durations.min is not None
            assert durations.max is not None
            assert durations.min <= found <= durations.max


def test_zero_durations_count() -> None:
    durations = filled([0.0] * (EXACT_LIMIT + 10) + [100.0])
    assert not durations.exact
    assert durations.quantile(0.5) == 0.0
    assert durations.quantile(1.0) == pytest.approx(100.0, rel=RELATIVE_ACCURACY)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0, 1e7, allow_nan=False), max_size=5000),
    cuts=st.lists(st.integers(0, 5000), max_size=6),
    sketched=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_merging_parts_is_appending_every_value(
    values: list[float], cuts: list[int], sketched: list[bool]
) -> None:
    """Parts, exact or sketched from the start, merge into what one Durations would hold."""
    bounds = [0, *sorted(min(c, len(values)) for c in cuts), len(values)]
    parts = []
    for n, (low, high) in enumerate(itertools.pairwise(bounds)):
        part = Durations(exact=not sketched[n])
        for value in values[low:high]:
            part.append(value)
        parts.append(part)
    whole = Durations()
    for value in values:
        whole.append(value)
    merged = Durations.merged(parts)
    assert len(merged) == len(whole)
    assert (merged.min, merged.max) == (whole.min, whole.max)
    if whole.exact and not all(part.exact for part in parts):
        assert not merged.exact  # a sketch cannot give its values back
        return
    assert merged.exact == whole.exact
    for q in (0.0, 0.5, 0.9, 1.0):
        assert merged.quantile(q) == whole.quantile(q)
