"""Work queues: agents pulling the next ticket, and the desk handing the queue out.

Both claim each queued ticket without waiting (``claim_waiting``), so workers that do it at
once take different tickets; the threaded tests run on every shipped store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow import (
    AgentNotFound,
    AssignmentFailed,
    ConcurrencyConflict,
    Priority,
    SupportDesk,
    TicketStatus,
    ValidationFailed,
)
from supportflow.retry import retry_on_conflict

OpenDesk = Callable[..., Any]


def _queue(desk: SupportDesk, *priorities: str, **intake: Any) -> list[str]:
    fields: dict[str, Any] = {"channel": "email", "customer_id": "c-reg"} | intake
    return [
        desk.intake(body=f"request {n}", priority=priority, **fields).id
        for n, priority in enumerate(priorities)
    ]


def test_take_next_gives_the_most_urgent_queued_ticket(desk: SupportDesk) -> None:
    low, urgent, normal = _queue(desk, "low", "urgent", "normal")
    taken = desk.take_next("a-bob")
    assert taken is not None
    assert taken.id == urgent
    assert taken.status is TicketStatus.ASSIGNED
    assert taken.assignee_id == "a-bob"
    assert [t.id for t in desk.queue()] == [normal, low]


def test_take_next_records_who_took_it_from_the_queue(desk: SupportDesk) -> None:
    (ticket_id,) = _queue(desk, "normal")
    desk.take_next("a-bob")
    event = desk.history(ticket_id)[-1]
    assert event.type == "ticket.assigned"
    assert event.actor == "a-bob"
    assert event.data["from_queue"] is True


def test_take_next_on_an_empty_queue_is_none(desk: SupportDesk) -> None:
    assert desk.take_next("a-bob") is None


def test_take_next_skips_tickets_the_routing_would_not_give_the_agent(
    desk: SupportDesk,
) -> None:
    """Sue is in the senior team only: a ticket for the support team is not hers to take."""
    _queue(desk, "normal", team_id="t-support")
    assert desk.take_next("a-sue") is None
    assert len(desk.queue()) == 1


def test_take_next_refuses_an_agent_at_capacity(desk: SupportDesk, snapshot: Any) -> None:
    _queue(desk, "normal", "normal", "normal")
    desk.take_next("a-ann")
    desk.take_next("a-ann")
    before = snapshot(desk)
    with pytest.raises(AssignmentFailed, match="capacity"):
        desk.take_next("a-ann")
    assert snapshot(desk) == before


def test_take_next_refuses_an_offline_agent(desk: SupportDesk, snapshot: Any) -> None:
    _queue(desk, "normal")
    before = snapshot(desk)
    with pytest.raises(AssignmentFailed, match="offline"):
        desk.take_next("a-oli")
    assert snapshot(desk) == before


@pytest.mark.parametrize(
    ("agent_id", "error"),
    [
        ("", ValidationFailed),
        (None, ValidationFailed),
        (7, ValidationFailed),
        ("a-x", AgentNotFound),
    ],
)
def test_take_next_bad_agent_is_refused_and_changes_nothing(
    desk: SupportDesk, snapshot: Any, agent_id: Any, error: type[Exception]
) -> None:
    _queue(desk, "normal")
    before = snapshot(desk)
    with pytest.raises(error):
        desk.take_next(agent_id)
    assert snapshot(desk) == before


def test_agents_pulling_from_threads_take_each_ticket_once(open_desk: OpenDesk) -> None:
    """Three agents pull from three threads at once until the queue is empty."""
    with open_desk() as desk:
        desk.set_agent_status("a-oli", "available")
        queued = set(_queue(desk, *["normal"] * 12))
        taken: dict[str, list[str]] = {"a-bob": [], "a-oli": [], "a-ann": []}
        failures: list[BaseException] = []

        def pull(agent_id: str) -> None:
            try:
                while True:
                    try:
                        ticket = retry_on_conflict(lambda: desk.take_next(agent_id), attempts=20)
                    except AssignmentFailed:
                        return  # at capacity
                    if ticket is None:
                        return
                    taken[agent_id].append(ticket.id)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        threads = [threading.Thread(target=pull, args=(agent,)) for agent in taken]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        everything = [t for ids in taken.values() for t in ids]
        assert sorted(everything) == sorted(queued)
        assert len(taken["a-ann"]) <= 2
        for agent_id, ids in taken.items():
            assert {t.id for t in desk.list_tickets(assignee_id=agent_id)} == set(ids)


def test_handing_out_the_queue_from_threads_assigns_each_ticket_once(
    open_desk: OpenDesk,
) -> None:
    """Several workers run the queue pass at once (as resolutions in many processes do)."""
    with open_desk(auto_assign=True) as desk:
        for agent_id in ("a-ann", "a-bob", "a-sue"):
            desk.set_agent_status(agent_id, "offline")
        queued = _queue(desk, *["normal"] * 10)
        assert len(desk.queue()) == 10
        desk.set_agent_status("a-oli", "available")
        failures: list[BaseException] = []

        def hand_out() -> None:
            try:
                desk.run_due_jobs()
            except ConcurrencyConflict:
                pass
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        threads = [threading.Thread(target=hand_out) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        for ticket_id in queued:
            assigned = [e for e in desk.history(ticket_id) if e.type == "ticket.assigned"]
            assert len(assigned) <= 1
        assert len(desk.list_tickets(assignee_id="a-oli")) == 10


@settings(max_examples=25, deadline=None)
@given(
    priorities=st.lists(st.sampled_from(list(Priority)), min_size=1, max_size=8),
    pulls=st.lists(st.sampled_from(["a-ann", "a-bob", "a-sue"]), max_size=12),
)
def test_every_pull_takes_the_first_fitting_ticket_in_queue_order(
    open_desk: OpenDesk, priorities: list[Priority], pulls: list[str]
) -> None:
    with open_desk() as desk:
        _queue(desk, *priorities, team_id="t-support")
        for agent_id in pulls:
            waiting = desk.queue()
            held = desk.list_tickets(assignee_id=agent_id)
            capacity = desk.get_agent(agent_id).capacity
            if len(held) >= capacity:
                with pytest.raises(AssignmentFailed):
                    desk.take_next(agent_id)
                continue
            taken = desk.take_next(agent_id)
            if agent_id == "a-sue":  # the senior team: no support ticket is hers
                assert taken is None
                continue
            if not waiting:
                assert taken is None
                continue
            assert taken is not None
            assert taken.id == waiting[0].id
            assert taken.assignee_id == agent_id
        for agent_id in ("a-ann", "a-bob", "a-sue"):
            agent = desk.get_agent(agent_id)
            assert len(desk.list_tickets(assignee_id=agent_id)) <= agent.capacity
