"""Business calendars: when a support team is open, and business-time arithmetic over it.

A :class:`BusinessCalendar` is built from a :class:`CalendarSpec` (pydantic, loadable from
JSON or TOML) and answers ``is_open``, ``next_open``, ``add``, ``elapsed`` and
``open_intervals``. Open time is precomputed year by year as sorted absolute instants with
cumulative open time, so ``add`` and ``elapsed`` are binary searches: O(log n) in the span.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from pydantic import AfterValidator, Field, field_validator, model_validator

from .._validate import aware
from ..errors import ValidationFailed
from ..models import SupportflowModel
from ._documents import from_json_text, from_toml_text

__all__ = [
    "BusinessCalendar",
    "CalendarSpec",
    "Holiday",
    "Hours",
    "OpenInterval",
    "Override",
    "WorkingDay",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MIN_YEAR = 2
_MAX_YEAR = 9998
_EAGER_YEARS = 50


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


class Hours(SupportflowModel):
    """One open (or closed) wall-clock interval of a day, ``start`` to ``end``.

    ``end`` at or before ``start`` crosses midnight (``22:00-06:00`` ends at 06:00 the next
    day and belongs to the day it starts); ``start == end`` is a full 24 hours. Accepts the
    string form ``"09:00-12:00"`` (``"24:00"`` is the next midnight) as well as a mapping.
    """

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.split("-")
            if len(parts) != 2:
                raise ValueError(f"must look like '09:00-18:00', got {value!r}")
            start, end = (part.strip() for part in parts)
            return {"start": start, "end": "00:00" if end == "24:00" else end}
        return value

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("must be a wall-clock time without a time zone")
        return value

    @property
    def offset_us(self) -> int:
        """Microseconds from the day's midnight (wall clock) to ``start``."""
        return _time_us(self.start)

    @property
    def length_us(self) -> int:
        """Wall-clock length in microseconds (24 hours when ``start == end``)."""
        length = _time_us(self.end) - _time_us(self.start)
        return length if length > 0 else length + _DAY_US


def _first_two(span: tuple[int, int, Hours]) -> tuple[int, int]:
    return span[0], span[1]


def _no_overlap(hours: tuple[Hours, ...]) -> tuple[Hours, ...]:
    spans = sorted(((h.offset_us, h.offset_us + h.length_us, h) for h in hours), key=_first_two)
    for (_, end, first), (start, _, second) in pairwise(spans):
        if start < end:
            raise ValueError(
                f"intervals {first.start:%H:%M}-{first.end:%H:%M} and "
                f"{second.start:%H:%M}-{second.end:%H:%M} overlap"
            )
    return hours


DayHours = Annotated[tuple[Hours, ...], AfterValidator(_no_overlap)]
WeeklySchedule = dict[Weekday, DayHours]


class Holiday(SupportflowModel):
    """A closure on ``date``: the whole day when ``closed`` is empty, else those intervals.

    A whole-day holiday removes the intervals that belong to the date (including the tail
    of an overnight interval starting that day). Partial closures are wall-clock intervals
    anchored on the date and are cut out of whatever is open then.
    """

    date: date
    name: str = Field(default="", max_length=200)
    closed: DayHours = ()


class WorkingDay(SupportflowModel):
    """An extra working day (China's make-up days) with its own ``hours``.

    ``hours`` replace the date's regular hours; ``None`` means the Monday hours of the
    schedule in effect on that date.
    """

    date: date
    name: str = Field(default="", max_length=200)
    hours: DayHours | None = None


