"""AgentPool: the tag index agrees with a full scan of the agents and their tickets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from supportflow.errors import ValidationFailed
from supportflow.models import (
    Agent,
    AgentRole,
    AgentStatus,
    Channel,
    Priority,
    Ticket,
    TicketStatus,
)
from supportflow.routing.assignment import Candidate
from supportflow.routing.pool import PRIORITY_WEIGHTS, AgentPool, agent_tags
from supportflow.storage.protocols import OPEN_STATUSES

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RANK = {AgentStatus.AVAILABLE: 0, AgentStatus.AWAY: 1}


def _agent(agent_id: str, **fields: Any) -> Agent:
    return Agent(id=agent_id, name=agent_id, **fields)


def _ticket(
    ticket_id: str,
    assignee_id: str | None,
    *,
    status: TicketStatus = TicketStatus.ASSIGNED,
    priority: Priority = Priority.NORMAL,
    channel: Channel = Channel.EMAIL,
) -> Ticket:
    return Ticket(
        id=ticket_id,
        channel=channel,
        customer_id="c-1",
        subject="",
        body="help",
        assignee_id=assignee_id,
        status=status,
        priority=priority,
        created_at=AT,
        updated_at=AT,
    )


def _ids(candidates: Iterable[Candidate]) -> list[str]:
    return [c.id for c in candidates]


# -- examples ---------------------------------------------------------------------------


def test_agent_tags_name_teams_skills_languages_role_and_seniority() -> None:
    agent = _agent(
        "a-1",
        teams=("t-1",),
        skills=("Billing",),
        languages=("ZH",),
        role=AgentRole.LEAD,
    )
    assert agent_tags(agent) == {"team:t-1", "skill:billing", "lang:zh", "role:lead", "senior"}
    assert "senior" not in agent_tags(_agent("a-2"))


def test_least_loaded_orders_available_first_then_share_of_capacity() -> None:
    pool = AgentPool(
        [
            _agent("a-away", status=AgentStatus.AWAY),
            _agent("a-big", capacity=10),
            _agent("a-small", capacity=2),
            _agent("a-off", status=AgentStatus.OFFLINE),
        ],
        [_ticket("t-1", "a-big"), _ticket("t-2", "a-small")],
    )
    assert _ids(pool.least_loaded()) == ["a-big", "a-small", "a-away"]


def test_urgent_tickets_weigh_more_than_low_ones() -> None:
    pool = AgentPool(
        [_agent("a-1"), _agent("a-2")],
        [
            _ticket("t-1", "a-1", priority=Priority.URGENT),
            _ticket("t-2", "a-2", priority=Priority.LOW),
            _ticket("t-3", "a-2", priority=Priority.LOW),
        ],
    )
    assert _ids(pool.least_loaded()) == ["a-2", "a-1"]
    one = pool.get("a-1")
    assert one is not None
    assert one.weighted == PRIORITY_WEIGHTS[Priority.URGENT]


def test_rotation_starts_after_the_cursor_and_wraps() -> None:
    pool = AgentPool([_agent(i) for i in ("a", "b", "c", "d")])
    assert _ids(pool.rotation(after="b")) == ["c", "d", "a", "b"]
    assert _ids(pool.rotation(after="bb")) == ["c", "d", "a", "b"]
    assert _ids(pool.rotation(after="z")) == ["a", "b", "c", "d"]
    assert _ids(pool.rotation()) == ["a", "b", "c", "d"]


def test_an_agent_at_capacity_leaves_the_index_and_returns_when_a_ticket_closes() -> None:
    pool = AgentPool([_agent("a-1", capacity=1), _agent("a-2")])
    assert pool.ready_count() == 2
    pool.track(_ticket("t-1", "a-1"))
    assert _ids(pool.least_loaded()) == ["a-2"]
    pool.track(_ticket("t-1", "a-1", status=TicketStatus.RESOLVED))
    assert _ids(pool.least_loaded()) == ["a-1", "a-2"]


def test_reassigning_a_ticket_moves_its_load() -> None:
    pool = AgentPool([_agent("a-1"), _agent("a-2")], [_ticket("t-1", "a-1")])
    pool.track(_ticket("t-1", "a-2", channel=Channel.CHAT))
    one, two = pool.get("a-1"), pool.get("a-2")
    assert one is not None
    assert (one.open, one.weighted, dict(one.by_channel)) == (0, 0.0, {})
    assert two is not None
    assert (two.open, dict(two.by_channel)) == (1, {Channel.CHAT: 1})


def test_regression_ticket_tracked_before_its_agent_joined_counts_once_and_leaves_cleanly() -> None:
    """A ticket tracked while its agent was missing made the agent's load go to -1."""
    pool = AgentPool()
    pool.track(_ticket("t-1", "a-1"))
    pool.put_agent(_agent("a-1"))
    joined = pool.get("a-1")
    assert joined is not None
    assert joined.open == 1
    pool.track(_ticket("t-1", "a-1", status=TicketStatus.CLOSED))
    left = pool.get("a-1")
    assert left is not None
    assert (left.open, left.weighted, dict(left.by_channel)) == (0, 0.0, {})


