"""What-if: two scenarios run on the same customers, their differences with intervals.

Run separately, two scenarios differ by luck as much as by design. :func:`compare` runs
both with the same seeds, and the engine draws arrivals and each ticket's needs from
streams fixed by the seed (common random numbers), so for each seed both desks see the
same customers asking for the same work: the difference of a figure between the two runs
of one seed is the desk's doing plus far less noise than two independent runs have.

**Intervals.** With several seeds, each figure's difference B - A is taken per seed and
the interval is Student's t over those paired differences (``n - 1`` degrees of freedom,
the quantile computed exactly). With one seed, the per-ticket figures (within target,
waited, mean wait) pair the same tickets of the two runs and take batch means of the
per-ticket differences (:func:`~supportflow.simulate.results.batch_means`); the run-level
figures (SLA attainment, CSAT, utilisation, resolved) then have no interval.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, Literal

import attrs

from ..analytics.formatting import format_duration, format_percent
from ..errors import ValidationFailed
from .engine import Simulation
from .results import WARM_UP, Estimate, Summary, batch_means, summarize, t_quantile
from .scenario import Scenario

__all__ = ["CompareProgress", "Comparison", "Figure", "compare", "paired_difference"]

Unit = Literal["share", "seconds", "percent", "count"]
Method = Literal["paired seeds", "batch means"]

CompareProgress = Callable[[int, int], None]
"""Called after each run with the runs done and the runs in all."""

_MAX_SEED = 2**63 - 1


@attrs.frozen(slots=True)
class Figure:
    """One figure of both scenarios: A's mean, B's mean and B - A with its interval."""

    key: str
    """``within_target``, ``waited``, ``mean_wait``, ``sla.<metric>``, ``csat``,
    ``utilisation`` or ``resolved``."""
    label: str
    unit: Unit
    """``share`` (0 to 1), ``seconds``, ``percent`` (0 to 100) or ``count``."""
    a: float
    b: float
    difference: Estimate
    """B - A; ``batches`` is how many seeds (or batches of one run) the interval rests
    on, and 1 when there is no interval."""

    @property
    def clear(self) -> bool:
        """Whether the interval excludes 0: a difference beyond the runs' noise."""
        diff = self.difference
        return diff.batches > 1 and not diff.contains(0.0)

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "a": self.a,
            "b": self.b,
            "difference": self.difference.as_data(),
            "clear": self.clear,
        }


@attrs.frozen(slots=True)
class Comparison:
    """The result of :func:`compare`; :meth:`lines` is the terminal table."""

    a: str
    b: str
    seeds: tuple[int, ...]
    target: timedelta
    method: Method
    confidence: float
    figures: tuple[Figure, ...]
    tickets: tuple[tuple[int, int], ...]
    """Tickets that arrived in A's and B's run, per seed."""
    same_arrivals: bool
    """Whether the two scenarios share an arrival stream (checked, not assumed)."""
    wall_seconds: float

    def figure(self, key: str) -> Figure:
        """The figure named ``key`` (``ValidationFailed`` listing the keys otherwise)."""
        for figure in self.figures:
            if figure.key == key:
                return figure
        keys = ", ".join(f.key for f in self.figures)
        raise ValidationFailed("key", f"no figure {key!r}; figures: {keys}")

    def lines(self) -> list[str]:
        """A header, the table (figure, A, B, B - A, interval) and a legend."""
        seeds = ", ".join(str(s) for s in self.seeds)
        runs = f"seed {seeds}" if len(self.seeds) == 1 else f"seeds {seeds}"
        mean_tickets = statistics.fmean(a for a, _ in self.tickets)
        arrivals = (
            "the same customers in both (common random numbers)"
            if self.same_arrivals
            else "different arrivals: differences include the change of customers"
        )
        confidence = format_percent(self.confidence)
        if self.method == "paired seeds":
            how = f"{confidence} t intervals of the differences paired by seed"
        else:
            how = (
                f"{confidence} batch-means intervals of the differences paired by ticket;"
                " no interval for run-level figures"
            )
        out = [
            f"A: {self.a}",
            f"B: {self.b}",
            f"{runs}: {arrivals}, {mean_tickets:,.0f} tickets a run",
            f"intervals: {how}",
        ]
        header = ("figure", "A", "B", "B - A", f"{confidence} interval")
        rows = [header]
        for f in self.figures:
            d = f.difference
            interval = _interval(d, f.unit) if d.batches > 1 else "—"
            rows.append(
                (
                    f.label,
                    _plain(f.a, f.unit),
                    _plain(f.b, f.unit),
                    _signed(d.value, f.unit),
                    interval + (" *" if f.clear else ""),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:4], widths[1:4], strict=True)]
            cells.append(row[4])
            out.append("  ".join(cells).rstrip())
        if any(f.clear for f in self.figures):
            out.append("* the interval excludes 0: a difference beyond the runs' noise")
        return out

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "a": self.a,
            "b": self.b,
            "seeds": list(self.seeds),
            "target_seconds": self.target.total_seconds(),
            "method": self.method,
            "confidence": self.confidence,
            "figures": [figure.as_data() for figure in self.figures],
            "tickets": [list(pair) for pair in self.tickets],
            "same_arrivals": self.same_arrivals,
            "wall_seconds": self.wall_seconds,
        }


