"""The desk routes: intake assigns or queues with the reason, and the queue drains as room frees."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow import (
    Agent,
    AgentRole,
    AgentStatus,
    AssignmentFailed,
    Customer,
    CustomerTier,
    KeywordClassifier,
    MemoryStore,
    Priority,
    SqliteStore,
    SupportDesk,
    Team,
    TicketStatus,
    standard_pipeline,
)
from supportflow.routing import RoundRobin, default_strategy
from supportflow.routing.pipeline import Pipeline
from supportflow.routing.steps import Availability, WithinCapacity
from supportflow.testing import FixedClock

OpenDesk = Callable[..., AbstractContextManager[SupportDesk]]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def desk_start() -> datetime:
    return START


def last_event(desk: SupportDesk, ticket_id: str) -> Any:
    return desk.history(ticket_id)[-1]


def test_auto_assign_routes_at_intake_and_records_the_reason(open_desk: OpenDesk) -> None:
    with open_desk(auto_assign=True) as desk:
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi", team_id="t-support")
        assert ticket.status is TicketStatus.ASSIGNED
        assert ticket.assignee_id == "a-ann"  # both empty: ties go by id
        event = last_event(desk, ticket.id)
        assert event.type == "ticket.assigned"
        assert event.data["strategy"] == "default"
        assert "team t-support ✓" in event.data["reason"]
        assert "load 0/2" in event.data["reason"]
        assert desk.get_ticket(ticket.id) == ticket


def test_without_auto_assign_intake_leaves_the_ticket_new(open_desk: OpenDesk) -> None:
    with open_desk() as desk:
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi")
        assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
        assert [e.type for e in desk.history(ticket.id)] == ["ticket.created"]


def test_a_ticket_nobody_can_take_is_queued_with_the_reason(open_desk: OpenDesk) -> None:
    with open_desk(auto_assign=True) as desk:
        for agent_id in ("a-ann", "a-bob"):
            desk.set_agent_status(agent_id, AgentStatus.OFFLINE)
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi", team_id="t-support")
        assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
        event = last_event(desk, ticket.id)
        assert event.type == "ticket.queued"
        assert event.data["reason"].startswith("queued: no agent with team t-support")
        assert desk.queue() == [ticket]


def test_an_agent_coming_online_takes_the_queue_most_urgent_then_oldest(
    open_desk: OpenDesk, clock: FixedClock
) -> None:
    with open_desk(clock, auto_assign=True) as desk:
        for agent_id in ("a-ann", "a-bob"):
            desk.set_agent_status(agent_id, AgentStatus.OFFLINE)
        made = []
        for n, priority in enumerate(["low", "normal", "urgent", "normal"]):
            clock.advance(timedelta(minutes=1))
            made.append(
                desk.intake(
                    channel="chat",
                    customer_id="c-reg",
                    body=f"request {n}",
                    team_id="t-support",
                    priority=priority,
                )
            )
        assert [t.id for t in desk.queue()] == [made[i].id for i in (2, 1, 3, 0)]
        desk.set_agent_status("a-ann", AgentStatus.AVAILABLE)  # capacity 2
        held = {t.id for t in desk.list_tickets(assignee_id="a-ann")}
        assert held == {made[2].id, made[1].id}
        assert [t.id for t in desk.queue()] == [made[3].id, made[0].id]
        assigned = last_event(desk, made[2].id)
        assert (assigned.type, assigned.data["from_queue"]) == ("ticket.assigned", True)


def test_resolving_frees_room_for_the_queue(open_desk: OpenDesk) -> None:
    with open_desk(auto_assign=True) as desk:
        desk.set_agent_status("a-bob", AgentStatus.OFFLINE)
        first, second, third = (
            desk.intake(channel="chat", customer_id="c-reg", body=f"n{n}", team_id="t-support")
            for n in range(3)
        )
        assert desk.get_ticket(third.id).status is TicketStatus.NEW  # a-ann holds two
        desk.acknowledge(first.id, agent_id="a-ann")
        desk.resolve(first.id, agent_id="a-ann", resolution="done")
        assert desk.get_ticket(third.id).assignee_id == "a-ann"
        assert desk.queue() == []
        assert desk.get_ticket(second.id).assignee_id == "a-ann"


def test_run_due_jobs_assigns_what_another_process_made_room_for(tmp_path: Path) -> None:
    path = str(tmp_path / "desk.db")
    clock = FixedClock(desk_start())
    desk = SupportDesk(SqliteStore(path), clock=clock, auto_assign=True)
    desk.add_team(Team(id="t", name="T"))
    desk.add_customer(Customer(id="c", name="C"))
    desk.add_agent(Agent(id="a", name="A", teams=("t",), status=AgentStatus.OFFLINE))
    queued = desk.intake(channel="chat", customer_id="c", body="help", team_id="t")
    other = SupportDesk(SqliteStore(path), clock=clock)  # another process: no routing
    other.set_agent_status("a", AgentStatus.AVAILABLE)
    assert desk.get_ticket(queued.id).status is TicketStatus.NEW
    report = desk.run_due_jobs()
    assert report.assigned == (queued.id,)
    assert desk.get_ticket(queued.id).assignee_id == "a"


def test_the_desk_refuses_a_stale_pick_and_rebuilds_its_index(tmp_path: Path) -> None:
    """Another process took the agent offline: the index is wrong, the store is right."""
    path = str(tmp_path / "desk.db")
    desk = SupportDesk(SqliteStore(path), clock=FixedClock(desk_start()))
    desk.add_team(Team(id="t", name="T"))
    desk.add_customer(Customer(id="c", name="C"))
    for agent_id in ("a", "b"):
        desk.add_agent(Agent(id=agent_id, name=agent_id, teams=("t",)))
    warm = desk.intake(channel="chat", customer_id="c", body="one", team_id="t")
    assert desk.assign(warm.id).assignee_id == "a"
    SupportDesk(SqliteStore(path)).set_agent_status("b", AgentStatus.OFFLINE)
    ticket = desk.intake(channel="chat", customer_id="c", body="two", team_id="t")
    assert desk.assign(ticket.id).assignee_id == "a"  # b looked emptier, but is offline


def test_round_robin_cursor_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "desk.db")
    strategy = Pipeline((Availability(), WithinCapacity()), order=RoundRobin(), name="rr")

    def desk() -> SupportDesk:
        return SupportDesk(SqliteStore(path), clock=FixedClock(desk_start()), assignment=strategy)

    first = desk()
    first.add_team(Team(id="t", name="T"))
    first.add_customer(Customer(id="c", name="C"))
    for agent_id in ("a", "b", "c"):
        first.add_agent(Agent(id=agent_id, name=agent_id, teams=("t",)))
    picks = []
    for n in range(2):
        ticket = first.intake(channel="chat", customer_id="c", body=f"n{n}", team_id="t")
        picks.append(first.assign(ticket.id).assignee_id)
    restarted = desk()
    for n in range(4):
        ticket = restarted.intake(channel="chat", customer_id="c", body=f"m{n}", team_id="t")
        picks.append(restarted.assign(ticket.id).assignee_id)
    assert picks == ["a", "b", "c", "a", "b", "c"]


def test_vip_goes_to_the_account_manager_with_the_reason() -> None:
    desk = SupportDesk(
        MemoryStore(),
        clock=FixedClock(desk_start()),
        classifier=KeywordClassifier(),
        assignment=standard_pipeline(),
        auto_assign=True,
    )
    desk.add_team(Team(id="t", name="T"))
    desk.add_agent(Agent(id="am", name="AM", teams=("t",), skills=("account",)))
    desk.add_agent(Agent(id="bill", name="Bill", teams=("t",), skills=("billing",)))
    desk.add_customer(Customer(id="v", name="V", tier=CustomerTier.VIP, account_manager_id="am"))
    desk.add_customer(Customer(id="r", name="R"))
    vip = desk.intake(channel="email", customer_id="v", body="Refund my invoice", team_id="t")
    regular = desk.intake(channel="email", customer_id="r", body="Refund my invoice", team_id="t")
    assert (vip.category, vip.assignee_id, regular.assignee_id) == ("billing", "am", "bill")
    reason = last_event(desk, vip.id).data["reason"]
    assert reason.startswith("VIP → account manager")
    created = desk.history(vip.id)[0].data["classification"]
    assert created["category"] == "billing"
    assert created["source"]
    assert created["evidence"]


def test_escalate_with_route_goes_to_a_senior_then_to_the_escalation_team(
    open_desk: OpenDesk,
) -> None:
    with open_desk(assignment=standard_pipeline()) as desk:
        desk.add_agent(Agent(id="a-sen", name="Sen", teams=("t-support",), role=AgentRole.SENIOR))
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi", team_id="t-support")
        ticket = desk.assign(ticket.id)
        assert ticket.assignee_id != "a-sen"
        first = desk.escalate(ticket.id, actor=ticket.assignee_id, reason="tricky", route=True)
        assert (first.escalation_level, first.assignee_id) == (1, "a-sen")
        event = last_event(desk, ticket.id)
        assert event.data["reason"] == "tricky"
        assert "level 1 → senior" in event.data["routing_reason"]
        second = desk.escalate(ticket.id, actor="a-sen", reason="trickier", route=True)
        assert (second.team_id, second.assignee_id) == ("t-senior", "a-sue")
        assert "level 2 → team t-senior" in last_event(desk, ticket.id).data["routing_reason"]


def test_escalate_with_route_and_nobody_senior_is_refused_and_stores_nothing(
    open_desk: OpenDesk, snapshot: Callable[..., Any]
) -> None:
    with open_desk(assignment=standard_pipeline()) as desk:
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi", team_id="t-support")
        ticket = desk.assign(ticket.id)
        before = snapshot(desk)
        with pytest.raises(AssignmentFailed, match="senior"):
            desk.escalate(ticket.id, actor=ticket.assignee_id, reason="tricky", route=True)
        assert snapshot(desk) == before


def test_channel_capacity_limits_explicit_assignment(open_desk: OpenDesk) -> None:
    with open_desk() as desk:
        desk.add_agent(
            Agent(id="a-chat", name="C", teams=("t-support",), channel_capacity={"chat": 1})
        )
        first = desk.intake(channel="chat", customer_id="c-reg", body="one")
        desk.assign(first.id, "a-chat")
        second = desk.intake(channel="chat", customer_id="c-reg", body="two")
        with pytest.raises(AssignmentFailed, match="chat limit"):
            desk.assign(second.id, "a-chat")
        email = desk.intake(channel="email", customer_id="c-reg", body="three")
        assert desk.assign(email.id, "a-chat").assignee_id == "a-chat"


def test_sticky_routing_returns_a_customer_to_their_agent(open_desk: OpenDesk) -> None:
    with open_desk(assignment=standard_pipeline(), auto_assign=True) as desk:
        first = desk.intake(channel="chat", customer_id="c-reg", body="Hi", team_id="t-support")
        desk.acknowledge(first.id, agent_id=first.assignee_id or "")
        desk.resolve(first.id, agent_id=first.assignee_id or "", resolution="done")
        # Someone else is emptier now, but the customer goes back to the same agent.
        again = desk.intake(channel="chat", customer_id="c-reg", body="Hi", team_id="t-support")
        assert again.assignee_id == first.assignee_id
        assert "returning customer" in last_event(desk, again.id).data["reason"]


@settings(max_examples=20, deadline=None)
@given(
    script=st.lists(
        st.tuples(
            st.sampled_from(["intake", "resolve", "online", "offline"]),
            st.sampled_from(["a-ann", "a-bob"]),
            st.sampled_from(list(Priority)),
        ),
        max_size=25,
    )
)
def test_auto_assign_never_overfills_or_uses_offline_agents_and_drains_in_order(
    open_desk: OpenDesk, script: list[tuple[str, str, Priority]]
) -> None:
    """Guarantees: nobody offline or over capacity holds a ticket; whenever a team agent is
    online with room, the queue is empty (a queued ticket is assigned as soon as it can be)."""
    clock = FixedClock(desk_start())
    with open_desk(clock, auto_assign=True) as desk:
        for kind, agent_id, priority in script:
            clock.advance(timedelta(minutes=1))
            if kind == "intake":
                desk.intake(
                    channel="chat",
                    customer_id="c-reg",
                    body="help",
                    team_id="t-support",
                    priority=priority,
                )
            elif kind == "resolve":
                held = desk.list_tickets(assignee_id=agent_id, status="assigned")
                if held:
                    desk.acknowledge(held[0].id, agent_id=agent_id)
                    desk.resolve(held[0].id, agent_id=agent_id, resolution="ok")
            else:
                status = AgentStatus.AVAILABLE if kind == "online" else AgentStatus.OFFLINE
                desk.set_agent_status(agent_id, status)
            agents = {a: desk.get_agent(a) for a in ("a-ann", "a-bob")}
            open_held = {
                a: [
                    t
                    for t in desk.list_tickets(assignee_id=a)
                    if t.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
                ]
                for a in agents
            }
            for a, agent in agents.items():
                assert len(open_held[a]) <= agent.capacity
            room = any(
                agent.status is not AgentStatus.OFFLINE and len(open_held[a]) < agent.capacity
                for a, agent in agents.items()
            )
            if room:
                assert desk.queue() == []


def test_the_default_strategy_is_a_pipeline_named_default() -> None:
    assert default_strategy().name == "default"
