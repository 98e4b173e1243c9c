"""The monthly report: a month's figures, its bottleneck and surges, beside the goals.

:func:`monthly_report` makes one streaming pass over the event log (from the start of the
previous month, less the surge baseline's lookback, to the end of the month) and returns a
:class:`MonthlyReport`: the month's :class:`~supportflow.analytics.MetricsReport`, the
complaint count of the previous month, the surges found, and the documents' goals checked
against the figures:

- **CSAT** at least 90% (the month's CSAT score, not its interval's bound);
- **resolution within 24 hours**: at least 90% of the month's resolutions took at most 24
  hours of calendar time;
- **complaints down 30%** on the previous month (complaint tickets created, any category).

Each goal and threshold is a field of :class:`Goals`. A goal without data (no survey
answers, no resolutions, no complaints the month before) is neither met nor missed:
``met`` is ``None``. The report renders to JSON (:meth:`MonthlyReport.to_json`), Markdown
and a self-contained HTML page (:mod:`supportflow.analytics.render`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .._validate import shown
from ..errors import ValidationFailed
from ..events import EventType
from ..models import CustomerTier, TicketEvent
from ..sla.calendar import BusinessCalendar
from .metrics import GROUP_DIMENSIONS, NONE, MetricsReport, metrics_pass
from .surges import HourlyCounts, Surge, SurgeSettings, find_surges

__all__ = [
    "GoalResult",
    "Goals",
    "MonthlyReport",
    "judge",
    "month_bounds",
    "monthly_report",
    "report_window",
]

_CREATED = EventType.CREATED.value
_SURGES = SurgeSettings()
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@attrs.frozen(slots=True)
class Goals:
    """The documents' goals; change a field to hold a team to another bar."""

    csat_at_least: float = 90.0
    """CSAT percent the month must reach."""
    resolution_within: timedelta = timedelta(hours=24)
    """The resolution time each ticket should meet..."""
    resolution_share: float = 0.9
    """...and the share of the month's resolutions that must meet it."""
    complaint_reduction: float = 0.30
    """How much fewer complaints than the previous month (0.30: down 30%)."""

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.csat_at_least <= 100:
            raise ValidationFailed("goals.csat_at_least", "must be a percentage in [0, 100]")
        if not isinstance(self.resolution_within, timedelta) or self.resolution_within <= (
            timedelta(0)
        ):
            raise ValidationFailed("goals.resolution_within", "must be a positive timedelta")
        if not 0 < self.resolution_share <= 1:
            raise ValidationFailed("goals.resolution_share", "must be in (0, 1]")
        if not 0 <= self.complaint_reduction < 1:
            raise ValidationFailed("goals.complaint_reduction", "must be in [0, 1)")


@attrs.frozen(slots=True)
class GoalResult:
    """One goal beside the figure it is judged on."""

    name: str
    """``csat``, ``resolution_within`` or ``complaint_reduction``."""
    target: str
    """The goal in words: ``"CSAT at least 90%"``."""
    actual: float | None
    """The figure (CSAT percent, share within the time, relative change); ``None``: no data."""
    met: bool | None
    """``None`` when there was no data to judge by."""
    detail: str
    """The figure in words, with its evidence."""

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return attrs.asdict(self)


@attrs.frozen(slots=True)
class MonthlyReport:
    """A month's figures, the previous month's complaints, surges and the goals."""

    month: str
    """``"2026-03"``."""
    timezone: str
    metrics: MetricsReport
    previous_complaints: Mapping[str, int]
    """Complaint tickets created in the previous month, by complaint category."""
    surges: tuple[Surge, ...]
    targets: Goals
    """The goals the month was held to."""
    goals: tuple[GoalResult, ...]
    """Each goal judged against the month's figures."""

    @property
    def previous_complaint_volume(self) -> int:
        """Complaints of every category in the previous month."""
        return sum(self.previous_complaints.values())

    @property
    def complaint_change(self) -> float | None:
        """Relative change in complaints on the previous month (-0.3: down 30%)."""
        before = self.previous_complaint_volume
        if not before:
            return None
        return (self.metrics.total.complaint_volume - before) / before

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form of everything in the report."""
        return {
            "month": self.month,
            "timezone": self.timezone,
            "goals": [goal.as_data() for goal in self.goals],
            "metrics": self.metrics.as_data(),
            "previous_complaints": dict(self.previous_complaints),
            "previous_complaint_volume": self.previous_complaint_volume,
            "complaint_change": self.complaint_change,
            "surges": [surge.as_data() for surge in self.surges],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (datetimes in ISO 8601, durations in seconds)."""
        return json.dumps(self.as_data(), indent=indent, ensure_ascii=False)


def month_bounds(month: str, timezone: str = "UTC") -> tuple[datetime, datetime, datetime]:
    """The previous month's start, this month's start and its end, in ``timezone``.

    ``month`` is ``"YYYY-MM"``. Months begin at local midnight, so a month in a zone with
    daylight saving time is not a whole number of days of 24 hours.
    """
    if not isinstance(month, str) or (found := _MONTH.fullmatch(month)) is None:
        raise ValidationFailed("month", f"must be 'YYYY-MM', not {shown(month)}")
    year, number = int(found[1]), int(found[2])
    if not 1 <= number <= 12 or year < 1:
        raise ValidationFailed("month", f"no such month {month!r}")
    zone = _zone(timezone)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    previous = datetime(year - (number == 1), (number - 2) % 12 + 1, 1, tzinfo=zone)
    return previous, start, end


