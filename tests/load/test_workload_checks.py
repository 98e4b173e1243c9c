"""The load tests' invariant checker finds what it must, and only that.

Each test builds a small store with a frozen clock (commit windows made up around each
event's ``at``), breaks one rule on purpose, and looks for it among the violations.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportflow import Agent, Customer, Message, SupportDesk, Team, TicketEvent
from supportflow.models import AuthorKind, Ticket
from supportflow.testing import FixedClock
from supportflow.testing.workload import Journal, StoreSpec, _ns, check_invariants

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def spec(tmp_path: Path) -> StoreSpec:
    return StoreSpec.sqlite(tmp_path / "check.db")


def _desk(spec: StoreSpec, clock: FixedClock) -> SupportDesk:
    desk = SupportDesk(spec.open(), clock=clock)
    desk.add_team(Team(id="t", name="T"))
    desk.add_agent(Agent(id="a", name="A", teams=("t",), capacity=1))
    desk.add_customer(Customer(id="c", name="C"))
    return desk


def _windows(desk: SupportDesk, ticket_ids: list[str], width: timedelta) -> Journal:
    """Commit windows ``[at, at + width]`` for every event of the tickets."""
    windows = {
        e.id: (_ns(e.at), _ns(e.at + width)) for tid in ticket_ids for e in desk.history(tid)
    }
    return Journal(windows=windows)


def _double_booked(spec: StoreSpec) -> tuple[SupportDesk, list[str]]:
    """Agent ``a`` (capacity 1) holds two tickets from 09:03 to 09:04: a reopen did it."""
    clock = FixedClock(START)
    desk = _desk(spec, clock)
    first = desk.intake(channel="chat", customer_id="c", body="one", team_id="t")
    desk.assign(first.id, "a")
    desk.acknowledge(first.id, agent_id="a")
    clock.advance(timedelta(minutes=1))
    desk.resolve(first.id, agent_id="a", resolution="done")
    clock.advance(timedelta(minutes=1))
    second = desk.intake(channel="chat", customer_id="c", body="two", team_id="t")
    desk.assign(second.id, "a")
    clock.advance(timedelta(minutes=1))
    desk.reopen(first.id, actor="a", reason="not fixed")
    clock.advance(timedelta(minutes=1))
    desk.resolve(first.id, agent_id="a", resolution="fixed now")
    return desk, [first.id, second.id]


def test_a_clean_store_has_no_violations(spec: StoreSpec) -> None:
    clock = FixedClock(START)
    desk = _desk(spec, clock)
    ticket = desk.intake(channel="email", customer_id="c", body="hi", external_id="m-1")
    desk.intake(channel="email", customer_id="c", body="hi", external_id="m-1")
    desk.assign(ticket.id, "a")
    journal = _windows(desk, [ticket.id], timedelta(milliseconds=1))
    journal = Journal(journal.windows, {"m-1": frozenset({ticket.id})})
    assert check_invariants(spec, journal) == []


def test_a_double_booking_in_the_past_is_found_from_the_events(spec: StoreSpec) -> None:
    desk, ids = _double_booked(spec)
    found = check_invariants(spec, _windows(desk, ids, timedelta(milliseconds=1)))
    assert len(found) == 1
    assert found[0].startswith("agent 'a' certainly held 2 open tickets at 2026-03-02T09:03")


def test_commit_windows_that_leave_the_order_open_raise_no_alarm(spec: StoreSpec) -> None:
    """Windows of 5 minutes: the reopen may have committed after the second resolve."""
    desk, ids = _double_booked(spec)
    assert check_invariants(spec, _windows(desk, ids, timedelta(minutes=5))) == []


def test_without_commit_windows_only_the_present_load_is_checked(spec: StoreSpec) -> None:
    desk, ids = _double_booked(spec)
    assert check_invariants(spec) == []
    desk.reopen(ids[0], actor="a", reason="still broken")
    assert check_invariants(spec) == ["agent 'a' holds 2 open tickets, capacity 1"]


def test_a_ticket_without_events_and_events_without_a_ticket(spec: StoreSpec) -> None:
    clock = FixedClock(START)
    desk = _desk(spec, clock)
    made = desk.intake(channel="chat", customer_id="c", body="one")
    lonely = made.model_copy(update={"id": "lonely"})
    event = desk.history(made.id)[0]
    orphan = TicketEvent.model_validate(
        event.model_dump() | {"id": "ghost#1", "ticket_id": "ghost"}
    )
    store = spec.open()
    with store.unit_of_work() as uow:
        uow.tickets.add(lonely)
        uow.events.append([orphan])
        uow.messages.add(
            Message(
                id="m-ghost",
                ticket_id="ghost",
                author_kind=AuthorKind.CUSTOMER,
                author_id="c",
                body="hello?",
                created_at=START,
            )
        )
        uow.commit()
    store.close()
    assert check_invariants(spec) == [
        "ticket without events: 'lonely'",
        "events without their ticket: 'ghost' (1 events)",
        "message without its ticket: 'm-ghost'",
    ]


def test_a_change_without_its_event_is_a_lost_update(spec: StoreSpec) -> None:
    clock = FixedClock(START)
    desk = _desk(spec, clock)
    made = desk.intake(channel="chat", customer_id="c", body="one")
    store = spec.open()
    with store.unit_of_work() as uow:
        changed: Ticket = made.model_copy(update={"subject": "changed", "version": 2})
        uow.tickets.update(changed)
        uow.commit()
    store.close()
    assert check_invariants(spec) == [
        f"ticket {made.id!r}: version 2 but 1 events",
        f"ticket {made.id!r}: stored state differs from replay in ['subject', 'version']",
    ]


def test_deliveries_that_returned_different_tickets_are_reported(spec: StoreSpec) -> None:
    clock = FixedClock(START)
    desk = _desk(spec, clock)
    ticket = desk.intake(channel="email", customer_id="c", body="hi", external_id="m-1")
    journal = Journal(deliveries={"m-1": frozenset({ticket.id, "other"}), "m-2": frozenset({"x"})})
    assert check_invariants(spec, journal) == [
        f"deliveries of 'm-1' returned different tickets: {sorted([ticket.id, 'other'])}",
        f"delivery 'm-1' returned {sorted([ticket.id, 'other'])}, stored {[ticket.id]}",
        "delivery 'm-2' returned ['x'], stored []",
    ]
