"""What a simulation run found, with the uncertainty a finite run has.

Waiting times of successive tickets are correlated (a queue that is long stays long for a
while), so a confidence interval that treats them as independent would be far too
narrow. :func:`batch_means` splits the run, in arrival order and after a warm-up, into
consecutive batches and uses the spread of the batch means instead: the standard method
for steady-state simulation output.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from ..analytics.formatting import format_duration, format_percent
from ..analytics.metrics import MetricsReport, compute_metrics
from ..sla.calendar import BusinessCalendar
from ..storage.protocols import DEFAULT_TENANT, Store
from .engine import TicketRecord
from .scenario import Scenario

__all__ = ["Estimate", "Run", "Summary", "batch_means", "summarize", "t_quantile"]

_SHARE = (0.0, 1.0)
WARM_UP = 0.05
"""The share of tickets, first to arrive, left out of steady-state estimates."""


@attrs.frozen(slots=True)
class Estimate:
    """A figure and its confidence interval (``low`` = ``high`` = ``value`` with one batch)."""

    value: float
    low: float
    high: float
    confidence: float
    batches: int

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval."""
        return self.low <= x <= self.high

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return attrs.asdict(self)


def t_quantile(confidence: float, df: int) -> float:
    """The t with P(|T| <= t) = ``confidence`` for ``df`` degrees of freedom, by bisection.

    The two-sided probability has a closed form for whole ``df`` (Abramowitz & Stegun
    26.7.3-4), so small ``df`` (few seeds) get the exact quantile, not an expansion.
    """
    lo, hi = 0.0, 1.0
    while _t_within(hi, df) < confidence:
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if _t_within(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _t_within(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with ``df`` degrees of freedom."""
    theta = math.atan(t / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term = total = 1.0
        for j in range(0, df - 2, 2):
            term *= (j + 1) / (j + 2) * cos2
            total += term
        return sin * total
    if df == 1:
        return 2 * theta / math.pi
    term = total = math.cos(theta)
    for j in range(1, df - 2, 2):
        term *= (j + 1) / (j + 2) * cos2
        total += term
    return 2 / math.pi * (theta + sin * total)


def batch_means(
    values: Sequence[float],
    *,
    batches: int = 20,
    confidence: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Estimate:
    """The mean of ``values`` (in time order) with a batch-means confidence interval.

    ``bounds`` clips the interval to what the figure can be (a share: 0 to 1).
    """
    if not values:
        return Estimate(math.nan, math.nan, math.nan, confidence, 0)
    size = len(values) // batches
    if size < 2:
        mean = statistics.fmean(values)
        return Estimate(mean, mean, mean, confidence, 1)
    means = [statistics.fmean(values[i * size : (i + 1) * size]) for i in range(batches)]
    mean = statistics.fmean(means)
    half = t_quantile(confidence, batches - 1) * statistics.stdev(means)
    half /= math.sqrt(batches)
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    return Estimate(mean, low, high, confidence, batches)


@attrs.frozen(slots=True)
class Summary:
    """The headline figures of a run; ``metrics`` holds the analytics of its period."""

    scenario: str
    seed: int
    start: datetime
    end: datetime
    tickets: int
    resolved: int
    wall_seconds: float
    target: timedelta
    waited: Estimate
    """Share of tickets that waited for an agent (steady state, batch means)."""
    within_target: Estimate
    """Share with a first response within ``target``."""
    mean_wait: Estimate
    """Seconds from arrival to the first response."""
    utilisation: Mapping[str, float]
    refused: Mapping[str, int]
    metrics: MetricsReport

    @property
    def tickets_per_second(self) -> float:
        """Simulated tickets per second of wall time."""
        return self.tickets / self.wall_seconds if self.wall_seconds else math.inf

    @property
    def mean_utilisation(self) -> float:
        """The agents' mean busy share of the scenario's span."""
        values = list(self.utilisation.values())
        return statistics.fmean(values) if values else math.nan

    def lines(self) -> list[str]:
        """The terminal summary, one figure a line."""
        total = self.metrics.total
        within = format_duration(self.target.total_seconds())
        out = [
            f"scenario: {self.scenario} (seed {self.seed})",
            f"simulated: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC,"
            f" {self.tickets:,} tickets, {self.resolved:,} resolved"
            f" ({self.wall_seconds:.1f} s, {self.tickets_per_second:,.0f} tickets/s)",
            f"waited for an agent: {_estimate(self.waited, format_percent)}",
            f"first response within {within}: {_estimate(self.within_target, format_percent)}",
            f"mean wait for the first response: {_estimate(self.mean_wait, format_duration)}",
            f"agent utilisation: mean {format_percent(self.mean_utilisation)}",
        ]
        for metric, attained in total.sla.items():
            if attained.committed:
                out.append(
                    f"SLA {metric.replace('_', ' ')}: {format_percent(attained.rate)} met"
                    f" ({attained.committed - attained.breached:,} of {attained.committed:,})"
                )
        tiers = self.metrics.groups.get("tier", {})
        by_tier = ", ".join(
            f"{tier} {format_percent(g.sla['first_response'].rate)}"
            for tier, g in tiers.items()
            if g.sla["first_response"].committed
        )
        if by_tier:
            out.append(f"first-response SLA by tier: {by_tier}")
        if total.csat.n:
            out.append(
                f"CSAT {total.csat.value:.1f}% (n={total.csat.n:,}),"
                f" NPS {total.nps.value:+.1f} (n={total.nps.n:,})"
            )
        if total.bottleneck:
            out.append(f"bottleneck: {total.bottleneck.replace('_', ' ')}")
        if self.refused:
            refused = ", ".join(f"{name} x{n}" for name, n in sorted(self.refused.items()))
            out.append(f"refused by the desk's rules: {refused}")
        return out

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form, the analytics included."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "tickets": self.tickets,
            "resolved": self.resolved,
            "wall_seconds": self.wall_seconds,
            "target_seconds": self.target.total_seconds(),
            "waited": self.waited.as_data(),
            "within_target": self.within_target.as_data(),
            "mean_wait": self.mean_wait.as_data(),
            "utilisation": dict(self.utilisation),
            "refused": dict(self.refused),
            "metrics": self.metrics.as_data(),
        }


def _estimate(estimate: Estimate, fmt: Callable[[float], str]) -> str:
    if estimate.batches <= 1:
        return fmt(estimate.value)
    return f"{fmt(estimate.value)} (95% interval {fmt(estimate.low)} to {fmt(estimate.high)})"


class Run(Protocol):
    """A finished run as the summary and the report read it: a live :class:`Simulation`
    or one read back from its SQLite file (:mod:`.archive`)."""

    @property
    def scenario(self) -> Scenario: ...

    @property
    def seed(self) -> int: ...

    @property
    def records(self) -> Sequence[TicketRecord]: ...

    @property
    def store(self) -> Store: ...

    @property
    def wall_seconds(self) -> float: ...

    @property
    def refused(self) -> Mapping[str, int]: ...

    def utilisation(self) -> Mapping[str, float]: ...


def summarize(sim: Run, *, confidence: float = 0.95, tenant_id: str = DEFAULT_TENANT) -> Summary:
    """The figures of a finished run (its analytics read from the desk's store)."""
    scenario = sim.scenario
    records = sorted(sim.records, key=lambda r: r.created)
    steady = records[int(len(records) * WARM_UP) :]
    waits = [
        (r.first_response - r.created) if r.first_response is not None else math.inf for r in steady
    ]
    target = scenario.first_response_target.total_seconds()
    finite = [w for w in waits if math.isfinite(w)]
    business = scenario.calendars.get("business")
    calendar = None if business is None else BusinessCalendar(business)
    with sim.store.unit_of_work(tenant_id) as uow:
        metrics = compute_metrics(
            uow.events.between(scenario.start, scenario.end + timedelta(days=30)),
            start=scenario.start,
            end=scenario.end,
            group_by=("team", "agent", "channel", "category", "tier"),
            calendar=calendar,
        )
    return Summary(
        scenario=scenario.name,
        seed=sim.seed,
        start=scenario.start,
        end=scenario.end,
        tickets=len(records),
        resolved=sum(r.resolved is not None for r in records),
        wall_seconds=sim.wall_seconds,
        target=scenario.first_response_target,
        waited=batch_means([float(w > 0) for w in waits], confidence=confidence, bounds=_SHARE),
        within_target=batch_means(
            [float(w <= target) for w in waits], confidence=confidence, bounds=_SHARE
        ),
        mean_wait=batch_means(finite, confidence=confidence),
        utilisation=dict(sim.utilisation()),
        refused=dict(sim.refused),
        metrics=metrics,
    )
