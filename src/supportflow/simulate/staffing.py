"""The smallest team that meets a first-response target, found by simulating the desk.

Erlang C answers "how many agents?" for a desk that meets its assumptions; a real desk
has shifts, skills, several tickets per agent, a daily rhythm and skewed handling times.
:func:`find_staff` varies the ``count`` of one agent group, runs the scenario under its own
rules for each count, and returns the smallest count whose share of first responses
within the target meets it, with the Erlang C figure beside it and the reasons
(:data:`~supportflow.simulate.erlang.REAL_DESK_DIFFERENCES`) the two may differ.

**What "meets" means.** The share is a steady-state estimate with a 95% batch-means
interval (:func:`~supportflow.simulate.results.batch_means`). The default rule,
``"lower"``, asks the *lower end* of the interval to reach the target: the cautious
planner's answer, which needs a larger team when the run is short (wide intervals) and
converges to the point-estimate answer as runs grow. ``"estimate"`` asks only the point
estimate to reach it: the expected answer, met about half the time at the boundary.

**The search** assumes the share does not fall as agents are added (the same seed gives
every count the same customers with the same needs, so noise does not break this in
practice). It starts from the Erlang C estimate, steps one agent away from it and doubles
the step until the answer is bracketed, then bisects. No count is simulated twice.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import attrs

from ..analytics.formatting import format_duration, format_percent
from ..errors import ValidationFailed
from .engine import Simulation
from .erlang import REAL_DESK_DIFFERENCES, ErlangC, differences
from .results import WARM_UP, Estimate, batch_means
from .scenario import AgentGroup, Distribution, Scenario

__all__ = [
    "ErlangReference",
    "StaffingProgress",
    "StaffingResult",
    "Trial",
    "erlang_reference",
    "find_staff",
    "reasons_for",
]

Rule = Literal["lower", "estimate"]

_MAX_COUNT = 10_000
"""The largest ``AgentGroup.count`` a scenario accepts."""
_BATCHES = 20
"""Batches per replication, as :func:`~supportflow.simulate.results.summarize` uses."""
_MAX_REPLICATIONS = 100


@attrs.frozen(slots=True)
class Trial:
    """One simulated team size: the share within the target and whether it meets it."""

    count: int
    within: Estimate
    """Share of first responses within the target (steady state, batch means)."""
    meets: bool
    tickets: int
    """Tickets that arrived, over all replications."""
    utilisation: float
    """Mean busy share of the group's agents."""
    wall_seconds: float

    def line(self) -> str:
        """One line of the search: the count, the share with its interval, the verdict."""
        within = self.within
        interval = (
            f" (95% interval {format_percent(within.low)} to {format_percent(within.high)})"
            if within.batches > 1
            else ""
        )
        verdict = "meets the target" if self.meets else "short of the target"
        return (
            f"{_agents(self.count)}: "
            f"{format_percent(within.value)}{interval}, "
            f"utilisation {format_percent(self.utilisation)}, {verdict}"
        )

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "count": self.count,
            "within": self.within.as_data(),
            "meets": self.meets,
            "tickets": self.tickets,
            "utilisation": self.utilisation,
            "wall_seconds": self.wall_seconds,
        }


def _agents(count: int) -> str:
    return f"{count} agent{'s' if count != 1 else ''}"


StaffingProgress = Callable[[Trial], None]
"""Called after each team size is simulated, with its :class:`Trial`."""


@attrs.frozen(slots=True)
class ErlangReference:
    """Erlang C for the tickets the group's team receives, and the group's share of it."""

    erlang: ErlangC
    team: str
    team_agents: int
    """Agents Erlang C gives the whole team for the target."""
    others: int
    """Agents of the team's other groups that take tickets."""
    handling: tuple[str, ...]
    """The handling-time kinds of the team's categories (``exponential`` is Erlang C's)."""

    @property
    def count(self) -> int:
        """Erlang C's size for the group: the team's agents less the other groups' (>= 1)."""
        return max(1, self.team_agents - self.others)

    @property
    def exponential(self) -> bool:
        """Whether every handling time of the team is exponential, as Erlang C assumes."""
        return all(kind == "exponential" for kind in self.handling)


