"""The unvalidated builders the desk uses on its hot path make valid, equal models."""

from __future__ import annotations

from supportflow import Message, SupportDesk, Ticket, TicketEvent
from supportflow._build import assemble, evolve


def _lifecycle(desk: SupportDesk) -> Ticket:
    ticket = desk.intake(
        channel="chat",
        customer_id="c-reg",
        subject="",
        body="我的订单 refund not received",
        external_id="chat-1",
        tags=["refund"],
    )
    desk.assign(ticket.id, "a-ann")
    desk.acknowledge(ticket.id, agent_id="a-ann")
    desk.reply(ticket.id, agent_id="a-ann", body="Checking now.")
    desk.reply(ticket.id, agent_id="a-ann", body="internal", internal=True)
    desk.request_info(ticket.id, agent_id="a-ann", body="Order number?")
    desk.customer_replied(ticket.id, body="#123")
    desk.hold(ticket.id, agent_id="a-ann", reason="bank")
    desk.release(ticket.id, agent_id="a-ann")
    desk.escalate(ticket.id, actor="a-ann", reason="needs a senior", to_agent_id="a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    desk.resolve(ticket.id, agent_id="a-bob", resolution="Refunded.")
    return desk.close(ticket.id)


def test_desk_made_tickets_events_and_messages_survive_validation(desk: SupportDesk) -> None:
    """Every model the desk built without validation equals its validated round trip."""
    ticket = _lifecycle(desk)
    stored = desk.get_ticket(ticket.id)
    assert Ticket.model_validate(stored.model_dump()) == stored
    assert Ticket.model_validate_json(stored.model_dump_json()) == stored
    for event in desk.history(ticket.id):
        assert TicketEvent.model_validate_json(event.model_dump_json()) == event
    for message in desk.messages(ticket.id):
        assert Message.model_validate_json(message.model_dump_json()) == message


def test_evolve_matches_model_copy(desk: SupportDesk) -> None:
    ticket = _lifecycle(desk)
    update = {"escalation_level": 3, "tags": ("a", "b")}
    evolved = evolve(ticket, update)
    assert evolved == ticket.model_copy(update=update)
    assert evolved.model_fields_set >= set(update)
    assert ticket.escalation_level != 3


def test_assemble_matches_validated_construction(desk: SupportDesk) -> None:
    ticket = _lifecycle(desk)
    values = ticket.model_dump()
    assert assemble(Ticket, dict(values)) == Ticket.model_validate(values)
