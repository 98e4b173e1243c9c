"""compute_metrics: figures from a real desk's event log, checked by hand, and its properties.

The hand-worked day (UTC, Monday 2026-03-02, period 09:00-15:00):

- T1 09:00 email, bob: reply 10:00, resolve 11:00, close 12:00 (first contact resolution).
- T2 10:00 chat, ann: reply 10:30, escalate 10:45, ask for info 11:00, customer 12:00,
  resolve 13:00.
- T3 11:00 email complaint, bob: reply 11:30, resolve 12:00, reopen 12:30, resolve 14:00.
- T4 12:00 web form, never assigned.
- Survey answers: T1 CSAT 5 / NPS 10 at 12:30 (after it closed), T3's second resolution
  CSAT 2 / NPS 3 at 14:00, T2 CSAT 4 at 16:00 (after the period).

Stages, from creation to the final resolution (seconds):

====  ==========  ===============  ===========  ========  ========
      assignment  acknowledgement  first reply  customer  handling
====  ==========  ===============  ===========  ========  ========
T1    1800        0                1800         0         3600
T2    0           0                1800         3600      5400
T3    0           0                1800         0         7200 (+1800 resolved)
====  ==========  ===============  ===========  ========  ========
"""

from __future__ import annotations

import heapq
import itertools
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow import MemoryStore, SlaPolicy, SupportDesk, Ticket, TicketEvent, ValidationFailed
from supportflow.analytics import NONE, MetricsReport, compute_metrics
from supportflow.analytics.quantiles import Durations
from supportflow.feedback import Tally
from supportflow.models import ComplaintCategory, CustomerTier
from supportflow.routing.protocols import Classification
from supportflow.sla.calendar import BusinessCalendar
from supportflow.testing import FixedClock