def compare(
    a: Scenario,
    b: Scenario,
    *,
    seeds: Sequence[int] = (1, 2, 3, 4, 5),
    target: timedelta | None = None,
    confidence: float = 0.95,
    allow_different_arrivals: bool = False,
    progress: CompareProgress | None = None,
) -> Comparison:
    """Run ``a`` and ``b`` with each of ``seeds`` and compare their figures.

    The scenarios' own ``seed`` is not used. First responses of both are measured against
    ``target`` (default: A's ``first_response_target``). Scenarios whose ``start``,
    ``duration`` or ``arrivals`` differ (or ``timezone``, when arrivals follow the hour or
    day) cannot share customers: refused with :class:`~supportflow.errors.ValidationFailed`
    naming each such field, unless ``allow_different_arrivals``.
    """
    for field, scenario in (("a", a), ("b", b)):
        if not isinstance(scenario, Scenario):
            raise ValidationFailed(field, f"must be a Scenario, not {type(scenario).__name__}")
    run_seeds = _seeds(seeds)
    if target is None:
        target = a.first_response_target
    elif not isinstance(target, timedelta) or target <= timedelta(0):
        raise ValidationFailed("target", f"must be a positive timedelta, not {target!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValidationFailed("confidence", f"must be a number, not {confidence!r}")
    if not 0 < confidence < 1:
        raise ValidationFailed("confidence", f"must be between 0 and 1, got {confidence}")
    differ = _arrival_differences(a, b)
    if differ and not allow_different_arrivals:
        errors = [
            (
                field,
                "differs between the scenarios, so they cannot see the same customers;"
                " pass allow_different_arrivals=True to compare anyway",
            )
            for field in differ
        ]
        raise ValidationFailed(errors[0][0], errors[0][1], errors=errors)
    # The target only changes what the summary measures, never how the desk works.
    runs = (
        a.with_changes(first_response_target=target),
        b.with_changes(first_response_target=target),
    )

    values: dict[str, list[tuple[float | None, float | None]]] = {}
    tickets: list[tuple[int, int]] = []
    per_ticket: dict[str, list[float]] = {}
    wall, done = 0.0, 0
    for seed in run_seeds:
        sims = []
        for scenario in runs:
            sims.append(Simulation(scenario, seed=seed).run())
            done += 1
            if progress is not None:
                progress(done, 2 * len(run_seeds))
        first, second = (summarize(sim, confidence=confidence) for sim in sims)
        wall += first.wall_seconds + second.wall_seconds
        tickets.append((first.tickets, second.tickets))
        fa, fb = _figures(first), _figures(second)
        for key in dict.fromkeys([*fa, *fb]):
            values.setdefault(key, []).append((fa.get(key), fb.get(key)))
        if len(run_seeds) == 1:
            per_ticket = _ticket_differences(sims[0], sims[1], target.total_seconds())

    figures: list[Figure] = []
    for key in _order(values):
        pairs = [(x, y) for x, y in values[key] if _present(x) and _present(y)]
        if not pairs:
            continue
        xs = [x for x, _ in pairs if x is not None]
        ys = [y for _, y in pairs if y is not None]
        mean_a, mean_b = statistics.fmean(xs), statistics.fmean(ys)
        if len(pairs) > 1:
            difference = paired_difference(xs, ys, confidence=confidence)
        elif key in per_ticket:
            within = batch_means(per_ticket[key], confidence=confidence)
            half = (within.high - within.low) / 2
            value = mean_b - mean_a
            difference = Estimate(value, value - half, value + half, confidence, within.batches)
        else:
            value = mean_b - mean_a
            difference = Estimate(value, value, value, confidence, 1)
        label, unit = _describe(key, target)
        figures.append(Figure(key, label, unit, mean_a, mean_b, difference))
    return Comparison(
        a=a.name,
        b=b.name,
        seeds=run_seeds,
        target=target,
        method="paired seeds" if len(run_seeds) > 1 else "batch means",
        confidence=float(confidence),
        figures=tuple(figures),
        tickets=tuple(tickets),
        same_arrivals=not differ,
        wall_seconds=wall,
    )


def paired_difference(
    a: Sequence[float], b: Sequence[float], *, confidence: float = 0.95
) -> Estimate:
    """The mean of ``b[i] - a[i]`` with its Student's t interval (``batches`` = pairs).

    Pairs are independent replications (one seed each). With one pair there is no
    interval (``low`` = ``high`` = ``value``, ``batches`` 1); identical pairs give a
    zero-width interval.
    """
    if len(a) != len(b):
        raise ValidationFailed("b", f"needs as many values as a ({len(a)}), got {len(b)}")
    if not a:
        raise ValidationFailed("a", "needs at least one value")
    diffs = [y - x for x, y in zip(a, b, strict=True)]
    mean = statistics.fmean(diffs)
    if len(diffs) == 1:
        return Estimate(mean, mean, mean, confidence, 1)
    half = t_quantile(confidence, len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return Estimate(mean, mean - half, mean + half, confidence, len(diffs))


def _figures(summary: Summary) -> dict[str, float | None]:
    total = summary.metrics.total
    out: dict[str, float | None] = {
        "within_target": summary.within_target.value,
        "waited": summary.waited.value,
        "mean_wait": summary.mean_wait.value,
    }
    for metric, attained in total.sla.items():
        out[f"sla.{metric}"] = attained.rate
    out["csat"] = total.csat.value
    out["utilisation"] = summary.mean_utilisation
    out["resolved"] = float(summary.resolved)
    return out


def _order(values: dict[str, Any]) -> list[str]:
    """The figures in reading order: responses, SLA metrics, then the rest."""
    head = [k for k in ("within_target", "waited", "mean_wait") if k in values]
    sla = [k for k in values if k.startswith("sla.")]
    tail = [k for k in ("csat", "utilisation", "resolved") if k in values]
    return [*head, *sla, *tail]


def _present(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _describe(key: str, target: timedelta) -> tuple[str, Unit]:
    if key.startswith("sla."):
        return f"SLA {key[4:].replace('_', ' ')} met", "share"
    labels: dict[str, tuple[str, Unit]] = {
        "within_target": (
            f"first response within {format_duration(target.total_seconds())}",
            "share",
        ),
        "waited": ("waited for an agent", "share"),
        "mean_wait": ("mean wait for the first response", "seconds"),
        "csat": ("CSAT", "percent"),
        "utilisation": ("mean agent utilisation", "share"),
        "resolved": ("tickets resolved", "count"),
    }
    return labels[key]


def _ticket_differences(a: Simulation, b: Simulation, target: float) -> dict[str, list[float]]:
    """Per-ticket B - A of the response figures, in A's arrival order after the warm-up.

    Tickets are paired by arrival number, which names the same customer in both runs.
    """
    waits_b = {r.number: _wait(r.created, r.first_response) for r in b.records}
    records = sorted(a.records, key=lambda r: r.created)
    steady = records[int(len(records) * WARM_UP) :]
    out: dict[str, list[float]] = {"within_target": [], "waited": [], "mean_wait": []}
    for record in steady:
        if record.number not in waits_b:
            continue
        wa, wb = _wait(record.created, record.first_response), waits_b[record.number]
        out["within_target"].append(float(wb <= target) - float(wa <= target))
        out["waited"].append(float(wb > 0) - float(wa > 0))
        if math.isfinite(wa) and math.isfinite(wb):
            out["mean_wait"].append(wb - wa)
    return out


def _wait(created: float, first_response: float | None) -> float:
    return math.inf if first_response is None else first_response - created


def _arrival_differences(a: Scenario, b: Scenario) -> list[str]:
    """The fields whose difference changes the arrival stream."""
    fields = ["start", "duration", "arrivals"]
    if any(len(set(p)) > 1 for s in (a, b) for p in s.arrivals.profile()):
        fields.append("timezone")
    return [field for field in fields if getattr(a, field) != getattr(b, field)]


def _seeds(seeds: object) -> tuple[int, ...]:
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise ValidationFailed("seeds", f"must be a sequence of ints, not {seeds!r}")
    found = tuple(seeds)
    if not found:
        raise ValidationFailed("seeds", "give at least one seed")
    for seed in found:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED:
            raise ValidationFailed("seeds", f"must be non-negative 63-bit ints, got {seed!r}")
    if len(set(found)) != len(found):
        raise ValidationFailed("seeds", "a seed is given twice (its runs would count twice)")
    return found


def _plain(value: float, unit: Unit) -> str:
    if unit == "share":
        return format_percent(value)
    if unit == "seconds":
        return format_duration(value)
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.1f}".removesuffix(".0")


def _signed(value: float, unit: Unit) -> str:
    if not math.isfinite(value):
        return "—"
    sign = "+" if value >= 0 else "-"
    size = abs(value)
    if unit == "share":
        return f"{sign}{size * 100:.1f} pp"
    if unit == "seconds":
        return f"{sign}{format_duration(size)}"
    if unit == "percent":
        return f"{sign}{size:.1f} pts"
    return f"{sign}{size:,.1f}"


def _interval(estimate: Estimate, unit: Unit) -> str:
    low, high = _signed(estimate.low, unit), _signed(estimate.high, unit)
    if unit in ("share", "percent"):  # one unit for both ends: "+4.7 to +15.4 pp"
        low = low.rsplit(" ", 1)[0]
    return f"{low} to {high}"
