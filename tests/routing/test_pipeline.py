"""Pipeline: what it never picks, what it says, and that it decides the same way twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from routing_world import MONDAY_10, MONDAY_20
from routing_world import held_by as _held
from routing_world import make_ticket as _ticket

from supportflow.errors import ValidationFailed
from supportflow.models import (
    Agent,
    AgentRole,
    AgentStatus,
    Channel,
    Customer,
    CustomerTier,
    Priority,
    Team,
    Ticket,
    TicketStatus,
)
from supportflow.routing.assignment import (
    AssignmentStrategy,
    Candidate,
    Decision,
    RecentAgent,
    RoutingRequest,
)
from supportflow.routing.pipeline import Pipeline
from supportflow.routing.pool import PRIORITY_WEIGHTS, AgentPool, agent_tags
from supportflow.routing.steps import (
    Availability,
    LanguageMatch,
    LeastLoaded,
    RoundRobin,
    SkillMatch,
    Sticky,
    TeamRouting,
    TierAware,
    WithinCapacity,
    standard_pipeline,
)
from supportflow.sla.calendar import WEEKDAYS, BusinessCalendar
from supportflow.storage.protocols import OPEN_STATUSES
from supportflow.tiering import TierEntitlements

SATURDAY_10 = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)

CALENDARS = {
    "office": BusinessCalendar.from_dict(
        {"timezone": "UTC", "weekly": dict.fromkeys(WEEKDAYS[:5], ("09:00-18:00",))}
    ),
    "weekend": BusinessCalendar.from_dict(
        {"timezone": "UTC", "weekly": dict.fromkeys(WEEKDAYS[5:], ("00:00-24:00",))}
    ),
}


def _agent(agent_id: str, **fields: Any) -> Agent:
    return Agent(id=agent_id, name=agent_id, **fields)


def _request(ticket: Ticket, **fields: Any) -> RoutingRequest:
    fields.setdefault("now", MONDAY_10)
    return RoutingRequest(ticket=ticket, **fields)


# -- reasons -----------------------------------------------------------------------------


def test_a_pipeline_is_an_assignment_strategy() -> None:
    assert isinstance(Pipeline(), AssignmentStrategy)
    assert repr(standard_pipeline()) == "Pipeline(name='standard', order='least loaded')"


def test_chosen_reason_lists_each_requirement_met_the_order_and_the_load() -> None:
    pool = AgentPool(
        [_agent("a-1", teams=("t1",), skills=("billing",), capacity=8)], _held("a-1", 3)
    )
    decision = Pipeline((SkillMatch(),)).decide(
        _request(_ticket(team_id="t1", category="billing")), pool
    )
    assert decision == Decision(
        "a-1", "team t1 ✓, skill billing ✓, least loaded, load 3/8", strategy="pipeline"
    )
    assert decision.as_data() == {"reason": decision.reason, "strategy": "pipeline"}


def test_vip_reason_names_the_account_manager_and_what_they_meet() -> None:
    """The issue's example: skill billing ✓, load 3/8, VIP → account manager."""
    pool = AgentPool(
        [
            _agent("a-am", teams=("t1",), skills=("billing",), capacity=8),
            _agent("a-idle", teams=("t1",), skills=("billing",)),
        ],
        _held("a-am", 3),
    )
    vip = Customer(id="c-1", name="Vera", tier=CustomerTier.VIP, account_manager_id="a-am")
    decision = standard_pipeline().decide(
        _request(_ticket(team_id="t1", category="billing"), customer=vip), pool
    )
    assert decision.agent_id == "a-am"
    assert decision.reason == (
        "VIP → account manager, team t1 ✓, skill billing ✓, on shift ✓, room on email ✓, load 3/8"
    )
    assert decision.strategy == "standard"


def test_regression_account_manager_outside_the_skill_is_not_marked_as_having_it() -> None:
    """The reason claimed "skill billing ✓" for an account manager without that skill."""
    pool = AgentPool([_agent("a-am", teams=("t9",)), _agent("a-1", teams=("t1",))])
    vip = Customer(id="c-1", name="Vera", tier=CustomerTier.VIP, account_manager_id="a-am")
    decision = standard_pipeline().decide(
        _request(_ticket(team_id="t1", category="billing"), customer=vip), pool
    )
    assert decision.agent_id == "a-am"
    assert decision.reason == "VIP → account manager, on shift ✓, room on email ✓, load 0/10"


