"""Scenario files: the desk, its customers and its promises, as data the simulator runs.

A scenario is TOML (or a mapping) validated by pydantic: every error names the field
(``agents[2].team: no team 'sales'``). It says who works (teams and groups of agents with
skills, languages, capacity and a shift calendar), who writes in (arrivals per hour with
hour-of-day and day-of-week profiles; the channel, category, tier, priority and language
mix; how many tickets are complaints), how long work takes (handling time per category),
how customers behave (reply delays, escalations, reopens, survey answers) and the rules
the desk runs under (the SLA policy and the routing pipeline).

Three scenarios ship in ``supportflow/simulate/scenarios``: ``default`` (the documents'
team and commitments, a week), ``small`` (a few agents for a day, for tests) and
``erlang`` (Erlang C's assumptions: Poisson arrivals, exponential handling, identical
agents, around the clock). :func:`load_scenario` reads one by name or from a path.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from ..errors import ValidationFailed
from ..models import (
    AgentRole,
    Channel,
    ComplaintCategory,
    CustomerTier,
    Priority,
    SupportflowModel,
)
from ..sla._documents import from_toml_text
from ..sla.calendar import CalendarSpec
from ..sla.policy import Duration, SlaPolicy

__all__ = [
    "SHIPPED",
    "AgentGroup",
    "Arrivals",
    "Behaviour",
    "Distribution",
    "Handling",
    "Mix",
    "Scenario",
    "TeamSpec",
    "load_scenario",
]

SHIPPED = ("default", "small", "erlang")
"""The scenarios that ship with supportflow, by name."""

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weights(field: str, weights: Mapping[Any, float]) -> None:
    if not weights:
        raise ValueError(f"{field}: give at least one weight")
    if sum(weights.values()) <= 0:
        raise ValueError(f"{field}: the weights must not all be zero")


class Distribution(SupportflowModel):
    """A random duration: ``kind`` with a ``mean`` and a coefficient of variation ``cv``.

    ``exponential`` (cv is 1 by definition: memoryless, Erlang C's assumption), ``lognormal``
    and ``gamma`` (skewed, as handling times are in practice), or ``fixed`` (cv 0).
    """

    kind: Literal["exponential", "lognormal", "gamma", "fixed"] = "exponential"
    mean: Duration
    cv: float = Field(default=1.0, gt=0, le=10, allow_inf_nan=False)

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.mean <= timedelta(0):
            raise ValueError("mean: must be positive")
        return self

    def sample(self, rng: random.Random) -> float:
        """One duration in seconds."""
        mean = self.mean.total_seconds()
        if self.kind == "exponential":
            return rng.expovariate(1 / mean)
        if self.kind == "fixed":
            return mean
        if self.kind == "gamma":
            shape = 1 / (self.cv * self.cv)
            return rng.gammavariate(shape, mean / shape)
        sigma2 = math.log(1 + self.cv * self.cv)
        return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


class TeamSpec(SupportflowModel):
    """A team: its id, name, the agent group that leads it, and where escalations go."""

    id: Name
    name: str = Field(min_length=1, max_length=200)
    escalation_team: Name | None = None


class AgentGroup(SupportflowModel):
    """``count`` identical agents (ids ``{name}-1`` ... ``{name}-{count}``) of one team.

    ``shift`` names a calendar of the scenario: the agents are on the desk (available)
    while it is open and offline while it is closed, and their work on a ticket stops
    overnight. Without a shift they work around the clock.
    """

    name: Name
    count: int = Field(ge=1, le=10_000)
    team: Name
    role: AgentRole = AgentRole.AGENT
    skills: tuple[Annotated[str, StringConstraints(min_length=1, max_length=64)], ...] = ()
    languages: tuple[Annotated[str, StringConstraints(min_length=2, max_length=16)], ...] = ("en",)
    capacity: int = Field(default=1, ge=1, le=1000)
    channel_capacity: dict[Channel, Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=dict
    )
    shift: Name | None = None
    works_tickets: bool = True
    """``false`` for a team lead or quality supervisor who takes no tickets."""


class Arrivals(SupportflowModel):
    """New tickets per hour: ``per_hour`` on average, shaped by the two profiles.

    ``hour_of_day`` (24 weights, local time of ``Scenario.timezone``) and ``day_of_week``
    (7 weights, Monday first) are relative: each is scaled to average 1, so ``per_hour``
    stays the mean rate. Arrivals are Poisson at the shaped rate.
    """

    per_hour: float = Field(gt=0, le=100_000, allow_inf_nan=False)
    hour_of_day: tuple[Weight, ...] = ()
    day_of_week: tuple[Weight, ...] = ()

    @model_validator(mode="after")
    def _profiles(self) -> Self:
        for field, values, size in (
            ("hour_of_day", self.hour_of_day, 24),
            ("day_of_week", self.day_of_week, 7),
        ):
            if values and len(values) != size:
                raise ValueError(f"{field}: give {size} weights, not {len(values)}")
            if values and sum(values) <= 0:
                raise ValueError(f"{field}: the weights must not all be zero")
        return self

    def profile(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The two profiles scaled to average 1 (flat when not given)."""
        hours = _normalised(self.hour_of_day, 24)
        days = _normalised(self.day_of_week, 7)
        return hours, days


def _normalised(values: tuple[float, ...], size: int) -> tuple[float, ...]:
    if not values:
        return (1.0,) * size
    mean = sum(values) / size
    return tuple(v / mean for v in values)


class Mix(SupportflowModel):
    """What the tickets are: weights per channel, category, tier, priority and language.

    ``team_of`` sends each category to a team (a category left out goes to the first
    team); ``complaints`` is the share of tickets that are complaints, spread over
    ``complaint_category``.
    """

    channel: dict[Channel, Weight] = Field(default_factory=lambda: {Channel.EMAIL: 1.0})
    category: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], Weight] = Field(
        default_factory=lambda: {"general": 1.0}
    )
    tier: dict[CustomerTier, Weight] = Field(default_factory=lambda: {CustomerTier.REGULAR: 1.0})
    priority: dict[Priority, Weight] = Field(default_factory=lambda: {Priority.NORMAL: 1.0})
    language: dict[Annotated[str, StringConstraints(min_length=2, max_length=16)], Weight] = Field(
        default_factory=lambda: {"en": 1.0}
    )
    complaints: Share = 0.0
    complaint_category: dict[ComplaintCategory, Weight] = Field(
        default_factory=lambda: {ComplaintCategory.OTHER: 1.0}
    )
    team_of: dict[str, Name] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _all_weighted(self) -> Self:
        for field in ("channel", "category", "tier", "priority", "language", "complaint_category"):
            _weights(field, getattr(self, field))
        return self


