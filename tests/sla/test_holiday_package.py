"""Holidays taken from the optional ``holidays`` package (the ``[holidays]`` extra)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import pytest

from supportflow import OptionalDependencyMissing, ValidationFailed
from supportflow.sla import BusinessCalendar, CalendarSpec, holidays_from_package

WEEKDAYS_9_TO_5 = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-17:00",))


def test_us_holidays_include_the_observed_independence_day() -> None:
    found = {h.date: h.name for h in holidays_from_package("US", [2026])}
    assert "Independence Day" in found[date(2026, 7, 4)]
    assert "observed" in found[date(2026, 7, 3)]
    assert date(2026, 7, 6) not in found


def test_a_calendar_built_from_them_is_closed_on_the_holiday() -> None:
    spec = CalendarSpec(
        timezone="America/New_York",
        weekly=WEEKDAYS_9_TO_5,
        holidays=holidays_from_package("US", range(2026, 2027)),
        first_year=2026,
        last_year=2026,
    )
    calendar = BusinessCalendar(spec)
    friday_noon = datetime(2026, 7, 3, 16, 0, tzinfo=UTC)  # 12:00 in New York, observed day
    assert not calendar.is_open(friday_noon)
    assert calendar.next_open(friday_noon) == datetime(2026, 7, 6, 13, 0, tzinfo=UTC)


def test_regions_are_passed_through() -> None:
    california = {h.date: h.name for h in holidays_from_package("US", [2026], subdiv="CA")}
    federal = {h.date for h in holidays_from_package("US", [2026])}
    assert "Chavez" in california[date(2026, 3, 31)]
    assert date(2026, 3, 31) not in federal


def test_unknown_country_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        holidays_from_package("XX", [2026])
    assert caught.value.field == "country"


def test_unknown_region_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        holidays_from_package("US", [2026], subdiv="ZZ")
    assert caught.value.field == "subdiv"


@pytest.mark.parametrize("years", [[], [0], ["2026"]])
def test_bad_years_are_refused(years: list[object]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        holidays_from_package("US", years)  # type: ignore[arg-type]
    assert caught.value.field == "years"


def test_without_the_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(OptionalDependencyMissing) as caught:
        holidays_from_package("US", [2026])
    assert "supportflow[holidays]" in str(caught.value)
    assert isinstance(caught.value, ImportError)