def test_queued_reason_names_the_requirement_nobody_meets() -> None:
    pool = AgentPool([_agent("a-1", teams=("t1",), skills=("tech",))])
    decision = standard_pipeline().decide(_request(_ticket(team_id="t1", category="billing")), pool)
    assert decision.queued
    assert decision.agent_id is None
    assert decision.reason == (
        "queued: no agent with team t1, skill billing, on shift, room on email can take it now"
    )
    assert decision.cursor is None
    assert decision.team_id is None


def test_queued_reason_counts_the_refusals_of_filters_the_index_cannot_answer() -> None:
    pool = AgentPool(
        [
            _agent("a-1", calendar="office"),
            _agent("a-2", calendar="office"),
            _agent("a-3", channel_capacity={Channel.CHAT: 1}),
        ],
        _held("a-3", 1, channel=Channel.CHAT),
    )
    pipeline = Pipeline((Availability(CALENDARS), WithinCapacity()), team=None)
    decision = pipeline.decide(_request(_ticket(channel=Channel.CHAT), now=MONDAY_20), pool)
    assert decision.queued
    assert decision.reason == (
        "queued: no agent with on shift, room on chat can take it now "
        "(2 not on shift; 1 not room on chat)"
    )


def test_a_filter_without_description_is_named_by_its_class_when_it_refuses() -> None:
    class NotAnn:
        def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
            return candidate.id != "a-ann"

        def describe(self, request: RoutingRequest) -> str | None:
            return None

    pipeline = Pipeline((NotAnn(),), team=None)
    assert pipeline.decide(_request(_ticket()), AgentPool([_agent("a-ann")])).reason == (
        "queued: no agent can take it now (1 not NotAnn)"
    )
    chosen = pipeline.decide(_request(_ticket()), AgentPool([_agent("a-ann"), _agent("a-bob")]))
    assert chosen == Decision("a-bob", "least loaded, load 0/10", strategy="pipeline")


def test_the_current_assignee_is_never_chosen_again() -> None:
    pool = AgentPool([_agent("a-1")], _held("a-1", 1))
    ticket = _ticket(assignee_id="a-1", status=TicketStatus.ASSIGNED)
    assert Pipeline().decide(_request(ticket), pool).queued
    decided = Pipeline().decide(_request(ticket), AgentPool([_agent("a-1"), _agent("a-2")]))
    assert decided.agent_id == "a-2"


def test_without_a_team_scope_teams_are_ignored() -> None:
    pool = AgentPool([_agent("a-1", teams=("t2",))])
    ticket = _ticket(team_id="t1", escalation_level=2)
    assert Pipeline().decide(_request(ticket), pool).queued
    decision = Pipeline(team=None).decide(_request(ticket), pool)
    assert decision == Decision("a-1", "least loaded, load 0/10", strategy="pipeline")


# -- bad input ---------------------------------------------------------------------------


class _NoPreference:
    pass


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filters": (SkillMatch(), object())}, "filters.1"),
        ({"filters": (TierAware(),)}, "filters.0"),
        ({"preferences": (_NoPreference(),)}, "preferences.0"),
        ({"preferences": (SkillMatch(),)}, "preferences.0"),
        ({"order": object()}, "order"),
        ({"team": "senior"}, "team"),
        ({"team": object()}, "team"),
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_steps_are_refused_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Pipeline(**kwargs)
    assert caught.value.field == field


# -- properties --------------------------------------------------------------------------

AGENT_IDS = ("a0", "a1", "a2", "a3", "a4", "a5")
TEAM_IDS = ("t1", "t2", "t3")


@attrs.frozen
class World:
    """A desk's state around one ticket to route."""

    agents: tuple[Agent, ...]
    held: tuple[Ticket, ...]
    ticket: Ticket
    customer: Customer
    teams: dict[str, Team]
    recent: tuple[RecentAgent, ...]
    now: datetime
    cursors: dict[str, str]
    weights: dict[Priority, float]

    def request(self) -> RoutingRequest:
        return RoutingRequest(
            ticket=self.ticket,
            now=self.now,
            customer=self.customer,
            teams=self.teams,
            recent=lambda: self.recent,
            cursor=self.cursors.get,
        )

    def pool(self) -> AgentPool:
        return AgentPool(self.agents, self.tickets(), weights=self.weights)

    def tickets(self) -> list[Ticket]:
        return [*self.held, self.ticket]

    def open_of(self, agent_id: str) -> list[Ticket]:
        return [
            t for t in self.tickets() if t.assignee_id == agent_id and t.status in OPEN_STATUSES
        ]