class Override(SupportflowModel):
    """A weekly schedule in effect from ``start`` to ``end`` (inclusive; ``None``: onwards)."""

    start: date
    end: date | None = None
    weekly: WeeklySchedule

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class CalendarSpec(SupportflowModel):
    """The host-facing description of a business calendar (loads from JSON or TOML).

    ``weekly`` maps ``"mon"``...``"sun"`` to that day's open intervals (a missing day is
    closed). ``first_year``/``last_year`` bound the calendar's horizon (the years its
    holiday data covers); instants outside it are refused. Without them the calendar
    extends lazily year by year.
    """

    timezone: str = "UTC"
    name: str = Field(default="", max_length=200)
    weekly: WeeklySchedule = Field(default_factory=dict)
    holidays: tuple[Holiday, ...] = ()
    working_days: tuple[WorkingDay, ...] = ()
    overrides: tuple[Override, ...] = ()
    first_year: int | None = Field(default=None, ge=_MIN_YEAR, le=_MAX_YEAR)
    last_year: int | None = Field(default=None, ge=_MIN_YEAR, le=_MAX_YEAR)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


@attrs.frozen(slots=True)
class OpenInterval:
    """An open period ``[start, end)`` as aware datetimes."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """Absolute length of the period (in UTC, so DST days count true hours)."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)


def _check_spec(spec: CalendarSpec) -> None:
    """Cross-field checks pydantic cannot name a field for."""
    seen: dict[date, str] = {}
    for i, holiday in enumerate(spec.holidays):
        if holiday.date in seen:
            raise ValidationFailed(f"holidays.{i}.date", f"{holiday.date} is listed twice")
        seen[holiday.date] = f"holidays.{i}"
    for i, day in enumerate(spec.working_days):
        if day.date in seen:
            raise ValidationFailed(
                f"working_days.{i}.date", f"{day.date} is also in {seen[day.date]}"
            )
        seen[day.date] = f"working_days.{i}"
    spans = sorted((o.start, o.end or date.max, i) for i, o in enumerate(spec.overrides))
    for (_, end, _), (start, _, j) in pairwise(spans):
        if start <= end:
            raise ValidationFailed(f"overrides.{j}.start", "overlaps another override")
    if spec.first_year and spec.last_year and spec.first_year > spec.last_year:
        raise ValidationFailed("last_year", "must not be before first_year")


def _to_us(value: datetime) -> int:
    return (value - _EPOCH) // _US


