"""Support figures from the event log: metrics, bottlenecks, surges and the monthly report.

- :func:`compute_metrics` (:mod:`.metrics`): the figures of a period in one streaming pass,
  grouped by team, agent, channel, category and tier.
- :func:`find_surges` (:mod:`.surges`): tickets per hour against a seasonal baseline.
- :func:`monthly_report` (:mod:`.report`): a month's figures beside the documents' goals,
  rendered by :func:`to_markdown` and :func:`to_html` (and ``MonthlyReport.to_json``).
"""

from __future__ import annotations

from .html import to_html
from .markdown import to_markdown
from .metrics import (
    GROUP_DIMENSIONS,
    NONE,
    SLA_METRICS,
    STAGES,
    Attainment,
    DurationStats,
    GroupMetrics,
    MetricsReport,
    StageTime,
    compute_metrics,
)
from .report import GoalResult, Goals, MonthlyReport, month_bounds, monthly_report, report_window
from .surges import HourlyCounts, Risk, Surge, SurgeSettings, find_surges

__all__ = [
    "GROUP_DIMENSIONS",
    "NONE",
    "SLA_METRICS",
    "STAGES",
    "Attainment",
    "DurationStats",
    "GoalResult",
    "Goals",
    "GroupMetrics",
    "HourlyCounts",
    "MetricsReport",
    "MonthlyReport",
    "Risk",
    "StageTime",
    "Surge",
    "SurgeSettings",
    "compute_metrics",
    "find_surges",
    "month_bounds",
    "monthly_report",
    "report_window",
    "to_html",
    "to_markdown",
]
