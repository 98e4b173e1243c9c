"""A simulation run as one self-contained HTML page: inline SVG charts, no script.

Like the monthly report (:mod:`supportflow.analytics.html`), the page needs nothing else
to open: no JavaScript, no external stylesheet, font or image. A Content-Security-Policy
``<meta>`` forbids them too, so a browser refuses (and reports) anything that would load
or run. The charts are the analytics renderers (:mod:`supportflow.analytics.svg`) and the
tables the analytics tables (:mod:`supportflow.analytics.tables`); every text that came
from a scenario or a host (its name, teams, agents, tiers) is escaped.

What the page shows: the run's headline figures and its waiting estimates with their
confidence intervals, first-response SLA attainment by customer tier and hour of arrival,
the backlog over time, the time in each lifecycle stage and the bottleneck, agent
utilisation, and CSAT and NPS by team with their intervals.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from ..analytics.formatting import (
    NO_DATA,
    format_count,
    format_duration,
    format_percent,
    format_score,
)
from ..analytics.html import group_details, page, table_html
from ..analytics.metrics import STAGES, GroupMetrics
from ..analytics.svg import bar_chart, heatmap, line_chart, stacked_bar_chart
from ..analytics.tables import STAGE_TITLES, Table, stage_table
from ..models import CustomerTier
from .results import Estimate, Run, Summary

__all__ = ["to_html", "write_report"]


_STYLE = """
ul.lines { padding-left: 20px; font-variant-numeric: tabular-nums; }
"""

_TIER_ORDER = [tier.value for tier in CustomerTier]


def to_html(summary: Summary, sim: Run | None = None) -> str:
    """The run as one HTML5 document (UTF-8), charts inline as SVG.

    ``summary`` is :func:`~supportflow.simulate.results.summarize` of the run; ``sim``, the
    finished :class:`~supportflow.simulate.engine.Simulation` itself, adds what only the
    run knows: SLA attainment by the hour of arrival (in the scenario's timezone) and the
    scenario's description. Without it the attainment is shown by tier alone.
    """
    title = f"Simulation: {summary.scenario}"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">{escape(_header(summary, sim))}</p>',
        _description(sim),
        "<h2>Summary</h2>",
        _lines(summary.lines()),
        table_html(_estimates(summary)),
        "<h2>First-response SLA</h2>",
        _sla_section(summary, sim),
        "<h2>Backlog</h2>",
        _backlog(summary),
        table_html(stage_table(summary.metrics.total)),
        _stages_by_team(summary),
        "<h2>Agent utilisation</h2>",
        _utilisation(summary),
        "<h2>Customer satisfaction</h2>",
        _satisfaction(summary),
    ]
    sections += group_details(summary.metrics.groups)
    return page(title, sections, _STYLE)


def write_report(path: str | os.PathLike[str], summary: Summary, sim: Run | None = None) -> Path:
    """Write :func:`to_html` of the run to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(to_html(summary, sim), encoding="utf-8")
    return target


# -- header -----------------------------------------------------------------------------


def _header(summary: Summary, sim: Run | None) -> str:
    start, end = summary.start.astimezone(UTC), summary.end.astimezone(UTC)
    span = format_duration((summary.end - summary.start).total_seconds())
    zone = f"; scenario timezone {sim.scenario.timezone}" if sim is not None else ""
    return (
        f"Seed {summary.seed}; simulated {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
        f" ({span}){zone}; {summary.tickets:,} tickets, {summary.resolved:,} resolved."
    )


def _description(sim: Run | None) -> str:
    if sim is None or not sim.scenario.description:
        return ""
    return f"<p>{escape(sim.scenario.description)}</p>"


def _lines(lines: Sequence[str]) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<ul class="lines">{items}</ul>'


def _estimates(summary: Summary) -> Table:
    """The steady-state waiting estimates with their batch-means intervals."""
    within = format_duration(summary.target.total_seconds())
    estimates: list[tuple[str, Estimate, Callable[[float], str]]] = [
        ("Waited for an agent", summary.waited, format_percent),
        (f"First response within {within}", summary.within_target, format_percent),
        ("Mean wait for the first response", summary.mean_wait, format_duration),
    ]
    confidence = f"{summary.waited.confidence:.0%}"
    rows = tuple(
        (name, fmt(e.value), _interval(e, fmt), format_count(e.batches))
        for name, e, fmt in estimates
    )
    note = (
        f"Steady state: the first tickets to arrive are left out, and the {confidence} "
        "intervals come from the spread of consecutive batch means (waits are correlated)."
    )
    headers = ("Estimate", "Value", f"{confidence} interval", "Batches")
    return Table("Waiting for the first response", headers, rows, note)


def _interval(estimate: Estimate, fmt: Callable[[float], str]) -> str:
    if estimate.batches <= 1 or math.isnan(estimate.low):
        return f"{NO_DATA} (too few tickets for batches)"
    return f"{fmt(estimate.low)} to {fmt(estimate.high)}"


# -- charts -----------------------------------------------------------------------------


def _chart(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'


def _share(value: float) -> str:
    return format_percent(value, decimals=0)


def _sla_section(summary: Summary, sim: Run | None) -> str:
    target = format_duration(summary.target.total_seconds())
    if sim is None:
        return _sla_by_tier(summary, target)
    zone = sim.scenario.timezone
    tiers, hours, values = _attainment_by_hour(sim, summary)
    if not tiers:
        return '<p class="note">No tickets arrived.</p>'
    note = (
        f"Share of tickets answered within {target} of arriving, by customer tier and the "
        f"hour they arrived ({zone}); every ticket of the run, one never answered counts "
        "as missed. Struck-through cells had no tickets."
    )
    chart = heatmap(
        tiers,
        [f"{hour:02d}" for hour in hours],
        values,
        title=f"First response within {target}, by tier and hour of arrival ({zone})",
        value_format=_share,
        domain=(0.0, 1.0),
    )
    return f'<p class="note">{escape(note)}</p>\n{_chart(chart)}'


def _attainment_by_hour(
    sim: Run, summary: Summary
) -> tuple[list[str], list[int], list[list[float | None]]]:
    """Tiers, hours of the day with arrivals, and the share within target in each cell."""
    zone = ZoneInfo(sim.scenario.timezone)
    target = summary.target.total_seconds()
    met: dict[tuple[str, int], int] = {}
    seen: dict[tuple[str, int], int] = {}
    for record in sim.records:
        hour = datetime.fromtimestamp(record.created, zone).hour
        key = (record.tier, hour)
        seen[key] = seen.get(key, 0) + 1
        answered = record.first_response
        if answered is not None and answered - record.created <= target:
            met[key] = met.get(key, 0) + 1
    tiers = _ordered_tiers({tier for tier, _ in seen})
    hours = sorted({hour for _, hour in seen})
    values: list[list[float | None]] = [
        [
            met.get((tier, hour), 0) / seen[(tier, hour)] if (tier, hour) in seen else None
            for hour in hours
        ]
        for tier in tiers
    ]
    return tiers, hours, values


def _ordered_tiers(tiers: set[str]) -> list[str]:
    """The desk's tiers from the highest down, any others after them by name."""
    known = [tier for tier in _TIER_ORDER if tier in tiers]
    return known + sorted(tiers - set(known))


def _sla_by_tier(summary: Summary, target: str) -> str:
    groups = summary.metrics.groups.get("tier", {})
    bars = [
        (tier, groups[tier].sla["first_response"].rate)
        for tier in _ordered_tiers(set(groups))
        if groups[tier].sla["first_response"].committed
    ]
    if not bars:
        return '<p class="note">No first-response commitments in the period.</p>'
    note = (
        "Share of first-response commitments met, by customer tier, under the desk's "
        f"SLA policy (the summary's own target is {target})."
    )
    chart = bar_chart(
        bars,
        title="First-response SLA met, by customer tier",
        value_format=_share,
    )
    return f'<p class="note">{escape(note)}</p>\n{_chart(chart)}'


def _backlog(summary: Summary) -> str:
    backlog = summary.metrics.backlog
    if not backlog:
        return '<p class="note">No whole hour in the period.</p>'
    peak_at, peak = max(backlog, key=lambda point: point[1])
    note = f"Open tickets peaked at {peak:,} on {peak_at:%Y-%m-%d %H:%M %Z}."
    points = [(hour, float(count)) for hour, count in backlog]
    chart = line_chart(
        [("Open tickets", points)], title="Open tickets at each hour", y_label="tickets"
    )
    return f'<p class="note">{escape(note)}</p>\n{_chart(chart)}'


def _stages_by_team(summary: Summary) -> str:
    """Mean time in each stage per resolved ticket, team by team."""
    teams = summary.metrics.groups.get("team", {})
    rows = [
        (name, [_per_ticket(g, stage) for stage in STAGES])
        for name, g in teams.items()
        if g.resolution.count
    ]
    if not rows:
        return ""
    chart = stacked_bar_chart(
        rows,
        [STAGE_TITLES[stage] for stage in STAGES],
        title="Mean time per resolved ticket in each stage, by team",
        value_format=format_duration,
    )
    bottlenecks = "; ".join(
        f"{name}: {STAGE_TITLES[g.bottleneck].lower()}"
        for name, g in teams.items()
        if g.bottleneck is not None
    )
    note = f'<p class="note">Bottleneck by team: {escape(bottlenecks)}.</p>' if bottlenecks else ""
    return _chart(chart) + note


def _per_ticket(g: GroupMetrics, stage: str) -> float:
    return g.stages[stage].seconds / g.resolution.count


def _utilisation(summary: Summary) -> str:
    utilisation = summary.utilisation
    if not utilisation:
        return '<p class="note">No agent works tickets.</p>'
    bars = sorted(utilisation.items(), key=lambda item: (-item[1], item[0]))
    note = (
        "Each agent's time working tickets as a share of the simulated span; work "
        "finished after the span ends counts too, so a share can pass 100%."
    )
    chart = bar_chart(
        bars,
        title="Agent utilisation (busy share of the simulated span)",
        value_format=_share,
        goal=summary.mean_utilisation,
        goal_label="mean",
    )
    return f'<p class="note">{escape(note)}</p>\n{_chart(chart)}'


def _satisfaction(summary: Summary) -> str:
    teams = summary.metrics.groups.get("team", {})
    total = summary.metrics.total
    if not (total.csat.n or total.nps.n):
        return '<p class="note">No survey answers in the period.</p>'
    parts = [table_html(_score_table(teams, total), heading=False)]
    csat = [(name, g.csat.value) for name, g in teams.items() if g.csat.n]
    if csat:
        parts.append(
            _chart(
                bar_chart(
                    csat,
                    title="CSAT by team (answers scoring 4 or 5)",
                    value_format=lambda v: f"{v:.0f}%",
                )
            )
        )
    nps = [(name, g.nps.value) for name, g in teams.items() if g.nps.n]
    if nps:
        parts.append(
            _chart(
                bar_chart(
                    nps,
                    title="NPS by team (promoters minus detractors)",
                    value_format=lambda v: f"{v:+.0f}",
                )
            )
        )
    return "\n".join(parts)


def _score_table(teams: Mapping[str, GroupMetrics], total: GroupMetrics) -> Table:
    rows = [
        (name, format_score(g.csat, unit="%"), format_score(g.nps)) for name, g in teams.items()
    ]
    rows.append(("All teams", format_score(total.csat, unit="%"), format_score(total.nps)))
    note = "Each score with its 95% interval and the number of answers."
    return Table("CSAT and NPS by team", ("Team", "CSAT", "NPS"), tuple(rows), note)