def test_regression_weighted_load_does_not_depend_on_tracking_order() -> None:
    """A running float sum gave 0.6000000000000001 one way and 0.6 the other."""
    weights = {Priority.URGENT: 0.3, Priority.HIGH: 0.2, Priority.NORMAL: 0.1, Priority.LOW: 0.7}
    tickets = [
        _ticket("t-1", "a-1", priority=Priority.NORMAL),
        _ticket("t-2", "a-1", priority=Priority.HIGH),
        _ticket("t-3", "a-1", priority=Priority.URGENT),
    ]
    forward = AgentPool([_agent("a-1")], tickets, weights=weights).get("a-1")
    backward = AgentPool([_agent("a-1")], tickets[::-1], weights=weights).get("a-1")
    assert forward is not None
    assert backward is not None
    assert forward.weighted == backward.weighted


def test_dropping_an_agent_forgets_their_tickets() -> None:
    pool = AgentPool([_agent("a-1")], [_ticket("t-1", "a-1")])
    pool.drop_agent("a-1")
    pool.drop_agent("a-1")  # a second drop is a no-op
    assert "a-1" not in pool
    assert len(pool) == 0
    pool.put_agent(_agent("a-1"))
    back = pool.get("a-1")
    assert back is not None
    assert back.open == 0
    pool.track(_ticket("t-1", "a-1", status=TicketStatus.CLOSED))
    closed = pool.get("a-1")
    assert closed is not None
    assert closed.open == 0


def test_iteration_yields_every_agent_by_id_offline_and_full_included() -> None:
    pool = AgentPool(
        [_agent("b", capacity=1), _agent("a", status=AgentStatus.OFFLINE)],
        [_ticket("t-1", "b")],
    )
    assert _ids(pool) == ["a", "b"]
    assert pool.ready_count() == 0
    assert pool.get("nobody") is None


