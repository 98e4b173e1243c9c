"""The SLA extension point: the default policy, and a host policy seen through the desk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from supportflow import Deadline, SupportDesk, Ticket, TicketEvent
from supportflow.sla import NoSlaPolicy
from supportflow.storage import MemoryStore


class FirstResponseInAnHour:
    """A host-written policy: first response due an hour after the ticket came in."""

    def deadlines(self, ticket: Ticket, history: Sequence[TicketEvent]) -> Sequence[Deadline]:
        if ticket.first_response_at is not None:
            return ()
        assert history[0].seq == 1
        return (Deadline("first_response", ticket.created_at + timedelta(hours=1)),)


def test_no_sla_policy_has_no_deadlines(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="hello")
    assert desk.deadlines(ticket.id) == ()
    assert NoSlaPolicy().deadlines(ticket, desk.history(ticket.id)) == ()


def test_desk_asks_the_injected_policy_with_the_ticket_history(
    make_desk: Callable[..., SupportDesk],
) -> None:
    desk = make_desk(MemoryStore(), sla_policy=FirstResponseInAnHour())
    ticket = desk.intake(channel="email", customer_id="c-reg", body="hello")
    assert desk.deadlines(ticket.id) == (
        Deadline("first_response", ticket.created_at + timedelta(hours=1)),
    )
    desk.assign(ticket.id, "a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    desk.reply(ticket.id, agent_id="a-bob", body="On it.")
    assert desk.deadlines(ticket.id) == ()
