"""The monthly report as one self-contained HTML page: inline SVG charts, no script.

The page needs nothing else to open: no JavaScript, no external stylesheet, font or image,
so it can be mailed, archived or served from anywhere. Every text that came from a host or
a customer (team names, categories, surge keys) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from .formatting import format_duration
from .metrics import SLA_METRICS, STAGES, GroupMetrics
from .report import MonthlyReport
from .svg import bar_chart, heatmap, line_chart, stacked_bar_chart
from .tables import (
    DIMENSION_TITLES,
    STAGE_TITLES,
    Table,
    backlog_summary,
    complaint_table,
    group_table,
    headline_table,
    stage_table,
)

__all__ = ["POLICY", "group_details", "page", "table_html", "to_html"]

_BASE_STYLE = """
:root { color-scheme: light dark; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  line-height: 1.45; color: #1f2328; background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; border-bottom: 1px solid #d0d7de; }
p.note { color: #57606a; margin: 4px 0 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 0.9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2;
  vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 12px 0; }
details { margin: 8px 0; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; }
  th { background: #161b22; }
  th, td { border-color: #30363d; }
  p.note { color: #9198a1; }
  .sf-chart { color: inherit; }
}
"""
"""What every report page looks like; :func:`page` puts a page's own rules after it."""

_STYLE = """
.goals { display: flex; flex-wrap: wrap; gap: 12px; }
.goal { flex: 1 1 260px; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px; }
.goal strong { display: block; font-size: 1.05rem; }
.met { border-left: 6px solid #009E73; }
.missed { border-left: 6px solid #D55E00; }
.nodata { border-left: 6px solid #8c959f; }
.risk-high { color: #b35000; font-weight: 600; }
.risk-medium { color: #8a6100; font-weight: 600; }
"""

_GOAL_CLASS = {True: "met", False: "missed", None: "nodata"}
_GOAL_WORD = {True: "Met", False: "Missed", None: "No data"}


def table_html(table: Table, *, heading: bool = True) -> str:
    """A :class:`~supportflow.analytics.tables.Table` as escaped HTML (numbers right-aligned)."""
    parts = [f"<h2>{escape(table.title)}</h2>"] if heading else []
    if table.note:
        parts.append(f'<p class="note">{escape(table.note)}</p>')
    if table.rows:
        head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
        body = "".join(
            "<tr>" + "".join(_cell(cell, i) for i, cell in enumerate(row)) + "</tr>"
            for row in table.rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(parts)


def _cell(text: str, column: int) -> str:
    numeric = column > 0 and text[:1].isdigit()
    return f'<td class="num">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def _goals(report: MonthlyReport) -> str:
    cards = "".join(
        f'<div class="goal {_GOAL_CLASS[goal.met]}"><strong>{escape(goal.target)}</strong>'
        f"{_GOAL_WORD[goal.met]}: {escape(goal.detail)}</div>"
        for goal in report.goals
    )
    return f'<h2>Goals</h2>\n<div class="goals">{cards}</div>'


def _chart(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def _stages_by_team(report: MonthlyReport) -> str:
    """Mean time in each stage per resolved ticket, team by team."""
    teams = report.metrics.groups.get("team")
    if not teams:
        return ""
    rows = [
        (name, [_per_ticket(g, stage) for stage in STAGES])
        for name, g in teams.items()
        if g.resolution.count
    ]
    if not rows:
        return ""
    return _chart(
        stacked_bar_chart(
            rows,
            [STAGE_TITLES[stage] for stage in STAGES],
            title="Mean time per resolved ticket in each stage, by team",
            value_format=format_duration,
        )
    )


def _per_ticket(g: GroupMetrics, stage: str) -> float:
    return g.stages[stage].seconds / g.resolution.count


def _csat_by(report: MonthlyReport, dimension: str, goal: float) -> str:
    groups = report.metrics.groups.get(dimension)
    if not groups:
        return ""
    bars = [(name, g.csat.value) for name, g in groups.items() if g.csat.n]
    if not bars:
        return ""
    title = DIMENSION_TITLES.get(dimension, dimension).lower()
    return _chart(
        bar_chart(
            bars,
            title=f"CSAT by {title} (answers scoring 4 or 5)",
            value_format=_percent,
            goal=goal,
            goal_label="goal",
        )
    )


def _sla_heatmap(report: MonthlyReport) -> str:
    tiers = report.metrics.groups.get("tier")
    if not tiers:
        return ""
    rows = list(tiers)
    values = [[tiers[row].sla[metric].rate for metric in SLA_METRICS] for row in rows]
    if all(value is None for line in values for value in line):
        return ""
    return _chart(
        heatmap(
            rows,
            [metric.replace("_", " ") for metric in SLA_METRICS],
            values,
            title="SLA met, by customer tier and commitment",
            value_format=_share,
            domain=(0.0, 1.0),
        )
    )


def _complaints_chart(report: MonthlyReport) -> str:
    complaints = report.metrics.total.complaints
    if not complaints:
        return ""
    return _chart(
        bar_chart(
            [(name, float(count)) for name, count in complaints.items()],
            title="Complaints by category",
            value_format=lambda v: f"{v:,.0f}",
        )
    )


def _backlog_chart(report: MonthlyReport) -> str:
    backlog = report.metrics.backlog
    if not backlog:
        return ""
    points = [(hour, float(count)) for hour, count in backlog]
    return _chart(
        line_chart([("Open tickets", points)], title="Open tickets at each hour", y_label="tickets")
    )


def _surges(report: MonthlyReport) -> str:
    parts = ["<h2>Surges</h2>"]
    if not report.surges:
        parts.append(
            '<p class="note">No surges: no category\'s hourly tickets stood out from its '
            "baseline.</p>"
        )
        return "\n".join(parts)
    items = "".join(
        f'<li><span class="risk-{surge.risk.value}">{surge.risk.value}</span>: '
        f"{escape(surge.describe())}</li>"
        for surge in report.surges
    )
    parts.append(f"<ul>{items}</ul>")
    return "\n".join(parts)


def to_html(report: MonthlyReport) -> str:
    """The whole report as one HTML5 document (UTF-8), charts inline as SVG."""
    metrics = report.metrics
    title = f"Support report: {report.month} ({report.timezone})"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">{escape(_period(report))}</p>',
        _goals(report),
        table_html(headline_table(report)),
        "<h2>Backlog</h2>",
        f'<p class="note">{escape(backlog_summary(report))}</p>',
        _backlog_chart(report),
        table_html(stage_table(metrics.total)),
        _stages_by_team(report),
        _surges(report),
        table_html(complaint_table(report)),
        _complaints_chart(report),
        "<h2>Satisfaction and SLA by group</h2>",
        _csat_by(report, "team", report.targets.csat_at_least),
        _sla_heatmap(report),
    ]
    sections += group_details(metrics.groups)
    return page(title, sections, _STYLE)


POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""Inline styles only: nothing may load or run, and a browser reports any attempt."""


def group_details(groups: Mapping[str, Mapping[str, GroupMetrics]]) -> list[str]:
    """One folded table per grouping (team, agent, ...), for the end of a page."""
    sections = []
    for dimension, by_value in groups.items():
        table = group_table(dimension, by_value)
        sections.append(
            f"<details><summary>{escape(table.title)} ({len(table.rows)})</summary>"
            f"{table_html(table, heading=False)}</details>"
        )
    return sections


def page(title: str, sections: Sequence[str], style: str = "") -> str:
    """A whole HTML5 document: ``sections`` (empty ones left out) under ``title``, styled
    by the shared rules and then ``style``, the page's own."""
    body = "\n".join(part for part in sections if part)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_BASE_STYLE}{style}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _period(report: MonthlyReport) -> str:
    metrics = report.metrics
    return (
        f"From {metrics.start:%Y-%m-%d %H:%M} to {metrics.end:%Y-%m-%d %H:%M} "
        f"({report.timezone}); times are calendar time unless marked business time."
    )
