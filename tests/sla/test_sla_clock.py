"""SlaClock: incremental equals replay, pauses never bring a due time forward, bad streams.

Histories come from a real desk driven through random operations (hypothesis), so every
stream is one the desk can actually write. The calendar is UTC, Monday to Friday
09:00-12:00 and 13:00-18:00.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow import (
    MemoryStore,
    SlaMetric,
    SlaPolicy,
    SupportDesk,
    SupportflowError,
    TicketEvent,
    ValidationFailed,
)
from supportflow.models import event_id
from supportflow.sla import AlertKind, ClockStatus, MetricSettings, SlaClock
from supportflow.testing import FixedClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
POLICY = SlaPolicy.from_dict(
    {
        "calendars": {
            "business": {
                "weekly": {day: ["09:00-12:00", "13:00-18:00"] for day in WEEKDAYS},
            }
        },
        "rules": [
            {"name": "urgent", "when": {"priority": "urgent"},
             "targets": {"first_response": {"within": "30m", "calendar": "24x7"}}},
            {"name": "all", "targets": {"first_response": "2h", "acknowledgement": "30m",
                                        "next_response": "1h", "resolution": "16h"}},
        ],
        "metrics": {
            "first_response": {"pause_in": ["on_hold"]},
            "next_response": {"pause_in": ["on_hold"]},
            "acknowledgement": {"pause_in": ["waiting_on_customer"]},
            "resolution": {"pause_in": ["waiting_on_customer", "on_hold"]},
        },
    }
)  # fmt: skip
NO_PAUSES = POLICY.model_copy(
    update={"metrics": {m: MetricSettings(pause_in=()) for m in SlaMetric}}
)

_OPERATIONS = [
    "assign",
    "acknowledge",
    "reply",
    "request_info",
    "customer_replied",
    "hold",
    "release",
    "resolve",
    "reopen",
    "escalate",
    "note",
]


def _operate(desk: SupportDesk, ticket_id: str, operation: str) -> None:
    ticket = desk.get_ticket(ticket_id)
    calls: dict[str, Callable[[], object]] = {
        "assign": lambda: desk.assign(ticket_id, "a-2" if ticket.assignee_id == "a-1" else "a-1"),
        "acknowledge": lambda: desk.acknowledge(ticket_id, agent_id=str(ticket.assignee_id)),
        "reply": lambda: desk.reply(ticket_id, agent_id="a-1", body="ok"),
        "note": lambda: desk.reply(ticket_id, agent_id="a-1", body="note", internal=True),
        "request_info": lambda: desk.request_info(ticket_id, agent_id="a-1", body="?"),
        "customer_replied": lambda: desk.customer_replied(ticket_id, body="more"),
        "hold": lambda: desk.hold(ticket_id, agent_id="a-1", reason="part"),
        "release": lambda: desk.release(ticket_id, agent_id="a-1"),
        "resolve": lambda: desk.resolve(ticket_id, agent_id="a-1", resolution="done"),
        "reopen": lambda: desk.reopen(ticket_id, actor="c-1", reason="again"),
        "escalate": lambda: desk.escalate(ticket_id, actor="a-1", reason="stuck"),
    }
    with contextlib.suppress(SupportflowError):  # not allowed now: the walk goes on
        calls[operation]()


@st.composite
def desk_histories(draw: st.DrawFn) -> list[TicketEvent]:
    """The event stream of one ticket worked through random operations at random times."""
    clock = FixedClock(START + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60))))
    desk = SupportDesk(MemoryStore(), clock=clock)
    desk.add_customer({"id": "c-1", "name": "One"})
    desk.add_agent({"id": "a-1", "name": "A"})
    desk.add_agent({"id": "a-2", "name": "B"})
    priority = draw(st.sampled_from(["normal", "urgent"]))
    ticket = desk.intake(channel="email", customer_id="c-1", body="Hi", priority=priority)
    for _ in range(draw(st.integers(0, 20))):
        clock.advance(timedelta(minutes=draw(st.integers(0, 36 * 60))))
        _operate(desk, ticket.id, draw(st.sampled_from(_OPERATIONS)))
    return desk.history(ticket.id)


def _moments(history: list[TicketEvent], extra: int) -> list[datetime]:
    """Instants from the last event on, where the clock's state is the present."""
    last = history[-1].at
    return [last + timedelta(hours=h, minutes=17 * h) for h in range(0, extra, 7)]


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(history=desk_histories())
def test_applying_events_one_by_one_equals_replaying_the_prefix(
    history: list[TicketEvent],
) -> None:
    incremental = SlaClock(POLICY)
    for i, event in enumerate(history, start=1):
        incremental.apply(event)
        replayed = SlaClock.replay(POLICY, history[:i])
        assert incremental.state(event.at) == replayed.state(event.at)
        assert incremental.alerts() == replayed.alerts()
    later = history[-1].at + timedelta(days=3)
    assert incremental.state(later) == SlaClock.replay(POLICY, history).state(later)


