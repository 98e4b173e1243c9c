"""Hypothesis strategies for property-testing SLA rules against random business calendars.

Importing this module requires hypothesis, a test dependency that supportflow itself does
not install (``supportflow.testing`` does not import it). Hosts use these strategies to
property-test their own calendar rules::

    from hypothesis import given

    from supportflow.testing.strategies import aware_datetimes, business_durations, calendars

    @given(calendars(), aware_datetimes(), business_durations(max_hours=24))
    def test_due_is_never_before_start(calendar, start, duration):
        assert calendar.add(start, duration) >= start

What they generate (see each function):

- :func:`aware_datetimes`: timezone-aware datetimes in one IANA zone, with extra weight
  on the hours around the zone's DST transitions (both readings of a repeated hour).
- :func:`business_durations`: non-negative timedeltas on a grid, zero included.
- :func:`calendar_specs` and :func:`calendars`: random
  :class:`~supportflow.sla.calendar.CalendarSpec` /
  :class:`~supportflow.sla.calendar.BusinessCalendar` with several intervals per weekday,
  overnight intervals, sometimes 24x7, whole-day and partial holidays, extra working days
  and dated overrides, all dated within a few bounded years so each builds fast.

Every strategy shrinks towards the simple end: UTC, one short interval on Monday, no
holidays, the earliest datetime, a zero duration. Strategies for SLA policies and ticket
event histories will join these with the SLA policy.

Comparing aware datetimes: two datetimes with the *same* ``tzinfo`` compare by wall clock,
ignoring ``fold`` (PEP 495), so within a repeated DST hour a later instant can compare as
earlier. Compare instants with ``.astimezone(UTC)`` when the zone observes DST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hypothesis import strategies as st

from ..errors import ValidationFailed
from ..sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarSpec,
    Holiday,
    Hours,
    Override,
    WorkingDay,
)

__all__ = [
    "DEFAULT_ZONES",
    "aware_datetimes",
    "business_durations",
    "calendar_specs",
    "calendars",
]

DEFAULT_ZONES: tuple[str, ...] = ("UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin")
"""The zones :func:`calendar_specs` draws from by default: none, one and two DST rules."""

_QUARTERS = 96  # intervals sit on a quarter-hour grid: 96 points per day
_NEAR_TRANSITION = 3 * 3600  # seconds either side of a DST transition
_DAY = timedelta(days=1)
_ALL_DAY = Hours(start=time(0), end=time(0))


def _zone(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed("zone", f"unknown IANA time zone {zone!r}") from None


def _naive(field: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is not None:
        raise ValidationFailed(field, "must be a naive datetime (a wall-clock time in the zone)")
    return value


@lru_cache(maxsize=64)
def _transitions(zone: str, lo: datetime, hi: datetime) -> tuple[datetime, ...]:
    """The UTC instants in ``[lo, hi]`` (UTC) where ``zone``'s offset changes."""
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    step = timedelta(hours=6)
    t = lo
    offset = t.astimezone(tz).utcoffset()
    while t < hi:
        nxt = min(t + step, hi)
        nxt_offset = nxt.astimezone(tz).utcoffset()
        if nxt_offset != offset:
            a, b = t, nxt  # the change happens in (a, b]
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                if mid.astimezone(tz).utcoffset() == offset:
                    a = mid
                else:
                    b = mid
            found.append(b.replace(microsecond=0))
        t, offset = nxt, nxt_offset
    return tuple(found)


