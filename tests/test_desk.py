"""SupportDesk: what each call does to tickets, their events and messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Any

import pytest

from supportflow import (
    DEFAULT_TENANT,
    Agent,
    AgentPool,
    AgentStatus,
    AssignmentFailed,
    AuthorKind,
    Channel,
    Classification,
    ComplaintCategory,
    ConcurrencyConflict,
    Customer,
    CustomerNotFound,
    Decision,
    DeskSettings,
    DuplicateEntity,
    InvalidTransition,
    MemoryStore,
    NotPermitted,
    Priority,
    ReopenWindowExpired,
    RoutingRequest,
    Store,
    SupportDesk,
    SupportflowError,
    Team,
    TeamNotFound,
    Ticket,
    TicketNotFound,
    TicketStatus,
    UnitOfWork,
    ValidationFailed,
    retry_on_conflict,
)
from supportflow.feedback import request_survey
from supportflow.testing import FixedClock

S = TicketStatus
MakeTicket = Callable[..., Ticket]


def event_types(desk: SupportDesk, ticket_id: str) -> list[str]:
    return [event.type for event in desk.history(ticket_id)]


# -- intake ----------------------------------------------------------------------------------


def test_intake_creates_a_new_ticket(desk: SupportDesk, clock: FixedClock) -> None:
    ticket = desk.intake(
        channel="email", customer_id="c-vip", subject="Router", body="It drops every hour."
    )
    assert (ticket.status, ticket.channel, ticket.customer_id, ticket.version) == (
        S.NEW,
        Channel.EMAIL,
        "c-vip",
        1,
    )
    assert (ticket.subject, ticket.body) == ("Router", "It drops every hour.")
    assert ticket.created_at == ticket.updated_at == clock.now()


def test_intake_stores_the_ticket(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="chat", customer_id="c-reg", body="Hello")
    assert desk.get_ticket(ticket.id) == ticket


@pytest.mark.parametrize(
    "channel", ["phone", "email", "chat", "web_form", "social_media", "portal"]
)
def test_intake_accepts_every_channel(desk: SupportDesk, channel: str) -> None:
    assert desk.intake(channel=channel, customer_id="c-reg", body="Hi").channel.value == channel


def test_intake_accepts_a_channel_member(desk: SupportDesk) -> None:
    ticket = desk.intake(channel=Channel.PORTAL, customer_id="c-reg", body="Hi")
    assert ticket.channel is Channel.PORTAL


def test_intake_records_one_created_event(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Hello")
    history = desk.history(ticket.id)
    assert [(e.type, e.seq, e.ticket_id) for e in history] == [("ticket.created", 1, ticket.id)]
    assert history[0].actor == "customer:c-reg"


def test_intake_records_the_customer_message(desk: SupportDesk, clock: FixedClock) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Hello there")
    [message] = desk.messages(ticket.id)
    assert (message.author_kind, message.author_id, message.body, message.internal) == (
        AuthorKind.CUSTOMER,
        "c-reg",
        "Hello there",
        False,
    )
    assert message.created_at == clock.now()


def test_intake_same_delivery_twice_returns_the_same_ticket(desk: SupportDesk) -> None:
    first = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    again = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assert again == first


def test_intake_same_delivery_twice_stores_one_ticket_event_and_message(
    desk: SupportDesk,
) -> None:
    first = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assert [t.id for t in desk.list_tickets()] == [first.id]
    assert len(desk.history(first.id)) == 1
    assert len(desk.messages(first.id)) == 1


def test_intake_redelivery_after_the_ticket_moved_returns_it_unchanged(
    desk: SupportDesk,
) -> None:
    first = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assigned = desk.assign(first.id, "a-bob")
    again = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assert again == assigned


def test_intake_same_external_id_on_another_channel_is_another_ticket(
    desk: SupportDesk,
) -> None:
    by_mail = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="x-1")
    by_chat = desk.intake(channel="chat", customer_id="c-reg", body="Hi", external_id="x-1")
    assert by_mail.id != by_chat.id


def test_intake_without_external_id_is_not_deduplicated(desk: SupportDesk) -> None:
    desk.intake(channel="email", customer_id="c-reg", body="Hi")
    desk.intake(channel="email", customer_id="c-reg", body="Hi")
    assert len(desk.list_tickets()) == 2


def test_find_by_external_id_returns_the_ticket_a_delivery_made(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assert desk.find_by_external_id("email", "msg-1") == ticket


def test_find_by_external_id_of_an_unknown_delivery_is_none(desk: SupportDesk) -> None:
    desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assert desk.find_by_external_id("email", "msg-2") is None


def test_find_by_external_id_is_per_channel(desk: SupportDesk) -> None:
    desk.intake(channel="email", customer_id="c-reg", body="Hi", external_id="msg-1")
    assert desk.find_by_external_id(Channel.CHAT, "msg-1") is None


def test_intake_without_subject_takes_the_first_body_line(desk: SupportDesk) -> None:
    ticket = desk.intake(
        channel="email", customer_id="c-reg", body="\n  Printer offline \nShows error 5"
    )
    assert ticket.subject == "Printer offline"


def test_intake_without_subject_shortens_a_long_first_line(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="very long line " * 20)
    assert 0 < len(ticket.subject) <= 80


def test_intake_without_body_uses_the_subject(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="phone", customer_id="c-reg", subject="Call me back")
    assert ticket.body == "Call me back"


def test_intake_received_at_becomes_created_at(desk: SupportDesk, clock: FixedClock) -> None:
    received = clock.now() - timedelta(minutes=40)
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi", received_at=received)
    assert ticket.created_at == received


def test_intake_keeps_given_fields(desk: SupportDesk) -> None:
    ticket = desk.intake(
        channel="web_form",
        customer_id="c-key",
        body="Invoice total is wrong",
        priority="high",
        category="billing",
        team_id="t-support",
        tags=["invoice", "q1"],
        language="en",
    )
    assert (ticket.priority, ticket.category, ticket.team_id, ticket.tags, ticket.language) == (
        Priority.HIGH,
        "billing",
        "t-support",
        ("invoice", "q1"),
        "en",
    )


def test_intake_default_classifier_detects_chinese(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="chat", customer_id="c-reg", body="我的订单还没有到")
    assert ticket.language == "zh"


def test_intake_default_priority_is_normal(desk: SupportDesk) -> None:
    assert desk.intake(channel="chat", customer_id="c-reg", body="Hi").priority is Priority.NORMAL


class _ComplaintClassifier:
    def classify(self, ticket: Ticket) -> Classification | None:
        return Classification(
            category="complaint",
            confidence=0.9,
            complaint_category=ComplaintCategory.SERVICE_ATTITUDE,
            priority=Priority.URGENT,
            language="en",
        )


class _Abstains:
    def classify(self, ticket: Ticket) -> Classification | None:
        return None


def test_intake_applies_the_classification(
    open_desk: Callable[..., Any], clock: FixedClock
) -> None:
    with open_desk(clock, classifier=_ComplaintClassifier()) as desk:
        ticket = desk.intake(channel="phone", customer_id="c-reg", body="Your agent was rude")
    assert (ticket.category, ticket.complaint_category, ticket.priority, ticket.language) == (
        "complaint",
        ComplaintCategory.SERVICE_ATTITUDE,
        Priority.URGENT,
        "en",
    )


def test_intake_given_fields_win_over_the_classification(
    open_desk: Callable[..., Any], clock: FixedClock
) -> None:
    with open_desk(clock, classifier=_ComplaintClassifier()) as desk:
        ticket = desk.intake(
            channel="phone",
            customer_id="c-reg",
            body="Your agent was rude",
            category="feedback",
            priority="low",
            language="zh",
        )
    assert (ticket.category, ticket.priority, ticket.language) == ("feedback", Priority.LOW, "zh")


def test_intake_classification_is_in_the_created_event(
    open_desk: Callable[..., Any], clock: FixedClock
) -> None:
    with open_desk(clock, classifier=_ComplaintClassifier()) as desk:
        ticket = desk.intake(channel="phone", customer_id="c-reg", body="Your agent was rude")
        created = desk.history(ticket.id)[0]
    assert created.data["ticket"]["category"] == "complaint"
    assert created.data["ticket"]["priority"] == "urgent"


def test_intake_with_an_abstaining_classifier_leaves_fields_empty(
    open_desk: Callable[..., Any], clock: FixedClock
) -> None:
    with open_desk(clock, classifier=_Abstains()) as desk:
        ticket = desk.intake(channel="phone", customer_id="c-reg", body="Hello")
    assert (ticket.category, ticket.language, ticket.priority) == (None, None, Priority.NORMAL)


def test_intake_for_an_unknown_customer_stores_nothing(desk: SupportDesk) -> None:
    with pytest.raises(CustomerNotFound):
        desk.intake(channel="email", customer_id="c-nobody", body="Hi")
    assert desk.list_tickets() == []


# -- assign ----------------------------------------------------------------------------------


def test_assign_to_an_agent_moves_new_to_assigned(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.NEW)
    clock.advance(timedelta(minutes=3))
    assigned = desk.assign(ticket.id, "a-ann")
    assert (assigned.status, assigned.assignee_id, assigned.assigned_at) == (
        S.ASSIGNED,
        "a-ann",
        clock.now(),
    )
    assert event_types(desk, ticket.id)[-1] == "ticket.assigned"


def test_assign_records_the_actor(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.NEW)
    desk.assign(ticket.id, "a-ann", actor="a-lead")
    assert desk.history(ticket.id)[-1].actor == "a-lead"


def test_assign_without_agent_picks_the_least_loaded(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    # No team: everyone not offline is a candidate. Ann has capacity 2, Bob 10, Sue 5;
    # ties go to the lower share of capacity in use, then fewer tickets, then the id.
    picks = [desk.assign(ticket_in(S.NEW).id).assignee_id for _ in range(4)]
    assert picks == ["a-ann", "a-bob", "a-sue", "a-bob"]


def test_assign_without_agent_stays_in_the_ticket_team(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.NEW, team_id="t-senior")
    assert desk.assign(ticket.id).assignee_id == "a-sue"


def test_assign_without_agent_skips_offline_agents(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    desk.set_agent_status("a-ann", "offline")
    ticket = ticket_in(S.NEW, team_id="t-support")
    assert desk.assign(ticket.id).assignee_id == "a-bob"


def test_assign_fails_when_every_team_agent_is_offline(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    desk.set_agent_status("a-ann", AgentStatus.OFFLINE)
    desk.set_agent_status("a-bob", AgentStatus.OFFLINE)
    ticket = ticket_in(S.NEW, team_id="t-support")
    before = snapshot(desk)
    with pytest.raises(AssignmentFailed) as caught:
        desk.assign(ticket.id)
    assert caught.value.ticket_id == ticket.id
    assert snapshot(desk) == before


def test_assign_prefers_available_agents_over_away_ones(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    desk.set_agent_status("a-ann", "away")
    ticket = ticket_in(S.NEW, team_id="t-support")
    assert desk.assign(ticket.id).assignee_id == "a-bob"


def test_assign_uses_away_agents_when_no_one_is_available(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    desk.set_agent_status("a-ann", "away")
    desk.set_agent_status("a-bob", "away")
    ticket = ticket_in(S.NEW, team_id="t-support")
    assert desk.assign(ticket.id).assignee_id == "a-ann"


def test_assign_to_an_agent_at_capacity_fails(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket_in(S.ASSIGNED, agent_id="a-ann")
    ticket_in(S.IN_PROGRESS, agent_id="a-ann")
    third = ticket_in(S.NEW)
    before = snapshot(desk)
    with pytest.raises(AssignmentFailed):
        desk.assign(third.id, "a-ann")
    assert snapshot(desk) == before


def test_waiting_and_held_tickets_count_against_capacity(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket_in(S.WAITING_ON_CUSTOMER, agent_id="a-ann")
    ticket_in(S.ON_HOLD, agent_id="a-ann")
    with pytest.raises(AssignmentFailed):
        desk.assign(ticket_in(S.NEW).id, "a-ann")


def test_resolved_tickets_do_not_count_against_capacity(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket_in(S.RESOLVED, agent_id="a-ann")
    ticket_in(S.CLOSED, agent_id="a-ann")
    ticket_in(S.IN_PROGRESS, agent_id="a-ann")
    assert desk.assign(ticket_in(S.NEW).id, "a-ann").assignee_id == "a-ann"


def test_assign_without_agent_skips_agents_at_capacity(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket_in(S.ASSIGNED, agent_id="a-ann")
    ticket_in(S.ASSIGNED, agent_id="a-ann")
    ticket = ticket_in(S.NEW, team_id="t-support")
    assert desk.assign(ticket.id).assignee_id == "a-bob"


def test_reassign_moves_work_back_to_assigned(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    moved = desk.assign(ticket.id, "a-ann")
    assert (moved.status, moved.assignee_id, moved.acknowledged_at) == (S.ASSIGNED, "a-ann", None)
    last = desk.history(ticket.id)[-1]
    assert (last.type, last.data["previous_assignee_id"]) == ("ticket.reassigned", "a-bob")


def test_reassigned_ticket_cannot_be_acknowledged_by_the_previous_owner(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    desk.assign(ticket.id, "a-ann")
    with pytest.raises(NotPermitted):
        desk.acknowledge(ticket.id, agent_id="a-bob")


def test_reassigned_ticket_is_acknowledged_by_the_new_owner(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    desk.assign(ticket.id, "a-ann")
    assert desk.acknowledge(ticket.id, agent_id="a-ann").status is S.IN_PROGRESS


def test_reassign_without_agent_never_picks_the_current_owner(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-ann", team_id="t-support")
    assert desk.assign(ticket.id).assignee_id == "a-bob"


def test_assign_to_the_current_owner_is_refused(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.ASSIGNED, agent_id="a-bob")
    before = snapshot(desk)
    with pytest.raises(ValidationFailed) as caught:
        desk.assign(ticket.id, "a-bob")
    assert caught.value.field == "agent_id"
    assert snapshot(desk) == before


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_assign_is_refused_once_resolved(
    desk: SupportDesk, ticket_in: MakeTicket, status: TicketStatus
) -> None:
    ticket = ticket_in(status)
    with pytest.raises(InvalidTransition) as caught:
        desk.assign(ticket.id, "a-ann")
    assert caught.value.event == "reassign"


class _Picks:
    """A strategy that always answers the same agent, whoever that is."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id

    def decide(self, request: RoutingRequest, pool: AgentPool) -> Decision:
        return Decision(self.agent_id, "always this one")


