"""A lead's per-ticket SLA target override: recorded, stamped, and honoured by the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from desk_calls import POLICY
from supportflow import (
    Agent,
    AgentRole,
    PermissionDenied,
    SlaMetric,
    SupportDesk,
    TicketStatus,
    ValidationFailed,
)
from supportflow.testing import FixedClock

S = TicketStatus
MakeTicket = Callable[..., Any]


@pytest.fixture
def sla_desk(open_desk: Callable[..., Any], clock: FixedClock) -> Iterator[SupportDesk]:
    with open_desk(clock, sla_policy=POLICY) as desk:
        yield desk


def test_override_moves_the_due_time_in_one_event(
    sla_desk: SupportDesk, new_ticket: MakeTicket, clock: FixedClock
) -> None:
    ticket = new_ticket(sla_desk, S.IN_PROGRESS)
    updated = sla_desk.override_sla_target(
        ticket.id, "resolution", timedelta(hours=2), actor="a-lead", reason="promised by phone"
    )
    assert updated.resolution_due_at == clock.now() + timedelta(hours=2)
    event = sla_desk.history(ticket.id)[-1]
    assert (event.type, event.actor, event.seq) == (
        "sla.target_overridden",
        "a-lead",
        updated.version,
    )
    assert event.data["metric"] == "resolution"
    assert event.data["reason"] == "promised by phone"
    assert event.data["changes"]["resolution_due_at"] == updated.resolution_due_at.isoformat()
    assert sla_desk.sla(ticket.id)[SlaMetric.RESOLUTION].rule == "override"


def test_the_clock_breaches_at_the_overridden_target(
    sla_desk: SupportDesk, new_ticket: MakeTicket, clock: FixedClock
) -> None:
    ticket = new_ticket(sla_desk, S.IN_PROGRESS)
    sla_desk.override_sla_target(
        ticket.id, "resolution", timedelta(hours=1), actor="a-lead", reason="urgent fix"
    )
    clock.advance(timedelta(hours=1, minutes=1))
    report = sla_desk.run_due_jobs()
    breaches = [
        a for a in report.alerts if a.type == "sla.breached" and a.data["metric"] == "resolution"
    ]
    assert [(a.data["metric"], a.data["rule"]) for a in breaches] == [("resolution", "override")]


def test_removing_the_override_restores_the_policy_target(
    sla_desk: SupportDesk, new_ticket
) -> None:
    ticket = new_ticket(sla_desk, S.IN_PROGRESS)
    sla_desk.override_sla_target(
        ticket.id, "resolution", timedelta(hours=2), actor="a-lead", reason="promised"
    )
    restored = sla_desk.override_sla_target(
        ticket.id, "resolution", None, actor="a-lead", reason="back to normal"
    )
    assert restored.resolution_due_at == ticket.resolution_due_at
    assert sla_desk.history(ticket.id)[-1].data["target"] is None


def test_the_override_outlives_a_new_policy(sla_desk: SupportDesk, new_ticket: MakeTicket) -> None:
    ticket = new_ticket(sla_desk, S.IN_PROGRESS)
    overridden = sla_desk.override_sla_target(
        ticket.id, "resolution", timedelta(hours=2), actor="a-lead", reason="promised"
    )
    sla_desk.set_sla_policy(POLICY.model_copy(update={"name": "next"}))
    again = sla_desk.get_ticket(ticket.id)
    assert again.resolution_due_at == overridden.resolution_due_at


def test_a_senior_who_leads_nothing_is_refused_and_nothing_changes(
    sla_desk: SupportDesk, new_ticket: MakeTicket
) -> None:
    ticket = new_ticket(sla_desk, S.IN_PROGRESS)
    sla_desk.add_agent(Agent(id="a-ops", name="Ops", role=AgentRole.SENIOR))
    before = sla_desk.history(ticket.id)
    with pytest.raises(PermissionDenied):
        sla_desk.override_sla_target(
            ticket.id, "resolution", timedelta(hours=2), actor="a-ops", reason="x"
        )
    assert sla_desk.history(ticket.id) == before
    assert sla_desk.get_ticket(ticket.id) == ticket


def test_an_unknown_calendar_is_refused(sla_desk: SupportDesk, new_ticket: MakeTicket) -> None:
    ticket = new_ticket(sla_desk, S.IN_PROGRESS)
    with pytest.raises(ValidationFailed) as caught:
        sla_desk.override_sla_target(
            ticket.id,
            "resolution",
            timedelta(hours=2),
            actor="a-lead",
            reason="x",
            calendar="mars",
        )
    assert caught.value.field == "calendar"