@SETTINGS
@given(history=desk_histories())
def test_pausing_never_makes_a_due_time_earlier(history: list[TicketEvent]) -> None:
    paused = SlaClock.replay(POLICY, history)
    running = SlaClock.replay(NO_PAUSES, history)
    for now in _moments(history, 60):
        with_pauses, without = paused.state(now), running.state(now)
        for metric, clock in with_pauses.clocks.items():
            other = without[metric]
            assert clock.consumed <= other.consumed
            if clock.due_at is not None and other.due_at is not None:
                assert clock.due_at >= other.due_at
            if other.breached_at is None:
                assert clock.breached_at is None
            elif clock.breached_at is not None:
                assert clock.breached_at >= other.breached_at


@SETTINGS
@given(history=desk_histories())
def test_the_clock_does_not_run_while_paused_and_never_runs_backwards(
    history: list[TicketEvent],
) -> None:
    clock = SlaClock.replay(POLICY, history)
    moments = _moments(history, 80)
    for metric in SlaMetric:
        seen = [clock.state(now).clocks.get(metric) for now in moments]
        consumed = [c.consumed for c in seen if c is not None]
        assert consumed == sorted(consumed)
        for snapshot in seen:
            if snapshot is None:
                continue
            assert snapshot.remaining == snapshot.target.within - snapshot.consumed
            for start, end in snapshot.paused:
                later = end if end is not None else start + timedelta(days=5)
                before, after = clock.state(start)[metric], clock.state(later)[metric]
                if before.cycle == after.cycle == snapshot.cycle:
                    assert before.consumed == after.consumed


@SETTINGS
@given(history=desk_histories())
def test_status_agrees_with_the_figures(history: list[TicketEvent]) -> None:
    clock = SlaClock.replay(POLICY, history)
    for now in _moments(history, 40):
        for snapshot in clock.state(now):
            if snapshot.status is ClockStatus.BREACHED:
                assert snapshot.breached_at is not None
                assert snapshot.breached_at < (snapshot.stopped_at or now)
            else:
                assert snapshot.breached_at is None
            if snapshot.status is ClockStatus.RUNNING:
                assert snapshot.due_at is not None
                assert snapshot.due_at >= now
            if snapshot.status is ClockStatus.PAUSED:
                assert snapshot.due_at is None
                assert snapshot.paused
                assert snapshot.paused[-1][1] is None
            if snapshot.status is ClockStatus.MET:
                assert snapshot.stopped_at is not None
                # A cycle paused when it stopped had no due time then.
                if snapshot.due_at is not None:
                    assert snapshot.stopped_at <= snapshot.due_at


@SETTINGS
@given(history=desk_histories())
def test_alerts_come_in_order_and_stop_once_recorded(history: list[TicketEvent]) -> None:
    clock = SlaClock.replay(POLICY, history)
    alerts = clock.alerts()
    assert [a.at for a in alerts] == sorted(a.at for a in alerts)
    for alert in alerts:
        if alert.due_at is None:
            continue
        if alert.kind is AlertKind.WARNING:
            assert alert.at <= alert.due_at
        elif alert.kind is AlertKind.BREACHED:
            assert alert.at == alert.due_at
        else:
            assert alert.at >= alert.due_at
    now = history[-1].at + timedelta(days=30)
    seq = history[-1].seq
    for alert in clock.pending_alerts(now):
        seq += 1
        clock.apply(
            TicketEvent(
                id=event_id(history[0].ticket_id, seq),
                ticket_id=history[0].ticket_id,
                seq=seq,
                type=f"sla.{alert.kind}",
                at=now,
                actor="system",
                data=alert.event_data(),
            )
        )
    assert clock.pending_alerts(now) == ()


def test_urgent_first_response_runs_around_the_clock_on_a_saturday() -> None:
    desk = SupportDesk(MemoryStore(), clock=FixedClock(datetime(2026, 3, 7, 23, 50, tzinfo=UTC)))
    desk.add_customer({"id": "c-1", "name": "One"})
    ticket = desk.intake(channel="phone", customer_id="c-1", body="Down", priority="urgent")
    clock = SlaClock.replay(POLICY, desk.history(ticket.id))
    assert clock.due_at(SlaMetric.FIRST_RESPONSE) == datetime(2026, 3, 8, 0, 20, tzinfo=UTC)
    # Resolution stays on business hours: 16 h from Monday 09:00 is Tuesday 18:00.
    assert clock.due_at(SlaMetric.RESOLUTION) == datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


def test_copy_is_independent() -> None:
    desk = SupportDesk(MemoryStore(), clock=FixedClock(START))
    desk.add_customer({"id": "c-1", "name": "One"})
    desk.add_agent({"id": "a-1", "name": "A"})
    ticket = desk.intake(channel="email", customer_id="c-1", body="Hi")
    desk.assign(ticket.id, "a-1")
    first, second = desk.history(ticket.id)
    clock = SlaClock(POLICY)
    clock.apply(first)
    twin = clock.copy()
    twin.apply(second)
    assert clock.seq == 1
    assert twin.seq == 2
    assert SlaMetric.ACKNOWLEDGEMENT not in clock.state(START).clocks
    assert SlaMetric.ACKNOWLEDGEMENT in twin.state(START).clocks