def aware_datetimes(
    zone: str = "UTC",
    *,
    min_value: datetime = datetime(2025, 1, 1),
    max_value: datetime = datetime(2025, 12, 31, 23, 59, 59),
    allow_imaginary: bool = False,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes in the IANA ``zone``, between two wall-clock times.

    ``min_value`` and ``max_value`` are naive wall-clock times in ``zone`` (as for
    ``hypothesis.strategies.datetimes``). Every value has ``tzinfo == ZoneInfo(zone)``.
    When the zone changes offset within the range, about half the values fall within three
    hours of a transition, on whole seconds, including both readings of a repeated hour
    (``fold=0`` and ``fold=1``) and the instants just before and after a skipped one.
    Wall times that do not exist (inside a DST gap) are left out unless
    ``allow_imaginary``. Values shrink towards ``min_value``.

    Raises :class:`~supportflow.errors.ValidationFailed` for an unknown zone, aware or
    misordered bounds.
    """
    tz = _zone(zone)
    lo, hi = _naive("min_value", min_value), _naive("max_value", max_value)
    if hi < lo:
        raise ValidationFailed("max_value", "must not be before min_value")
    anywhere = st.datetimes(lo, hi, timezones=st.just(tz), allow_imaginary=allow_imaginary)
    # Widen by a day in UTC so transitions near either bound are found; filter below.
    transitions = _transitions(zone, lo.replace(tzinfo=UTC) - _DAY, hi.replace(tzinfo=UTC) + _DAY)
    if not transitions:
        return anywhere

    def near(pair: tuple[datetime, int]) -> datetime:
        instant, seconds = pair
        return (instant + timedelta(seconds=seconds)).astimezone(tz)

    def in_range(value: datetime) -> bool:
        return lo <= value.replace(tzinfo=None) <= hi

    around = (
        st.tuples(
            st.sampled_from(transitions),
            st.integers(-_NEAR_TRANSITION, _NEAR_TRANSITION),
        )
        .map(near)
        .filter(in_range)
    )
    return st.one_of(anywhere, around)


def business_durations(
    max_hours: float = 72,
    *,
    resolution: timedelta = timedelta(minutes=1),
) -> st.SearchStrategy[timedelta]:
    """Timedeltas from zero to ``max_hours`` inclusive, in whole multiples of ``resolution``.

    Zero is included (``add(t, 0)`` has its own rule); values shrink towards zero.
    """
    if resolution <= timedelta(0):
        raise ValidationFailed("resolution", "must be positive")
    if max_hours < 0:
        raise ValidationFailed("max_hours", "must not be negative")
    steps = timedelta(hours=max_hours) // resolution
    return st.integers(0, steps).map(lambda n: n * resolution)


def _clock(quarter: int) -> time:
    quarter %= _QUARTERS
    return time(quarter // 4, quarter % 4 * 15)


@st.composite
def _day_hours(draw: st.DrawFn, min_size: int, max_size: int, overnight: bool) -> tuple[Hours, ...]:
    """Non-overlapping quarter-hour intervals of one day, the last maybe past midnight."""
    k = draw(st.integers(min_size, max_size))
    points = sorted(draw(st.sets(st.integers(0, _QUARTERS), min_size=2 * k, max_size=2 * k)))
    spans = [(points[2 * i], points[2 * i + 1]) for i in range(k)]
    if spans and overnight and draw(st.booleans()):
        start = spans[-1][0]
        # Up to the first interval's start on the next day (a full 24 hours when k == 1).
        spans[-1] = (start, draw(st.integers(start + 1, points[0] + _QUARTERS)))
    return tuple(Hours(start=_clock(a), end=_clock(b)) for a, b in spans)


@st.composite
def _weekly(
    draw: st.DrawFn, max_intervals: int, overnight: bool, allow_24x7: bool, open_time: bool
) -> dict[str, tuple[Hours, ...]]:
    if allow_24x7 and draw(st.integers(0, 7)) == 7:
        return dict.fromkeys(WEEKDAYS, (_ALL_DAY,))
    opened = draw(st.sampled_from(WEEKDAYS)) if open_time else None
    return {
        day: draw(_day_hours(1 if day == opened else 0, max_intervals, overnight))
        for day in WEEKDAYS
    }


def calendar_specs(
    *,
    zones: Sequence[str] = DEFAULT_ZONES,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2025, 12, 31),
    max_intervals: int = 3,
    allow_overnight: bool = True,
    allow_24x7: bool = True,
    max_holidays: int = 4,
    max_working_days: int = 2,
    max_overrides: int = 1,
    open_time: bool = True,
    bounded: bool = False,
) -> st.SearchStrategy[CalendarSpec]:
    """Random valid :class:`~supportflow.sla.calendar.CalendarSpec` values.

    - ``timezone`` is drawn from ``zones`` (shrinking to the first).
    - Each weekday has up to ``max_intervals`` non-overlapping intervals on a quarter-hour
      grid; with ``allow_overnight`` the last may cross midnight (or last 24 hours). With
      ``allow_24x7`` about one schedule in eight is open around the clock.
    - Up to ``max_holidays`` holidays (whole-day or partial closures) and
      ``max_working_days`` extra working days (the Monday hours, or their own), on distinct
      dates in ``[min_date, max_date]``; up to ``max_overrides`` non-overlapping overrides
      with their own weekly schedule, starting in that range (the last may be open-ended).
    - With ``open_time`` (the default) every weekly schedule, regular or override, has at
      least one open interval, so ``add`` never runs out of open time: holidays close only
      finitely many days. With ``open_time=False`` any schedule may be empty.
    - A calendar costs a few milliseconds to build per year of dates a test touches.
    - With ``bounded``, ``first_year``/``last_year`` are the years of ``min_date`` and
      ``max_date``: the calendar is built whole at once and refuses instants outside them.
      Otherwise it extends lazily, a year at a time, only over the years a test touches.
    """
    if not zones:
        raise ValidationFailed("zones", "must name at least one zone")
    for zone in zones:
        _zone(zone)
    if max_date < min_date:
        raise ValidationFailed("max_date", "must not be before min_date")
    if max_intervals < 1:
        raise ValidationFailed("max_intervals", "must be at least 1")
    return _calendar_specs(
        tuple(zones),
        min_date,
        max_date,
        max_intervals,
        allow_overnight,
        allow_24x7,
        max_holidays,
        max_working_days,
        max_overrides,
        open_time,
        bounded,
    )


@st.composite
def _calendar_specs(
    draw: st.DrawFn,
    zones: tuple[str, ...],
    min_date: date,
    max_date: date,
    max_intervals: int,
    allow_overnight: bool,
    allow_24x7: bool,
    max_holidays: int,
    max_working_days: int,
    max_overrides: int,
    open_time: bool,
    bounded: bool,
) -> CalendarSpec:
    timezone = draw(st.sampled_from(tuple(zones)))
    weekly = _weekly(max_intervals, allow_overnight, allow_24x7, open_time)
    partial = _day_hours(1, max_intervals, allow_overnight)
    days = st.dates(min_date, max_date)
    dated = draw(st.lists(days, max_size=max_holidays + max_working_days, unique=True))
    split = draw(st.integers(max(0, len(dated) - max_working_days), min(len(dated), max_holidays)))
    holidays = tuple(Holiday(date=day, closed=draw(st.just(()) | partial)) for day in dated[:split])
    working_days = tuple(
        WorkingDay(date=day, hours=draw(st.none() | partial)) for day in dated[split:]
    )
    n = draw(st.integers(0, max_overrides))
    bounds = sorted(draw(st.lists(days, min_size=2 * n, max_size=2 * n, unique=True)))
    overrides = []
    for i in range(n):
        start, end = bounds[2 * i], bounds[2 * i + 1]
        open_ended = i == n - 1 and draw(st.booleans())
        overrides.append(
            Override(start=start, end=None if open_ended else end, weekly=draw(weekly))
        )
    return CalendarSpec(
        timezone=timezone,
        weekly=draw(weekly),
        holidays=holidays,
        working_days=working_days,
        overrides=tuple(overrides),
        first_year=min_date.year if bounded else None,
        last_year=max_date.year if bounded else None,
    )


def calendars(
    *,
    zones: Sequence[str] = DEFAULT_ZONES,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2025, 12, 31),
    max_intervals: int = 3,
    allow_overnight: bool = True,
    allow_24x7: bool = True,
    max_holidays: int = 4,
    max_working_days: int = 2,
    max_overrides: int = 1,
    open_time: bool = True,
    bounded: bool = False,
) -> st.SearchStrategy[BusinessCalendar]:
    """Random :class:`~supportflow.sla.calendar.BusinessCalendar` values.

    Built from :func:`calendar_specs` with the same arguments; ``calendar.spec`` is the
    spec drawn, and what an independent oracle should read. A calendar's ``repr`` does not
    show its spec, so to see the spec in a failing example's report draw
    :func:`calendar_specs` and build the calendar in the test.
    """
    return calendar_specs(
        zones=zones,
        min_date=min_date,
        max_date=max_date,
        max_intervals=max_intervals,
        allow_overnight=allow_overnight,
        allow_24x7=allow_24x7,
        max_holidays=max_holidays,
        max_working_days=max_working_days,
        max_overrides=max_overrides,
        open_time=open_time,
        bounded=bounded,
    ).map(BusinessCalendar)