agent_strategy = st.builds(
    _agent,
    st.sampled_from(AGENT_IDS),
    status=st.sampled_from((AgentStatus.AVAILABLE, AgentStatus.AVAILABLE, *AgentStatus)),
    capacity=st.integers(1, 5),
    channel_capacity=st.dictionaries(
        st.sampled_from((Channel.CHAT, Channel.EMAIL)), st.integers(1, 3), max_size=1
    ),
    teams=st.lists(st.sampled_from(TEAM_IDS), unique=True, min_size=1, max_size=2).map(tuple),
    skills=st.lists(st.sampled_from(("billing", "Tech")), unique=True, min_size=1).map(tuple),
    languages=st.lists(st.sampled_from(("en", "zh")), unique=True, min_size=1).map(tuple),
    role=st.sampled_from((AgentRole.AGENT, AgentRole.SENIOR, AgentRole.LEAD)),
    calendar=st.sampled_from((None, None, None, "office", "weekend", "typo")),
)
assignees = st.sampled_from((None, *AGENT_IDS, "a-ghost"))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    agents = draw(st.lists(agent_strategy, min_size=1, max_size=6, unique_by=lambda a: a.id))
    held = [
        _ticket(
            f"h{n}",
            assignee_id=draw(assignees),
            status=draw(st.sampled_from(TicketStatus)),
            channel=draw(st.sampled_from((Channel.CHAT, Channel.EMAIL))),
            priority=draw(st.sampled_from(Priority)),
        )
        for n in range(draw(st.integers(0, 6)))
    ]
    assignee = draw(assignees)
    ticket = _ticket(
        channel=draw(st.sampled_from((Channel.CHAT, Channel.EMAIL))),
        category=draw(st.sampled_from((None, "billing", "BILLING", "tech", "other"))),
        language=draw(st.sampled_from((None, "en", "zh", "mixed", "und"))),
        team_id=draw(st.sampled_from((None, *TEAM_IDS))),
        escalation_level=draw(st.sampled_from((0, 0, 0, 1, 2, 3))),
        assignee_id=assignee,
        status=TicketStatus.NEW if assignee is None else TicketStatus.ASSIGNED,
        priority=draw(st.sampled_from(Priority)),
    )
    customer = Customer(
        id="c-1",
        name="Customer",
        tier=draw(st.sampled_from(CustomerTier)),
        account_manager_id=draw(st.sampled_from((None, *AGENT_IDS, "a-ghost"))),
    )
    chain = draw(st.sampled_from(({}, {"t1": "t2"}, {"t1": "t2", "t2": "t3", "t3": "t1"})))
    teams = {t: Team(id=t, name=t, escalation_team_id=chain.get(t)) for t in TEAM_IDS}
    now = draw(st.sampled_from((MONDAY_10, MONDAY_20, SATURDAY_10)))
    ages = draw(st.lists(st.integers(0, 60), max_size=3))
    recent = tuple(
        RecentAgent(draw(assignees) or "a0", f"old{n}", now - timedelta(days=age))
        for n, age in enumerate(sorted(ages))
    )
    cursors = draw(
        st.dictionaries(
            st.sampled_from([f"round_robin:{t}" for t in (*TEAM_IDS, "*")]),
            st.sampled_from((*AGENT_IDS, "a", "zz")),
        )
    )
    weights = draw(
        st.sampled_from(
            (
                dict(PRIORITY_WEIGHTS),
                {Priority.URGENT: 0.3, Priority.HIGH: 0.2, Priority.NORMAL: 0.1, Priority.LOW: 0.7},
            )
        )
    )
    return World(tuple(agents), tuple(held), ticket, customer, teams, recent, now, cursors, weights)


VIP_MANAGER_ONLY = TierEntitlements(key={"dedicated_account_manager": False})
PIPELINES: dict[str, Pipeline] = {
    "standard": standard_pipeline(calendars=CALENDARS),
    "standard round-robin": standard_pipeline(calendars=CALENDARS, round_robin=True),
    "bare": Pipeline(team=None),
    "skill, sticky, round-robin": Pipeline(
        (SkillMatch(),), order=RoundRobin(), preferences=(Sticky(),)
    ),
    "senior-only VIP, no away": Pipeline(
        (Availability(CALENDARS, allow_away=False), WithinCapacity()),
        preferences=(TierAware(senior_only=True),),
    ),
    "language, early escalation": Pipeline(
        (LanguageMatch(), WithinCapacity(), Availability()),
        team=TeamRouting(senior_from_level=None, escalation_team_from_level=1),
        preferences=(Sticky(timedelta(days=1)), TierAware(VIP_MANAGER_ONLY)),
        order=LeastLoaded(),
    ),
}
EXCLUSIVE = {"senior-only VIP, no away"}