def _stream() -> list[TicketEvent]:
    desk = SupportDesk(MemoryStore(), clock=FixedClock(START))
    desk.add_customer({"id": "c-1", "name": "One"})
    desk.add_agent({"id": "a-1", "name": "A"})
    ticket = desk.intake(channel="email", customer_id="c-1", body="Hi")
    desk.assign(ticket.id, "a-1")
    desk.intake(channel="email", customer_id="c-1", body="Other")
    return desk.history(ticket.id)


@pytest.mark.parametrize(
    ("events", "field"),
    [
        (lambda s: [s[1]], "event.seq"),
        (lambda s: [s[0], s[0]], "event.seq"),
        (lambda s: [s[0], s[1].model_copy(update={"seq": 3})], "event.seq"),
        (
            lambda s: [s[0], s[1].model_copy(update={"ticket_id": "other", "id": "other#2"})],
            "event.ticket_id",
        ),
        (lambda s: [s[0].model_copy(update={"type": "ticket.assigned"})], "event.type"),
        (lambda s: [s[0].model_copy(update={"data": {}})], "event.data.ticket"),
        (lambda s: ["ticket.created"], "event"),
    ],
    ids=["starts-late", "repeats", "skips", "other-ticket", "no-created", "no-ticket", "not-event"],
)
def test_a_broken_stream_is_refused_naming_the_field(events: Any, field: str) -> None:
    clock = SlaClock(POLICY)
    *fine, broken = events(_stream())
    for event in fine:
        clock.apply(event)
    with pytest.raises(ValidationFailed) as caught:
        clock.apply(broken)
    assert caught.value.field == field


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        SlaClock({"rules": []})  # type: ignore[arg-type]
    assert caught.value.field == "policy"
    with pytest.raises(ValidationFailed) as caught:
        SlaClock(POLICY).state(datetime(2026, 3, 2, 9, 0))
    assert caught.value.field == "now"
    with pytest.raises(ValidationFailed) as caught:
        SlaClock(POLICY, tier="gold")  # type: ignore[arg-type]
    assert caught.value.field == "tier"


def _hand_written(
    created_at: datetime, *later: tuple[str, datetime, dict[str, Any]]
) -> list[TicketEvent]:
    """A desk's ``ticket.created`` moved to ``created_at``, then the ``later`` events."""
    desk = SupportDesk(MemoryStore(), clock=FixedClock(created_at))
    desk.add_customer({"id": "c-1", "name": "One"})
    created = desk.history(desk.intake(channel="email", customer_id="c-1", body="Hi").id)[0]
    events = [created]
    for seq, (kind, at, changes) in enumerate(later, start=2):
        events.append(
            TicketEvent(
                id=event_id(created.ticket_id, seq),
                ticket_id=created.ticket_id,
                seq=seq,
                type=kind,
                at=at,
                actor="a-1",
                data={"changes": changes},
            )
        )
    return events


def _one_rule(metric: str, pause_in: str) -> SlaPolicy:
    return SlaPolicy.from_dict(
        {
            "rules": [{"name": "all", "targets": {metric: {"within": "1h", "calendar": "24x7"}}}],
            "metrics": {metric: {"pause_in": [pause_in]}},
        }
    )


def test_a_repeated_dst_hour_is_measured_in_instants_not_wall_clock() -> None:
    """Regression: 02:50 then 02:10 (fold=1) in Berlin on 2025-10-26 is 20 minutes later."""
    berlin = ZoneInfo("Europe/Berlin")
    created = datetime(2025, 10, 26, 2, 50, tzinfo=berlin)
    assigned = datetime(2025, 10, 26, 2, 10, fold=1, tzinfo=berlin)
    events = _hand_written(
        created,
        ("ticket.assigned", assigned, {"status": "assigned", "assigned_at": assigned.isoformat()}),
    )
    clock = SlaClock.replay(_one_rule("resolution", "assigned"), events)
    resolution = clock.state(datetime(2025, 10, 26, 12, tzinfo=UTC))[SlaMetric.RESOLUTION]
    assert resolution.consumed == timedelta(minutes=20)


def test_a_cycle_paused_when_it_stopped_has_no_due_time() -> None:
    """Regression: met while paused must not report a due time before its stop."""
    nine, half_past_ten = START, START + timedelta(minutes=90)
    events = _hand_written(
        nine,
        ("ticket.assigned", nine, {"status": "assigned", "assigned_at": nine.isoformat()}),
        ("ticket.acknowledged", nine, {"status": "in_progress"}),
        ("ticket.held", nine, {"status": "on_hold"}),
        ("ticket.replied", half_past_ten, {}),
    )
    clock = SlaClock.replay(_one_rule("first_response", "on_hold"), events)
    first = clock.state(half_past_ten)[SlaMetric.FIRST_RESPONSE]
    assert first.status is ClockStatus.MET
    assert first.consumed == timedelta(0)
    assert first.due_at is None
    assert first.stopped_at == half_past_ten
