"""The shipped pipeline steps: team scope, filters, preferences and orders.

Each step is small and stateless; what it needs of the outside world comes in the
:class:`~supportflow.routing.assignment.RoutingRequest` (customer, team, recent agents,
cursors) or its constructor (calendars, skill names). ``standard_pipeline()`` puts them
together the way the documents describe the process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta

from ..errors import ValidationFailed
from ..models import AgentRole, AgentStatus, CustomerTier
from ..sla.calendar import BusinessCalendar
from ..tiering import DEFAULT_ENTITLEMENTS, TierEntitlements, entitlements_for
from .assignment import Candidate, RoutingRequest
from .compose import TRIAGE_CATEGORY
from .pipeline import Pipeline, Preferred
from .pool import AgentPool

__all__ = [
    "Availability",
    "LanguageMatch",
    "LeastLoaded",
    "RoundRobin",
    "SkillMatch",
    "Sticky",
    "TeamRouting",
    "TierAware",
    "WithinCapacity",
    "standard_pipeline",
]

_SENIOR_ROLES = frozenset({AgentRole.SENIOR, AgentRole.LEAD})


def _level(field: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed(field, "must be a whole number from 1, or None")
    return value


class TeamRouting:
    """Scopes a ticket to its team, and routes escalations up (escalation routing).

    From ``senior_from_level`` (default 1) the agent must be a senior or a lead, in every
    decision about the ticket. When an escalation is handed over
    (``RoutingRequest.escalating``) at ``escalation_team_from_level`` (default 2) or
    above, the ticket moves to its team's escalation team: one team up per escalation,
    so a ticket escalated again from the second line goes on to the third. ``None`` turns
    a rung off. A ticket without a team may go to anyone.
    """

    def __init__(
        self,
        *,
        senior_from_level: int | None = 1,
        escalation_team_from_level: int | None = 2,
    ) -> None:
        self.senior_from_level = _level("senior_from_level", senior_from_level)
        self.escalation_team_from_level = _level(
            "escalation_team_from_level", escalation_team_from_level
        )

    def scope(self, request: RoutingRequest) -> tuple[str | None, frozenset[str], list[str]]:
        """The team, the tags its agent needs, and notes for the reason."""
        ticket = request.ticket
        level = ticket.escalation_level
        team_id = ticket.team_id
        notes: list[str] = []
        rung = self.escalation_team_from_level
        if team_id is not None and rung is not None and level >= rung and request.escalating:
            team = request.teams.get(team_id)
            following = None if team is None else team.escalation_team_id
            if following is not None and following != team_id:
                team_id = following
                notes.append(f"level {level} → team {team_id}")
        tags = {f"team:{team_id}"} if team_id is not None else set()
        if self.senior_from_level is not None and level >= self.senior_from_level:
            tags.add("senior")
            notes.append(f"level {level} → senior")
        return team_id, frozenset(tags), notes


class SkillMatch:
    """The agent must have the skill the ticket's category calls for.

    The skill is the category itself unless ``skills`` maps it to another name (or to
    ``None``: no skill needed). Tickets waiting for triage (category ``"other"``) or
    without a category need no skill. Skills compare without case.
    """

    fit = True

    def __init__(
        self,
        skills: Mapping[str, str | None] | None = None,
        *,
        no_skill_for: Sequence[str] = (TRIAGE_CATEGORY,),
    ) -> None:
        self._skills = {k.casefold(): v for k, v in (skills or {}).items()}
        self._none = frozenset(c.casefold() for c in no_skill_for)

    def skill(self, request: RoutingRequest) -> str | None:
        """The skill the ticket needs, if any."""
        category = request.ticket.category
        if category is None or category.casefold() in self._none:
            return None
        key = category.casefold()
        skill = self._skills.get(key, key)
        return None if skill is None else skill.casefold()

    def tags(self, request: RoutingRequest) -> frozenset[str]:
        """``skill:<name>`` when a skill is needed."""
        skill = self.skill(request)
        return frozenset() if skill is None else frozenset({f"skill:{skill}"})

    def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
        """Whether the candidate has the skill."""
        skill = self.skill(request)
        if skill is None:
            return True
        skills = candidate.agent.skills
        # ``skill`` is casefolded, so finding it as it is spares folding every skill.
        return skill in skills or skill in {s.casefold() for s in skills}

    def describe(self, request: RoutingRequest) -> str | None:
        """``"skill billing"``."""
        skill = self.skill(request)
        return None if skill is None else f"skill {skill}"


class LanguageMatch:
    """The agent must speak the ticket's language (``mixed``: both Chinese and English).

    ``mixed_means`` sets the languages a mixed-script ticket needs; tickets without a
    detected language (``und`` or none) need none.
    """

    fit = True

    def __init__(self, *, mixed_means: Sequence[str] = ("zh", "en")) -> None:
        self._mixed = frozenset(code.casefold() for code in mixed_means)

    def languages(self, request: RoutingRequest) -> frozenset[str]:
        """The languages the agent needs."""
        language = request.ticket.language
        code = None if language is None else language.casefold()
        if code is None or code == "und":
            return frozenset()
        if code == "mixed":
            return self._mixed
        return frozenset({code})

    def tags(self, request: RoutingRequest) -> frozenset[str]:
        """``lang:<code>`` for each language needed."""
        return frozenset(f"lang:{code}" for code in self.languages(request))

    def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
        """Whether the candidate speaks every language needed."""
        needed = self.languages(request)
        spoken = candidate.agent.languages
        return needed.issubset(spoken) or needed <= {c.casefold() for c in spoken}

    def describe(self, request: RoutingRequest) -> str | None:
        """``"language zh"``."""
        languages = self.languages(request)
        return f"language {'+'.join(sorted(languages))}" if languages else None


class Availability:
    """The agent must be at work: status, and their own working-hours calendar.

    Away agents are admitted unless ``allow_away=False`` (least-loaded order tries
    available agents first anyway). An agent whose ``calendar`` names one of
    ``calendars`` is admitted only while it is open; an agent naming a calendar not given
    here is refused, so a typo shows up as a queued ticket with the reason, not as a
    ticket given to someone asleep.
    """

    def __init__(
        self,
        calendars: Mapping[str, BusinessCalendar] | None = None,
        *,
        allow_away: bool = True,
    ) -> None:
        if calendars is None:
            calendars = {}
        if not isinstance(calendars, Mapping):
            raise ValidationFailed("calendars", "must map calendar names to BusinessCalendar")
        calendars = dict(calendars)
        for name, calendar in calendars.items():
            if not isinstance(calendar, BusinessCalendar):
                raise ValidationFailed(f"calendars.{name}", "must be a BusinessCalendar")
        if not isinstance(allow_away, bool):
            raise ValidationFailed("allow_away", "must be true or false")
        self._calendars = calendars
        self._allow_away = allow_away

    def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
        """Whether the candidate is available (or away, if allowed) and on shift."""
        agent = candidate.agent
        if agent.status is AgentStatus.OFFLINE:
            return False
        if agent.status is AgentStatus.AWAY and not self._allow_away:
            return False
        if agent.calendar is None:
            return True
        calendar = self._calendars.get(agent.calendar)
        return calendar is not None and calendar.is_open(request.now)

    def describe(self, request: RoutingRequest) -> str | None:
        """``"on shift"``."""
        return "on shift"


class WithinCapacity:
    """The agent must be below their capacity, and below their limit for the channel."""

    def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
        """Whether the candidate has room on the ticket's channel."""
        return candidate.has_room_on(request.ticket.channel)

    def describe(self, request: RoutingRequest) -> str | None:
        """``"room on chat"``."""
        return f"room on {request.ticket.channel.value}"


