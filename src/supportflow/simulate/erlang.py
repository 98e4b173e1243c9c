"""Erlang C: the queueing-theory reference the simulator is checked against.

Erlang C gives the probability that a ticket waits, the share answered within a target
and the mean wait for a desk that meets its assumptions: Poisson arrivals at a constant
rate, exponentially distributed handling times, N identical agents always present (each
handling one ticket at a time), first come first served, customers who never give up,
and a steady state (the figures are long-run averages, not the first hour of a shift).
No real desk meets all of them, so ``supportflow staff`` sizes a team by simulating the
scenario's own rules and prints the Erlang C figure beside it, with the reasons in
:data:`REAL_DESK_DIFFERENCES` that apply. Times are in seconds unless a
:class:`~datetime.timedelta` says otherwise; loads are in Erlangs (arrivals per second
times the mean handling time in seconds: the number of agents kept busy on average).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from datetime import timedelta
from types import MappingProxyType

import attrs

from ..errors import ValidationFailed

__all__ = [
    "REAL_DESK_DIFFERENCES",
    "ErlangC",
    "differences",
    "erlang_c",
    "mean_wait",
    "occupancy",
    "service_level",
]

REAL_DESK_DIFFERENCES: Mapping[str, str] = MappingProxyType(
    {
        "shifts": "shifts and breaks: agents are not all present all the time",
        "skills": "skills and routing rules: not every agent can take every ticket",
        "concurrency": "channel capacity above 1: a chat agent handles several at once",
        "abandonment": "abandonment: some customers give up before they are answered",
        "handling": "handling times are not exponential (less spread, or a long tail)",
        "arrivals": "arrivals vary over the day and week instead of a constant rate",
        "calendar": "business calendars: the clock stops outside opening hours",
        "reply_delays": "customers' reply delays hold tickets open between agent turns",
    }
)
"""Why a real desk differs from Erlang C, by a short name ``supportflow staff`` picks."""


def differences(*names: str) -> list[str]:
    """The reasons named (in that order), so a report prints only those that apply.

    An unknown name raises :class:`~supportflow.errors.ValidationFailed` listing the known
    ones, so a typo is not silently dropped from the explanation.
    """
    unknown = [name for name in names if name not in REAL_DESK_DIFFERENCES]
    if unknown:
        known = ", ".join(sorted(REAL_DESK_DIFFERENCES))
        raise ValidationFailed("names", f"unknown {unknown[0]!r}; known: {known}")
    return [REAL_DESK_DIFFERENCES[name] for name in names]


def erlang_c(agents: int, load: float) -> float:
    """The probability that an arrival waits for an agent (M/M/N).

    Computed through the Erlang B recursion, which stays within floating point for
    hundreds of agents where ``load**agents / agents!`` would overflow. A load of
    ``agents`` or more is more work than the team can carry: the queue grows without
    bound, everyone waits, and the answer is 1.0.
    """
    _agents(agents)
    _load(load)
    return _erlang_c(agents, load)


def service_level(agents: int, load: float, handle_seconds: float, target_seconds: float) -> float:
    """The share of arrivals answered within ``target_seconds`` (0.0 when unstable).

    ``1 - C * exp(-(N - A) * t / h)``: those who never wait, plus those whose wait ends in
    time. When the load reaches the team size the queue grows without bound, so in the
    long run no share is answered within any finite target.
    """
    _agents(agents)
    _load(load)
    _positive("handle_seconds", handle_seconds)
    _not_negative("target_seconds", target_seconds)
    if load >= agents:
        return 0.0
    wait = _erlang_c(agents, load)
    return _share_within(agents, load, wait, handle_seconds, target_seconds)


def mean_wait(agents: int, load: float, handle_seconds: float) -> float:
    """The mean wait in seconds over all arrivals, the ASA (``math.inf`` when unstable).

    ``C * h / (N - A)``: the share who wait times the mean wait of those who do.
    """
    _agents(agents)
    _load(load)
    _positive("handle_seconds", handle_seconds)
    if load >= agents:
        return math.inf
    return _erlang_c(agents, load) * handle_seconds / (agents - load)


def occupancy(agents: int, load: float) -> float:
    """The share of agents' time spent handling tickets, ``A / N`` capped at 1.0.

    An overloaded team is busy all the time, not more than all the time.
    """
    _agents(agents)
    _load(load)
    return min(load / agents, 1.0)


def _arrivals(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if math.isinf(_not_negative(attribute.name, value)):
        raise ValidationFailed(attribute.name, "must be finite")


def _handle_time(instance: object, attribute: attrs.Attribute[timedelta], value: object) -> None:
    if not isinstance(value, timedelta):
        raise ValidationFailed(attribute.name, f"must be a timedelta, not {type(value).__name__}")
    if value <= timedelta(0):
        raise ValidationFailed(attribute.name, "must be positive")


@attrs.frozen(slots=True)
class ErlangC:
    """Erlang C for one arrival rate and mean handling time, asked about team sizes.

    Built from an arrival rate per hour and a mean handling time; it refuses a negative
    or infinite rate and a handling time that is not positive.

    >>> desk = ErlangC(arrivals_per_hour=120, handle_time=timedelta(minutes=6))
    >>> desk.load, round(desk.p_wait(15), 4)
    (12.0, 0.3192)
    >>> round(desk.service_level(15, within=timedelta(seconds=60)), 4)
    0.8064
    >>> desk.agents_for(0.8, within=timedelta(seconds=20))
    16
    """

    arrivals_per_hour: float = attrs.field(validator=_arrivals)
    handle_time: timedelta = attrs.field(validator=_handle_time)

    @property
    def handle_seconds(self) -> float:
        """The mean handling time in seconds."""
        return self.handle_time.total_seconds()

    @property
    def load(self) -> float:
        """The offered load in Erlangs: how many agents are busy on average."""
        return self.arrivals_per_hour * self.handle_seconds / 3600

    def p_wait(self, agents: int) -> float:
        """The probability that a ticket waits with ``agents`` on duty."""
        return erlang_c(agents, self.load)

    def service_level(self, agents: int, within: timedelta) -> float:
        """The share of tickets answered within ``within`` with ``agents`` on duty."""
        return service_level(agents, self.load, self.handle_seconds, _seconds(within))

    def mean_wait(self, agents: int) -> float:
        """The mean wait in seconds with ``agents`` on duty (``math.inf`` when unstable)."""
        return mean_wait(agents, self.load, self.handle_seconds)

    def occupancy(self, agents: int) -> float:
        """The share of time the ``agents`` spend handling tickets."""
        return occupancy(agents, self.load)

    def agents_for(self, target_share: float, within: timedelta) -> int:
        """The smallest team answering ``target_share`` of tickets within ``within``.

        Always more agents than the load, since a team at or below it never catches up.
        The Erlang B recursion is carried up one agent at a time, so the search costs no
        more than computing Erlang C once for the answer.
        """
        _share("target_share", target_share)
        target_seconds = _seconds(within)
        load, handle = self.load, self.handle_seconds
        for agents, blocking in enumerate(_erlang_b(load), start=1):
            if agents <= load:
                continue
            wait = _wait_probability(agents, load, blocking)
            if _share_within(agents, load, wait, handle, target_seconds) >= target_share:
                return agents
        raise AssertionError("unreachable: the Erlang B recursion never ends")

    def describe(self, agents: int, within: timedelta) -> str:
        """One line for a report: load, occupancy, P(wait), service level and mean wait."""
        _agents(agents)
        _seconds(within)
        head = f"{agents} agent{'s' if agents != 1 else ''}: load {self.load:.1f} Erlangs"
        if self.load >= agents:
            return f"{head}, not below the team size: the queue grows without bound"
        answered = self.service_level(agents, within)
        return (
            f"{head}, occupancy {self.occupancy(agents):.1%}, "
            f"P(wait) {self.p_wait(agents):.2%}, "
            f"{answered:.2%} answered within {within.total_seconds():g} s, "
            f"mean wait {self.mean_wait(agents):.1f} s"
        )


def _erlang_b(load: float) -> Iterator[float]:
    """Erlang B, the blocking probability, for 1, 2, 3, ... agents without end."""
    blocking = 1.0
    for n in itertools.count(1):
        blocking = load * blocking / (n + load * blocking)
        yield blocking


def _erlang_c(agents: int, load: float) -> float:
    if load >= agents:
        return 1.0
    blocking = next(itertools.islice(_erlang_b(load), agents - 1, None))
    return _wait_probability(agents, load, blocking)


def _wait_probability(agents: int, load: float, blocking: float) -> float:
    return min(agents * blocking / (agents - load * (1 - blocking)), 1.0)


def _share_within(
    agents: int, load: float, wait: float, handle_seconds: float, target_seconds: float
) -> float:
    return 1.0 - wait * math.exp(-(agents - load) * target_seconds / handle_seconds)


def _agents(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("agents", f"must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValidationFailed("agents", f"must be at least 1, got {value}")


def _load(value: object) -> None:
    if math.isinf(_not_negative("load", value)):
        raise ValidationFailed("load", "must be finite")


def _number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed(field, f"must be a number, not {type(value).__name__}")
    if math.isnan(value):
        raise ValidationFailed(field, "must be a number, not NaN")
    return float(value)


def _not_negative(field: str, value: object) -> float:
    number = _number(field, value)
    if number < 0:
        raise ValidationFailed(field, f"must not be negative, got {value}")
    return number


def _positive(field: str, value: object) -> None:
    number = _number(field, value)
    if number <= 0 or math.isinf(number):
        raise ValidationFailed(field, f"must be positive and finite, got {value}")


def _share(field: str, value: object) -> None:
    if not 0 < _number(field, value) < 1:
        raise ValidationFailed(field, f"must be between 0 and 1 (exclusive), got {value}")


def _seconds(within: object) -> float:
    if not isinstance(within, timedelta):
        raise ValidationFailed("within", f"must be a timedelta, not {type(within).__name__}")
    if within < timedelta(0):
        raise ValidationFailed("within", "must not be negative")
    return within.total_seconds()