def test_assign_refuses_a_strategy_pick_that_is_not_an_agent(
    open_desk: Callable[..., Any], clock: FixedClock
) -> None:
    with open_desk(clock, assignment=_Picks("a-ghost")) as desk:
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi")
        with pytest.raises(AssignmentFailed, match="a-ghost"):
            desk.assign(ticket.id)
        assert desk.get_ticket(ticket.id) == ticket


@pytest.mark.parametrize("agent_id", ["a-ann", "a-bob", "a-sue", "a-oli"])
def test_assign_takes_a_strategy_pick_only_if_online_and_below_capacity(
    open_desk: Callable[..., Any], clock: FixedClock, agent_id: str
) -> None:
    with open_desk(clock, assignment=_Picks(agent_id)) as desk:
        agent = desk.get_agent(agent_id)
        ticket = desk.intake(channel="email", customer_id="c-reg", body="Hi")
        fits = agent.status is not AgentStatus.OFFLINE and agent.capacity > len(
            desk.list_tickets(assignee_id=agent_id)
        )
        if fits:
            assert desk.assign(ticket.id).assignee_id == agent_id
        else:
            with pytest.raises(AssignmentFailed, match=agent_id):
                desk.assign(ticket.id)
            assert desk.get_ticket(ticket.id) == ticket