@pytest.mark.parametrize(
    ("weights", "reason"),
    [
        ({Priority.URGENT: 3.0}, "has no weight for high, normal, low"),
        ({**PRIORITY_WEIGHTS, Priority.LOW: 0.0}, "every weight must be positive"),
        ({**PRIORITY_WEIGHTS, Priority.LOW: float("nan")}, "every weight must be positive"),
    ],
)
def test_bad_weights_are_refused_naming_the_field(
    weights: Mapping[Priority, float], reason: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        AgentPool(weights=weights)
    assert caught.value.field == "weights"
    assert caught.value.reason == reason


# -- the index agrees with a full scan ----------------------------------------------------

AGENT_IDS = ("a0", "a1", "a2", "a3", "a4", "a5")
TICKET_IDS = tuple(f"t{n}" for n in range(10))
TAG_VOCABULARY = (
    "team:t1",
    "team:t2",
    "skill:billing",
    "skill:tech",
    "lang:en",
    "lang:zh",
    "senior",
    "role:agent",
    "role:lead",
)

agents = st.builds(
    _agent,
    st.sampled_from(AGENT_IDS),
    status=st.sampled_from((AgentStatus.AVAILABLE, AgentStatus.AVAILABLE, *AgentStatus)),
    capacity=st.integers(1, 4),
    teams=st.lists(st.sampled_from(("t1", "t2")), unique=True).map(tuple),
    skills=st.lists(st.sampled_from(("billing", "Tech")), unique=True).map(tuple),
    languages=st.lists(st.sampled_from(("en", "zh")), unique=True).map(tuple),
    role=st.sampled_from(AgentRole),
)
tickets = st.builds(
    _ticket,
    st.sampled_from(TICKET_IDS),
    st.sampled_from((None, *AGENT_IDS)),
    status=st.sampled_from(TicketStatus),
    priority=st.sampled_from(Priority),
    channel=st.sampled_from((Channel.EMAIL, Channel.CHAT)),
)
tag_sets = st.frozensets(st.sampled_from(TAG_VOCABULARY), max_size=2)
# Sums of these are exact in binary floating point, so the model may add them in any order.
dyadic_weights = st.fixed_dictionaries(
    {p: st.sampled_from((0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0)) for p in Priority}
)


class PoolMatchesFullScan(RuleBasedStateMachine):
    """Drives an AgentPool and a plain model (agents, open tickets) with the same changes."""

    looked_up = Bundle("looked_up")

    def __init__(self) -> None:
        super().__init__()
        self.pool = AgentPool()
        self.weights: dict[Priority, float] = dict(PRIORITY_WEIGHTS)
        self.agents: dict[str, Agent] = {}
        self.held: dict[str, Ticket] = {}
        self.asked: set[frozenset[str]] = set()

    @initialize(
        start_agents=st.lists(agents, max_size=5, unique_by=lambda a: a.id),
        start_tickets=st.lists(tickets, max_size=6, unique_by=lambda t: t.id),
        weights=st.none() | dyadic_weights,
    )
    def build(
        self,
        start_agents: list[Agent],
        start_tickets: list[Ticket],
        weights: dict[Priority, float] | None,
    ) -> None:
        if weights is not None:
            self.weights = weights
            self.pool = AgentPool(start_agents, start_tickets, weights=weights)
        else:
            self.pool = AgentPool(start_agents, start_tickets)
        self.agents = {a.id: a for a in start_agents}
        for ticket in start_tickets:
            self._model_track(ticket)

    # -- the model ------------------------------------------------------------------------

    def _model_track(self, ticket: Ticket) -> None:
        self.held.pop(ticket.id, None)
        if ticket.assignee_id is not None and ticket.status in OPEN_STATUSES:
            self.held[ticket.id] = ticket

    def _load(self, agent_id: str) -> tuple[int, float, dict[Channel, int]]:
        mine = [t for t in self.held.values() if t.assignee_id == agent_id]
        weighted = sum(self.weights[t.priority] for t in mine)
        return len(mine), weighted, dict(Counter(t.channel for t in mine))

    def _ready(self, tags: frozenset[str]) -> list[Agent]:
        return [
            a
            for a in self.agents.values()
            if a.status is not AgentStatus.OFFLINE
            and self._load(a.id)[0] < a.capacity
            and tags <= agent_tags(a)
        ]

    def _expected_least_loaded(self, tags: frozenset[str]) -> list[str]:
        def key(agent: Agent) -> tuple[int, float, int, str]:
            open_, weighted, _ = self._load(agent.id)
            return (RANK[agent.status], weighted / agent.capacity, open_, agent.id)

        return [a.id for a in sorted(self._ready(tags), key=key)]

    def _expected_rotation(self, tags: frozenset[str], after: str | None) -> list[str]:
        ids = sorted(a.id for a in self._ready(tags))
        if after is None:
            return ids
        return [i for i in ids if i > after] + [i for i in ids if i <= after]

    # -- changes --------------------------------------------------------------------------

    @rule(agent=agents)
    def put_agent(self, agent: Agent) -> None:
        self.pool.put_agent(agent)
        self.agents[agent.id] = agent

    @precondition(lambda self: bool(self.agents))
    @rule(data=st.data())
    def replace_agent(self, data: st.DataObject) -> None:
        """Change one field of an agent already in the pool (status, capacity, skills)."""
        agent_id = data.draw(st.sampled_from(sorted(self.agents)))
        updates: list[dict[str, Any]] = [
            *({"status": s} for s in AgentStatus),
            *({"capacity": c} for c in (1, 2, 3)),
            {"skills": ()},
            {"teams": ("t1",)},
            {"role": AgentRole.SENIOR},
        ]
        update = data.draw(st.sampled_from(updates))
        agent = self.agents[agent_id].model_copy(update=update)
        self.pool.put_agent(agent)
        self.agents[agent_id] = agent

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def drop_agent(self, agent_id: str) -> None:
        self.pool.drop_agent(agent_id)
        if self.agents.pop(agent_id, None) is not None:
            self.held = {k: t for k, t in self.held.items() if t.assignee_id != agent_id}

    @rule(ticket=tickets)
    def track(self, ticket: Ticket) -> None:
        self.pool.track(ticket)
        self._model_track(ticket)

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data())
    def change_held_ticket(self, data: st.DataObject) -> None:
        """Close, reassign or reprioritise a ticket the pool counts now."""
        ticket = self.held[data.draw(st.sampled_from(sorted(self.held)))]
        updates: list[dict[str, Any]] = [
            {"status": TicketStatus.RESOLVED},
            {"status": TicketStatus.CLOSED},
            {"status": TicketStatus.ON_HOLD},
            {"assignee_id": None},
            {"priority": Priority.URGENT},
            {"priority": Priority.LOW},
            {"channel": Channel.CHAT},
            *({"assignee_id": a} for a in AGENT_IDS),
        ]
        update = data.draw(st.sampled_from(updates))
        changed = ticket.model_copy(update=update)
        self.pool.track(changed)
        self._model_track(changed)

    # -- lookups --------------------------------------------------------------------------

    @rule(target=looked_up, tags=tag_sets)
    def least_loaded(self, tags: frozenset[str]) -> frozenset[str]:
        assert _ids(self.pool.least_loaded(tags)) == self._expected_least_loaded(tags)
        self.asked.add(tags)
        return tags

    @rule(tags=st.one_of(looked_up, tag_sets), after=st.none() | st.sampled_from(AGENT_IDS))
    def rotation(self, tags: frozenset[str], after: str | None) -> None:
        assert _ids(self.pool.rotation(tags, after)) == self._expected_rotation(tags, after)
        self.asked.add(tags)

    @rule(tags=st.one_of(consumes(looked_up), tag_sets))
    def ready_count(self, tags: frozenset[str]) -> None:
        assert self.pool.ready_count(tags) == len(self._ready(tags))
        self.asked.add(tags)

    # -- after every step -----------------------------------------------------------------

    @invariant()
    def loads_match_the_tracked_tickets(self) -> None:
        assert sorted(self.agents) == _ids(self.pool)
        for candidate in self.pool:
            assert candidate.agent == self.agents[candidate.id]
            expected = self._load(candidate.id)
            assert (candidate.open, candidate.weighted, dict(candidate.by_channel)) == expected

    @invariant()
    def every_bucket_built_so_far_is_current(self) -> None:
        """Buckets asked for earlier were maintained through every change since."""
        for tags in self.asked:
            assert _ids(self.pool.least_loaded(tags)) == self._expected_least_loaded(tags)
            assert _ids(self.pool.rotation(tags)) == self._expected_rotation(tags, None)


