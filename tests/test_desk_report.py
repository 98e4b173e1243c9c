"""desk.monthly_report: a month of a real desk's work, read back from each store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportflow import (
    Agent,
    Customer,
    CustomerTier,
    Goals,
    MemoryStore,
    SqliteStore,
    Store,
    SupportDesk,
    Team,
    ValidationFailed,
)
from supportflow.analytics import to_html, to_markdown
from supportflow.sla import BusinessCalendar
from supportflow.testing import FixedClock

FEB = datetime(2026, 2, 2, 9, tzinfo=UTC)
MAR = datetime(2026, 3, 2, 9, tzinfo=UTC)
WEEKDAYS = BusinessCalendar.from_dict(
    {
        "timezone": "UTC",
        "weekly": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "d.db")
    yield made
    made.close()


def run_month(desk: SupportDesk, clock: FixedClock, start: datetime, tickets: int) -> list[str]:
    """``tickets`` tickets, one a day: assigned, answered after 1 h, resolved after 3 h."""
    ids = []
    for n in range(tickets):
        clock.set(start + timedelta(days=n))
        customer = "vip" if n % 3 == 0 else "reg"
        ticket = desk.intake(channel="email", customer_id=customer, body=f"Help {n}", team_id="t")
        desk.assign(ticket.id, "ann")
        desk.acknowledge(ticket.id, agent_id="ann")
        clock.advance(timedelta(hours=1))
        desk.reply(ticket.id, agent_id="ann", body="On it")
        clock.advance(timedelta(hours=2))
        desk.resolve(ticket.id, agent_id="ann", resolution="Fixed")
        ids.append(ticket.id)
    return ids


def test_the_month_read_back_from_the_store(store: Store) -> None:
    clock = FixedClock(FEB)
    desk = SupportDesk(store, clock=clock)
    desk.add_team(Team(id="t", name="T"))
    desk.add_agent(Agent(id="ann", name="Ann", teams=("t",)))
    desk.add_customer(Customer(id="vip", name="V", tier=CustomerTier.VIP))
    desk.add_customer(Customer(id="reg", name="R"))
    run_month(desk, clock, FEB, 10)
    march = run_month(desk, clock, MAR, 6)
    clock.advance(timedelta(minutes=10))
    for n, ticket_id in enumerate(march):
        desk.submit_feedback(f"{ticket_id}/survey/1", csat=5 if n else 2, nps=9)
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    report = desk.monthly_report("2026-03", calendar=WEEKDAYS)
    total = report.metrics.total
    assert total.volume == 6
    assert total.first_response.median == 3600
    assert total.resolution.median == 3 * 3600
    assert total.stages["handling"].seconds == 6 * 2 * 3600
    assert total.feedback.csat_n == 6
    assert total.csat.value == pytest.approx(500 / 6)
    assert {k: g.volume for k, g in report.metrics.groups["tier"].items()} == {
        "regular": 4,
        "vip": 2,
    }
    met = {g.name: g.met for g in report.goals}
    assert met == {"csat": False, "resolution_within": True, "complaint_reduction": None}
    assert "Support report: 2026-03" in to_markdown(report)
    assert to_html(report).startswith("<!doctype html>")
    lenient = desk.monthly_report("2026-03", goals=Goals(csat_at_least=80.0))
    assert next(g.met for g in lenient.goals if g.name == "csat") is True


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"month": "2026-3"}, "month"),
        ({"month": "2026-03", "timezone": "Nowhere/City"}, "timezone"),
        ({"month": "2026-03", "goals": "strict"}, "goals"),
        ({"month": "2026-03", "surge_settings": 7}, "surge_settings"),
        ({"month": "2026-03", "group_by": ("planet",)}, "group_by"),
        ({"month": "2026-03", "calendar": "weekdays"}, "calendar"),
    ],
)
def test_bad_arguments_name_the_field_and_change_nothing(
    kwargs: dict[str, Any], field: str
) -> None:
    store = MemoryStore()
    desk = SupportDesk(store, clock=FixedClock(MAR))
    desk.add_customer(Customer(id="c", name="C"))
    desk.intake(channel="email", customer_id="c", body="hi")
    before = desk.list_tickets()
    with pytest.raises(ValidationFailed) as raised:
        desk.monthly_report(**kwargs)
    assert raised.value.field == field
    assert desk.list_tickets() == before