class Handling(SupportflowModel):
    """Agent time a ticket takes, per category (``default`` for the rest)."""

    default: Distribution = Distribution(kind="lognormal", mean=timedelta(minutes=20), cv=0.8)
    by_category: dict[str, Distribution] = Field(default_factory=dict)

    def of(self, category: str) -> Distribution:
        """The distribution for ``category``."""
        return self.by_category.get(category, self.default)


class Behaviour(SupportflowModel):
    """What customers and agents do besides the work itself.

    ``info_requests``: the share of tickets where the agent asks the customer for more
    and waits ``reply_delay`` for the answer; ``escalations``: the share escalated to the
    team's escalation team; ``reopens``: the share of resolutions the customer reopens
    after ``reopen_delay``; ``surveys``: the share of resolutions whose survey is answered
    after ``survey_delay``, with CSAT weights (1-5) and NPS weights (0-10).
    """

    customers: int = Field(default=2000, ge=1, le=10_000_000)
    info_requests: Share = 0.2
    reply_delay: Distribution = Distribution(mean=timedelta(hours=3))
    escalations: Share = 0.05
    reopens: Share = 0.05
    reopen_delay: Distribution = Distribution(mean=timedelta(hours=20))
    surveys: Share = 0.3
    survey_delay: Distribution = Distribution(mean=timedelta(hours=2))
    csat: tuple[Weight, Weight, Weight, Weight, Weight] = (3, 4, 8, 30, 55)
    nps: tuple[
        Weight, Weight, Weight, Weight, Weight, Weight, Weight, Weight, Weight, Weight, Weight
    ] = (1, 1, 1, 2, 2, 3, 5, 12, 18, 25, 30)