class TierAware:
    """Customers whose tier has a dedicated account manager go to them, else to seniors.

    Which tiers are served is read from the request's entitlements (the desk's table), else
    from ``entitlements`` (default: the documented table, where VIP and key customers have
    an account manager): a tier whose ``dedicated_account_manager`` is set prefers the
    customer's ``account_manager_id``, then the senior pool. The account manager takes the
    ticket whatever its category or team, as long as they are at work and have room; an
    escalated ticket goes up the ladder instead (seniors, the escalation team), not back
    to them. With ``senior_only`` such a ticket waits for a senior rather than going to the
    general pool. Inside a desk the desk's table wins, so ``SupportDesk(entitlements=table)``
    is the one place to set it.
    """

    def __init__(
        self, entitlements: TierEntitlements | None = None, *, senior_only: bool = False
    ) -> None:
        if entitlements is None:
            entitlements = DEFAULT_ENTITLEMENTS
        if not isinstance(entitlements, TierEntitlements):
            raise ValidationFailed(
                "entitlements", f"must be TierEntitlements, not {type(entitlements).__name__}"
            )
        if not isinstance(senior_only, bool):
            raise ValidationFailed("senior_only", "must be true or false")
        self.entitlements = entitlements
        self._senior_only = senior_only

    def prefer(self, request: RoutingRequest, pool: AgentPool) -> Sequence[Preferred]:
        """The account manager, then the senior pool, for the tiers it serves."""
        customer = request.customer
        if customer is None:
            return ()
        entitled = request.entitlements
        if entitled is None:
            entitled = entitlements_for(customer.tier, self.entitlements)
        if not entitled.dedicated_account_manager:
            return ()
        label = "VIP" if customer.tier is CustomerTier.VIP else customer.tier.value
        options = []
        if customer.account_manager_id is not None and request.ticket.escalation_level == 0:
            options.append(
                Preferred(
                    f"{label} → account manager",
                    agent_id=customer.account_manager_id,
                    strict=False,
                )
            )
        options.append(
            Preferred(
                f"{label} → senior pool",
                tags=frozenset({"senior"}),
                exclusive=self._senior_only,
            )
        )
        return options


