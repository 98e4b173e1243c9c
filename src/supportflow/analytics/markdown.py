"""The monthly report as Markdown: for a wiki page, a pull request or an email."""

from __future__ import annotations

import re

from .report import MonthlyReport
from .tables import (
    Table,
    backlog_summary,
    complaint_table,
    goal_table,
    group_table,
    headline_table,
    stage_table,
)

__all__ = ["to_markdown"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def escape(text: str) -> str:
    """``text`` shown as itself in Markdown: specials escaped, line breaks made spaces.

    Team names, categories and surge keys come from hosts and customers; a ``|`` must not
    split a table cell, nor ``<b>`` become markup.
    """
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _table(table: Table) -> list[str]:
    lines = [f"## {escape(table.title)}", ""]
    if table.note:
        lines += [escape(table.note), ""]
    if table.rows:
        lines.append("| " + " | ".join(escape(h) for h in table.headers) + " |")
        lines.append("|" + "|".join("---" for _ in table.headers) + "|")
        lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in table.rows]
        lines.append("")
    return lines


def to_markdown(report: MonthlyReport) -> str:
    """The whole report: goals, the month's figures, bottlenecks, surges, complaints, groups."""
    metrics = report.metrics
    lines = [f"# Support report: {report.month} ({escape(report.timezone)})", ""]
    lines += _table(goal_table(report))
    lines += _table(headline_table(report))
    lines += _table(stage_table(metrics.total))
    lines += ["## Surges", ""]
    if report.surges:
        lines += [f"- **{s.risk.value}**: {escape(s.describe())}" for s in report.surges]
    else:
        lines.append("No surges: no category's hourly tickets stood out from its baseline.")
    lines.append("")
    lines += _table(complaint_table(report))
    lines += ["## Backlog", "", escape(backlog_summary(report)), ""]
    for dimension, groups in metrics.groups.items():
        lines += _table(group_table(dimension, groups))
    if metrics.untracked_events:
        lines.append(
            f"{metrics.untracked_events:,} events of tickets created before the events read "
            "were ignored."
        )
        lines.append("")
    return "\n".join(lines)