class Scenario(SupportflowModel):
    """A whole simulated desk; see the module docstring and ``docs/simulate.md``."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    start: AwareDatetime
    duration: Duration
    timezone: str = "UTC"
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    calendars: dict[Name, CalendarSpec] = Field(default_factory=dict)
    teams: tuple[TeamSpec, ...] = Field(min_length=1)
    agents: tuple[AgentGroup, ...] = Field(min_length=1)
    arrivals: Arrivals
    mix: Mix = Mix()
    handling: Handling = Handling()
    behaviour: Behaviour = Behaviour()
    sla: Literal["default", "none"] | dict[str, Any] = "default"
    """``"default"``: the documents' commitments (``default_policy``) on the ``business``
    calendar; ``"none"``: no SLA; or a whole SLA policy as a table."""
    routing: Literal["standard", "least_loaded", "round_robin"] = "standard"
    first_response_target: Duration = timedelta(hours=1)
    """The target the summary and ``supportflow staff`` measure first responses against."""
    jobs_every: Duration = timedelta(minutes=15)
    """How often the desk's scheduled jobs run (SLA alerts, auto-close, the queue)."""

    @model_validator(mode="after")
    def _references(self) -> Self:
        if self.duration <= timedelta(0) or self.duration > timedelta(days=366):
            raise ValueError("duration: must be positive and at most a year")
        if self.jobs_every <= timedelta(0):
            raise ValueError("jobs_every: must be positive")
        if self.first_response_target <= timedelta(0):
            raise ValueError("first_response_target: must be positive")
        teams = [team.id for team in self.teams]
        if len(set(teams)) != len(teams):
            raise ValueError("teams: two teams have the same id")
        for i, team in enumerate(self.teams):
            if team.escalation_team is not None and team.escalation_team not in teams:
                raise ValueError(f"teams[{i}].escalation_team: no team {team.escalation_team!r}")
        names = [group.name for group in self.agents]
        if len(set(names)) != len(names):
            raise ValueError("agents: two groups have the same name")
        for i, group in enumerate(self.agents):
            if group.team not in teams:
                raise ValueError(f"agents[{i}].team: no team {group.team!r}")
            if group.shift is not None and group.shift not in self.calendars:
                raise ValueError(f"agents[{i}].shift: no calendar {group.shift!r}")
        if not any(group.works_tickets for group in self.agents):
            raise ValueError("agents: nobody works tickets")
        for category, team_id in self.mix.team_of.items():
            if team_id not in teams:
                raise ValueError(f"mix.team_of.{category}: no team {team_id!r}")
        for category in self.handling.by_category:
            if category not in self.mix.category:
                raise ValueError(f"handling.by_category.{category}: not in mix.category")
        if self.sla == "default" and "business" not in self.calendars:
            raise ValueError("sla: the default policy needs a calendar named 'business'")
        if isinstance(self.sla, dict):
            SlaPolicy.from_dict(self.sla)  # its errors name the policy's fields
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown zone {self.timezone!r}") from None
        return self

    @property
    def end(self) -> datetime:
        """When arrivals stop: ``start + duration``."""
        end: datetime = self.start + self.duration
        return end

    def team_of(self, category: str) -> str:
        """The team a category goes to."""
        return self.mix.team_of.get(category, self.teams[0].id)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """A scenario from a mapping (``ValidationFailed`` naming each bad field)."""
        if not isinstance(data, Mapping):
            raise ValidationFailed("scenario", f"must be a table, not {type(data).__name__}")
        return cls.model_validate(dict(data))

    @classmethod
    def from_toml(cls, text: str) -> Scenario:
        """A scenario from TOML text."""
        return cls.from_dict(from_toml_text(text))

    def with_changes(self, **changes: Any) -> Scenario:
        """This scenario with some fields replaced, validated again (``seed=2``)."""
        data = self.model_dump(mode="python")
        data.update(changes)
        return Scenario.from_dict(data)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (:data:`SHIPPED`) or a TOML file by path."""
    if not isinstance(name_or_path, str | Path):
        raise ValidationFailed(
            "scenario", f"must be a name or a path, not {type(name_or_path).__name__}"
        )
    if isinstance(name_or_path, str) and name_or_path in SHIPPED:
        text = (
            resources.files(__package__)
            .joinpath(f"scenarios/{name_or_path}.toml")
            .read_text(encoding="utf-8")
        )
        return Scenario.from_toml(text)
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # unreadable, a NUL in the path, bad UTF-8
        known = ", ".join(SHIPPED)
        raise ValidationFailed(
            "scenario", f"cannot read {str(path)!r} ({exc.__class__.__name__}); shipped: {known}"
        ) from None
    return Scenario.from_toml(text)