class BusinessCalendar:
    """When a team is open, in its IANA zone, and business-time arithmetic over it.

    Semantics:

    - Intervals are wall-clock times in ``zone`` and half-open ``[start, end)``; on DST
      days they are shorter or longer in absolute time. A wall time that does not exist
      (DST gap) resolves forward to the first instant after the gap; an ambiguous one
      (DST fold) is its first occurrence (``fold=0``).
    - ``add(start, d)``: a start outside hours begins at the next opening. A due time
      that falls exactly at the end of a period is that end instant (18:00, not 09:00
      the next day). ``add(t, 0)`` is ``t`` when open, else the next opening. A negative
      ``d`` counts backwards and lands on an opening's start rather than the previous
      period's end.
    - ``elapsed(start, end)`` is the open time in ``[start, end)``, negative when
      ``end < start`` (``elapsed(a, b) == -elapsed(b, a)``) and zero when equal.
    - Results are in the time zone of the datetime passed in. Naive datetimes are refused
      with :class:`~supportflow.errors.ValidationFailed`; so are instants outside the
      horizon (``first_year``/``last_year``) and a calendar with no open time at all.

    A calendar bounded by ``first_year`` and ``last_year`` (up to 50 years) is built whole
    at construction and is then read-only, safe to share between threads. An unbounded one
    adds a year at a time on first use of that year; warm it (or lock) before sharing it.
    """

    __slots__ = (
        "_cum",
        "_cum_end",
        "_ends",
        "_extra_by_date",
        "_first_dated_year",
        "_hi",
        "_holiday_by_date",
        "_last_dated_year",
        "_lo",
        "_no_open_time",
        "_starts",
        "_year_hi",
        "_year_lo",
        "_years",
        "_zone",
        "spec",
    )

    def __init__(self, spec: CalendarSpec) -> None:
        if not isinstance(spec, CalendarSpec):
            raise ValidationFailed("spec", f"must be a CalendarSpec, not {type(spec).__name__}")
        _check_spec(spec)
        self.spec = spec
        self._zone = ZoneInfo(spec.timezone)
        self._years: dict[int, list[tuple[int, int]]] = {}
        self._year_lo = 0
        self._year_hi = -1
        self._lo = 0
        self._hi = 0
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cum: list[int] = []
        self._cum_end: list[int] = []
        self._holiday_by_date = {h.date: h for h in spec.holidays}
        self._extra_by_date = {d.date: d for d in spec.working_days}
        schedules = [spec.weekly, *(o.weekly for o in spec.overrides)]
        self._no_open_time = not any(h for s in schedules for h in s.values()) and not any(
            d.hours or d.hours is None for d in spec.working_days
        )
        dated = [h.date for h in spec.holidays] + [d.date for d in spec.working_days]
        dated += [o.end or o.start for o in spec.overrides] + [o.start for o in spec.overrides]
        self._first_dated_year = min((d.year for d in dated), default=_MAX_YEAR)
        self._last_dated_year = max((d.year for d in dated), default=_MIN_YEAR)
        if spec.first_year and spec.last_year and spec.last_year - spec.first_year < _EAGER_YEARS:
            # A short bounded calendar is built whole, once, and never changes afterwards.
            self._build(spec.first_year, spec.last_year)

    # -- construction ------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec!r})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """A calendar from plain data (as parsed from JSON or TOML)."""
        return cls(CalendarSpec.model_validate(data))

    @classmethod
    def from_json(cls, text: str | bytes) -> BusinessCalendar:
        """A calendar from a JSON document shaped like :class:`CalendarSpec`."""
        return cls.from_dict(from_json_text(text))

    @classmethod
    def from_toml(cls, text: str) -> BusinessCalendar:
        """A calendar from a TOML document shaped like :class:`CalendarSpec`."""
        return cls.from_dict(from_toml_text(text))

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar: business time equals elapsed time."""
        day = (Hours(start=time(0), end=time(0)),)
        return cls(CalendarSpec(timezone=timezone, weekly=dict.fromkeys(WEEKDAYS, day)))

    @property
    def zone(self) -> tzinfo:
        """The calendar's IANA zone."""
        return self._zone

    # -- queries -----------------------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        """Whether ``t`` falls inside an open interval (start included, end excluded)."""
        ts = self._instant("t", t, strict=True)
        i = bisect_right(self._starts, ts) - 1
        return i >= 0 and ts < self._ends[i]

    def next_open(self, t: datetime) -> datetime:
        """``t`` when open, else the start of the next open interval."""
        ts = self._instant("t", t, strict=True)
        return self._out(self._next_open_us("t", ts), t)

    def add(self, start: datetime, business_duration: timedelta) -> datetime:
        """The instant ``business_duration`` of open time after ``start`` (see the class)."""
        ts = self._instant("start", start, strict=False)
        amount = self._duration(business_duration)
        if amount == 0:
            return self._out(self._next_open_us("start", ts), start)
        target = self._position(ts) + amount
        if amount > 0:
            while target > self._cum_total():
                self._extend_forward("business_duration")
            i = bisect_left(self._cum_end, target)
        else:
            while target < 0:
                self._extend_backward("business_duration")
                target = self._position(ts) + amount
            i = bisect_right(self._cum, target) - 1
        return self._out(self._starts[i] + target - self._cum[i], start)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time in ``[start, end)``; negative when ``end`` is before ``start``."""
        a = self._instant("start", start, strict=False)
        b = self._instant("end", end, strict=False)
        # Covering b may have added years before a's; positions are relative, so recompute.
        return timedelta(microseconds=self._position(b) - self._position(a))

    def open_intervals(self, start: datetime, end: datetime) -> tuple[OpenInterval, ...]:
        """The open periods within ``[start, end)``, clipped to it, in ``start``'s zone."""
        a = self._instant("start", start, strict=False)
        b = self._instant("end", end, strict=False)
        found: list[OpenInterval] = []
        i = max(bisect_right(self._starts, a) - 1, 0)
        while i < len(self._starts) and self._starts[i] < b:
            lo, hi = max(self._starts[i], a), min(self._ends[i], b)
            if lo < hi:
                found.append(OpenInterval(self._out(lo, start), self._out(hi, start)))
            i += 1
        return tuple(found)

    # -- internals ---------------------------------------------------------------------

    def _duration(self, value: object) -> int:
        if not isinstance(value, timedelta):
            raise ValidationFailed(
                "business_duration", f"must be a timedelta, not {type(value).__name__}"
            )
        return value // _US

    def _out(self, us: int, like: datetime) -> datetime:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(like.tzinfo)

    def _cum_total(self) -> int:
        return self._cum_end[-1] if self._cum_end else 0

    def _position(self, ts: int) -> int:
        """Open microseconds from the horizon's start to ``ts``."""
        i = bisect_right(self._starts, ts) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(ts, self._ends[i]) - self._starts[i]

    def _next_open_us(self, field: str, ts: int) -> int:
        while True:
            i = bisect_right(self._starts, ts) - 1
            if i >= 0 and ts < self._ends[i]:
                return ts
            if i + 1 < len(self._starts):
                return self._starts[i + 1]
            self._extend_forward(field)

    def _instant(self, field: str, value: object, *, strict: bool) -> int:
        """``value`` in epoch microseconds, with the horizon extended to cover it."""
        ts = _to_us(aware(field, value))
        if self._year_hi < self._year_lo:
            year = (_EPOCH + timedelta(microseconds=ts)).astimezone(self._zone).year
            self._build(self._clamp_year(field, year), self._clamp_year(field, year))
        while ts < self._lo:
            self._extend_backward(field)
        while ts > self._hi or (strict and ts == self._hi):
            self._extend_forward(field)
        return ts

    def _clamp_year(self, field: str, year: int) -> int:
        first = self.spec.first_year or _MIN_YEAR
        last = self.spec.last_year or _MAX_YEAR
        if not first <= year <= last:
            raise ValidationFailed(field, self._horizon_text(year))
        return year

    def _horizon_text(self, year: int) -> str:
        first = self.spec.first_year or _MIN_YEAR
        last = self.spec.last_year or _MAX_YEAR
        return f"reaches year {year}, outside the calendar's years {first}-{last}"

    def _extend_forward(self, field: str) -> None:
        year = self._year_hi + 1
        if self._no_open_time:
            raise ValidationFailed(field, "the calendar has no open time at all")
        if year > (self.spec.last_year or _MAX_YEAR):
            raise ValidationFailed(field, self._horizon_text(year))
        if year > self._last_dated_year + 1 and not self._years[self._year_hi]:
            raise ValidationFailed(field, f"the calendar has no open time after year {year - 1}")
        self._years[year] = self._year_intervals(year)
        self._year_hi = year
        self._hi = self._local_us(date(year + 1, 1, 1), 0)
        total = self._cum_total()
        for lo, hi in self._years[year]:
            if self._ends and self._ends[-1] == lo:
                self._ends[-1] = hi
                self._cum_end[-1] += hi - lo
            else:
                self._starts.append(lo)
                self._ends.append(hi)
                self._cum.append(total)
                self._cum_end.append(total + hi - lo)
            total += hi - lo

    def _extend_backward(self, field: str) -> None:
        year = self._year_lo - 1
        if self._no_open_time:
            raise ValidationFailed(field, "the calendar has no open time at all")
        if year < (self.spec.first_year or _MIN_YEAR):
            raise ValidationFailed(field, self._horizon_text(year))
        if year < self._first_dated_year - 1 and not self._years[self._year_lo]:
            raise ValidationFailed(field, f"the calendar has no open time before year {year + 1}")
        self._build(year, self._year_hi)

    def _build(self, year_lo: int, year_hi: int) -> None:
        """Cover years ``year_lo``..``year_hi`` and rebuild the flat search arrays."""
        for year in range(year_lo, year_hi + 1):
            if year not in self._years:
                self._years[year] = self._year_intervals(year)
        self._year_lo, self._year_hi = year_lo, year_hi
        self._lo = self._local_us(date(year_lo, 1, 1), 0)
        self._hi = self._local_us(date(year_hi + 1, 1, 1), 0)
        starts: list[int] = []
        ends: list[int] = []
        for year in range(year_lo, year_hi + 1):
            for lo, hi in self._years[year]:
                if ends and ends[-1] == lo:
                    ends[-1] = hi
                else:
                    starts.append(lo)
                    ends.append(hi)
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        for lo, hi in zip(starts, ends, strict=True):
            cum.append(total)
            total += hi - lo
            cum_end.append(total)
        self._starts, self._ends, self._cum, self._cum_end = starts, ends, cum, cum_end

    def _local_us(self, day: date, offset_us: int) -> int:
        """Wall time ``offset_us`` after ``day``'s midnight, as an instant (gap: forward)."""
        wall = datetime.combine(day, time(0)) + timedelta(microseconds=offset_us)
        local = wall.replace(tzinfo=self._zone)
        ts = _to_us(local)
        if (_EPOCH + timedelta(microseconds=ts)).astimezone(self._zone).replace(
            tzinfo=None
        ) == wall:
            return ts
        # A DST gap: the first instant at or after the gap's end, by binary search between
        # the two readings of the missing wall time.
        lo = _to_us(local.replace(fold=1))
        hi = ts
        lo, hi = min(lo, hi), max(lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            moment = (_EPOCH + timedelta(microseconds=mid)).astimezone(self._zone)
            if moment.replace(tzinfo=None) >= wall:
                hi = mid
            else:
                lo = mid
        return hi

    def _weekly_for(self, day: date) -> Mapping[Weekday, tuple[Hours, ...]]:
        for override in self.spec.overrides:
            if override.start <= day and (override.end is None or day <= override.end):
                return override.weekly
        return self.spec.weekly

    def _day_hours(self, day: date) -> Iterable[Hours]:
        extra = self._extra_by_date.get(day)
        if extra is not None:
            return extra.hours if extra.hours is not None else self._weekly_for(day).get("mon", ())
        holiday = self._holiday_by_date.get(day)
        if holiday is not None and not holiday.closed:
            return ()
        return self._weekly_for(day).get(WEEKDAYS[day.weekday()], ())

    def _spans(self, day: date, hours: Iterable[Hours]) -> list[tuple[int, int]]:
        return [
            (self._local_us(day, h.offset_us), self._local_us(day, h.offset_us + h.length_us))
            for h in hours
        ]

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        """The open set within ``year`` (local midnight to midnight), sorted and merged."""
        window_lo = self._local_us(date(year, 1, 1), 0)
        window_hi = self._local_us(date(year + 1, 1, 1), 0)
        first = date(year, 1, 1) - timedelta(days=1)
        days = [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]
        opened: list[tuple[int, int]] = []
        for day in days:
            opened.extend(self._spans(day, self._day_hours(day)))
        holidays = self._holiday_by_date
        closed: list[tuple[int, int]] = []
        for day in [*days, date(year + 1, 1, 1)]:
            holiday = holidays.get(day)
            if holiday is not None and holiday.closed:
                closed.extend(self._spans(day, holiday.closed))
        merged = _merge(opened)
        for c_lo, c_hi in _merge(closed):
            merged = [
                piece
                for lo, hi in merged
                for piece in ((lo, min(hi, c_lo)), (max(lo, c_hi), hi))
                if piece[0] < piece[1]
            ]
        return [
            (max(lo, window_lo), min(hi, window_hi))
            for lo, hi in merged
            if max(lo, window_lo) < min(hi, window_hi)
        ]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if lo >= hi:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