def _qualifies(world: World, pipeline: Pipeline, agent: Agent, request: RoutingRequest) -> bool:
    """Whether ``agent`` meets the team scope and every filter (a full check, no index)."""
    candidate = _candidate(world, agent)
    if not candidate.online or not candidate.has_room or agent.id == world.ticket.assignee_id:
        return False
    if pipeline.team is not None and not pipeline.team.scope(request)[1] <= agent_tags(agent):
        return False
    return all(f.admits(candidate, request) for f in pipeline.filters)


def _candidate(world: World, agent: Agent) -> Candidate:
    mine = world.open_of(agent.id)
    return Candidate(
        agent,
        len(mine),
        sum(world.weights[t.priority] for t in mine),
        dict(Counter(t.channel for t in mine)),
    )


@settings(max_examples=150, deadline=None)
@given(worlds(), st.sampled_from(sorted(PIPELINES)))
def test_never_offline_never_full_never_the_assignee(world: World, name: str) -> None:
    """The guarantee of the issue, for every shipped step combination."""
    pipeline = PIPELINES[name]
    request = world.request()
    decision = pipeline.decide(request, world.pool())
    if decision.agent_id is None:
        assert decision.reason.startswith("queued: ")
        return
    agents = {a.id: a for a in world.agents}
    agent = agents[decision.agent_id]
    mine = world.open_of(agent.id)
    assert agent.status is not AgentStatus.OFFLINE
    assert len(mine) < agent.capacity
    assert agent.id != world.ticket.assignee_id
    assert f"load {len(mine)}/{agent.capacity}" in decision.reason
    if any(isinstance(f, WithinCapacity) for f in pipeline.filters):
        limit = agent.channel_capacity.get(world.ticket.channel)
        assert limit is None or sum(t.channel is world.ticket.channel for t in mine) < limit
    for step in pipeline.filters:
        if isinstance(step, Availability):
            if agent.calendar is not None:
                assert agent.calendar in CALENDARS
                assert CALENDARS[agent.calendar].is_open(world.now)
            if name in EXCLUSIVE:  # the one built with allow_away=False
                assert agent.status is AgentStatus.AVAILABLE
    if agent.id != world.customer.account_manager_id:
        # Only the account manager may skip the team, skill and language requirements.
        assert _qualifies(world, pipeline, agent, request)


@settings(max_examples=120, deadline=None)
@given(worlds(), st.sampled_from(sorted(set(PIPELINES) - EXCLUSIVE)))
def test_a_ticket_is_queued_only_when_nobody_qualifies(world: World, name: str) -> None:
    pipeline = PIPELINES[name]
    request = world.request()
    if pipeline.decide(request, world.pool()).queued:
        assert not [a.id for a in world.agents if _qualifies(world, pipeline, a, request)]


@settings(max_examples=120, deadline=None)
@given(worlds())
def test_least_loaded_picks_the_minimum_of_a_full_scan(world: World) -> None:
    pipeline = Pipeline((SkillMatch(), LanguageMatch(), Availability(CALENDARS), WithinCapacity()))
    request = world.request()
    rank = {AgentStatus.AVAILABLE: 0, AgentStatus.AWAY: 1}

    def key(agent: Agent) -> tuple[int, float, int, str]:
        c = _candidate(world, agent)
        return (rank[agent.status], c.weighted / agent.capacity, c.open, agent.id)

    fit = [a for a in world.agents if _qualifies(world, pipeline, a, request)]
    expected = min(fit, key=key).id if fit else None
    assert pipeline.decide(request, world.pool()).agent_id == expected


@settings(max_examples=100, deadline=None)
@given(worlds(), st.sampled_from(sorted(PIPELINES)), st.randoms(use_true_random=False))
def test_same_state_in_any_insertion_order_gives_the_same_decision(
    world: World, name: str, random: Any
) -> None:
    pipeline = PIPELINES[name]
    agents, tickets = list(world.agents), world.tickets()
    random.shuffle(agents)
    random.shuffle(tickets)
    other = AgentPool(weights=world.weights)
    for ticket in tickets[: len(tickets) // 2]:
        other.track(ticket)
    for agent in agents:
        other.put_agent(agent)
    for ticket in tickets[len(tickets) // 2 :]:
        other.track(ticket)
    pool = world.pool()
    first = pipeline.decide(world.request(), pool)
    assert pipeline.decide(world.request(), pool) == first
    assert pipeline.decide(world.request(), other) == first