@attrs.frozen(slots=True)
class StaffingResult:
    """What :func:`find_staff` tried and found; :meth:`lines` is the terminal report."""

    scenario: str
    group: str
    target_share: float
    within: timedelta
    rule: Rule
    seed: int
    replications: int
    low: int
    high: int
    trials: tuple[Trial, ...]
    """Every count simulated, in the order tried (each once)."""
    chosen: int | None
    """The smallest count meeting the target; ``None`` when ``high`` does not."""
    reference: ErlangReference
    reasons: tuple[str, ...]
    """Names in :data:`~supportflow.simulate.erlang.REAL_DESK_DIFFERENCES` that apply."""

    @property
    def erlang_count(self) -> int:
        """Erlang C's size for the group (see :class:`ErlangReference`)."""
        return self.reference.count

    @property
    def by_count(self) -> tuple[Trial, ...]:
        """The trials in order of team size."""
        return tuple(sorted(self.trials, key=lambda trial: trial.count))

    def lines(self) -> list[str]:
        """The terminal report: the search, the answer, Erlang C and why they differ."""
        ref = self.reference
        within = format_duration(self.within.total_seconds())
        share = format_percent(self.target_share)
        rule = (
            "the lower end of the 95% interval must reach the target"
            if self.rule == "lower"
            else "the point estimate must reach the target"
        )
        runs = f", {self.replications} replications" if self.replications > 1 else ""
        out = [
            f"staffing {self.scenario}, group {self.group}:"
            f" {share} of first responses within {within}",
            f"rule: {rule} (seed {self.seed}{runs})",
            *(f"  {trial.line()}" for trial in self.by_count),
        ]
        if self.chosen is None:
            out.append(f"not met with up to {self.high} agents in group {self.group}")
        else:
            out.append(
                f"smallest team meeting the target: {_agents(self.chosen)} in group {self.group}"
            )
        kinds = "exponential" if ref.exponential else f"{', '.join(ref.handling)}, not exponential"
        load = ref.erlang
        out.append(
            f"Erlang C: {_agents(ref.count)} in group {self.group}"
            + (
                f" ({ref.team_agents} for team {ref.team} less {ref.others} in other groups)"
                if ref.others
                else ""
            )
            + f" for {load.arrivals_per_hour:.3g} tickets/h,"
            f" mean handling {format_duration(load.handle_seconds)} ({kinds})"
        )
        out.append(f"  {load.describe(ref.team_agents, self.within)}")
        if self.reasons:
            out.append("why they differ:")
            out.extend(f"  - {text}" for text in differences(*self.reasons))
        else:
            out.append(
                "the scenario meets Erlang C's assumptions: a difference is the run's noise,"
                " its start from an empty desk, and the rule"
            )
        return out

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        ref = self.reference
        return {
            "scenario": self.scenario,
            "group": self.group,
            "target_share": self.target_share,
            "within_seconds": self.within.total_seconds(),
            "rule": self.rule,
            "seed": self.seed,
            "replications": self.replications,
            "low": self.low,
            "high": self.high,
            "trials": [trial.as_data() for trial in self.trials],
            "chosen": self.chosen,
            "erlang": {
                "count": ref.count,
                "team": ref.team,
                "team_agents": ref.team_agents,
                "others": ref.others,
                "arrivals_per_hour": ref.erlang.arrivals_per_hour,
                "handle_seconds": ref.erlang.handle_seconds,
                "handling": list(ref.handling),
            },
            "reasons": {name: REAL_DESK_DIFFERENCES[name] for name in self.reasons},
        }


def find_staff(
    scenario: Scenario,
    *,
    group: str,
    target_share: float,
    within: timedelta,
    low: int = 1,
    high: int | None = None,
    seed: int | None = None,
    replications: int = 1,
    rule: Rule = "lower",
    progress: StaffingProgress | None = None,
) -> StaffingResult:
    """The smallest ``count`` of ``group`` answering ``target_share`` within ``within``.

    Counts from ``low`` to ``high`` are searched (``high`` defaults to twice the starting
    point, at least ten above it); each is run ``replications`` times, with seeds
    ``seed``, ``seed + 1``, ... (``seed`` defaults to the scenario's), the same seeds for
    every count. ``rule`` says what meeting the target means (see the module docstring).
    Bad arguments raise :class:`~supportflow.errors.ValidationFailed` naming the argument.
    """
    if not isinstance(scenario, Scenario):
        raise ValidationFailed("scenario", f"must be a Scenario, not {type(scenario).__name__}")
    index = _group_index(scenario, group)
    share = _share(target_share)
    _within(within)
    low = _count("low", low)
    if high is not None:
        high = _count("high", high)
        if high < low:
            raise ValidationFailed("high", f"must be at least low ({low}), got {high}")
    run_seed = scenario.seed if seed is None else _seed(seed)
    replications = _replications(replications)
    if rule not in ("lower", "estimate"):
        raise ValidationFailed("rule", f"must be 'lower' or 'estimate', not {rule!r}")

    reference = erlang_reference(scenario, group, share, within)
    start = max(reference.count, low)
    if high is None:
        high = min(_MAX_COUNT, max(2 * start, start + 10))
    start = min(start, high)

    trials: dict[int, Trial] = {}

    def meets(count: int) -> bool:
        if count in trials:
            raise AssertionError(f"count {count} simulated twice")  # the search's contract
        trial = _trial(
            scenario, index, count, share, within, run_seed, replications, rule == "lower"
        )
        trials[count] = trial
        if progress is not None:
            progress(trial)
        return trial.meets

    chosen = _smallest(meets, start, low, high)
    return StaffingResult(
        scenario=scenario.name,
        group=group,
        target_share=share,
        within=within,
        rule=rule,
        seed=run_seed,
        replications=replications,
        low=low,
        high=high,
        trials=tuple(trials.values()),
        chosen=chosen,
        reference=reference,
        reasons=reasons_for(scenario),
    )


