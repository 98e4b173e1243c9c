"""What a monthly report shows, as plain-text tables both renderers draw.

Markdown and HTML differ only in markup; which figures appear, in which order and in what
words is decided here once, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .formatting import NO_DATA, format_count, format_duration, format_percent, format_score
from .metrics import SLA_METRICS, DurationStats, GroupMetrics
from .report import MonthlyReport

__all__ = [
    "DIMENSION_TITLES",
    "STAGE_TITLES",
    "Table",
    "backlog_summary",
    "complaint_table",
    "goal_table",
    "group_table",
    "headline_table",
    "stage_table",
]

STAGE_TITLES = {
    "assignment": "Waiting for assignment",
    "acknowledgement": "Waiting for acknowledgement",
    "first_reply": "Waiting for the first reply",
    "customer": "Waiting on the customer",
    "on_hold": "On hold",
    "handling": "Handling after the first reply",
}
"""The reader's name of each of :data:`~supportflow.analytics.STAGES`, in that order."""

DIMENSION_TITLES = {
    "team": "Team",
    "agent": "Agent",
    "channel": "Channel",
    "category": "Category",
    "tier": "Customer tier",
}

_METRIC_TITLES = {
    "first_response": "first response",
    "acknowledgement": "acknowledgement",
    "next_response": "next response",
    "resolution": "resolution",
}
_STATUS = {True: "met", False: "missed", None: "no data"}


@attrs.frozen(slots=True)
class Table:
    """A titled table of text cells; ``rows`` all have ``len(headers)`` cells."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    """A sentence under the title (what the table means, or why it is empty)."""


def goal_table(report: MonthlyReport) -> Table:
    """The documents' goals beside the month's figures."""
    rows = tuple((g.target, g.detail, _STATUS[g.met]) for g in report.goals)
    return Table("Goals", ("Goal", "This month", "Status"), rows)


def headline_table(report: MonthlyReport) -> Table:
    """The month's figures for all tickets."""
    total = report.metrics.total
    rows: list[tuple[str, str]] = [
        ("Tickets created", format_count(total.volume)),
        ("First response, median / p90", _median_p90(total.first_response)),
    ]
    if total.first_response_business is not None:
        rows.append(("First response in business time", _median_p90(total.first_response_business)))
    rows.append(("Resolution, median / p90", _median_p90(total.resolution)))
    if total.resolution_business is not None:
        rows.append(("Resolution in business time", _median_p90(total.resolution_business)))
    within = format_duration(report.metrics.resolution_goal.total_seconds())
    rows.append((f"Resolved within {within}", format_percent(total.resolution_goal_rate)))
    for metric in SLA_METRICS:
        attained = total.sla[metric]
        if attained.committed:
            met = attained.committed - attained.breached
            value = f"{format_percent(attained.rate)} ({met:,} of {attained.committed:,})"
            rows.append((f"SLA met: {_METRIC_TITLES[metric]}", value))
    rows += [
        ("Tickets resolved", format_count(total.resolved)),
        ("Reopen rate", format_percent(total.reopen_rate)),
        ("Escalation rate", format_percent(total.escalation_rate)),
        ("First-contact resolution", format_percent(total.first_contact_resolution_rate)),
        ("CSAT (95% interval, answers)", format_score(total.csat, unit="%")),
        ("NPS (95% interval, answers)", format_score(total.nps)),
        ("Complaints", _complaints(report)),
    ]
    return Table("This month", ("Figure", "Value"), tuple(rows))


def _median_p90(stats: DurationStats) -> str:
    if not stats.count:
        return NO_DATA
    median, p90 = format_duration(stats.median), format_duration(stats.p90)
    return f"{median} / {p90} ({stats.count:,} tickets)"


def _complaints(report: MonthlyReport) -> str:
    total = report.metrics.total
    share = format_percent(total.complaint_volume / total.volume if total.volume else None)
    text = f"{total.complaint_volume:,} ({share} of tickets)"
    change = report.complaint_change
    before = report.previous_complaint_volume
    if change is not None:
        text += f"; previous month {before:,} ({change:+.0%})"
    return text


def stage_table(metrics: GroupMetrics) -> Table:
    """Time in each lifecycle stage, and which stage costs most."""
    whole = sum(stage.seconds for stage in metrics.stages.values())
    rows = tuple(
        (
            STAGE_TITLES[name],
            format_count(stage.tickets),
            format_duration(stage.seconds) if stage.tickets else NO_DATA,
            format_duration(stage.mean),
            format_percent(stage.seconds / whole if whole else None, decimals=0),
        )
        for name, stage in metrics.stages.items()
    )
    bottleneck = metrics.bottleneck
    note = (
        "No resolved tickets to measure."
        if bottleneck is None
        else f"The bottleneck: {STAGE_TITLES[bottleneck].lower()}, "
        f"{metrics.stages[bottleneck].seconds / whole:.0%} of the time to resolution."
    )
    headers = ("Stage", "Tickets", "Total time", "Mean per ticket", "Share")
    return Table("Bottlenecks: time in each stage", headers, rows, note)


def complaint_table(report: MonthlyReport) -> Table:
    """Complaints by category against the previous month."""
    now = report.metrics.total.complaints
    before = report.previous_complaints
    volume = report.metrics.total.volume
    rows = []
    for name in sorted(set(now) | set(before)):
        count, earlier = now.get(name, 0), before.get(name, 0)
        change = f"{(count - earlier) / earlier:+.0%}" if earlier else NO_DATA
        rate = format_percent(count / volume if volume else None)
        rows.append((name, format_count(count), rate, format_count(earlier), change))
    note = "" if rows else "No complaints this month or the previous one."
    headers = ("Complaint category", "This month", "Share of tickets", "Previous month", "Change")
    return Table("Complaints", headers, tuple(rows), note)


def group_table(dimension: str, groups: Mapping[str, GroupMetrics]) -> Table:
    """One row per group of a dimension (team, agent, ...)."""
    rows = tuple(
        (
            value,
            format_count(g.volume),
            format_duration(g.first_response.median),
            format_duration(g.resolution.median),
            format_percent(g.sla["first_response"].rate),
            format_percent(g.sla["resolution"].rate),
            format_score(g.csat, unit="%"),
            format_count(g.complaint_volume),
            STAGE_TITLES[g.bottleneck].lower() if g.bottleneck else NO_DATA,
        )
        for value, g in groups.items()
    )
    headers = (
        DIMENSION_TITLES.get(dimension, dimension),
        "Tickets",
        "First response (median)",
        "Resolution (median)",
        "SLA met: first response",
        "SLA met: resolution",
        "CSAT",
        "Complaints",
        "Bottleneck",
    )
    return Table(f"By {DIMENSION_TITLES.get(dimension, dimension).lower()}", headers, rows)


def backlog_summary(report: MonthlyReport) -> str:
    """One sentence on the open tickets over the month."""
    backlog = report.metrics.backlog
    if not backlog:
        return "No whole hour in the period."
    peak_at, peak = max(backlog, key=lambda point: point[1])
    mean = sum(count for _, count in backlog) / len(backlog)
    last_at, last = backlog[-1]
    return (
        f"Open tickets peaked at {peak:,} on {peak_at:%Y-%m-%d %H:%M %Z}; "
        f"{mean:,.1f} on average over {len(backlog):,} hours; {last:,} at {last_at:%Y-%m-%d %H:%M}."
    )
