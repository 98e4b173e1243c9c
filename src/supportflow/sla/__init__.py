"""SLA: business calendars, policies as data, and the clocks that run on them."""

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
from .clock import (
    AlertKind,
    ClockStatus,
    Deadline,
    MetricClock,
    SlaAlert,
    SlaClock,
    SlaState,
)
from .holiday_package import holidays_from_package
from .policy import (
    ALWAYS_OPEN,
    Conditions,
    EscalationStep,
    Explanation,
    MetricSettings,
    Rule,
    Selection,
    SlaMetric,
    SlaPolicy,
    Target,
    TicketFacts,
    default_policy,
)

__all__ = [
    "ALWAYS_OPEN",
    "AlertKind",
    "BusinessCalendar",
    "CalendarSpec",
    "ClockStatus",
    "Conditions",
    "Deadline",
    "EscalationStep",
    "Explanation",
    "Holiday",
    "Hours",
    "MetricClock",
    "MetricSettings",
    "OpenInterval",
    "Override",
    "Rule",
    "Selection",
    "SlaAlert",
    "SlaClock",
    "SlaMetric",
    "SlaPolicy",
    "SlaState",
    "Target",
    "TicketFacts",
    "WorkingDay",
    "china_calendar",
    "default_policy",
    "holidays_from_package",
]