def _smallest(meets: Callable[[int], bool], start: int, low: int, high: int) -> int | None:
    """The smallest n in [low, high] with ``meets(n)``, for ``meets`` monotone, or None.

    Gallops from ``start`` (1, 2, 4, ... away) until the answer is bracketed, then
    bisects; ``meets`` is called at most once per n.
    """
    step = 1
    if meets(start):
        good, bad = start, low - 1
        while good > low:
            n = max(good - step, low)
            if not meets(n):
                bad = n
                break
            good, step = n, step * 2
    else:
        bad, found = start, None
        while bad < high:
            n = min(bad + step, high)
            if meets(n):
                found = n
                break
            bad, step = n, step * 2
        if found is None:
            return None
        good = found
    while good - bad > 1:
        mid = (good + bad) // 2
        if meets(mid):
            good = mid
        else:
            bad = mid
    return good


def _trial(
    scenario: Scenario,
    index: int,
    count: int,
    share: float,
    within: timedelta,
    seed: int,
    replications: int,
    cautious: bool,
) -> Trial:
    """Run ``count`` agents in group ``index`` for each replication and pool the figures."""
    groups = [g.model_dump(mode="python") for g in scenario.agents]
    groups[index]["count"] = count
    varied = scenario.with_changes(agents=groups)
    name = scenario.agents[index].name
    ids = {f"{name}-{n}" for n in range(1, count + 1)}
    target = within.total_seconds()
    hits: list[float] = []
    busy: list[float] = []
    tickets, wall = 0, 0.0
    for r in range(replications):
        sim = Simulation(varied, seed=seed + r).run()
        hits.extend(_within_target(sim, target))
        busy.extend(u for agent, u in sim.utilisation().items() if agent in ids)
        tickets += len(sim.records)
        wall += sim.wall_seconds
    estimate = batch_means(hits, batches=_BATCHES * replications, bounds=(0.0, 1.0))
    figure = estimate.low if cautious else estimate.value
    return Trial(
        count=count,
        within=estimate,
        meets=not math.isnan(figure) and figure >= share,
        tickets=tickets,
        utilisation=statistics.fmean(busy) if busy else math.nan,
        wall_seconds=wall,
    )


def _within_target(sim: Simulation, target: float) -> list[float]:
    """1.0 per steady-state ticket answered within ``target`` seconds, else 0.0.

    The same definition as :func:`~supportflow.simulate.results.summarize`: arrival
    order, the first :data:`~supportflow.simulate.results.WARM_UP` share left out, a
    ticket never answered counted as not within.
    """
    records = sorted(sim.records, key=lambda r: r.created)
    steady = records[int(len(records) * WARM_UP) :]
    return [
        float(r.first_response is not None and r.first_response - r.created <= target)
        for r in steady
    ]


def erlang_reference(
    scenario: Scenario, group: str, target_share: float, within: timedelta
) -> ErlangReference:
    """Erlang C's answer for the tickets ``group``'s team receives.

    The arrival rate is the scenario's mean over the run (its hour-of-day and
    day-of-week profiles averaged over the hours it covers) times the share of the
    category mix sent to the team; the handling time is the mean of the team's
    categories' handling means, weighted by the mix. Escalations, reopens and second
    turns after a customer's answer are not in it. The group's size is the team's less
    the agents of its other groups that take tickets.
    """
    spec = scenario.agents[_group_index(scenario, group)]
    weights = {c: w for c, w in scenario.mix.category.items() if w > 0}
    mine = {c: w for c, w in weights.items() if scenario.team_of(c) == spec.team}
    total = sum(weights.values())
    per_hour = _mean_arrivals(scenario) * sum(mine.values()) / total
    if mine:
        handling = [scenario.handling.of(c) for c in mine]
        mean = sum(w * d.mean.total_seconds() for w, d in zip(mine.values(), handling, strict=True))
        handle = timedelta(seconds=mean / sum(mine.values()))
    else:
        handling = [scenario.handling.default]
        handle = scenario.handling.default.mean
    erlang = ErlangC(arrivals_per_hour=per_hour, handle_time=handle)
    others = sum(
        g.count
        for g in scenario.agents
        if g.team == spec.team and g.works_tickets and g is not spec
    )
    return ErlangReference(
        erlang=erlang,
        team=spec.team,
        team_agents=erlang.agents_for(target_share, within),
        others=others,
        handling=tuple(dict.fromkeys(_kind(d) for d in handling)),
    )


