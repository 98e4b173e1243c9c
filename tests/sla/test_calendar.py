"""BusinessCalendar: schedule semantics, DST, the China data, errors and properties."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from supportflow.errors import SupportflowError, ValidationFailed
from supportflow.sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarSpec,
    Holiday,
    Hours,
    OpenInterval,
    Override,
    WorkingDay,
)
from supportflow.sla.china import CHINA_MAKEUP_WORKDAYS, china_calendar
from supportflow.testing.strategies import (
    DEFAULT_ZONES,
    aware_datetimes,
    business_durations,
    calendars,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
OFFICE = ("09:00-12:00", "13:00-18:00")


def office(timezone: str = "Asia/Shanghai", **extra: object) -> BusinessCalendar:
    """Mon-Fri 09:00-12:00 and 13:00-18:00 in ``timezone`` plus ``extra`` spec fields."""
    return BusinessCalendar.from_dict(
        {"timezone": timezone, "weekly": dict.fromkeys(WEEKDAYS[:5], OFFICE), **extra}
    )


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# 2025-03-03 is a Monday.


def test_add_skips_the_lunch_break() -> None:
    assert office().add(sh(2025, 3, 3, 11, 30), H) == sh(2025, 3, 3, 13, 30)


def test_due_time_at_the_end_of_a_period_is_that_end() -> None:
    """17:00 + 1 h is 18:00 the same day, not 09:00 the next day."""
    assert office().add(sh(2025, 3, 3, 17), H) == sh(2025, 3, 3, 18)
    assert office().add(sh(2025, 3, 3, 11), H) == sh(2025, 3, 3, 12)


def test_start_outside_hours_begins_at_next_opening() -> None:
    cal = office()
    assert cal.add(sh(2025, 3, 3, 7), H) == sh(2025, 3, 3, 10)
    assert cal.add(sh(2025, 3, 1, 10), H) == sh(2025, 3, 3, 10)  # Saturday
    assert cal.add(sh(2025, 3, 3, 18), H) == sh(2025, 3, 4, 10)


def test_add_zero_is_t_when_open_else_next_opening() -> None:
    cal = office()
    assert cal.add(sh(2025, 3, 3, 10, 15), timedelta(0)) == sh(2025, 3, 3, 10, 15)
    assert cal.add(sh(2025, 3, 3, 12), timedelta(0)) == sh(2025, 3, 3, 13)
    assert cal.add(sh(2025, 3, 7, 18), timedelta(0)) == sh(2025, 3, 10, 9)


def test_negative_add_counts_back_to_an_opening() -> None:
    cal = office()
    assert cal.add(sh(2025, 3, 3, 10), -H) == sh(2025, 3, 3, 9)
    assert cal.add(sh(2025, 3, 3, 9), -H) == sh(2025, 2, 28, 17)


def test_is_open_intervals_are_half_open() -> None:
    cal = office()
    assert cal.is_open(sh(2025, 3, 3, 9))
    assert not cal.is_open(sh(2025, 3, 3, 12))
    assert cal.is_open(sh(2025, 3, 3, 17, 59))
    assert not cal.is_open(sh(2025, 3, 3, 18))
    assert not cal.is_open(sh(2025, 3, 8, 10))


def test_next_open() -> None:
    cal = office()
    assert cal.next_open(sh(2025, 3, 3, 10)) == sh(2025, 3, 3, 10)
    assert cal.next_open(sh(2025, 3, 3, 12, 30)) == sh(2025, 3, 3, 13)
    assert cal.next_open(sh(2025, 3, 8, 0)) == sh(2025, 3, 10, 9)


def test_elapsed_counts_open_time_only() -> None:
    cal = office()
    assert cal.elapsed(sh(2025, 3, 3), sh(2025, 3, 10)) == 40 * H
    assert cal.elapsed(sh(2025, 3, 3, 11), sh(2025, 3, 3, 14)) == 2 * H


def test_elapsed_of_reversed_span_is_negative_and_empty_span_zero() -> None:
    cal = office()
    a, b = sh(2025, 3, 3, 10), sh(2025, 3, 4, 10)
    assert cal.elapsed(b, a) == -cal.elapsed(a, b) == -8 * H
    assert cal.elapsed(a, a) == timedelta(0)


def test_open_intervals_are_clipped_to_the_span() -> None:
    got = office().open_intervals(sh(2025, 3, 3, 10), sh(2025, 3, 4, 10))
    assert got == (
        OpenInterval(sh(2025, 3, 3, 10), sh(2025, 3, 3, 12)),
        OpenInterval(sh(2025, 3, 3, 13), sh(2025, 3, 3, 18)),
        OpenInterval(sh(2025, 3, 4, 9), sh(2025, 3, 4, 10)),
    )
    assert got[0].duration == 2 * H


def test_results_are_in_the_zone_of_the_argument() -> None:
    start = sh(2025, 3, 3, 17).astimezone(UTC)
    due = office().add(start, H)
    assert due.tzinfo is UTC
    assert due == sh(2025, 3, 3, 18)


def test_overnight_interval_belongs_to_the_day_it_starts() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "Asia/Shanghai", "weekly": {"fri": ["22:00-06:00"]}}
    )
    assert cal.is_open(sh(2025, 3, 8, 5))  # Saturday morning: Friday's shift
    assert not cal.is_open(sh(2025, 3, 8, 22))
    assert cal.add(sh(2025, 3, 7, 21), 8 * H) == sh(2025, 3, 8, 6)
    holiday = BusinessCalendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "weekly": {"fri": ["22:00-06:00"]},
            "holidays": [{"date": "2025-03-07"}],
        }
    )
    assert not holiday.is_open(sh(2025, 3, 8, 5))


def test_24x7_utc_add_is_plain_arithmetic() -> None:
    cal = BusinessCalendar.always_open()
    start = datetime(2025, 12, 30, 7, 5, tzinfo=UTC)
    assert cal.add(start, timedelta(days=400, seconds=7)) == start + timedelta(days=400, seconds=7)
    assert cal.open_intervals(start, start + timedelta(days=3)) == (
        OpenInterval(start, start + timedelta(days=3)),
    )


def test_partial_closure_closes_only_its_hours() -> None:
    cal = office(holidays=[{"date": "2025-03-03", "closed": ["13:00-18:00"]}])
    assert cal.is_open(sh(2025, 3, 3, 10))
    assert not cal.is_open(sh(2025, 3, 3, 14))
    assert cal.add(sh(2025, 3, 3, 11), 2 * H) == sh(2025, 3, 4, 10)


def test_whole_day_holiday() -> None:
    cal = office(holidays=[{"date": "2025-03-04", "name": "closed"}])
    assert cal.add(sh(2025, 3, 3, 17), 2 * H) == sh(2025, 3, 5, 10)


def test_extra_working_day_with_its_own_hours_or_monday_hours() -> None:
    cal = office(
        working_days=[{"date": "2025-03-08", "hours": ["10:00-14:00"]}, {"date": "2025-03-09"}]
    )
    assert cal.add(sh(2025, 3, 7, 17), 2 * H) == sh(2025, 3, 8, 11)
    assert cal.is_open(sh(2025, 3, 9, 9))
    assert not cal.is_open(sh(2025, 3, 9, 12, 30))


def test_override_changes_hours_from_a_date() -> None:
    summer = {"start": "2025-07-01", "end": "2025-08-31", "weekly": {"mon": ["08:00-14:00"]}}
    cal = office(overrides=[summer])
    assert cal.is_open(sh(2025, 7, 7, 8))
    assert not cal.is_open(sh(2025, 7, 7, 15))
    assert not cal.is_open(sh(2025, 7, 8, 10))  # Tuesday is not in the override
    assert cal.is_open(sh(2025, 9, 1, 15))


def test_overlapping_intervals_in_a_day_are_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        BusinessCalendar.from_dict({"weekly": {"mon": ["09:00-12:00", "11:00-13:00"]}})
    assert info.value.field == "weekly.mon"
    assert "overlap" in info.value.reason


def test_unknown_zone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        BusinessCalendar.from_json('{"timezone": "Mars/Olympus"}')
    assert info.value.field == "timezone"


def test_naive_datetimes_are_refused() -> None:
    cal = office()
    with pytest.raises(ValidationFailed) as info:
        cal.add(datetime(2025, 3, 3, 10), H)
    assert info.value.field == "start"
    with pytest.raises(ValidationFailed, match="end"):
        cal.elapsed(sh(2025, 3, 3), datetime(2025, 3, 4))
    with pytest.raises(ValidationFailed, match="business_duration"):
        cal.add(sh(2025, 3, 3), 3600)  # type: ignore[arg-type]


def test_bad_hours_name_the_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        BusinessCalendar.from_dict({"weekly": {"mon": ["9am to 5pm"]}})
    assert info.value.field.startswith("weekly.mon.0")
    with pytest.raises(ValidationFailed) as info:
        BusinessCalendar.from_dict({"weekly": {"someday": ["09:00-17:00"]}})
    assert info.value.field.startswith("weekly.someday")


def test_conflicting_dates_and_overrides_are_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        office(holidays=[{"date": "2025-03-08"}], working_days=[{"date": "2025-03-08"}])
    assert info.value.field == "working_days.0.date"
    week = {"mon": ["09:00-10:00"]}
    with pytest.raises(ValidationFailed) as info:
        office(
            overrides=[
                {"start": "2025-07-01", "weekly": week},
                {"start": "2025-06-01", "end": "2025-07-01", "weekly": week},
            ]
        )
    assert info.value.field == "overrides.0.start"


def test_calendar_without_open_time_raises_instead_of_looping() -> None:
    with pytest.raises(ValidationFailed, match="no open time"):
        BusinessCalendar(CalendarSpec()).add(sh(2025, 3, 3), H)
    one_day = BusinessCalendar.from_dict({"working_days": [{"date": "2025-03-08"}]})
    with pytest.raises(ValidationFailed, match="no open time"):
        one_day.add(sh(2025, 3, 3), H)
    only_saturday = BusinessCalendar(
        CalendarSpec(
            working_days=(
                WorkingDay(date=date(2025, 3, 8), hours=(Hours(start=time(9), end=time(10)),)),
            )
        )
    )
    monday = datetime(2025, 3, 3, tzinfo=UTC)
    assert only_saturday.add(monday, H / 2) == datetime(2025, 3, 8, 9, 30, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="no open time after"):
        only_saturday.add(monday, 2 * H)


def test_durations_beyond_the_horizon_raise() -> None:
    cal = china_calendar()
    with pytest.raises(ValidationFailed) as info:
        cal.add(sh(2026, 12, 1), 400 * H)
    assert info.value.field == "business_duration"
    assert "2025-2026" in info.value.reason
    with pytest.raises(ValidationFailed, match="2025-2026"):
        cal.is_open(sh(2024, 12, 31, 10))
    with pytest.raises(SupportflowError):
        cal.add(sh(2025, 1, 2, 10), -100 * H)


def test_from_json_and_toml_agree() -> None:
    data = {
        "timezone": "Europe/Berlin",
        "weekly": {"mon": ["09:00-17:00"], "sat": ["10:00-14:00"]},
        "holidays": [{"date": "2025-12-29", "name": "Winter closure", "closed": ["13:00-17:00"]}],
    }
    toml = """
