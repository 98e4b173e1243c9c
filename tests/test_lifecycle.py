"""The ticket lifecycle: the machine, the table derived from it, its diagram, and the desk."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from statemachine.exceptions import TransitionNotAllowed

from supportflow import (
    AgentStatus,
    AssignmentFailed,
    InvalidTransition,
    PermissionDenied,
    ReopenWindowExpired,
    Store,
    SupportDesk,
    Ticket,
    TicketStatus,
    ValidationFailed,
    replay,
)
from supportflow.lifecycle import (
    ALLOWED_EVENTS,
    TRANSITIONS,
    LifecycleEvent,
    TicketLifecycle,
    allowed_events,
    mermaid_diagram,
    next_status,
)
from supportflow.roles import PERMISSIONS, DeskAction, customer_actor, permits, relations_of
from supportflow.testing import FixedClock

DOC = Path(__file__).resolve().parent.parent / "docs" / "lifecycle.md"
S = TicketStatus
E = LifecycleEvent


def _send(status: TicketStatus, event: LifecycleEvent) -> str | None:
    """The status the python-statemachine machine moves to, or None if it refuses."""
    model = SimpleNamespace(status=status.value)
    machine = TicketLifecycle(model, state_field="status")
    try:
        machine.send(event.value)
    except TransitionNotAllowed:
        assert model.status == status.value, "a refused event changed the model"
        return None
    result: str = model.status
    return result


# -- the table agrees with the machine ---------------------------------------------------


@pytest.mark.parametrize("event", list(LifecycleEvent))
@pytest.mark.parametrize("status", list(TicketStatus))
def test_transitions_table_agrees_with_machine(status: TicketStatus, event: LifecycleEvent) -> None:
    machine_target = _send(status, event)
    table_target = TRANSITIONS.get((status, event))
    assert (None if table_target is None else table_target.value) == machine_target


def test_machine_states_are_the_ticket_statuses() -> None:
    assert {state.value for state in TicketLifecycle.states} == {s.value for s in TicketStatus}


def test_machine_events_are_the_lifecycle_events() -> None:
    events = TicketLifecycle().events
    assert {event.id for event in events} == {e.value for e in LifecycleEvent}


@pytest.mark.parametrize("status", list(TicketStatus))
def test_allowed_events_match_machine(status: TicketStatus) -> None:
    machine = TicketLifecycle(SimpleNamespace(status=status.value), state_field="status")
    assert set(ALLOWED_EVENTS[status]) == {event.id for event in machine.allowed_events}


@pytest.mark.parametrize("status", list(TicketStatus))
def test_allowed_events_are_in_declaration_order(status: TicketStatus) -> None:
    order = [e.value for e in LifecycleEvent]
    assert list(ALLOWED_EVENTS[status]) == sorted(ALLOWED_EVENTS[status], key=order.index)


@pytest.mark.parametrize("status", list(TicketStatus))
def test_allowed_events_function_matches_table(status: TicketStatus) -> None:
    assert allowed_events(status) == ALLOWED_EVENTS[status]


def test_closed_is_the_only_final_state() -> None:
    assert [state.value for state in TicketLifecycle.final_states] == ["closed"]


def test_closed_allows_no_event() -> None:
    assert ALLOWED_EVENTS[S.CLOSED] == ()


def test_every_other_status_allows_some_event() -> None:
    assert all(ALLOWED_EVENTS[status] for status in TicketStatus if status is not S.CLOSED)


def test_machine_starts_new() -> None:
    machine = TicketLifecycle()
    assert [state.value for state in machine.configuration] == ["new"]


# What issue 2 asks of the lifecycle, written out by hand.
SPEC = [
    (S.NEW, E.ASSIGN, S.ASSIGNED),
    (S.ASSIGNED, E.REASSIGN, S.ASSIGNED),
    (S.IN_PROGRESS, E.REASSIGN, S.ASSIGNED),
    (S.ASSIGNED, E.ACKNOWLEDGE, S.IN_PROGRESS),
    (S.IN_PROGRESS, E.REQUEST_INFO, S.WAITING_ON_CUSTOMER),
    (S.WAITING_ON_CUSTOMER, E.CUSTOMER_REPLIED, S.IN_PROGRESS),
    (S.RESOLVED, E.CUSTOMER_REPLIED, S.IN_PROGRESS),
    (S.IN_PROGRESS, E.HOLD, S.ON_HOLD),
    (S.ON_HOLD, E.RELEASE, S.IN_PROGRESS),
    (S.IN_PROGRESS, E.ESCALATE, S.IN_PROGRESS),
    (S.ON_HOLD, E.ESCALATE, S.ON_HOLD),
    (S.IN_PROGRESS, E.RESOLVE, S.RESOLVED),
    (S.WAITING_ON_CUSTOMER, E.RESOLVE, S.RESOLVED),
    (S.ON_HOLD, E.RESOLVE, S.RESOLVED),
    (S.RESOLVED, E.CLOSE, S.CLOSED),
    (S.RESOLVED, E.REOPEN, S.IN_PROGRESS),
]


@pytest.mark.parametrize(("status", "event", "target"), SPEC)
def test_issue_transitions_are_in_the_table(
    status: TicketStatus, event: LifecycleEvent, target: TicketStatus
) -> None:
    assert TRANSITIONS[(status, event)] is target


REFUSED = [
    (S.NEW, E.ACKNOWLEDGE),
    (S.NEW, E.RESOLVE),
    (S.ASSIGNED, E.RESOLVE),
    (S.IN_PROGRESS, E.CLOSE),
    (S.RESOLVED, E.ESCALATE),
    (S.RESOLVED, E.HOLD),
    (S.CLOSED, E.REOPEN),
    (S.CLOSED, E.CUSTOMER_REPLIED),
]


@pytest.mark.parametrize(("status", "event"), REFUSED)
def test_issue_refusals_are_not_in_the_table(status: TicketStatus, event: LifecycleEvent) -> None:
    assert (status, event) not in TRANSITIONS


def test_next_status_returns_the_target() -> None:
    assert next_status("t-1", S.ASSIGNED, E.ACKNOWLEDGE) is S.IN_PROGRESS


def test_next_status_refusal_names_ticket_event_status_and_allowed() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_status("t-1", S.NEW, E.RESOLVE)
    assert (caught.value.ticket_id, caught.value.event, caught.value.status) == (
        "t-1",
        "resolve",
        "new",
    )
    assert set(caught.value.allowed) == {"assign", "customer_replied", "escalate"}


# -- the committed diagram ---------------------------------------------------------------


def _mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_lifecycle_doc_has_the_current_diagram() -> None:
    blocks = _mermaid_blocks(DOC.read_text(encoding="utf-8"))
    assert blocks == [mermaid_diagram()]


def test_mermaid_diagram_draws_every_transition() -> None:
    diagram = mermaid_diagram()
    for (status, _event), target in TRANSITIONS.items():
        assert f"{status.value} --> {target.value}" in diagram


# -- the desk moves tickets exactly as the table says ------------------------------------

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENTS = ("a-ann", "a-bob", "a-sue", "a-oli", "a-lead")
ONLINE_AGENTS = ("a-ann", "a-bob", "a-sue")
ACTORS = st.sampled_from(["assignee", "assignee", *ONLINE_AGENTS, "a-lead"])
"""Who acts: mostly the assignee; also other agents and the (offline) lead."""
OPEN = frozenset(TicketStatus) - {S.RESOLVED, S.CLOSED}
MAX_TICKETS = 4
SLOTS = st.integers(min_value=0, max_value=MAX_TICKETS - 1)

State = dict[str, tuple[Ticket, list[Any], list[Any]]]


class DeskLifecycle(RuleBasedStateMachine):
    """Random desk calls; each must move the status as TRANSITIONS says, or change nothing."""

    def __init__(self, store: Store, populate: Callable[[SupportDesk], None]) -> None:
        super().__init__()
        self.store = store
        self.clock = FixedClock(START)
        self.desk = SupportDesk(store, clock=self.clock)
        populate(self.desk)
        self.agents = {agent_id: self.desk.get_agent(agent_id) for agent_id in AGENTS}
        with store.unit_of_work(self.desk.tenant_id) as uow:
            self.teams = {team.id: team for team in uow.teams.list()}
        self.ticket_ids: list[str] = []
        self.recorded: dict[str, str] = {}
        self.counter = 0

    def teardown(self) -> None:
        self.store.close()

    # -- helpers ---------------------------------------------------------------------

    def state(self) -> State:
        return {
            t.id: (t, self.desk.history(t.id), self.desk.messages(t.id))
            for t in self.desk.list_tickets()
        }

    def open_counts(self, state: State) -> dict[str, int]:
        counts: dict[str, int] = {}
        for ticket, _history, _messages in state.values():
            if ticket.status in OPEN and ticket.assignee_id is not None:
                counts[ticket.assignee_id] = counts.get(ticket.assignee_id, 0) + 1
        return counts

    def candidates(self, state: State, ticket: Ticket, team_id: str | None) -> set[str]:
        counts = self.open_counts(state)
        return {
            agent.id
            for agent in self.agents.values()
            if agent.status is not AgentStatus.OFFLINE
            and agent.id != ticket.assignee_id
            and (team_id is None or team_id in agent.teams)
            and counts.get(agent.id, 0) < agent.capacity
        }

    def refused(self, before: State, error: type[Exception], call: Callable[[], Any]) -> None:
        with pytest.raises(error):
            call()
        event(f"refused: {error.__name__}")
        assert self.state() == before, f"a refused call ({error.__name__}) changed storage"

    def accepted(
        self,
        before: State,
        ticket_id: str,
        result: Ticket,
        *,
        event_type: str,
        status: TicketStatus,
        messages: int = 0,
        new_tickets: int = 0,
        then: tuple[str, ...] = (),
    ) -> State:
        """Check one accepted call: its event, then the events ``then`` it also records."""
        event(f"accepted: {event_type} -> {status.value}")
        after = self.state()
        old, old_history, old_messages = before[ticket_id]
        new, new_history, new_messages = after[ticket_id]
        added = 1 + len(then)
        assert new.status is status
        assert len(new_history) == len(old_history) + added
        assert new_history[: len(old_history)] == old_history
        assert [e.type for e in new_history[len(old_history) :]] == [event_type, *then]
        assert new_history[-1].seq == new.version == old.version + added
        assert len(new_messages) == len(old_messages) + messages
        assert new_messages[: len(old_messages)] == old_messages
        others_before = {k: v for k, v in before.items() if k != ticket_id}
        others_after = {k: v for k, v in after.items() if k != ticket_id and k in before}
        assert others_after == others_before
        assert len(after) == len(before) + new_tickets
        if new_tickets == 0:
            assert result == new
        return after

    def actor(self, who: str, ticket: Ticket) -> str:
        """``who``, or the ticket's assignee (``a-bob`` if none) for ``"assignee"``."""
        return (ticket.assignee_id or "a-bob") if who == "assignee" else who

    def permitted(self, action: DeskAction, actor: str, ticket: Ticket) -> bool:
        """What the permission table (``supportflow.roles``) says ``actor`` may do."""
        agent = self.agents.get(actor)
        if agent is None:
            return customer_actor(actor, ticket) and PERMISSIONS[action].customer
        team = None if ticket.team_id is None else self.teams.get(ticket.team_id)
        return permits(action, agent.role, relations_of(agent, ticket, team))

    def target(self, ticket: Ticket, event: LifecycleEvent) -> TicketStatus | None:
        return TRANSITIONS.get((ticket.status, event))

    def fresh_message_id(self) -> str:
        self.counter += 1
        return f"m-{self.counter}"

    def expired(self, ticket: Ticket) -> bool:
        return (
            ticket.status is S.RESOLVED
            and ticket.resolved_at is not None
            and self.clock.now() - ticket.resolved_at > self.desk.settings.reopen_window
        )

    # -- rules -----------------------------------------------------------------------

    def pick(self, slot: int, prefer: bool, event: LifecycleEvent | None) -> str:
        """A ticket; with ``prefer``, one whose status accepts ``event`` if there is one."""
        ids = self.ticket_ids
        if prefer and event is not None:
            fitting = [i for i in ids if (self.desk.get_ticket(i).status, event) in TRANSITIONS]
            ids = fitting or ids
        return ids[slot % len(ids)]

    @initialize(
        customer=st.sampled_from(["c-vip", "c-key", "c-reg", "c-pro"]),
        team=st.sampled_from([None, "t-support", "t-senior"]),
    )
    def first_ticket(self, customer: str, team: str | None) -> None:
        self.intake(customer, team, "email")

    @precondition(lambda self: len(self.ticket_ids) < MAX_TICKETS)
    @rule(
        customer=st.sampled_from(["c-vip", "c-key", "c-reg", "c-pro"]),
        team=st.sampled_from([None, "t-support", "t-senior"]),
        channel=st.sampled_from(["email", "chat", "phone", "portal"]),
    )
    def intake(self, customer: str, team: str | None, channel: str) -> None:
        before = self.state()
        ticket = self.desk.intake(
            channel=channel, customer_id=customer, body="Printer is offline", team_id=team
        )
        after = self.state()
        assert set(after) == set(before) | {ticket.id}
        stored, history, messages = after[ticket.id]
        assert stored == ticket
        assert stored.status is S.NEW
        assert [(e.type, e.seq) for e in history] == [("ticket.created", 1)]
        assert len(messages) == 1
        self.ticket_ids.append(ticket.id)

    @rule(slot=SLOTS, prefer=st.booleans(), agent=st.sampled_from([None, *ONLINE_AGENTS]))
    def assign(self, slot: int, prefer: bool, agent: str | None) -> None:
        ticket_id = self.pick(slot, prefer, E.ASSIGN)
        before = self.state()
        ticket = before[ticket_id][0]
        command = E.ASSIGN if ticket.status is S.NEW else E.REASSIGN
        target = self.target(ticket, command)
        call = partial(self.desk.assign, ticket_id, agent)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if agent is not None:
            if agent == ticket.assignee_id:
                return self.refused(before, ValidationFailed, call)
            if self.open_counts(before).get(agent, 0) >= self.agents[agent].capacity:
                return self.refused(before, AssignmentFailed, call)
        else:
            pool = self.candidates(before, ticket, ticket.team_id)
            if not pool:
                return self.refused(before, AssignmentFailed, call)
        result = call()
        event = "ticket.assigned" if command is E.ASSIGN else "ticket.reassigned"
        self.accepted(before, ticket_id, result, event_type=event, status=target)
        if agent is None:
            assert result.assignee_id in pool
        else:
            assert result.assignee_id == agent
        assert result.acknowledged_at is None
        return None

    @rule(
        slot=SLOTS,
        prefer=st.booleans(),
        who=st.sampled_from(["assignee", "assignee", "assignee", *ONLINE_AGENTS]),
    )
    def acknowledge(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.ACKNOWLEDGE)
        before = self.state()
        ticket = before[ticket_id][0]
        agent = self.actor(who, ticket)
        call = partial(self.desk.acknowledge, ticket_id, agent_id=agent)
        target = self.target(ticket, E.ACKNOWLEDGE)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if agent != ticket.assignee_id:
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(before, ticket_id, result, event_type="ticket.acknowledged", status=target)
        assert result.acknowledged_at == self.clock.now()
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), who=ACTORS)
    def reply(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.REPLY)
        before = self.state()
        ticket = before[ticket_id][0]
        agent = self.actor(who, ticket)
        call = partial(self.desk.reply, ticket_id, agent_id=agent, body="Try a restart")
        target = self.target(ticket, E.REPLY)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.REPLY, agent, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(
            before, ticket_id, result, event_type="ticket.replied", status=target, messages=1
        )
        expected_first = ticket.first_response_at or self.clock.now()
        assert result.first_response_at == expected_first
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), agent=st.sampled_from(ONLINE_AGENTS))
    def note(self, slot: int, prefer: bool, agent: str) -> None:
        ticket_id = self.pick(slot, prefer, None)
        before = self.state()
        ticket = before[ticket_id][0]
        call = partial(
            self.desk.reply, ticket_id, agent_id=agent, body="Customer sounds upset", internal=True
        )
        if ticket.status is S.CLOSED:
            return self.refused(before, InvalidTransition, call)
        result = call()
        self.accepted(
            before,
            ticket_id,
            result,
            event_type="ticket.note_added",
            status=ticket.status,
            messages=1,
        )
        assert result.first_response_at == ticket.first_response_at
        assert self.desk.messages(ticket_id)[-1].internal is True
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), who=ACTORS)
    def request_info(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.REQUEST_INFO)
        before = self.state()
        ticket = before[ticket_id][0]
        agent = self.actor(who, ticket)
        call = partial(self.desk.request_info, ticket_id, agent_id=agent, body="Serial no.?")
        target = self.target(ticket, E.REQUEST_INFO)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.REQUEST_INFO, agent, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(
            before, ticket_id, result, event_type="ticket.info_requested", status=target, messages=1
        )
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), with_id=st.booleans())
    def customer_replied(self, slot: int, prefer: bool, with_id: bool) -> None:
        ticket_id = self.pick(slot, prefer, E.CUSTOMER_REPLIED)
        before = self.state()
        ticket = before[ticket_id][0]
        message_id = self.fresh_message_id() if with_id else None
        result = self.desk.customer_replied(ticket_id, body="Still broken", message_id=message_id)
        if ticket.status is S.CLOSED or self.expired(ticket):
            event(f"follow-up of a {ticket.status.value} ticket")
            after = self.state()
            assert set(after) == set(before) | {result.id}
            if ticket.status is S.CLOSED:
                assert after[ticket_id] == before[ticket_id]
            else:
                old_history, new_history = before[ticket_id][1], after[ticket_id][1]
                assert after[ticket_id][0].status is TRANSITIONS[(S.RESOLVED, E.CLOSE)]
                assert len(new_history) == len(old_history) + 1
                assert new_history[-1].type == "ticket.closed"
                assert after[ticket_id][2] == before[ticket_id][2]
            follow_up, history, messages = after[result.id]
            assert follow_up == result
            assert (follow_up.status, follow_up.follow_up_of) == (S.NEW, ticket_id)
            assert [(e.type, e.seq) for e in history] == [("ticket.created", 1)]
            assert [m.body for m in messages] == ["Still broken"]
            if message_id is not None:
                assert messages[0].id == message_id
                self.recorded[message_id] = result.id
            self.ticket_ids.append(result.id)
            return
        target = self.target(ticket, E.CUSTOMER_REPLIED)
        assert target is not None, f"customer_replied refused in {ticket.status}"
        self.accepted(
            before,
            ticket_id,
            result,
            event_type="ticket.customer_replied",
            status=target,
            messages=1,
        )
        if message_id is not None:
            assert self.desk.messages(ticket_id)[-1].id == message_id
            self.recorded[message_id] = ticket_id

    @precondition(lambda self: bool(self.recorded))
    @rule(data=st.data())
    def customer_message_redelivered(self, data: st.DataObject) -> None:
        message_id = data.draw(st.sampled_from(sorted(self.recorded)))
        ticket_id = self.recorded[message_id]
        before = self.state()
        result = self.desk.customer_replied(ticket_id, body="Still broken", message_id=message_id)
        assert self.state() == before
        assert result == before[ticket_id][0]

    @rule(slot=SLOTS, prefer=st.booleans(), who=ACTORS)
    def hold(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.HOLD)
        before = self.state()
        ticket = before[ticket_id][0]
        agent = self.actor(who, ticket)
        call = partial(self.desk.hold, ticket_id, agent_id=agent, reason="waiting on vendor")
        target = self.target(ticket, E.HOLD)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.HOLD, agent, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(before, ticket_id, result, event_type="ticket.held", status=target)
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), who=ACTORS)
    def release(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.RELEASE)
        before = self.state()
        ticket = before[ticket_id][0]
        agent = self.actor(who, ticket)
        call = partial(self.desk.release, ticket_id, agent_id=agent)
        target = self.target(ticket, E.RELEASE)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.RELEASE, agent, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(before, ticket_id, result, event_type="ticket.released", status=target)
        return None

    @rule(
        slot=SLOTS,
        prefer=st.booleans(),
        to=st.one_of(
            st.none(),
            st.none(),
            st.sampled_from([("agent", "a-sue"), ("agent", "a-ann"), ("team", "t-senior")]),
        ),
        who=ACTORS,
    )
    def escalate(self, slot: int, prefer: bool, to: tuple[str, str] | None, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.ESCALATE)
        before = self.state()
        ticket = before[ticket_id][0]
        actor = self.actor(who, ticket)
        to_agent = to[1] if to is not None and to[0] == "agent" else None
        to_team = to[1] if to is not None and to[0] == "team" else None
        call = partial(
            self.desk.escalate,
            ticket_id,
            actor=actor,
            reason="needs a senior",
            to_agent_id=to_agent,
            to_team_id=to_team,
        )
        target = self.target(ticket, E.ESCALATE)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.ESCALATE, actor, ticket):
            return self.refused(before, PermissionDenied, call)
        pool: set[str] = set()
        if to is not None:
            command = E.ASSIGN if target is S.NEW else E.REASSIGN
            target = TRANSITIONS[(target, command)]
            if to_agent is not None:
                if to_agent == ticket.assignee_id:
                    return self.refused(before, ValidationFailed, call)
                if self.open_counts(before).get(to_agent, 0) >= self.agents[to_agent].capacity:
                    return self.refused(before, AssignmentFailed, call)
            else:
                pool = self.candidates(before, ticket, to_team)
                if not pool:
                    return self.refused(before, AssignmentFailed, call)
        result = call()
        self.accepted(before, ticket_id, result, event_type="ticket.escalated", status=target)
        assert result.escalation_level == ticket.escalation_level + 1
        if to_agent is not None:
            assert result.assignee_id == to_agent
        elif to_team is not None:
            assert result.assignee_id in pool
            assert result.team_id == to_team
        else:
            assert result.assignee_id == ticket.assignee_id
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), who=ACTORS)
    def resolve(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.RESOLVE)
        before = self.state()
        ticket = before[ticket_id][0]
        agent = self.actor(who, ticket)
        call = partial(self.desk.resolve, ticket_id, agent_id=agent, resolution="Replaced cable")
        target = self.target(ticket, E.RESOLVE)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.RESOLVE, agent, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(
            before,
            ticket_id,
            result,
            event_type="ticket.resolved",
            status=target,
            then=("feedback.survey_requested",),
        )
        survey = self.desk.history(ticket_id)[-1].data["survey"]
        assert survey["id"] == f"{ticket_id}/survey/{result.reopen_count + 1}"
        assert (result.resolution, result.resolved_at) == ("Replaced cable", self.clock.now())
        return None

    @rule(slot=SLOTS, prefer=st.booleans(), who=ACTORS)
    def close(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.CLOSE)
        before = self.state()
        ticket = before[ticket_id][0]
        actor = self.actor(who, ticket)
        call = partial(self.desk.close, ticket_id, actor=actor)
        target = self.target(ticket, E.CLOSE)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if not self.permitted(DeskAction.CLOSE, actor, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(before, ticket_id, result, event_type="ticket.closed", status=target)
        assert result.closed_at == self.clock.now()
        return None

    @rule(
        slot=SLOTS,
        prefer=st.booleans(),
        who=st.sampled_from(["customer", "customer", "c-reg", "assignee", "a-ann", "a-lead"]),
    )
    def reopen(self, slot: int, prefer: bool, who: str) -> None:
        ticket_id = self.pick(slot, prefer, E.REOPEN)
        before = self.state()
        ticket = before[ticket_id][0]
        actor = f"customer:{ticket.customer_id}" if who == "customer" else self.actor(who, ticket)
        call = partial(self.desk.reopen, ticket_id, actor=actor, reason="not fixed")
        target = self.target(ticket, E.REOPEN)
        if target is None:
            return self.refused(before, InvalidTransition, call)
        if self.expired(ticket):
            return self.refused(before, ReopenWindowExpired, call)
        if not self.permitted(DeskAction.REOPEN, actor, ticket):
            return self.refused(before, PermissionDenied, call)
        result = call()
        self.accepted(before, ticket_id, result, event_type="ticket.reopened", status=target)
        assert result.reopen_count == ticket.reopen_count + 1
        assert (result.resolution, result.resolved_at) == (None, None)
        return None

    @rule(slot=SLOTS, late=st.booleans())
    def advance(self, slot: int, late: bool) -> None:
        """Take the happy-path step for the ticket's status, so runs reach the late states.

        With ``late``, a resolved ticket is left alone until after the reopen window (the
        customer then writes), and an in-progress one is resolved and left to auto-close.
        """
        index = self.ticket_ids.index(self.pick(slot, False, None))
        status = self.desk.get_ticket(self.ticket_ids[index]).status
        if status is S.NEW:
            self.assign(index, False, None)
        elif status is S.ASSIGNED:
            self.acknowledge(index, False, "assignee")
        elif status is S.IN_PROGRESS:
            self.resolve(index, False, "assignee")
            if late:
                self.time_passes(timedelta(days=4))
                self.run_due_jobs()
        elif status is S.WAITING_ON_CUSTOMER:
            self.customer_replied(index, False, False)
        elif status is S.ON_HOLD:
            self.release(index, False, "assignee")
        elif status is S.RESOLVED and late:
            self.time_passes(timedelta(days=8))
            self.customer_replied(index, False, True)
        elif status is S.RESOLVED:
            self.close(index, False, "assignee")
        else:
            self.customer_replied(index, False, True)

    @rule(
        delta=st.sampled_from(
            [timedelta(minutes=10), timedelta(hours=5), timedelta(days=2), timedelta(days=8)]
        )
    )
    def time_passes(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    @rule()
    def run_due_jobs(self) -> None:
        before = self.state()
        cutoff = self.clock.now() - self.desk.settings.auto_close_after
        due = {
            ticket_id
            for ticket_id, (ticket, _h, _m) in before.items()
            if ticket.status is S.RESOLVED
            and ticket.resolved_at is not None
            and ticket.resolved_at <= cutoff
        }
        report = self.desk.run_due_jobs()
        event(f"run_due_jobs closed {len(report.closed)}")
        assert set(report.closed) == due
        assert report.deferred == ()
        after = self.state()
        for ticket_id, (ticket, history, messages) in after.items():
            if ticket_id not in due:
                assert (ticket, history, messages) == before[ticket_id]
                continue
            old_history = before[ticket_id][1]
            assert ticket.status is TRANSITIONS[(S.RESOLVED, E.CLOSE)]
            assert len(history) == len(old_history) + 1
            assert history[-1].type == "ticket.closed"
            assert history[-1].seq == ticket.version

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def replay_rebuilds_every_ticket(self) -> None:
        for ticket, history, _messages in self.state().values():
            assert replay(history) == ticket

    @invariant()
    def versions_count_events(self) -> None:
        for ticket, history, _messages in self.state().values():
            assert [e.seq for e in history] == list(range(1, ticket.version + 1))


def test_desk_moves_tickets_as_the_lifecycle_says(
    store_factory: Callable[[], Store], populate: Callable[[SupportDesk], None]
) -> None:
    run_state_machine_as_test(
        lambda: DeskLifecycle(store_factory(), populate),  # type: ignore[arg-type]
        settings=settings(
            max_examples=60,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
