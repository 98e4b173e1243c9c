"""supportflow.testing.strategies: the values are what the docstrings promise, and shrink."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.sla.calendar import BusinessCalendar, CalendarSpec
from supportflow.testing.strategies import (
    DEFAULT_ZONES,
    aware_datetimes,
    business_durations,
    calendar_specs,
    calendars,
)

NY = ZoneInfo("America/New_York")
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T = TypeVar("T")
SEARCH = settings(database=None, max_examples=2000, deadline=None, derandomize=True)


def minimal(strategy: st.SearchStrategy[T], condition: Callable[[T], bool]) -> T:
    """The simplest value of ``strategy`` that satisfies ``condition`` (hypothesis.find)."""
    return find(strategy, condition, settings=SEARCH)


def reachable(strategy: st.SearchStrategy[T], condition: Callable[[T], bool]) -> T:
    """Some value of ``strategy`` that satisfies ``condition``, without shrinking it."""
    return find(strategy, condition, settings=settings(SEARCH, phases=[Phase.generate]))


# -- aware_datetimes ------------------------------------------------------------------


@FAST
@given(st.sampled_from(DEFAULT_ZONES).flatmap(lambda z: st.tuples(st.just(z), aware_datetimes(z))))
def test_datetimes_are_aware_real_and_in_the_zone(pair: tuple[str, datetime]) -> None:
    zone, value = pair
    assert value.tzinfo == ZoneInfo(zone)
    assert value.utcoffset() is not None
    assert datetime(2025, 1, 1) <= value.replace(tzinfo=None) <= datetime(2025, 12, 31, 23, 59, 59)
    # Not imaginary: the instant reads back as the same wall time.
    assert value.astimezone(UTC).astimezone(value.tzinfo).replace(fold=0) == value.replace(fold=0)


def test_datetimes_reach_both_readings_of_the_repeated_hour() -> None:
    second = minimal(aware_datetimes("America/New_York"), lambda t: t.fold == 1)
    assert second.date() == date(2025, 11, 2)
    assert second.utcoffset() == timedelta(hours=-5)


def test_datetimes_reach_the_instant_after_a_dst_gap() -> None:
    gap_end = datetime(2025, 3, 9, 7, tzinfo=UTC)  # 03:00 EDT; 02:00-03:00 does not exist
    found = minimal(
        aware_datetimes("America/New_York"),
        lambda t: gap_end <= t.astimezone(UTC) < gap_end + timedelta(minutes=1),
    )
    assert found.hour == 3
    assert found.tzinfo == NY


def test_datetimes_shrink_to_min_value() -> None:
    found = minimal(aware_datetimes("Asia/Shanghai"), lambda t: True)
    assert found == datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"zone": "Mars/Olympus"}, "zone"),
        ({"min_value": datetime(2025, 1, 1, tzinfo=UTC)}, "min_value"),
        ({"min_value": datetime(2026, 1, 1), "max_value": datetime(2025, 1, 1)}, "max_value"),
    ],
)
def test_bad_datetime_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        aware_datetimes(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


# -- business_durations ---------------------------------------------------------------


@FAST
@given(business_durations(max_hours=8))
def test_durations_are_whole_minutes_within_bounds(d: timedelta) -> None:
    assert timedelta(0) <= d <= timedelta(hours=8)
    assert d % timedelta(minutes=1) == timedelta(0)


def test_durations_include_zero_and_shrink_to_the_smallest() -> None:
    assert minimal(business_durations(), lambda d: True) == timedelta(0)
    assert minimal(business_durations(), lambda d: d >= timedelta(hours=1)) == timedelta(hours=1)
    assert minimal(business_durations(max_hours=1), lambda d: d == timedelta(hours=1))


def test_bad_duration_arguments_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="resolution"):
        business_durations(resolution=timedelta(0))
    with pytest.raises(ValidationFailed, match="max_hours"):
        business_durations(max_hours=-1)


# -- calendar_specs and calendars -----------------------------------------------------


@FAST
@given(calendar_specs(min_date=date(2025, 3, 1), max_date=date(2025, 5, 31)))
def test_specs_validate_and_stay_in_their_dates(spec: CalendarSpec) -> None:
    assert CalendarSpec.model_validate(spec.model_dump()) == spec
    assert spec.timezone in DEFAULT_ZONES
    dated = [h.date for h in spec.holidays] + [w.date for w in spec.working_days]
    dated += [o.start for o in spec.overrides] + [o.end for o in spec.overrides if o.end]
    assert all(date(2025, 3, 1) <= d <= date(2025, 5, 31) for d in dated)
    assert len(spec.holidays) <= 4
    assert len(spec.working_days) <= 2
    assert len(spec.overrides) <= 1
    assert (spec.first_year, spec.last_year) == (None, None)


@FAST
@given(calendars(), aware_datetimes("UTC", max_value=datetime(2025, 12, 31)))
def test_calendars_always_have_open_time(cal: BusinessCalendar, start: datetime) -> None:
    assert cal.elapsed(start, cal.add(start, timedelta(hours=1))) == timedelta(hours=1)
    for schedule in [cal.spec.weekly, *(o.weekly for o in cal.spec.overrides)]:
        assert any(schedule.values())


@FAST
@given(calendars(bounded=True, min_date=date(2025, 1, 1), max_date=date(2026, 12, 31)))
def test_bounded_calendars_carry_their_years(cal: BusinessCalendar) -> None:
    assert (cal.spec.first_year, cal.spec.last_year) == (2025, 2026)
    with pytest.raises(ValidationFailed):
        cal.is_open(datetime(2027, 1, 2, tzinfo=UTC))


@FAST
@given(calendar_specs(allow_overnight=False, allow_24x7=False, max_intervals=1))
def test_specs_honour_their_limits(spec: CalendarSpec) -> None:
    hours = [h for day in spec.weekly.values() for h in day]
    assert all(h.start < h.end or h.end == time(0) for h in hours)
    assert all(len(day) <= 1 for day in spec.weekly.values())


FEATURES: dict[str, Callable[[CalendarSpec], bool]] = {
    "several intervals a day": lambda s: any(len(d) >= 3 for d in s.weekly.values()),
    "overnight interval": lambda s: any(
        h.end != h.start and (h.end.hour, h.end.minute) != (0, 0) and h.end < h.start
        for d in s.weekly.values()
        for h in d
    ),
    "24x7": lambda s: all(d and d[0].start == d[0].end for d in s.weekly.values()),
    "whole-day holiday": lambda s: any(not h.closed for h in s.holidays),
    "partial holiday": lambda s: any(h.closed for h in s.holidays),
    "working day on Monday hours": lambda s: any(w.hours is None for w in s.working_days),
    "working day with its own hours": lambda s: any(w.hours for w in s.working_days),
    "dated override": lambda s: any(o.end for o in s.overrides),
    "open-ended override": lambda s: any(o.end is None for o in s.overrides),
    "DST zone": lambda s: s.timezone in ("America/New_York", "Europe/Berlin"),
}


@pytest.mark.parametrize("feature", FEATURES, ids=str)
def test_specs_reach_every_feature(feature: str) -> None:
    assert FEATURES[feature](reachable(calendar_specs(), FEATURES[feature]))


def test_specs_shrink_to_a_small_calendar() -> None:
    """The simplest spec with two holidays has nothing else: UTC, one short Monday slot."""
    spec = minimal(calendar_specs(), lambda s: len(s.holidays) >= 2)
    assert spec.timezone == "UTC"
    assert len(spec.holidays) == 2
    assert all(not h.closed for h in spec.holidays)
    assert (spec.working_days, spec.overrides) == ((), ())
    assert [day for day, hours in spec.weekly.items() if hours] == ["mon"]
    assert sum(len(hours) for hours in spec.weekly.values()) == 1


def test_open_time_can_be_switched_off() -> None:
    spec = minimal(
        calendar_specs(open_time=False), lambda s: not any(s.weekly.values()) and not s.overrides
    )
    with pytest.raises(ValidationFailed, match="no open time"):
        BusinessCalendar(spec).add(datetime(2025, 3, 3, tzinfo=UTC), timedelta(hours=1))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"zones": ()}, "zones"),
        ({"zones": ("UTC", "Nowhere/City")}, "zone"),
        ({"min_date": date(2026, 1, 1), "max_date": date(2025, 1, 1)}, "max_date"),
        ({"max_intervals": 0}, "max_intervals"),
    ],
)
def test_bad_calendar_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        calendar_specs(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_supportflow_testing_does_not_import_hypothesis() -> None:
    """Only the strategies module needs hypothesis; the rest of the kit must not."""
    code = "import sys, supportflow.testing; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