PoolMatchesFullScan.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_pool_matches_a_full_scan = PoolMatchesFullScan.TestCase


@settings(max_examples=60, deadline=None)
@given(
    st.lists(agents, max_size=6, unique_by=lambda a: a.id),
    st.lists(tickets, max_size=10, unique_by=lambda t: t.id),
    st.randoms(use_true_random=False),
)
def test_insertion_order_does_not_change_the_index(
    start_agents: list[Agent], start_tickets: list[Ticket], random: Any
) -> None:
    weights = {Priority.URGENT: 0.3, Priority.HIGH: 0.2, Priority.NORMAL: 0.1, Priority.LOW: 0.7}
    one = AgentPool(start_agents, start_tickets, weights=weights)
    shuffled_agents, shuffled_tickets = list(start_agents), list(start_tickets)
    random.shuffle(shuffled_agents)
    random.shuffle(shuffled_tickets)
    two = AgentPool(weights=weights)
    for ticket in shuffled_tickets:  # tickets first: their agents join afterwards
        two.track(ticket)
    for agent in shuffled_agents:
        two.put_agent(agent)
    assert list(one) == list(two)
    for tags in (frozenset(), frozenset({"team:t1"}), frozenset({"senior"})):
        assert list(one.least_loaded(tags)) == list(two.least_loaded(tags))


def test_many_changes_between_partial_reads_of_a_large_bucket() -> None:
    """Lazy heap upkeep: several load changes between reads, reads that stop early."""
    import random

    rng = random.Random(7)
    agents = [
        Agent(id=f"a{n:02}", name=f"a{n}", teams=("t",), capacity=rng.randint(2, 6))
        for n in range(30)
    ]
    pool = AgentPool(agents)
    tags = frozenset({"team:t"})
    open_tickets: dict[str, Ticket] = {}
    made = 0
    for _ in range(300):
        for _ in range(rng.randint(1, 6)):
            if open_tickets and rng.random() < 0.4:
                ticket_id = rng.choice(sorted(open_tickets))
                pool.track(open_tickets.pop(ticket_id).model_copy(update={"status": "resolved"}))
            else:
                made += 1
                agent = rng.choice(agents)
                ticket = Ticket(
                    id=f"t{made}",
                    channel="email",
                    customer_id="c",
                    subject="",
                    body="x",
                    created_at=datetime(2026, 3, 2, tzinfo=UTC),
                    updated_at=datetime(2026, 3, 2, tzinfo=UTC),
                    status="assigned",
                    assignee_id=agent.id,
                    priority=rng.choice(list(Priority)),
                )
                open_tickets[ticket.id] = ticket
                pool.track(ticket)
        held = {a.id: [t for t in open_tickets.values() if t.assignee_id == a.id] for a in agents}
        expected = sorted(
            (
                sum(pool.weight(t.priority) for t in held[a.id]) / a.capacity,
                len(held[a.id]),
                a.id,
            )
            for a in agents
            if len(held[a.id]) < a.capacity
        )
        wanted = rng.randint(1, 5)
        got = [c.id for c, _ in zip(pool.least_loaded(tags), range(wanted), strict=False)]
        assert got == [key[2] for key in expected[:wanted]]
