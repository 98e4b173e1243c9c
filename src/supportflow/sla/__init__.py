"""SLA: business calendars, policies and clocks (the extension point and its default)."""

from .calendar import (
    BusinessCalendar,
    CalendarSpec,
    Holiday,
    Hours,
    OpenInterval,
    Override,
    WorkingDay,
)
from .china import china_calendar
from .holiday_package import holidays_from_package
from .protocols import Deadline, NoSlaPolicy, SlaPolicy

__all__ = [
    "BusinessCalendar",
    "CalendarSpec",
    "Deadline",
    "Holiday",
    "Hours",
    "NoSlaPolicy",
    "OpenInterval",
    "Override",
    "SlaPolicy",
    "WorkingDay",
    "china_calendar",
    "holidays_from_package",
]