def test_default_strategy_picks_an_online_agent_of_the_team_below_capacity(
    open_desk: Callable[..., Any], clock: FixedClock
) -> None:
    with open_desk(clock) as desk:
        picked = set()
        for _ in range(4):
            ticket = desk.intake(
                channel="email", customer_id="c-reg", body="Hi", team_id="t-support"
            )
            picked.add(desk.assign(ticket.id).assignee_id)
    assert picked == {"a-ann", "a-bob"}


# -- acknowledge -----------------------------------------------------------------------------


def test_acknowledge_by_the_assignee_starts_work(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.ASSIGNED, agent_id="a-ann")
    clock.advance(timedelta(minutes=7))
    acknowledged = desk.acknowledge(ticket.id, agent_id="a-ann")
    assert (acknowledged.status, acknowledged.acknowledged_at) == (S.IN_PROGRESS, clock.now())
    assert event_types(desk, ticket.id)[-1] == "ticket.acknowledged"


def test_acknowledge_by_another_agent_is_not_permitted(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.ASSIGNED, agent_id="a-ann")
    before = snapshot(desk)
    with pytest.raises(NotPermitted) as caught:
        desk.acknowledge(ticket.id, agent_id="a-bob")
    assert (caught.value.actor, caught.value.action) == ("a-bob", "acknowledge")
    assert isinstance(caught.value, PermissionError)
    assert snapshot(desk) == before


def test_acknowledge_a_new_ticket_is_refused(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.NEW)
    with pytest.raises(InvalidTransition) as caught:
        desk.acknowledge(ticket.id, agent_id="a-bob")
    assert (caught.value.status, caught.value.event) == ("new", "acknowledge")


