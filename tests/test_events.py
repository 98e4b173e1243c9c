"""Event names, JSON-ready change sets, and replaying a ticket from its events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportflow import EventType, SupportDesk, TicketEvent, ValidationFailed, replay
from supportflow.events import json_value
from supportflow.testing import FixedClock

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_event_types_are_past_tense_ticket_and_sla_events() -> None:
    assert {e.value for e in EventType} == {
        "ticket.created",
        "ticket.queued",
        "ticket.assigned",
        "ticket.reassigned",
        "ticket.acknowledged",
        "ticket.replied",
        "ticket.note_added",
        "ticket.info_requested",
        "ticket.customer_replied",
        "ticket.held",
        "ticket.released",
        "ticket.escalated",
        "ticket.resolved",
        "ticket.closed",
        "ticket.reopened",
        "sla.warning",
        "sla.breached",
        "sla.escalated",
        "sla.retargeted",
        "sla.target_overridden",
        "kb.suggested",
        "kb.article_linked",
        "feedback.survey_requested",
        "feedback.survey_answered",
        "feedback.follow_up_raised",
    }


# -- json_value ------------------------------------------------------------------------------


class _Colour(Enum):
    RED = "red"


def test_json_value_writes_datetimes_as_iso_8601() -> None:
    assert json_value(AT) == "2026-03-02T09:00:00+00:00"


def test_json_value_writes_enums_as_their_values() -> None:
    assert json_value(_Colour.RED) == "red"


def test_json_value_writes_tuples_as_lists() -> None:
    assert json_value(("a", AT)) == ["a", "2026-03-02T09:00:00+00:00"]


def test_json_value_keeps_plain_values() -> None:
    assert [json_value(v) for v in ("x", 3, 1.5, True, None)] == ["x", 3, 1.5, True, None]


# -- replay on desk histories ----------------------------------------------------------------


def test_replay_of_a_new_ticket_is_the_ticket(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="chat", customer_id="c-vip", body="App crashes on login")
    assert replay(desk.history(ticket.id)) == ticket


def test_replay_rebuilds_a_ticket_after_its_whole_life(
    desk: SupportDesk, clock: FixedClock
) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Invoice is wrong")
    desk.assign(ticket.id, "a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    desk.reply(ticket.id, agent_id="a-bob", body="Looking into it")
    desk.request_info(ticket.id, agent_id="a-bob", body="Invoice number?")
    desk.customer_replied(ticket.id, body="INV-7")
    desk.escalate(ticket.id, actor="a-bob", reason="refund", to_agent_id="a-sue")
    desk.acknowledge(ticket.id, agent_id="a-sue")
    clock.advance(timedelta(hours=2))
    desk.resolve(ticket.id, agent_id="a-sue", resolution="Refunded")
    desk.reopen(ticket.id, actor="c-reg", reason="Refund missing")
    desk.resolve(ticket.id, agent_id="a-sue", resolution="Refund sent again")
    desk.close(ticket.id)
    assert replay(desk.history(ticket.id)) == desk.get_ticket(ticket.id)


def test_replay_of_a_prefix_gives_the_earlier_state(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Invoice is wrong")
    assigned = desk.assign(ticket.id, "a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    assert replay(desk.history(ticket.id)[:2]) == assigned


def test_replay_orders_events_by_seq(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Invoice is wrong")
    desk.assign(ticket.id, "a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    history = desk.history(ticket.id)
    assert replay(list(reversed(history))) == desk.get_ticket(ticket.id)


def test_replay_keeps_instants_from_a_zoned_clock(open_desk: Callable[..., Any]) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with open_desk(clock) as desk:
        ticket = desk.intake(channel="phone", customer_id="c-key", body="网络断了")
        clock.advance(timedelta(minutes=30))
        desk.assign(ticket.id, "a-ann")
        rebuilt = replay(desk.history(ticket.id))
        assert rebuilt == desk.get_ticket(ticket.id)
        assert rebuilt.assigned_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


# -- replay refuses broken streams -----------------------------------------------------------


def _event(seq: int, type_: str, data: dict[str, object]) -> TicketEvent:
    return TicketEvent(
        id=f"t-1#{seq}", ticket_id="t-1", seq=seq, type=type_, at=AT, actor="system", data=data
    )


def test_replay_refuses_an_empty_stream() -> None:
    with pytest.raises(ValidationFailed) as caught:
        replay([])
    assert caught.value.field == "events"


def test_replay_refuses_a_stream_not_starting_with_created() -> None:
    events = [_event(1, "ticket.assigned", {"changes": {"status": "assigned"}})]
    with pytest.raises(ValidationFailed) as caught:
        replay(events)
    assert caught.value.field == "events"
    assert "ticket.assigned" in str(caught.value)


def test_replay_refuses_a_stream_whose_first_seq_is_not_created(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Invoice is wrong")
    desk.assign(ticket.id, "a-bob")
    with pytest.raises(ValidationFailed):
        replay(desk.history(ticket.id)[1:])


def test_replay_refuses_changes_that_make_an_invalid_ticket(desk: SupportDesk) -> None:
    ticket = desk.intake(channel="email", customer_id="c-reg", body="Invoice is wrong")
    created = desk.history(ticket.id)[0]
    broken = _event(2, "ticket.assigned", {"changes": {"status": "teleported"}})
    with pytest.raises(ValidationFailed) as caught:
        replay([created, broken])
    assert caught.value.field == "events.status"