timezone = "Europe/Berlin"
[weekly]
mon = ["09:00-17:00"]
sat = ["10:00-14:00"]
[[holidays]]
date = 2025-12-29
name = "Winter closure"
closed = ["13:00-17:00"]
"""
    assert (
        BusinessCalendar.from_json(json.dumps(data)).spec == BusinessCalendar.from_toml(toml).spec
    )
    with pytest.raises(ValidationFailed, match="toml"):
        BusinessCalendar.from_toml("timezone = ")
    with pytest.raises(ValidationFailed) as info:
        BusinessCalendar.from_toml('timezone = "UTC"\n[[holidays]]\ndate = "soon"')
    assert info.value.field == "holidays.0.date"


def test_spec_objects_build_calendars() -> None:
    spec = CalendarSpec(
        timezone="UTC",
        weekly={"mon": (Hours(start=time(22), end=time(2)),)},
        holidays=(Holiday(date=date(2025, 3, 10)),),
        overrides=(Override(start=date(2025, 4, 1), weekly={}),),
    )
    cal = BusinessCalendar(spec)
    start = datetime(2025, 3, 3, tzinfo=UTC)
    assert cal.open_intervals(start, start + timedelta(days=14)) == (
        OpenInterval(datetime(2025, 3, 3, 22, tzinfo=UTC), datetime(2025, 3, 4, 2, tzinfo=UTC)),
    )


# -- DST ------------------------------------------------------------------------------


def test_new_york_spring_forward_day_is_shorter() -> None:
    cal = BusinessCalendar.from_dict(
        {"timezone": "America/New_York", "weekly": {"sun": ["00:00-06:00"]}}
    )
    day = datetime(2025, 3, 9, tzinfo=NY)
    assert cal.elapsed(day, day + timedelta(days=1)) == 5 * H
    assert cal.elapsed(day - timedelta(days=7), day - timedelta(days=6)) == 6 * H


def test_new_york_gap_edge_resolves_forward() -> None:
    """02:30 does not exist on 2025-03-09; an interval ending then ends at 03:00 EDT."""
    cal = BusinessCalendar.from_dict(
        {"timezone": "America/New_York", "weekly": {"sun": ["01:00-02:30"]}}
    )
    (interval,) = cal.open_intervals(
        datetime(2025, 3, 9, tzinfo=NY), datetime(2025, 3, 10, tzinfo=NY)
    )
    assert interval.end == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert interval.duration == H


def test_new_york_fold_edge_is_the_first_occurrence() -> None:
    """01:30 happens twice on 2025-11-02; an interval starting then starts at 01:30 EDT."""
    cal = BusinessCalendar.from_dict(
        {"timezone": "America/New_York", "weekly": {"sun": ["01:30-03:00"]}}
    )
    (interval,) = cal.open_intervals(
        datetime(2025, 11, 2, tzinfo=NY), datetime(2025, 11, 3, tzinfo=NY)
    )
    # An ambiguous wall time never compares equal across zones (PEP 495): compare in UTC.
    assert interval.start.astimezone(UTC) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert interval.duration == 2.5 * H


def test_berlin_24x7_days_follow_the_wall_clock() -> None:
    cal = BusinessCalendar.always_open("Europe/Berlin")
    spring, autumn = datetime(2025, 3, 30, tzinfo=BERLIN), datetime(2025, 10, 26, tzinfo=BERLIN)
    assert cal.elapsed(spring, datetime(2025, 3, 31, tzinfo=BERLIN)) == 23 * H
    assert cal.elapsed(autumn, datetime(2025, 10, 27, tzinfo=BERLIN)) == 25 * H
    assert cal.add(spring, 24 * H) == datetime(2025, 3, 31, 1, tzinfo=BERLIN)


def test_berlin_office_hours_are_wall_clock_hours_on_dst_days() -> None:
    cal = office("Europe/Berlin", weekly={d: ["00:00-04:00"] for d in WEEKDAYS})
    sunday = datetime(2025, 3, 30, tzinfo=BERLIN)
    assert cal.elapsed(sunday, sunday + timedelta(hours=12)) == 3 * H
    assert cal.add(sunday, 2 * H) == datetime(2025, 3, 30, 3, tzinfo=BERLIN)


# -- China 2025-2026 ------------------------------------------------------------------


def test_china_spring_festival_2025() -> None:
    cal = china_calendar()
    assert cal.add(sh(2025, 1, 27, 17), 2 * H) == sh(2025, 2, 5, 10)
    assert cal.is_open(sh(2025, 1, 26, 10))  # Sunday make-up day
    assert cal.is_open(sh(2025, 2, 8, 10))  # Saturday make-up day


def test_china_national_day_2025_and_2026() -> None:
    cal = china_calendar()
    assert cal.add(sh(2025, 9, 30, 17), 2 * H) == sh(2025, 10, 9, 10)
    assert cal.is_open(sh(2025, 10, 11, 9))
    assert cal.add(sh(2026, 9, 30, 17), 2 * H) == sh(2026, 10, 8, 10)
    assert cal.is_open(sh(2026, 9, 20, 9))
    assert cal.is_open(sh(2026, 10, 10, 9))


def test_china_2026_holidays() -> None:
    cal = china_calendar()
    assert not cal.is_open(sh(2026, 1, 2, 10))
    assert cal.is_open(sh(2026, 1, 4, 10))
    assert cal.is_open(sh(2026, 2, 14, 10))
    assert cal.next_open(sh(2026, 2, 14, 18)) == sh(2026, 2, 24, 9)
    assert cal.is_open(sh(2026, 2, 28, 10))
    assert not cal.is_open(sh(2026, 4, 6, 10))
    assert not cal.is_open(sh(2026, 5, 5, 10))
    assert cal.is_open(sh(2026, 5, 9, 10))
    assert not cal.is_open(sh(2026, 6, 19, 10))
    assert not cal.is_open(sh(2026, 9, 25, 10))


def test_china_makeup_days_are_weekend_working_days() -> None:
    cal = china_calendar()
    for _, day in CHINA_MAKEUP_WORKDAYS:
        assert day.weekday() >= 5
        assert cal.is_open(datetime.combine(day, time(9), SH))


def test_china_working_hours_per_year() -> None:
    """2025 and 2026 each have 248 working days of 8 hours (261 weekdays, 18/19 off, 5/6 on)."""
    cal = china_calendar()
    assert cal.elapsed(sh(2025, 1, 1), sh(2026, 1, 1)) == 248 * 8 * H
    assert cal.elapsed(sh(2026, 1, 1), sh(2027, 1, 1)) == 248 * 8 * H


def test_china_hours_are_configurable() -> None:
    cal = china_calendar(["08:30-17:30"])
    assert cal.add(sh(2025, 3, 3, 17), H) == sh(2025, 3, 4, 9)


# -- properties -----------------------------------------------------------------------

Q1 = {"min_date": date(2025, 1, 1), "max_date": date(2025, 3, 31)}
STARTS = aware_datetimes("UTC", min_value=datetime(2025, 1, 1), max_value=datetime(2025, 3, 31))
MINUTES = business_durations(max_hours=72)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(calendars(zones=DEFAULT_ZONES, **Q1), STARTS, MINUTES)
def test_elapsed_inverts_add(cal: BusinessCalendar, start: datetime, d: timedelta) -> None:
    assert cal.elapsed(start, cal.add(start, d)) == d


@FAST
@given(calendars(zones=("UTC", "Asia/Shanghai"), **Q1), STARTS, MINUTES, MINUTES)
def test_add_is_monotonic_and_additive(
    cal: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    small, large = sorted((a, b))
    assert cal.add(start, small) <= cal.add(start, large)
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@FAST
@given(calendars(zones=("UTC", "America/New_York"), **Q1), STARTS, MINUTES)
def test_add_lands_inside_or_at_the_end_of_an_open_interval(
    cal: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    due = cal.add(start, d)
    if d:
        assert cal.is_open(due - timedelta(microseconds=1))
    else:
        assert cal.is_open(due)


@FAST
@given(STARTS, business_durations(max_hours=900 * 24, resolution=timedelta(microseconds=1)))
def test_24x7_utc_add_equals_datetime_arithmetic(start: datetime, d: timedelta) -> None:
    assert BusinessCalendar.always_open().add(start, d) == start + d


def oracle_open(spec: CalendarSpec, wall: datetime) -> bool:
    """Independent wall-clock check of one minute, straight from the spec."""
    holidays = {h.date: h.closed for h in spec.holidays}
    working = {w.date: w.hours for w in spec.working_days}

    def hours_of(day: date) -> tuple[Hours, ...]:
        weekly = spec.weekly
        for override in spec.overrides:
            if override.start <= day and (override.end is None or day <= override.end):
                weekly = override.weekly
        if day in working:
            hours = working[day]
            return hours if hours is not None else weekly.get("mon", ())
        if day in holidays and not holidays[day]:
            return ()
        return weekly.get(WEEKDAYS[day.weekday()], ())

    def covers(day: date, hours: tuple[Hours, ...]) -> bool:
        for h in hours:
            lo = datetime.combine(day, h.start)
            hi = datetime.combine(day, h.end)
            if hi <= lo:
                hi += timedelta(days=1)
            if lo <= wall < hi:
                return True
        return False

    days = (wall.date(), wall.date() - timedelta(days=1))
    if any(covers(day, holidays.get(day, ())) for day in days):
        return False
    return any(covers(day, hours_of(day)) for day in days)


@settings(max_examples=30, deadline=None)
@given(calendars(zones=("UTC", "Asia/Shanghai"), **Q1), STARTS, st.integers(0, 600))
def test_agrees_with_a_minute_stepping_oracle(
    cal: BusinessCalendar, start: datetime, minutes: int
) -> None:
    spec = cal.spec
    zone = ZoneInfo(spec.timezone)
    start = start.replace(second=0, microsecond=0)
    t, counted = start, 0
    for _ in range(20_000):
        if counted == minutes and (
            minutes or oracle_open(spec, t.astimezone(zone).replace(tzinfo=None))
        ):
            break
        if oracle_open(spec, t.astimezone(zone).replace(tzinfo=None)):
            counted += 1
        t += timedelta(minutes=1)
    else:
        assume(False)
    assert cal.add(start, timedelta(minutes=minutes)) == t
    assert cal.elapsed(start, t) == timedelta(minutes=minutes)


@settings(max_examples=40, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "timezone": st.sampled_from(["Nowhere/City", "", "UTC+8"]),
            "weekly": st.just({"mon": ["10:00-12:00", "11:00-13:00"]}),
            "first_year": st.integers(-5, 1),
            "holidays": st.just([{"date": "2025-02-30"}]),
        },
    ).filter(bool)
)
def test_bad_specs_raise_validation_failed_naming_a_field(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as info:
        BusinessCalendar.from_dict(data)
    assert info.value.field.split(".")[0] in data