DAY = datetime(2026, 3, 2, tzinfo=UTC)
START = DAY + timedelta(hours=9)
END = DAY + timedelta(hours=15)
CALENDAR = BusinessCalendar.from_dict(
    {
        "timezone": "UTC",
        "weekly": {d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
)


def h(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


class ComplaintWords:
    """Marks a ticket whose body says "complaint" as a product-quality complaint."""

    def classify(self, ticket: Ticket) -> Classification:
        if "complaint" in ticket.body:
            return Classification(complaint_category=ComplaintCategory.PRODUCT_QUALITY)
        return Classification()


def all_events(store: MemoryStore, desk: SupportDesk) -> list[TicketEvent]:
    with store.unit_of_work(desk.tenant_id) as uow:
        return list(uow.events.between(DAY - timedelta(days=30), DAY + timedelta(days=30)))


@pytest.fixture
def day(populate: Any) -> Iterator[tuple[list[TicketEvent], dict[str, str]]]:
    """The hand-worked day's events, and the ticket ids by name."""
    store = MemoryStore()
    clock = FixedClock(START)
    desk = SupportDesk(store, clock=clock, classifier=ComplaintWords())
    populate(desk)
    ids: dict[str, str] = {}

    def at(hour: float) -> None:
        clock.set(h(hour))

    def new(name: str, channel: str, customer: str, body: str = "It is broken") -> None:
        ids[name] = desk.intake(channel=channel, customer_id=customer, body=body).id

    at(9)
    new("T1", "email", "c-reg")
    at(9.5)
    desk.assign(ids["T1"], "a-bob")
    desk.acknowledge(ids["T1"], agent_id="a-bob")
    at(10)
    desk.reply(ids["T1"], agent_id="a-bob", body="Try this")
    new("T2", "chat", "c-vip")
    desk.assign(ids["T2"], "a-ann")
    desk.acknowledge(ids["T2"], agent_id="a-ann")
    at(10.5)
    desk.reply(ids["T2"], agent_id="a-ann", body="Looking")
    desk.reply(ids["T2"], agent_id="a-ann", body="internal", internal=True)
    at(10.75)
    desk.escalate(ids["T2"], actor="a-ann", reason="hard")
    at(11)
    desk.resolve(ids["T1"], agent_id="a-bob", resolution="done")
    desk.request_info(ids["T2"], agent_id="a-ann", body="Which model?")
    new("T3", "email", "c-reg", body="A complaint: it broke")
    desk.assign(ids["T3"], "a-bob")
    desk.acknowledge(ids["T3"], agent_id="a-bob")
    at(11.5)
    desk.reply(ids["T3"], agent_id="a-bob", body="Sorry")
    at(12)
    desk.close(ids["T1"], actor="a-bob")
    desk.customer_replied(ids["T2"], body="Model X")
    desk.resolve(ids["T3"], agent_id="a-bob", resolution="replaced")
    new("T4", "web_form", "c-pro")
    at(12.5)
    desk.reopen(ids["T3"], actor="a-bob", reason="still broken")
    desk.submit_feedback(f"{ids['T1']}/survey/1", csat=5, nps=10)  # T1 is closed by now
    at(13)
    desk.resolve(ids["T2"], agent_id="a-ann", resolution="fixed")
    at(14)
    desk.resolve(ids["T3"], agent_id="a-bob", resolution="replaced again")
    desk.submit_feedback(f"{ids['T3']}/survey/2", csat=2, nps=3)
    at(16)
    desk.submit_feedback(f"{ids['T2']}/survey/1", csat=4)  # after the period
    desk.assign(ids["T4"], "a-bob")
    desk.acknowledge(ids["T4"], agent_id="a-bob")
    desk.reply(ids["T4"], agent_id="a-bob", body="after the period")
    yield all_events(store, desk), ids
    store.close()


def report_of(events: list[TicketEvent], **kwargs: Any) -> MetricsReport:
    return compute_metrics(events, start=START, end=END, **kwargs)


def test_volume_and_durations_match_the_hand_worked_day(day: Any) -> None:
    report = report_of(day[0])
    total = report.total
    assert total.volume == 4
    assert total.first_response.count == 3
    assert total.first_response.median == 1800
    assert total.first_response.p90 == pytest.approx(1800 + 0.8 * 1800)
    assert total.resolution.count == 3  # T3 counts once, at its final resolution
    assert total.resolution.median == 10800
    assert total.resolution.min == 7200
    assert total.first_response_business is None


def test_business_time_skips_closed_hours(day: Any) -> None:
    total = report_of(day[0], calendar=CALENDAR).total
    assert total.resolution_business is not None
    assert total.resolution_business.median == 7200  # every resolution spans lunch or not
    assert total.resolution_business.max == 7200
    assert total.first_response_business is not None
    assert total.first_response_business.max == 3600


def test_rates_over_tickets_resolved_in_the_period(day: Any) -> None:
    total = report_of(day[0]).total
    assert total.resolved == 3
    assert total.reopen_rate == pytest.approx(1 / 3)
    assert total.escalation_rate == pytest.approx(1 / 3)
    assert total.first_contact_resolution_rate == pytest.approx(1 / 3)


def test_complaints_by_category(day: Any) -> None:
    total = report_of(day[0]).total
    assert dict(total.complaints) == {"product_quality": 1}
    assert total.complaint_rate["product_quality"] == pytest.approx(0.25)


def test_stages_split_the_time_to_resolution(day: Any) -> None:
    total = report_of(day[0]).total
    seconds = {name: stage.seconds for name, stage in total.stages.items()}
    assert seconds == {
        "assignment": 1800,
        "acknowledgement": 0,
        "first_reply": 5400,
        "customer": 3600,
        "on_hold": 0,
        "handling": 16200,
    }
    assert total.stages["first_reply"].tickets == 3
    assert total.stages["customer"].mean == 3600
    assert total.stages["acknowledgement"].mean is None
    assert total.bottleneck == "handling"
    ann = report_of(day[0]).groups["agent"]["a-ann"]
    assert ann.stages["customer"].seconds == 3600


def test_resolution_goal_counts_resolutions_within_it(day: Any) -> None:
    assert report_of(day[0]).total.resolution_goal_rate == 1.0
    tight = report_of(day[0], resolution_goal=timedelta(hours=2.5)).total
    assert tight.resolved_within_goal == 1  # only T1, in 2 h
    assert tight.resolution_goal_rate == pytest.approx(1 / 3)


def test_csat_and_nps_from_answers_in_the_period(day: Any) -> None:
    report = report_of(day[0])
    total = report.total
    assert (total.feedback.csat_n, total.feedback.satisfied) == (2, 1)
    assert total.csat.value == 50.0
    assert (total.feedback.promoters, total.feedback.detractors) == (1, 1)
    assert total.nps.value == 0.0
    bob = report.groups["agent"]["a-bob"]
    assert bob.feedback.csat_n == 2  # T1's answer came after it closed: grouped all the same
    assert report.groups["channel"]["email"].csat.value == 50.0
    assert report.groups["agent"]["a-ann"].feedback.csat_n == 0


def test_backlog_counts_open_tickets_at_each_hour(day: Any) -> None:
    backlog = report_of(day[0]).backlog
    assert backlog == ((h(9), 0), (h(10), 1), (h(11), 2), (h(12), 2), (h(13), 3), (h(14), 2))


def test_agent_group_is_the_assignee_at_resolution(day: Any) -> None:
    report = report_of(day[0])
    agents = report.groups["agent"]
    assert agents["a-bob"].volume == 2
    assert agents["a-ann"].volume == 1
    assert agents[NONE].volume == 1
    assert agents["a-ann"].escalation_rate == 1.0


def test_tier_group_from_the_tiers_mapping(day: Any) -> None:
    tiers = {"c-reg": CustomerTier.REGULAR, "c-vip": "vip"}
    by_tier = report_of(day[0], tiers=tiers).groups["tier"]
    # c-pro is not in the mapping: its tier is the one the desk recorded at intake.
    assert {k: g.volume for k, g in by_tier.items()} == {"regular": 2, "vip": 1, "prospect": 1}


def test_events_after_the_period_are_ignored(day: Any) -> None:
    report = report_of(day[0])
    assert report.total.first_response.count == 3  # T4's reply at 16:00 is outside


def test_tickets_created_before_the_stream_are_untracked(day: Any) -> None:
    events = [e for e in day[0] if e.at >= h(11)]
    report = report_of(events)
    assert report.untracked_events > 0
    assert report.total.volume == 2


def test_as_data_is_json_ready(day: Any) -> None:
    data = report_of(day[0], calendar=CALENDAR).as_data()
    text = json.dumps(data)
    assert json.loads(text)["total"]["volume"] == 4
    assert data["backlog"][0] == [h(9).isoformat(), 0]


def test_sla_attainment_from_breaches(populate: Any) -> None:
    policy = SlaPolicy.from_dict(
        {
            "name": "t",
            "rules": [
                {
                    "name": "all",
                    "targets": {"first_response": {"within": "30m", "calendar": "24x7"}},
                }
            ],
        }
    )
    store = MemoryStore()
    clock = FixedClock(START)
    desk = SupportDesk(store, clock=clock, sla_policy=policy)
    populate(desk)
    fast = desk.intake(channel="email", customer_id="c-reg", body="a").id
    slow = desk.intake(channel="email", customer_id="c-reg", body="b").id
    for ticket_id in (fast, slow):
        desk.assign(ticket_id, "a-bob")
        desk.acknowledge(ticket_id, agent_id="a-bob")
    clock.set(h(9.2))
    desk.reply(fast, agent_id="a-bob", body="hi")
    clock.set(h(9.7))
    desk.run_due_jobs()
    desk.reply(slow, agent_id="a-bob", body="hi")
    report = report_of(all_events(store, desk))
    first = report.total.sla["first_response"]
    assert (first.committed, first.breached, first.rate) == (2, 1, 0.5)
    assert report.total.sla["resolution"].rate is None
    store.close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": datetime(2026, 3, 2), "end": END}, "start"),
        ({"start": START, "end": datetime(2026, 3, 3)}, "end"),
        ({"start": START, "end": START}, "end"),
        ({"start": START, "end": END, "group_by": ("team", "shoe")}, "group_by"),
        ({"start": START, "end": END, "group_by": "team"}, "group_by"),
        ({"start": START, "end": END, "tiers": {"c-reg": "gold"}}, "tiers.c-reg"),
        ({"start": START, "end": END, "calendar": "24x7"}, "calendar"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        compute_metrics([], **kwargs)
    assert raised.value.field == field


def test_events_out_of_order_are_refused(day: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        report_of([e for e in reversed(day[0]) if e.at < END])
    assert raised.value.field == "events"


# -- synthetic streams -----------------------------------------------------------------


def synthetic(
    tickets: int,
    *,
    close: bool = True,
    teams: tuple[str, ...] = ("t1", "t2", "t3"),
    delays: tuple[int, ...] = (600, 3600, 120),
) -> Iterator[TicketEvent]:
    """A time-ordered stream: a ticket every 30 s is created, replied to, resolved, closed.

    Ticket ``n`` (with ``d = delays[n % len(delays)]`` seconds) is assigned after d/3,
    acknowledged after d/2, replied to after d, resolved after 2d, answers its survey
    (CSAT ``1 + n % 5``, NPS ``n % 11``) after 2.5d and (with ``close``) is closed after 3d.
    """
    pending: list[tuple[datetime, str, int, str, dict[str, Any]]] = []
    for n in range(tickets):
        created = START + timedelta(seconds=30 * n)
        while pending and pending[0][0] < created:
            yield _event(*heapq.heappop(pending))
        tid = f"s{n:08d}"
        delay = timedelta(seconds=delays[n % len(delays)])
        ticket = {"customer_id": "c", "channel": "email", "team_id": teams[n % len(teams)]}
        yield _event(created, tid, 1, "ticket.created", {"ticket": ticket})
        later: list[tuple[timedelta, str, dict[str, Any]]] = [
            (delay / 3, "ticket.assigned", {"changes": {"status": "assigned"}}),
            (delay / 2, "ticket.acknowledged", {"changes": {"status": "in_progress"}}),
            (delay, "ticket.replied", {"changes": {"first_response_at": "x"}}),
            (2 * delay, "ticket.resolved", {"changes": {"status": "resolved", "resolved_at": "x"}}),
            (2.5 * delay, "feedback.survey_answered", _answer(n, ticket["team_id"])),
        ]
        if close:
            later.append((3 * delay, "ticket.closed", {"changes": {"status": "closed"}}))
        for seq, (after, kind, data) in enumerate(later, start=2):
            heapq.heappush(pending, (created + after, tid, seq, kind, data))
    while pending:
        yield _event(*heapq.heappop(pending))


def _answer(n: int, team: str) -> dict[str, Any]:
    return {"response": {"csat": 1 + n % 5, "nps": n % 11}, "context": {"team_id": team}}


def _event(at: datetime, tid: str, seq: int, kind: str, data: dict[str, Any]) -> TicketEvent:
    return TicketEvent.model_construct(
        id=f"{tid}#{seq}", ticket_id=tid, seq=seq, type=kind, at=at, actor="x", data=data
    )


def peak_bytes(tickets: int, *, close: bool = True) -> int:
    end = START + timedelta(days=30)
    tracemalloc.start()
    try:
        compute_metrics(synthetic(tickets, close=close), start=START, end=end, group_by=())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_when_tickets_close() -> None:
    """Twice the events of closed tickets cost only the 8-byte duration values more."""
    small, large = peak_bytes(5_000), peak_bytes(10_000)
    kept = peak_bytes(10_000, close=False)
    growth = large - small
    assert growth < 5_000 * 96  # two 8-byte durations, plus array over-allocation and copy
    assert kept - large > 5 * growth  # keeping every ticket's state would cost far more


def test_synthetic_figures() -> None:
    report = compute_metrics(synthetic(300), start=START, end=START + timedelta(days=1))
    total = report.total
    assert total.volume == 300
    assert total.first_response.median == 600
    assert total.resolution.max == 7200
    assert total.resolved == 300
    assert total.first_contact_resolution_rate == 1.0
    assert sum(g.volume for g in report.groups["team"].values()) == 300


# -- properties ------------------------------------------------------------------------


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    tickets=st.integers(0, 40),
    delays=st.lists(st.integers(1, 3_000).map(lambda x: 6 * x), min_size=1, max_size=5).map(tuple),
    teams=st.lists(st.sampled_from(["t1", "t2", "t3", "t4"]), min_size=1, max_size=4).map(tuple),
    close=st.booleans(),
    hours=st.integers(1, 30),
)
def test_figures_are_bounded_and_groups_sum_to_the_total(
    tickets: int,
    delays: tuple[int, ...],
    teams: tuple[str, ...],
    close: bool,
    hours: int,
) -> None:
    end = START + timedelta(hours=hours)
    report = compute_metrics(
        synthetic(tickets, close=close, teams=teams, delays=delays), start=START, end=end
    )
    metrics = [report.total, *(g for by in report.groups.values() for g in by.values())]
    for g in metrics:
        for stats in (g.first_response, g.resolution):
            if stats.count:
                assert stats.min is not None
                assert stats.max is not None
                assert stats.median is not None
                assert stats.p90 is not None
                assert stats.min <= stats.median <= stats.p90 <= stats.max
        for rate in (g.reopen_rate, g.escalation_rate, g.first_contact_resolution_rate):
            assert rate is None or 0 <= rate <= 1
        for attainment in g.sla.values():
            assert attainment.rate is None or 0 <= attainment.rate <= 1
        for score, lowest in ((g.csat, 0), (g.nps, -100)):
            if score.n:
                assert score.low is not None
                assert score.value is not None
                assert score.high is not None
                assert lowest <= score.low <= score.value <= score.high <= 100
            else:
                assert score.value is None
        assert g.resolution_goal_rate is None or 0 <= g.resolution_goal_rate <= 1
    for by_value in report.groups.values():
        assert sum(g.volume for g in by_value.values()) == report.total.volume
        assert sum(g.resolved for g in by_value.values()) == report.total.resolved
        assert (
            sum(g.first_response.count for g in by_value.values())
            == report.total.first_response.count
        )
        assert sum((g.feedback for g in by_value.values()), Tally()) == report.total.feedback
        for name, stage in report.total.stages.items():
            parts = [g.stages[name] for g in by_value.values()]
            assert sum(p.tickets for p in parts) == stage.tickets
            assert sum(p.seconds for p in parts) == pytest.approx(stage.seconds)
    # Stages split each counted ticket's time to resolution (2d): d/3, d/6, d/2, then d.
    counted = [
        2 * delays[n % len(delays)]
        for n in range(tickets)
        if 30 * n + 2 * delays[n % len(delays)] < hours * 3600
    ]
    stages = report.total.stages
    assert sum(s.seconds for s in stages.values()) == pytest.approx(sum(counted))
    assert stages["handling"].seconds == pytest.approx(sum(counted) / 2)
    assert stages["assignment"].tickets == len(counted)
    assert len(report.backlog) == hours
    assert all(count >= 0 for _, count in report.backlog)


def test_backlog_hours_are_whole_hours_across_a_change_of_clocks() -> None:
    """Berlin skips 02:00-03:00 on 2026-03-29: the backlog still has one point an hour."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 29, 0, tzinfo=berlin)
    end = datetime(2026, 3, 29, 6, tzinfo=berlin)
    created = TicketEvent.model_construct(
        id="t#1",
        ticket_id="t",
        seq=1,
        type="ticket.created",
        at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 in Berlin
        actor="x",
        data={"ticket": {"status": "new"}},
    )
    backlog = compute_metrics([created], start=start, end=end).backlog
    assert len(backlog) == 5  # six wall-clock hours, one of them skipped
    utc = [hour.astimezone(UTC) for hour, _ in backlog]
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(utc))
    assert [count for _, count in backlog] == [0, 0, 1, 1, 1]  # open from 01:30 (00:30 UTC)
    assert all(hour.tzinfo is berlin for hour, _ in backlog)


def test_large_groups_quantiles_come_from_their_cells_sketches() -> None:
    """Past 2,048 values a group's quantiles merge its cells' sketches: as if appended."""
    tickets = 6000
    report = compute_metrics(
        synthetic(tickets, teams=("t1", "t2"), delays=(600, 3600, 120, 4000, 50)),
        start=START,
        end=START + timedelta(days=30),
    )
    expected = Durations()
    for n in range(tickets):
        expected.append(2 * (600, 3600, 120, 4000, 50)[n % 5])
    total = report.total.resolution
    assert total.count == tickets
    assert not expected.exact
    assert (total.median, total.p90) == (expected.quantile(0.5), expected.quantile(0.9))
    assert (total.min, total.max) == (100, 8000)
    for team in ("t1", "t2"):
        assert report.groups["team"][team].resolution.count == tickets // 2
