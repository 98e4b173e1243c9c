"""Support figures from the event log: metrics, bottlenecks, surges and the monthly report."""

from __future__ import annotations

from .metrics import (
    GROUP_DIMENSIONS,
    NONE,
    SLA_METRICS,
    Attainment,
    DurationStats,
    GroupMetrics,
    MetricsReport,
    compute_metrics,
)

__all__ = [
    "GROUP_DIMENSIONS",
    "NONE",
    "SLA_METRICS",
    "Attainment",
    "DurationStats",
    "GroupMetrics",
    "MetricsReport",
    "compute_metrics",
]