def _kind(distribution: Distribution) -> str:
    if distribution.kind in ("exponential", "fixed"):
        return distribution.kind
    return f"{distribution.kind} cv {distribution.cv:g}"


def _mean_arrivals(scenario: Scenario) -> float:
    """Mean arrivals per hour over the run, as the engine shapes them hour by hour."""
    hours, days = scenario.arrivals.profile()
    zone = ZoneInfo(scenario.timezone)
    start = scenario.start.timestamp()
    end = start + scenario.duration.total_seconds()
    weighted, t = 0.0, start
    while t < end:
        local = datetime.fromtimestamp(t, zone)
        weighted += hours[local.hour] * days[local.weekday()] * (min(t + 3600, end) - t)
        t += 3600
    return scenario.arrivals.per_hour * weighted / (end - start)


def reasons_for(scenario: Scenario) -> tuple[str, ...]:
    """The names in :data:`~supportflow.simulate.erlang.REAL_DESK_DIFFERENCES` that apply.

    ``shifts``: a group that takes tickets has a shift calendar. ``skills``: the groups
    that take tickets differ in skills or languages, or the mix sends tickets to more
    than one team. ``concurrency``: a group's capacity (or a channel's) is above 1.
    ``handling``: a category's handling time is not exponential. ``arrivals``: an arrival
    profile is not flat. ``calendar``: the desk runs an SLA policy, whose clocks and
    escalations follow business hours. ``reply_delays``: agents ask customers for
    information. ``abandonment`` never applies: simulated customers do not give up.
    """
    workers = [g for g in scenario.agents if g.works_tickets]
    weighted = [c for c, w in scenario.mix.category.items() if w > 0]
    found = {
        "shifts": any(g.shift is not None for g in workers),
        "skills": len({(frozenset(g.skills), frozenset(g.languages)) for g in workers}) > 1
        or len({scenario.team_of(c) for c in weighted}) > 1,
        "concurrency": any(_capacity(g) > 1 for g in workers),
        "arrivals": not _flat(scenario.arrivals.hour_of_day)
        or not _flat(scenario.arrivals.day_of_week),
        "handling": any(scenario.handling.of(c).kind != "exponential" for c in weighted),
        "calendar": scenario.sla != "none",
        "reply_delays": scenario.behaviour.info_requests > 0,
    }
    return tuple(name for name in REAL_DESK_DIFFERENCES if found.get(name, False))


def _capacity(group: AgentGroup) -> int:
    return max([group.capacity, *group.channel_capacity.values()])


def _flat(values: Iterable[float]) -> bool:
    return len(set(values)) <= 1


# -- argument checks -----------------------------------------------------------------------


def _group_index(scenario: Scenario, group: object) -> int:
    names = [g.name for g in scenario.agents]
    if not isinstance(group, str) or group not in names:
        raise ValidationFailed("group", f"no group {group!r}; groups: {', '.join(names)}")
    index = names.index(group)
    if not scenario.agents[index].works_tickets:
        working = ", ".join(g.name for g in scenario.agents if g.works_tickets)
        raise ValidationFailed("group", f"{group!r} takes no tickets; groups that do: {working}")
    return index


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValidationFailed(field, f"must be a number, not {value!r}")
    return float(value)


def _share(value: object) -> float:
    share = _number("target_share", value)
    if not 0 < share < 1:
        raise ValidationFailed("target_share", f"must be between 0 and 1 (exclusive), got {value}")
    return share


def _within(value: object) -> None:
    if not isinstance(value, timedelta):
        raise ValidationFailed("within", f"must be a timedelta, not {type(value).__name__}")
    if value < timedelta(0):
        raise ValidationFailed("within", "must not be negative")


def _integer(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(field, f"must be an int, not {type(value).__name__}")
    return value


def _count(field: str, value: object) -> int:
    count = _integer(field, value)
    if not 1 <= count <= _MAX_COUNT:
        raise ValidationFailed(field, f"must be from 1 to {_MAX_COUNT:,}, got {count}")
    return count


def _seed(value: object) -> int:
    seed = _integer("seed", value)
    if not 0 <= seed <= 2**63 - 1 - _MAX_REPLICATIONS:
        raise ValidationFailed("seed", f"must be a non-negative 63-bit int, got {seed}")
    return seed


def _replications(value: object) -> int:
    replications = _integer("replications", value)
    if not 1 <= replications <= _MAX_REPLICATIONS:
        raise ValidationFailed(
            "replications", f"must be from 1 to {_MAX_REPLICATIONS}, got {replications}"
        )
    return replications
