"""The default classifier and assignment strategy, alone and through the desk."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow import Agent, AgentStatus, AssignmentFailed, Channel, SupportDesk, Ticket
from supportflow.routing import (
    AgentPool,
    LanguageOnlyClassifier,
    RoutingRequest,
    default_strategy,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _ticket(body: str = "help") -> Ticket:
    return Ticket(
        id="t-1",
        channel=Channel.CHAT,
        customer_id="c-1",
        subject="",
        body=body,
        created_at=AT,
        updated_at=AT,
    )


def _agent(agent_id: str, capacity: int = 10, status: AgentStatus = AgentStatus.AVAILABLE) -> Agent:
    return Agent(id=agent_id, name=agent_id, capacity=capacity, status=status)


def test_language_only_classifier_detects_language_and_nothing_else() -> None:
    result = LanguageOnlyClassifier().classify(_ticket("无法登录账户"))
    assert result is not None
    assert result.language == "zh"
    assert result.category is None
    assert result.priority is None


def _held(agent_id: str, count: int) -> list[Ticket]:
    """``count`` open tickets assigned to ``agent_id``."""
    return [
        _ticket().model_copy(
            update={"id": f"{agent_id}-{n}", "assignee_id": agent_id, "status": "assigned"}
        )
        for n in range(count)
    ]


def _pick(agents: list[Agent], counts: dict[str, int]) -> str | None:
    held = [t for agent_id, n in counts.items() for t in _held(agent_id, n)]
    request = RoutingRequest(ticket=_ticket(), now=AT)
    return default_strategy().decide(request, AgentPool(agents, held)).agent_id


def test_least_loaded_prefers_the_smallest_share_of_capacity() -> None:
    agents = [_agent("a", capacity=10), _agent("b", capacity=2)]
    # a holds 4 of 10 (40%), b holds 1 of 2 (50%): a has more room.
    assert _pick(agents, {"a": 4, "b": 1}) == "a"


def test_least_loaded_breaks_ties_by_agent_id() -> None:
    assert _pick([_agent("b"), _agent("a")], {}) == "a"


def test_least_loaded_uses_away_agents_only_when_nobody_is_available() -> None:
    away = _agent("a", status=AgentStatus.AWAY)
    busy = _agent("b")
    assert _pick([away, busy], {"b": 9}) == "b"
    assert _pick([away], {}) == "a"


def test_default_strategy_queues_without_candidates() -> None:
    decision = default_strategy().decide(RoutingRequest(ticket=_ticket(), now=AT), AgentPool())
    assert decision.agent_id is None
    assert decision.reason.startswith("queued: ")


@settings(max_examples=60, deadline=None)
@given(loads=st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20)), min_size=1, max_size=8))
def test_least_loaded_picks_a_least_loaded_candidate(loads: list[tuple[int, int]]) -> None:
    """Fairness: no candidate has a smaller share of its capacity in use than the pick."""
    agents = [_agent(f"a{n}", capacity=cap) for n, (cap, _) in enumerate(loads)]
    counts = {f"a{n}": min(held, cap - 1) for n, (cap, held) in enumerate(loads)}
    chosen = _pick(agents, counts)
    assert chosen is not None
    capacity = {a.id: a.capacity for a in agents}
    share = counts[chosen] / capacity[chosen]
    assert all(share <= counts[a.id] / a.capacity for a in agents)


@settings(max_examples=25, deadline=None)
@given(picks=st.lists(st.sampled_from([None, "a-ann", "a-bob", "a-sue"]), max_size=25))
def test_assignment_never_puts_an_agent_over_capacity(
    open_desk: Callable[..., AbstractContextManager[SupportDesk]], picks: list[str | None]
) -> None:
    """Capacity: whatever is asked, no agent ever holds more open tickets than allowed."""
    with open_desk() as desk:
        capacity = {a: desk.get_agent(a).capacity for a in ("a-ann", "a-bob", "a-sue", "a-oli")}
        for n, agent_id in enumerate(picks):
            ticket = desk.intake(channel="chat", customer_id="c-reg", body=f"request {n}")
            with suppress(AssignmentFailed):  # a full desk refuses; that is the property
                desk.assign(ticket.id, agent_id)
            held: dict[str, int] = {}
            for t in desk.list_tickets(status="assigned"):
                assert t.assignee_id is not None
                held[t.assignee_id] = held.get(t.assignee_id, 0) + 1
            assert all(held[a] <= capacity[a] for a in held)
            assert "a-oli" not in held  # offline, and never named: the strategy skips it
