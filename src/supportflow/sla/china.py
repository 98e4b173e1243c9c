"""The mainland-China business calendar for 2025 and 2026, with official holidays as data.

Source: the State Council General Office notices on the arrangement of public holidays for
2025 (国务院办公厅关于2025年部分节假日安排的通知, November 2024) and for 2026
(国务院办公厅关于2026年部分节假日安排的通知, November 2025), published on gov.cn.
Cross-checked day by day against the ``holidays`` package (0.109, ``holidays.China``), which
cites the same notices; it lists the days off but not the make-up working days.

Holidays list every day off, weekends included; make-up working days (调休上班) are
weekend days worked on the regular weekday hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from .calendar import WEEKDAYS, BusinessCalendar, CalendarSpec, Holiday, Hours, WorkingDay

__all__ = [
    "CHINA_FIRST_YEAR",
    "CHINA_HOLIDAYS",
    "CHINA_LAST_YEAR",
    "CHINA_MAKEUP_WORKDAYS",
    "china_calendar",
    "china_spec",
]

CHINA_FIRST_YEAR = 2025
"""First year the shipped data covers."""

CHINA_LAST_YEAR = 2026
"""Last year the shipped data covers; instants after it are refused."""

CHINA_HOLIDAYS: tuple[tuple[str, date, date], ...] = (
    ("New Year's Day 元旦", date(2025, 1, 1), date(2025, 1, 1)),
    ("Spring Festival 春节", date(2025, 1, 28), date(2025, 2, 4)),
    ("Tomb-Sweeping Day 清明节", date(2025, 4, 4), date(2025, 4, 6)),
    ("Labour Day 劳动节", date(2025, 5, 1), date(2025, 5, 5)),
    ("Dragon Boat Festival 端午节", date(2025, 5, 31), date(2025, 6, 2)),
    ("National Day and Mid-Autumn Festival 国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)),
    ("New Year's Day 元旦", date(2026, 1, 1), date(2026, 1, 3)),
    ("Spring Festival 春节", date(2026, 2, 15), date(2026, 2, 23)),
    ("Tomb-Sweeping Day 清明节", date(2026, 4, 4), date(2026, 4, 6)),
    ("Labour Day 劳动节", date(2026, 5, 1), date(2026, 5, 5)),
    ("Dragon Boat Festival 端午节", date(2026, 6, 19), date(2026, 6, 21)),
    ("Mid-Autumn Festival 中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    ("National Day 国庆节", date(2026, 10, 1), date(2026, 10, 7)),
)
"""Each public holiday as (name, first day, last day), both inclusive."""

CHINA_MAKEUP_WORKDAYS: tuple[tuple[str, date], ...] = (
    ("Spring Festival make-up day 春节调休", date(2025, 1, 26)),
    ("Spring Festival make-up day 春节调休", date(2025, 2, 8)),
    ("Labour Day make-up day 劳动节调休", date(2025, 4, 27)),
    ("National Day make-up day 国庆节调休", date(2025, 9, 28)),
    ("National Day make-up day 国庆节调休", date(2025, 10, 11)),
    ("New Year make-up day 元旦调休", date(2026, 1, 4)),
    ("Spring Festival make-up day 春节调休", date(2026, 2, 14)),
    ("Spring Festival make-up day 春节调休", date(2026, 2, 28)),
    ("Labour Day make-up day 劳动节调休", date(2026, 5, 9)),
    ("National Day make-up day 国庆节调休", date(2026, 9, 20)),
    ("National Day make-up day 国庆节调休", date(2026, 10, 10)),
)
"""Weekend days that are working days, as (name, date)."""

DEFAULT_HOURS = ("09:00-12:00", "13:00-18:00")


def china_spec(
    hours: Sequence[str] = DEFAULT_HOURS, *, timezone: str = "Asia/Shanghai"
) -> CalendarSpec:
    """The spec of :func:`china_calendar`: Mon-Fri ``hours``, holidays, make-up days."""
    day = tuple(Hours.model_validate(text) for text in hours)
    holidays = [
        Holiday(date=first + timedelta(days=n), name=name)
        for name, first, last in CHINA_HOLIDAYS
        for n in range((last - first).days + 1)
    ]
    return CalendarSpec(
        timezone=timezone,
        name="mainland China",
        weekly=dict.fromkeys(WEEKDAYS[:5], day),
        holidays=tuple(holidays),
        working_days=tuple(
            WorkingDay(date=when, name=name) for name, when in CHINA_MAKEUP_WORKDAYS
        ),
        first_year=CHINA_FIRST_YEAR,
        last_year=CHINA_LAST_YEAR,
    )


def china_calendar(
    hours: Sequence[str] = DEFAULT_HOURS, *, timezone: str = "Asia/Shanghai"
) -> BusinessCalendar:
    """Mainland China 2025-2026: Mon-Fri 09:00-12:00 and 13:00-18:00 Asia/Shanghai by default.

    ``hours`` are the working day's intervals (``"HH:MM-HH:MM"``), used on weekdays and on
    make-up working days. Instants outside 2025-2026 raise ``ValidationFailed``.
    """
    return BusinessCalendar(china_spec(hours, timezone=timezone))