class Sticky:
    """A returning customer goes back to the agent of their latest ticket.

    Only an agent who worked one of the customer's tickets within ``window`` qualifies,
    and they must pass every filter (the same team, the skill) and have room.
    """

    def __init__(self, window: timedelta = timedelta(days=30)) -> None:
        if not isinstance(window, timedelta) or window <= timedelta(0):
            raise ValidationFailed("window", "must be a positive timedelta")
        self._window = window

    def prefer(self, request: RoutingRequest, pool: AgentPool) -> Sequence[Preferred]:
        """The customer's most recent agent within the window."""
        for recent in request.recent_agents:
            if recent.ticket_id == request.ticket.id:
                continue
            if request.now - recent.at > self._window:
                return ()
            return (Preferred(f"returning customer → {recent.agent_id}", agent_id=recent.agent_id),)
        return ()


class LeastLoaded:
    """Tries available agents before away ones, then the least loaded.

    Load is open tickets weighted by priority, over capacity; ties go to fewer open
    tickets, then the agent id, so the same state always gives the same answer.
    """

    name = "least loaded"

    def arrange(
        self, pool: AgentPool, tags: frozenset[str], request: RoutingRequest
    ) -> Iterator[Candidate]:
        """The pool's least-loaded order."""
        return pool.least_loaded(tags)

    def cursor_for(
        self, tags: frozenset[str], chosen: Candidate, request: RoutingRequest
    ) -> tuple[str, str] | None:
        """Nothing to remember."""
        return None


class RoundRobin:
    """Takes turns within each team, by agent id, from where the last turn ended.

    The place is a cursor named ``round_robin:<team>`` persisted through storage with
    each assignment, so turns continue across processes and restarts. Agents who are
    full, offline or refused by a filter lose their turn, not their place.
    """

    name = "round-robin"

    def arrange(
        self, pool: AgentPool, tags: frozenset[str], request: RoutingRequest
    ) -> Iterator[Candidate]:
        """The pool's ready agents by id, starting after the team's cursor."""
        return pool.rotation(tags, request.cursor(self._cursor_name(tags)))

    def cursor_for(
        self, tags: frozenset[str], chosen: Candidate, request: RoutingRequest
    ) -> tuple[str, str] | None:
        """The team's cursor moves to the chosen agent."""
        return (self._cursor_name(tags), chosen.id)

    @staticmethod
    def _cursor_name(tags: frozenset[str]) -> str:
        teams = sorted(t[5:] for t in tags if t.startswith("team:"))
        return f"round_robin:{teams[0] if teams else '*'}"


def standard_pipeline(
    *,
    calendars: Mapping[str, BusinessCalendar] | None = None,
    round_robin: bool = False,
    sticky_window: timedelta = timedelta(days=30),
    entitlements: TierEntitlements | None = None,
) -> Pipeline:
    """The process of the documents as one strategy.

    Team scope with escalation routing; customers whose tier has a dedicated account
    manager (VIP and key, by default ``entitlements``) to that manager or the senior pool;
    a returning customer to their recent agent; the agent must have the category's skill,
    speak the language, be on shift and have room on the channel; then the least loaded
    (or round-robin within the team).
    """
    return Pipeline(
        (SkillMatch(), LanguageMatch(), Availability(calendars), WithinCapacity()),
        order=RoundRobin() if round_robin else LeastLoaded(),
        preferences=(TierAware(entitlements), Sticky(sticky_window)),
        team=TeamRouting(),
        name="standard",
    )