def _zone(timezone: object) -> ZoneInfo:
    if not isinstance(timezone, str) or not timezone:
        raise ValidationFailed("timezone", "must be an IANA zone name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed("timezone", f"unknown zone {timezone!r}") from None


class _Taps:
    """What the report needs besides the metrics, counted as the events go by."""

    def __init__(self, previous: datetime, start: datetime) -> None:
        self.previous = previous
        self.start = start
        self.complaints: dict[str, int] = {}
        self.hourly = HourlyCounts()

    def created(self, at: datetime, ticket: Mapping[str, Any]) -> None:
        """Count a ticket created at ``at`` per hour, and as a complaint of last month."""
        self.hourly.add(ticket.get("category") or NONE, at)
        complaint = ticket.get("complaint_category")
        if complaint is not None:
            self.hourly.add(f"complaint:{complaint}", at)
            if self.previous <= at < self.start:
                self.complaints[complaint] = self.complaints.get(complaint, 0) + 1


def monthly_report(
    events: Iterable[TicketEvent],
    *,
    month: str,
    timezone: str = "UTC",
    goals: Goals = Goals(),
    calendar: BusinessCalendar | None = None,
    tiers: Mapping[str, CustomerTier | str] | None = None,
    group_by: Sequence[str] = GROUP_DIMENSIONS,
    surge_settings: SurgeSettings = _SURGES,
) -> MonthlyReport:
    """The report of ``month`` (``"YYYY-MM"`` in ``timezone``) from ``events`` in time order.

    Pass the events from :func:`report_window`'s start (the previous month less the surge
    baseline's lookback) to the month's end; later events are not read. The figures are
    :func:`~supportflow.analytics.compute_metrics`'s, with ``goals.resolution_within`` as
    its resolution goal.
    """
    if not isinstance(goals, Goals):
        raise ValidationFailed("goals", f"must be Goals, not {type(goals).__name__}")
    if not isinstance(surge_settings, SurgeSettings):
        raise ValidationFailed(
            "surge_settings", f"must be SurgeSettings, not {type(surge_settings).__name__}"
        )
    previous, start, end = month_bounds(month, timezone)
    taps = _Taps(previous, start)
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise ValidationFailed("events", "must be an iterable of TicketEvent")
    metrics = metrics_pass(
        events,
        start=start,
        end=end,
        group_by=group_by,
        calendar=calendar,
        tiers=tiers,
        resolution_goal=goals.resolution_within,
        on_created=taps.created,
    )
    surges = find_surges(taps.hourly, start=start, end=end, settings=surge_settings)
    previous_complaints = MappingProxyType(dict(sorted(taps.complaints.items())))
    report = MonthlyReport(
        month=month,
        timezone=timezone,
        metrics=metrics,
        previous_complaints=previous_complaints,
        surges=surges,
        targets=goals,
        goals=(),
    )
    return attrs.evolve(report, goals=judge(report, goals))


def report_window(
    month: str, timezone: str = "UTC", surge_settings: SurgeSettings = _SURGES
) -> tuple[datetime, datetime]:
    """The span of events :func:`monthly_report` needs for ``month``: ``[from, to)``."""
    previous, start, end = month_bounds(month, timezone)
    return min(previous, start - surge_settings.lookback), end


def judge(report: MonthlyReport, goals: Goals) -> tuple[GoalResult, ...]:
    """Each of ``goals`` beside the figure of ``report`` it is judged on."""
    total = report.metrics.total
    csat = total.csat
    if csat.value is None:
        csat_result = GoalResult(
            "csat", f"CSAT at least {goals.csat_at_least:g}%", None, None, "no survey answers"
        )
    else:
        csat_result = GoalResult(
            "csat",
            f"CSAT at least {goals.csat_at_least:g}%",
            csat.value,
            csat.value >= goals.csat_at_least,
            f"{csat.value:.1f}% (95% interval {csat.low:.1f}-{csat.high:.1f}%, {csat.n} answers)",
        )
    within = _hours(goals.resolution_within)
    share = total.resolution_goal_rate
    target = f"{goals.resolution_share:.0%} of resolutions within {within}"
    if share is None:
        resolution_result = GoalResult("resolution_within", target, None, None, "no resolutions")
    else:
        resolution_result = GoalResult(
            "resolution_within",
            target,
            share,
            share >= goals.resolution_share,
            f"{share:.1%} of {total.resolution.count} resolutions within {within}",
        )
    change = report.complaint_change
    target = f"complaints down {goals.complaint_reduction:.0%} on the previous month"
    now, before = total.complaint_volume, report.previous_complaint_volume
    if change is None:
        complaint_result = GoalResult(
            "complaint_reduction",
            target,
            None,
            None,
            f"{now} complaints; none the previous month to compare with",
        )
    else:
        complaint_result = GoalResult(
            "complaint_reduction",
            target,
            change,
            change <= -goals.complaint_reduction,
            f"{now} complaints against {before} ({change:+.0%})",
        )
    return csat_result, resolution_result, complaint_result


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h"