def test_acknowledge_twice_is_refused(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    with pytest.raises(InvalidTransition):
        desk.acknowledge(ticket.id, agent_id="a-bob")


# -- reply and notes -------------------------------------------------------------------------


def test_first_public_reply_sets_first_response_at(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    clock.advance(timedelta(minutes=12))
    replied = desk.reply(ticket.id, agent_id="a-bob", body="Please restart the router")
    assert replied.first_response_at == clock.now()


def test_later_replies_keep_first_response_at(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    first = desk.reply(ticket.id, agent_id="a-bob", body="Please restart the router")
    clock.advance(timedelta(hours=1))
    later = desk.reply(ticket.id, agent_id="a-bob", body="Any luck?")
    assert later.first_response_at == first.first_response_at


def test_reply_keeps_the_status(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    assert desk.reply(ticket.id, agent_id="a-bob", body="On it").status is S.IN_PROGRESS


def test_reply_adds_a_public_agent_message(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    desk.reply(ticket.id, agent_id="a-bob", body="Please restart the router")
    message = desk.messages(ticket.id)[-1]
    assert (message.author_kind, message.author_id, message.body, message.internal) == (
        AuthorKind.AGENT,
        "a-bob",
        "Please restart the router",
        False,
    )
    assert desk.history(ticket.id)[-1].data["message_id"] == message.id


def test_public_reply_before_acknowledge_is_refused(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.ASSIGNED)
    with pytest.raises(InvalidTransition):
        desk.reply(ticket.id, agent_id="a-bob", body="Hi")


def test_internal_note_keeps_status_and_first_response(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.ASSIGNED)
    noted = desk.reply(ticket.id, agent_id="a-bob", body="VIP, be careful", internal=True)
    assert (noted.status, noted.first_response_at) == (S.ASSIGNED, None)
    assert event_types(desk, ticket.id)[-1] == "ticket.note_added"


def test_internal_note_is_stored_as_internal(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.NEW)
    desk.reply(ticket.id, agent_id="a-bob", body="Looks like spam", internal=True)
    assert desk.messages(ticket.id)[-1].internal is True


@pytest.mark.parametrize("status", [S.NEW, S.ON_HOLD, S.RESOLVED])
def test_internal_note_is_accepted_before_closing(
    desk: SupportDesk, ticket_in: MakeTicket, status: TicketStatus
) -> None:
    ticket = ticket_in(status)
    assert desk.reply(ticket.id, agent_id="a-bob", body="n", internal=True).status is status


def test_internal_note_on_a_closed_ticket_is_refused(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.CLOSED)
    before = snapshot(desk)
    with pytest.raises(InvalidTransition):
        desk.reply(ticket.id, agent_id="a-bob", body="late note", internal=True)
    assert snapshot(desk) == before


def test_reply_while_waiting_keeps_waiting(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.WAITING_ON_CUSTOMER)
    replied = desk.reply(ticket.id, agent_id="a-bob", body="Any news?")
    assert replied.status is S.WAITING_ON_CUSTOMER


# -- request_info ------------------------------------------------------------------------------


def test_request_info_waits_on_the_customer(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    waiting = desk.request_info(ticket.id, agent_id="a-bob", body="Which model is it?")
    assert waiting.status is S.WAITING_ON_CUSTOMER
    assert desk.messages(ticket.id)[-1].body == "Which model is it?"
    assert event_types(desk, ticket.id)[-1] == "ticket.info_requested"


def test_request_info_counts_as_first_response(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    clock.advance(timedelta(minutes=4))
    asked = desk.request_info(ticket.id, agent_id="a-bob", body="Which model is it?")
    assert asked.first_response_at == clock.now()


def test_request_info_on_a_new_ticket_is_refused(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    with pytest.raises(InvalidTransition):
        desk.request_info(ticket_in(S.NEW).id, agent_id="a-bob", body="Which model?")


# -- customer_replied --------------------------------------------------------------------------


def test_customer_reply_while_waiting_resumes_work(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.WAITING_ON_CUSTOMER)
    resumed = desk.customer_replied(ticket.id, body="It is the X200")
    assert resumed.status is S.IN_PROGRESS
    assert event_types(desk, ticket.id)[-1] == "ticket.customer_replied"


def test_customer_reply_is_stored_as_the_customer_message(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, customer_id="c-vip")
    desk.customer_replied(ticket.id, body="Any news?")
    message = desk.messages(ticket.id)[-1]
    assert (message.author_kind, message.author_id, message.body) == (
        AuthorKind.CUSTOMER,
        "c-vip",
        "Any news?",
    )


@pytest.mark.parametrize("status", [S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD])
def test_customer_reply_keeps_other_open_statuses(
    desk: SupportDesk, ticket_in: MakeTicket, status: TicketStatus
) -> None:
    ticket = ticket_in(status)
    assert desk.customer_replied(ticket.id, body="Hello?").status is status


def test_customer_reply_within_the_window_reopens_a_resolved_ticket(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(days=6))
    reopened = desk.customer_replied(ticket.id, body="Broken again")
    assert reopened.id == ticket.id
    assert (reopened.status, reopened.resolved_at, reopened.resolution, reopened.reopen_count) == (
        S.IN_PROGRESS,
        None,
        None,
        1,
    )


def test_customer_reply_after_the_window_closes_and_follows_up(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(days=8))
    follow_up = desk.customer_replied(ticket.id, body="Broken again")
    assert follow_up.id != ticket.id
    assert (follow_up.status, follow_up.follow_up_of) == (S.NEW, ticket.id)
    closed = desk.get_ticket(ticket.id)
    assert (closed.status, closed.closed_at) == (S.CLOSED, clock.now())
    assert event_types(desk, ticket.id)[-1] == "ticket.closed"


def test_customer_reply_on_a_closed_ticket_opens_a_linked_follow_up(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.CLOSED, customer_id="c-key", team_id="t-support")
    follow_up = desk.customer_replied(ticket.id, body="Same problem again")
    assert (follow_up.follow_up_of, follow_up.status, follow_up.customer_id) == (
        ticket.id,
        S.NEW,
        "c-key",
    )
    assert (follow_up.channel, follow_up.team_id) == (ticket.channel, "t-support")
    assert follow_up.subject == f"Re: {ticket.subject}"


def test_customer_reply_on_a_closed_ticket_leaves_it_unchanged(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.CLOSED)
    history = desk.history(ticket.id)
    desk.customer_replied(ticket.id, body="Same problem again")
    assert desk.get_ticket(ticket.id) == ticket
    assert desk.history(ticket.id) == history


def test_follow_up_holds_the_message_and_its_own_history(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.CLOSED)
    follow_up = desk.customer_replied(ticket.id, body="Same problem again")
    assert [m.body for m in desk.messages(follow_up.id)] == ["Same problem again"]
    assert event_types(desk, follow_up.id) == ["ticket.created"]
    assert desk.get_ticket(follow_up.id) == follow_up


def test_follow_up_of_a_follow_up_does_not_stack_re(
    desk: SupportDesk, ticket_in: MakeTicket, drive: Callable[..., Ticket]
) -> None:
    ticket = ticket_in(S.CLOSED)
    first = desk.customer_replied(ticket.id, body="Again")
    drive(desk, first.id, S.CLOSED)
    second = desk.customer_replied(first.id, body="And again")
    assert second.subject == f"Re: {ticket.subject}"


def test_customer_reply_redelivered_by_message_id_changes_nothing(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.WAITING_ON_CUSTOMER)
    resumed = desk.customer_replied(ticket.id, body="X200", message_id="mail-77")
    before = snapshot(desk)
    again = desk.customer_replied(ticket.id, body="X200", message_id="mail-77")
    assert again == resumed
    assert snapshot(desk) == before


def test_customer_reply_keeps_the_given_message_id(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    desk.customer_replied(ticket.id, body="X200", message_id="mail-77")
    assert desk.messages(ticket.id)[-1].id == "mail-77"


def test_customer_reply_to_a_closed_ticket_redelivered_returns_the_same_follow_up(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.CLOSED)
    follow_up = desk.customer_replied(ticket.id, body="Again", message_id="mail-78")
    before = snapshot(desk)
    again = desk.customer_replied(ticket.id, body="Again", message_id="mail-78")
    assert again == follow_up
    assert snapshot(desk) == before


def test_customer_reply_after_the_window_redelivered_returns_the_same_follow_up(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(days=8))
    follow_up = desk.customer_replied(ticket.id, body="Again", message_id="mail-79")
    before = snapshot(desk)
    again = desk.customer_replied(ticket.id, body="Again", message_id="mail-79")
    assert again == follow_up
    assert snapshot(desk) == before


# -- hold and release --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.WAITING_ON_CUSTOMER])
def test_hold_parks_the_ticket(
    desk: SupportDesk, ticket_in: MakeTicket, status: TicketStatus
) -> None:
    ticket = ticket_in(status)
    held = desk.hold(ticket.id, agent_id="a-bob", reason="waiting for a spare part")
    assert held.status is S.ON_HOLD
    last = desk.history(ticket.id)[-1]
    assert (last.type, last.data["reason"]) == ("ticket.held", "waiting for a spare part")


def test_release_takes_the_ticket_back_into_work(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.ON_HOLD)
    assert desk.release(ticket.id, agent_id="a-bob").status is S.IN_PROGRESS
    assert event_types(desk, ticket.id)[-1] == "ticket.released"


def test_release_of_a_ticket_not_on_hold_is_refused(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    with pytest.raises(InvalidTransition):
        desk.release(ticket_in(S.IN_PROGRESS).id, agent_id="a-bob")


def test_hold_of_an_assigned_ticket_is_refused(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    with pytest.raises(InvalidTransition):
        desk.hold(ticket_in(S.ASSIGNED).id, agent_id="a-bob", reason="later")


# -- escalate ----------------------------------------------------------------------------------


def test_escalate_raises_the_level_and_keeps_status_and_owner(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    escalated = desk.escalate(ticket.id, actor="a-bob", reason="needs the network team")
    assert (escalated.escalation_level, escalated.status, escalated.assignee_id) == (
        1,
        S.IN_PROGRESS,
        "a-bob",
    )
    last = desk.history(ticket.id)[-1]
    assert (last.type, last.actor, last.data["reason"]) == (
        "ticket.escalated",
        "a-bob",
        "needs the network team",
    )


def test_escalate_twice_reaches_level_two(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.ON_HOLD)
    desk.escalate(ticket.id, actor="a-bob", reason="first")
    assert desk.escalate(ticket.id, actor="a-bob", reason="second").escalation_level == 2


def test_escalate_to_an_agent_hands_over(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    clock.advance(timedelta(minutes=30))
    handed = desk.escalate(ticket.id, actor="a-bob", reason="senior needed", to_agent_id="a-sue")
    assert (handed.assignee_id, handed.status, handed.acknowledged_at, handed.assigned_at) == (
        "a-sue",
        S.ASSIGNED,
        None,
        clock.now(),
    )
    assert handed.escalation_level == 1


def test_escalate_with_handover_records_one_event(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    before = len(desk.history(ticket.id))
    desk.escalate(ticket.id, actor="a-bob", reason="senior needed", to_agent_id="a-sue")
    history = desk.history(ticket.id)
    assert len(history) == before + 1
    assert (history[-1].type, history[-1].data["previous_assignee_id"]) == (
        "ticket.escalated",
        "a-bob",
    )


def test_escalated_ticket_is_acknowledged_by_the_new_owner(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    desk.escalate(ticket.id, actor="a-bob", reason="senior needed", to_agent_id="a-sue")
    with pytest.raises(NotPermitted):
        desk.acknowledge(ticket.id, agent_id="a-bob")
    assert desk.acknowledge(ticket.id, agent_id="a-sue").status is S.IN_PROGRESS


def test_escalate_to_a_team_lets_the_strategy_pick_in_it(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob", team_id="t-support")
    handed = desk.escalate(ticket.id, actor="a-bob", reason="senior", to_team_id="t-senior")
    assert (handed.team_id, handed.assignee_id, handed.status) == ("t-senior", "a-sue", S.ASSIGNED)


def test_escalate_to_a_team_without_available_agents_changes_nothing(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    desk.set_agent_status("a-sue", "offline")
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    before = snapshot(desk)
    with pytest.raises(AssignmentFailed):
        desk.escalate(ticket.id, actor="a-bob", reason="senior", to_team_id="t-senior")
    assert snapshot(desk) == before


def test_escalate_a_new_ticket_with_handover_assigns_it(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.NEW)
    handed = desk.escalate(ticket.id, actor="a-lead", reason="VIP", to_agent_id="a-sue")
    assert (handed.status, handed.assignee_id, handed.escalation_level) == (
        S.ASSIGNED,
        "a-sue",
        1,
    )


def test_escalate_a_new_ticket_without_handover_keeps_it_new(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.NEW)
    assert desk.escalate(ticket.id, actor="a-lead", reason="VIP").status is S.NEW


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED])
def test_escalate_is_refused_once_resolved(
    desk: SupportDesk, ticket_in: MakeTicket, status: TicketStatus
) -> None:
    with pytest.raises(InvalidTransition):
        desk.escalate(ticket_in(status).id, actor="a-bob", reason="too late")


def test_escalate_handover_to_the_current_owner_names_to_agent_id(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = ticket_in(S.IN_PROGRESS, agent_id="a-bob")
    with pytest.raises(ValidationFailed) as caught:
        desk.escalate(ticket.id, actor="a-bob", reason="x", to_agent_id="a-bob")
    assert caught.value.field == "to_agent_id"


# -- resolve -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.ON_HOLD])
def test_resolve_records_how(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock, status: TicketStatus
) -> None:
    ticket = ticket_in(status)
    clock.advance(timedelta(hours=2))
    resolved = desk.resolve(ticket.id, agent_id="a-bob", resolution="Replaced the cable")
    assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
        S.RESOLVED,
        "Replaced the cable",
        clock.now(),
    )
    assert event_types(desk, ticket.id)[-2:] == ["ticket.resolved", "feedback.survey_requested"]
    asked = desk.history(ticket.id)[-1]
    assert (asked.actor, asked.seq, resolved.version) == ("system", resolved.version, asked.seq)
    assert asked.data["changes"]["version"] == resolved.version
    assert "status" not in asked.data["changes"]
    assert asked.data["survey"] == request_survey(resolved).model_dump(mode="json")


@pytest.mark.parametrize("status", [S.NEW, S.ASSIGNED])
def test_resolve_before_work_started_is_refused(
    desk: SupportDesk, ticket_in: MakeTicket, status: TicketStatus
) -> None:
    with pytest.raises(InvalidTransition):
        desk.resolve(ticket_in(status).id, agent_id="a-bob", resolution="Done")


# -- close -------------------------------------------------------------------------------------


def test_close_a_resolved_ticket(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(hours=1))
    closed = desk.close(ticket.id, actor="a-lead")
    assert (closed.status, closed.closed_at) == (S.CLOSED, clock.now())
    last = desk.history(ticket.id)[-1]
    assert (last.type, last.actor) == ("ticket.closed", "a-lead")


def test_close_defaults_to_the_system_actor(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.RESOLVED)
    desk.close(ticket.id)
    assert desk.history(ticket.id)[-1].actor == "system"


def test_close_an_open_ticket_is_refused(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    with pytest.raises(InvalidTransition) as caught:
        desk.close(ticket_in(S.IN_PROGRESS).id)
    assert "resolve" in caught.value.allowed


def test_closed_ticket_refuses_every_change(
    desk: SupportDesk, ticket_in: MakeTicket, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.CLOSED)
    before = snapshot(desk)
    calls: list[Callable[[], Any]] = [
        lambda: desk.assign(ticket.id, "a-ann"),
        lambda: desk.acknowledge(ticket.id, agent_id="a-bob"),
        lambda: desk.reply(ticket.id, agent_id="a-bob", body="hi"),
        lambda: desk.request_info(ticket.id, agent_id="a-bob", body="?"),
        lambda: desk.hold(ticket.id, agent_id="a-bob", reason="r"),
        lambda: desk.release(ticket.id, agent_id="a-bob"),
        lambda: desk.escalate(ticket.id, actor="a-bob", reason="r"),
        lambda: desk.resolve(ticket.id, agent_id="a-bob", resolution="r"),
        lambda: desk.close(ticket.id),
        lambda: desk.reopen(ticket.id, actor="a-bob", reason="r"),
    ]
    for call in calls:
        with pytest.raises(InvalidTransition) as caught:
            call()
        assert caught.value.allowed == ()
    assert snapshot(desk) == before


# -- reopen ------------------------------------------------------------------------------------


def test_reopen_within_the_window(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    reopened = desk.reopen(ticket.id, actor="c-reg", reason="Still broken")
    assert (reopened.status, reopened.reopen_count, reopened.resolution, reopened.resolved_at) == (
        S.IN_PROGRESS,
        1,
        None,
        None,
    )
    last = desk.history(ticket.id)[-1]
    assert (last.type, last.data["reason"]) == ("ticket.reopened", "Still broken")


def test_reopen_after_the_window_is_refused(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock, snapshot: Callable[..., Any]
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(days=7, minutes=1))
    before = snapshot(desk)
    with pytest.raises(ReopenWindowExpired) as caught:
        desk.reopen(ticket.id, actor="c-reg", reason="Still broken")
    assert (caught.value.ticket_id, caught.value.window) == (ticket.id, timedelta(days=7))
    assert snapshot(desk) == before


def test_reopen_window_is_a_setting(
    open_desk: Callable[..., Any], clock: FixedClock, new_ticket: MakeTicket
) -> None:
    settings = DeskSettings(reopen_window=timedelta(hours=1))
    with open_desk(clock, settings=settings) as desk:
        ticket = new_ticket(desk, S.RESOLVED)
        clock.advance(timedelta(hours=2))
        with pytest.raises(ReopenWindowExpired):
            desk.reopen(ticket.id, actor="c-reg", reason="Still broken")


def test_reopen_counts_every_reopening(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.RESOLVED)
    desk.reopen(ticket.id, actor="c-reg", reason="1")
    desk.resolve(ticket.id, agent_id="a-bob", resolution="again")
    assert desk.reopen(ticket.id, actor="c-reg", reason="2").reopen_count == 2


def test_reopen_an_open_ticket_is_refused(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    with pytest.raises(InvalidTransition):
        desk.reopen(ticket_in(S.IN_PROGRESS).id, actor="c-reg", reason="?")


def test_reopen_a_closed_ticket_is_an_invalid_transition_not_a_window(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        desk.reopen(ticket_in(S.CLOSED).id, actor="c-reg", reason="?")
    assert not isinstance(caught.value, ReopenWindowExpired)


# -- run_due_jobs ------------------------------------------------------------------------------


def test_run_due_jobs_closes_resolved_tickets_after_the_delay(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    later = clock.now() + timedelta(days=3)
    report = desk.run_due_jobs(later)
    assert (report.closed, report.deferred) == ((ticket.id,), ())
    closed = desk.get_ticket(ticket.id)
    assert (closed.status, closed.closed_at) == (S.CLOSED, later)
    last = desk.history(ticket.id)[-1]
    assert (last.type, last.actor) == ("ticket.closed", "system")


def test_run_due_jobs_leaves_recently_resolved_tickets(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    report = desk.run_due_jobs(clock.now() + timedelta(days=3) - timedelta(seconds=1))
    assert report.closed == ()
    assert desk.get_ticket(ticket.id).status is S.RESOLVED


def test_run_due_jobs_uses_the_clock_when_no_time_is_given(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    clock.advance(timedelta(days=4))
    assert desk.run_due_jobs().closed == (ticket.id,)


def test_run_due_jobs_leaves_open_tickets_alone(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock, snapshot: Callable[..., Any]
) -> None:
    for status in (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.ON_HOLD):
        ticket_in(status)
    before = snapshot(desk)
    assert desk.run_due_jobs(clock.now() + timedelta(days=30)).closed == ()
    assert snapshot(desk) == before


def test_run_due_jobs_delay_is_a_setting(
    open_desk: Callable[..., Any], clock: FixedClock, new_ticket: MakeTicket
) -> None:
    settings = DeskSettings(auto_close_after=timedelta(hours=6))
    with open_desk(clock, settings=settings) as desk:
        ticket = new_ticket(desk, S.RESOLVED)
        assert desk.run_due_jobs(clock.now() + timedelta(hours=6)).closed == (ticket.id,)


def test_run_due_jobs_twice_closes_once(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    ticket = ticket_in(S.RESOLVED)
    later = clock.now() + timedelta(days=4)
    desk.run_due_jobs(later)
    assert desk.run_due_jobs(later).closed == ()
    assert event_types(desk, ticket.id).count("ticket.closed") == 1


# -- reads -------------------------------------------------------------------------------------


def test_list_tickets_filters_by_status(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket_in(S.NEW)
    held = ticket_in(S.ON_HOLD)
    assert [t.id for t in desk.list_tickets(status="on_hold")] == [held.id]


def test_list_tickets_filters_by_assignee_and_customer(
    desk: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket_in(S.ASSIGNED, agent_id="a-ann", customer_id="c-vip")
    wanted = ticket_in(S.ASSIGNED, agent_id="a-bob", customer_id="c-vip")
    ticket_in(S.ASSIGNED, agent_id="a-bob", customer_id="c-reg")
    found = desk.list_tickets(assignee_id="a-bob", customer_id="c-vip")
    assert [t.id for t in found] == [wanted.id]


def test_list_tickets_oldest_first(
    desk: SupportDesk, ticket_in: MakeTicket, clock: FixedClock
) -> None:
    first = ticket_in(S.NEW)
    clock.advance(timedelta(minutes=1))
    second = ticket_in(S.NEW)
    assert [t.id for t in desk.list_tickets()] == [first.id, second.id]


def test_history_seq_counts_up_to_the_version(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.CLOSED)
    assert [e.seq for e in desk.history(ticket.id)] == list(range(1, ticket.version + 1))


def test_deadlines_are_empty_without_a_policy(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.NEW)
    assert desk.deadlines(ticket.id) == ()
    assert ticket.first_response_due_at is None
    assert ticket.sla_check_at is None


# -- directory -----------------------------------------------------------------------------------


def test_set_agent_status_bumps_the_version(desk: SupportDesk) -> None:
    before = desk.get_agent("a-bob")
    updated = desk.set_agent_status("a-bob", "away")
    assert (updated.status, updated.version) == (AgentStatus.AWAY, before.version + 1)
    assert desk.get_agent("a-bob") == updated


def test_add_customer_twice_is_a_duplicate(desk: SupportDesk) -> None:
    with pytest.raises(DuplicateEntity):
        desk.add_customer(Customer(id="c-vip", name="Someone else"))
    assert desk.get_customer("c-vip").name == "Vera"


def test_add_customer_accepts_a_mapping(desk: SupportDesk) -> None:
    added = desk.add_customer({"id": "c-new", "name": "New", "tier": "key"})
    assert desk.get_customer("c-new") == added


def test_add_agent_needs_its_teams(desk: SupportDesk) -> None:
    with pytest.raises(TeamNotFound):
        desk.add_agent(Agent(id="a-new", name="New", teams=("t-nowhere",)))
    with pytest.raises(LookupError):
        desk.get_agent("a-new")


def test_add_team_then_assign_within_it(desk: SupportDesk, ticket_in: MakeTicket) -> None:
    desk.add_team(Team(id="t-billing", name="Billing"))
    desk.add_agent(Agent(id="a-bea", name="Bea", teams=("t-billing",)))
    ticket = ticket_in(S.NEW, team_id="t-billing")
    assert desk.assign(ticket.id).assignee_id == "a-bea"


# -- tenants -----------------------------------------------------------------------------------


@pytest.fixture
def two_tenants(
    store_factory: Callable[[], Store], clock: FixedClock, populate: Callable[..., None]
) -> Any:
    store = store_factory()
    acme = SupportDesk(store, tenant_id="acme", clock=clock)
    globex = SupportDesk(store, tenant_id="globex", clock=clock)
    populate(acme)
    populate(globex)
    yield acme, globex
    store.close()


def test_tenant_cannot_read_another_tenants_ticket(two_tenants: Any) -> None:
    acme, globex = two_tenants
    ticket = acme.intake(channel="email", customer_id="c-reg", body="Hi")
    with pytest.raises(TicketNotFound):
        globex.get_ticket(ticket.id)


def test_tenant_lists_only_its_own_tickets(two_tenants: Any) -> None:
    acme, globex = two_tenants
    acme.intake(channel="email", customer_id="c-reg", body="Hi")
    assert globex.list_tickets() == []


def test_tenant_cannot_change_another_tenants_ticket(two_tenants: Any) -> None:
    acme, globex = two_tenants
    ticket = acme.intake(channel="email", customer_id="c-reg", body="Hi")
    with pytest.raises(TicketNotFound):
        globex.assign(ticket.id, "a-bob")
    assert acme.get_ticket(ticket.id) == ticket


def test_tenant_cannot_see_another_tenants_customers(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    store = store_factory()
    try:
        acme = SupportDesk(store, tenant_id="acme", clock=clock)
        globex = SupportDesk(store, tenant_id="globex", clock=clock)
        acme.add_customer(Customer(id="c-only-acme", name="A"))
        with pytest.raises(CustomerNotFound):
            globex.intake(channel="email", customer_id="c-only-acme", body="Hi")
    finally:
        store.close()


def test_same_delivery_in_two_tenants_makes_two_tickets(two_tenants: Any) -> None:
    acme, globex = two_tenants
    a = acme.intake(channel="email", customer_id="c-reg", body="Hi", external_id="m-1")
    g = globex.intake(channel="email", customer_id="c-reg", body="Hi", external_id="m-1")
    assert acme.get_ticket(a.id) == a
    assert globex.get_ticket(g.id) == g
    assert (len(acme.list_tickets()), len(globex.list_tickets())) == (1, 1)


def test_same_ids_in_two_tenants_stay_apart(
    store_factory: Callable[[], Store], clock: FixedClock, populate: Callable[..., None]
) -> None:
    store = store_factory()
    try:
        acme_ids = iter(f"id-{n}" for n in range(100))
        globex_ids = iter(f"id-{n}" for n in range(100))
        acme = SupportDesk(store, tenant_id="acme", clock=clock, new_id=lambda: next(acme_ids))
        globex = SupportDesk(
            store, tenant_id="globex", clock=clock, new_id=lambda: next(globex_ids)
        )
        populate(acme)
        populate(globex)
        a = acme.intake(channel="email", customer_id="c-reg", body="from acme")
        g = globex.intake(channel="chat", customer_id="c-vip", body="from globex")
        assert a.id == g.id
        assert (acme.get_ticket(a.id).body, globex.get_ticket(g.id).body) == (
            "from acme",
            "from globex",
        )
    finally:
        store.close()


def test_default_tenant_is_used_when_none_is_given(desk: SupportDesk) -> None:
    assert desk.tenant_id == DEFAULT_TENANT


# -- concurrency and retry_on_conflict ---------------------------------------------------------


class _Unit:
    """A unit of work that runs ``before_commit`` just before committing."""

    def __init__(self, inner: UnitOfWork, before_commit: Callable[[], None] | None) -> None:
        self._inner = inner
        self._before_commit = before_commit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _Unit:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        if self._before_commit is not None:
            self._before_commit()
        self._inner.commit()


class _InterferingStore:
    """A store whose n-th unit of work lets another writer in (at open or before commit)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.units = 0
        self.on_open: dict[int, Callable[[], None]] = {}
        self.before_commit: dict[int, Callable[[], None]] = {}

    def unit_of_work(self, tenant_id: str = DEFAULT_TENANT) -> UnitOfWork:
        self.units += 1
        hook = self.on_open.pop(self.units, None)
        if hook is not None:
            hook()
        unit: Any = _Unit(
            self.inner.unit_of_work(tenant_id), self.before_commit.pop(self.units, None)
        )
        return unit  # type: ignore[no-any-return]

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def racing(clock: FixedClock, populate: Callable[..., None]) -> Any:
    """(store, desk, other): ``desk`` goes through ``store``; ``other`` writes directly.

    Memory store only: on SQLite ":memory:" a second writer inside an open unit of work
    is refused by design, so the race cannot be staged in one thread.
    """
    inner = MemoryStore()
    store = _InterferingStore(inner)
    desk = SupportDesk(store, clock=clock)
    other = SupportDesk(inner, clock=clock)
    populate(other)
    return store, desk, other


def test_a_lost_race_raises_concurrency_conflict_and_stores_nothing(
    racing: Any, new_ticket: MakeTicket
) -> None:
    store, desk, other = racing
    ticket = new_ticket(other, S.ASSIGNED, agent_id="a-bob")
    store.before_commit[store.units + 1] = lambda: other.reply(
        ticket.id, agent_id="a-ann", body="note", internal=True
    )
    with pytest.raises(ConcurrencyConflict):
        desk.acknowledge(ticket.id, agent_id="a-bob")
    after = other.get_ticket(ticket.id)
    assert (after.status, event_types(other, ticket.id)[-1]) == (S.ASSIGNED, "ticket.note_added")


def test_retry_on_conflict_redoes_a_desk_call_that_lost_a_race(
    racing: Any, new_ticket: MakeTicket
) -> None:
    store, desk, other = racing
    ticket = new_ticket(other, S.ASSIGNED, agent_id="a-bob")
    store.before_commit[store.units + 1] = lambda: other.reply(
        ticket.id, agent_id="a-ann", body="note", internal=True
    )
    done = retry_on_conflict(
        lambda: desk.acknowledge(ticket.id, agent_id="a-bob"), sleep=lambda _s: None
    )
    assert done.status is S.IN_PROGRESS
    assert event_types(other, ticket.id)[-2:] == ["ticket.note_added", "ticket.acknowledged"]


def test_run_due_jobs_defers_a_ticket_changed_meanwhile(
    racing: Any, new_ticket: MakeTicket, clock: FixedClock
) -> None:
    store, desk, other = racing
    ticket = new_ticket(other, S.RESOLVED)
    later = clock.now() + timedelta(days=4)
    # The first unit lists resolved tickets; before the second closes one, the customer writes.
    store.on_open[store.units + 2] = lambda: other.reply(
        ticket.id, agent_id="a-ann", body="note", internal=True
    )
    report = desk.run_due_jobs(later)
    assert (report.closed, report.deferred) == ((), (ticket.id,))
    assert other.get_ticket(ticket.id).status is S.RESOLVED


def test_retry_on_conflict_retries_until_success() -> None:
    calls: list[int] = []
    delays: list[float] = []

    def action() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConcurrencyConflict("ticket", "t-1", 1, 2)
        return "done"

    assert retry_on_conflict(action, sleep=delays.append) == "done"
    assert (len(calls), len(delays)) == (3, 2)


def test_retry_on_conflict_backs_off() -> None:
    delays: list[float] = []

    def action() -> None:
        raise ConcurrencyConflict("ticket", "t-1", 1, 2)

    with pytest.raises(ConcurrencyConflict):
        retry_on_conflict(action, attempts=4, base_delay_s=0.01, sleep=delays.append)
    assert len(delays) == 3
    # Jitter is 0.5x to 1.5x of a doubling base: 0.01, 0.02, 0.04.
    assert all(0.005 * 2**n <= d <= 0.015 * 2**n for n, d in enumerate(delays))


def test_retry_on_conflict_reraises_the_last_conflict() -> None:
    conflicts = iter(ConcurrencyConflict("ticket", "t-1", n, n + 1) for n in range(3))

    def action() -> None:
        raise next(conflicts)

    with pytest.raises(ConcurrencyConflict) as caught:
        retry_on_conflict(action, attempts=3, sleep=lambda _s: None)
    assert caught.value.expected_version == 2


def test_retry_on_conflict_does_not_retry_other_errors() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise TicketNotFound("t-1")

    with pytest.raises(TicketNotFound):
        retry_on_conflict(action, sleep=lambda _s: None)
    assert len(calls) == 1


def test_retry_on_conflict_zero_attempts_is_a_supportflow_error() -> None:
    with pytest.raises(SupportflowError):
        retry_on_conflict(lambda: None, attempts=0)
