"""Tiers in the desk: recompute a customer's tier, override it by hand, keep the record;
and what each tier is entitled to: SLA due times, queue order, the tier at intake.

A change updates the customer and appends a ``customer.tier_changed`` event (its data is
``TierChange.event_data()``) in the same unit of work; an override is recorded as
``customer.tier_override_set`` and wins over the policy until it expires.

SLA instants below are worked out by hand on the test calendar: UTC, Monday to Friday
09:00-17:00, so "of working days" counts Monday to Friday whole. Most tickets arrive on
Monday 2026-03-02 at 20:00, after hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from supportflow import (
    Agent,
    Customer,
    CustomerTier,
    MemoryStore,
    Store,
    SupportDesk,
    Team,
    Ticket,
    standard_pipeline,
)
from supportflow.errors import ValidationFailed
from supportflow.models import ComplaintCategory, CustomerEvent
from supportflow.routing.protocols import Classification
from supportflow.sla import CalendarSpec, SlaMetric, SlaPolicy, default_policy
from supportflow.testing import FixedClock
from supportflow.tiering import (
    DEFAULT_ENTITLEMENTS,
    CustomerFacts,
    Purchase,
    TierEntitlements,
    TierOverride,
    TierPolicy,
)

POLICY = TierPolicy()


@pytest.fixture
def opened(
    store_factory: Callable[[], Store], make_desk: Callable[..., SupportDesk], clock: FixedClock
) -> Iterator[tuple[SupportDesk, Store]]:
    store = store_factory()
    try:
        yield make_desk(store, clock), store
    finally:
        store.close()


def customer_events(store: Store, desk: SupportDesk, customer_id: str) -> list[CustomerEvent]:
    with store.unit_of_work(desk.tenant_id) as uow:
        return uow.customer_events.for_customer(customer_id)


def test_recompute_stores_a_change_with_its_event(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, store = opened
    desk.add_customer(
        Customer(
            id="c-big",
            name="Big Buyer",
            purchase_count=3,
            total_spend=Decimal("250000"),
            first_purchase_at=clock.now() - timedelta(days=30),
            last_purchase_at=clock.now() - timedelta(days=2),
        )
    )
    decision = desk.recompute_tier("c-big", policy=POLICY)
    assert (decision.tier, decision.rule) == (CustomerTier.VIP, "vip.min_spend")
    customer = desk.get_customer("c-big")
    assert (customer.tier, customer.version) == (CustomerTier.VIP, 2)
    [event] = customer_events(store, desk, "c-big")
    assert (event.type, event.seq, event.id, event.actor) == (
        "customer.tier_changed",
        1,
        "c-big#1",
        "system",
    )
    assert event.at == clock.now()
    assert event.data == {
        "customer_id": "c-big",
        "old": "regular",
        "new": "vip",
        "rule": "vip.min_spend",
        "reason": decision.reason,
    }


def test_recompute_without_a_change_records_nothing(opened: tuple[SupportDesk, Store]) -> None:
    desk, store = opened
    decision = desk.recompute_tier("c-pro", policy=POLICY)  # no purchases: still a prospect
    assert decision.tier is CustomerTier.PROSPECT
    assert desk.get_customer("c-pro").version == 1
    assert customer_events(store, desk, "c-pro") == []


def test_recompute_with_the_hosts_facts(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, store = opened
    bought = (Purchase(clock.now() - timedelta(days=5), Decimal("100")),)
    facts = CustomerFacts(customer_id="c-reg", purchases=bought, active_contracts=1)
    decision = desk.recompute_tier("c-reg", facts, policy=POLICY)
    assert decision.tier is CustomerTier.KEY
    assert desk.get_customer("c-reg").tier is CustomerTier.KEY
    events = customer_events(store, desk, "c-reg")
    assert [(e.seq, e.data["old"], e.data["new"]) for e in events] == [(1, "regular", "key")]
    # A second change is the next event of the stream.
    desk.recompute_tier("c-reg", CustomerFacts(customer_id="c-reg"), policy=POLICY)
    events = customer_events(store, desk, "c-reg")
    assert [(e.seq, e.data["new"]) for e in events] == [(1, "key"), (2, "prospect")]


def test_an_override_wins_until_it_expires(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, store = opened
    override = TierOverride(
        tier=CustomerTier.VIP,
        reason="strategic pilot",
        set_by="a-lead",
        expires_at=clock.now() + timedelta(days=10),
    )
    customer = desk.set_tier_override("c-reg", override, actor="a-lead")
    assert (customer.tier, customer.version) == (CustomerTier.VIP, 2)
    events = customer_events(store, desk, "c-reg")
    assert [(e.seq, e.type, e.actor) for e in events] == [
        (1, "customer.tier_override_set", "a-lead"),
        (2, "customer.tier_changed", "a-lead"),
    ]
    assert TierOverride.model_validate(events[0].data["override"]) == override
    assert events[1].data["rule"] == "override"
    assert "strategic pilot" in events[1].data["reason"]

    facts = CustomerFacts(customer_id="c-reg")  # the policy alone says prospect
    decision = desk.recompute_tier("c-reg", facts, policy=POLICY)
    assert (decision.tier, decision.rule) == (CustomerTier.VIP, "override")
    assert len(customer_events(store, desk, "c-reg")) == 2

    clock.advance(timedelta(days=10))
    decision = desk.recompute_tier("c-reg", facts, policy=POLICY)
    assert decision.tier is CustomerTier.PROSPECT
    assert desk.get_customer("c-reg").tier is CustomerTier.PROSPECT
    last = customer_events(store, desk, "c-reg")[-1]
    assert (last.seq, last.data["old"], last.data["new"]) == (3, "vip", "prospect")


def test_an_override_to_the_current_tier_changes_nothing_but_is_recorded(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, store = opened
    override: dict[str, Any] = {
        "tier": "regular",
        "reason": "keep as is during the audit",
        "set_by": "a-lead",
        "expires_at": clock.now() + timedelta(days=1),
    }
    customer = desk.set_tier_override("c-reg", override, actor="a-lead")
    assert (customer.tier, customer.version) == (CustomerTier.REGULAR, 1)
    assert [e.type for e in customer_events(store, desk, "c-reg")] == ["customer.tier_override_set"]


# -- what each tier is entitled to ---------------------------------------------------------

MON = datetime(2026, 3, 2, tzinfo=UTC)
HOURS = CalendarSpec.model_validate(
    {
        "timezone": "UTC",
        "weekly": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-17:00",)),
    }
)
DEFAULT_SLA = default_policy(HOURS)
TIERS = ("c-vip", "c-key", "c-reg", "c-pro")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` 0 is Monday 2026-03-02."""
    return MON + timedelta(days=day, hours=hour, minutes=minute)


class ComplaintWords:
    """A classifier that marks a ticket whose body says "complaint" as a complaint."""

    def classify(self, ticket: Ticket) -> Classification:
        found = "complaint" in ticket.body
        return Classification(complaint_category=ComplaintCategory.OTHER if found else None)


@pytest.fixture
def sla_desk(open_desk: Callable[..., Any]) -> Iterator[SupportDesk]:
    """A desk on the default SLA policy, no entitlements given, at Monday 20:00."""
    with open_desk(
        FixedClock(at(0, 20)), sla_policy=DEFAULT_SLA, classifier=ComplaintWords()
    ) as desk:
        yield desk


def dues(ticket: Ticket) -> tuple[datetime | None, datetime | None]:
    return ticket.first_response_due_at, ticket.resolution_due_at


# The targets the default policy gave before tier terms replaced its vip and key rules.
BEFORE = {
    # (customer, priority, complaint): (first response due, resolution due)
    ("c-vip", "normal", False): (at(1, 9, 15), at(1, 8)),  # 15 business minutes, 12h of days
    ("c-key", "normal", False): (at(1, 9, 30), at(1, 14)),  # 30 business minutes, 18h of days
    ("c-reg", "normal", False): (at(1, 10), at(1, 20)),  # 1 business hour, 24h of days
    ("c-pro", "normal", False): (at(1, 10), at(1, 20)),
    ("c-vip", "normal", True): (at(1, 9, 15), at(1, 8)),  # the vip rule came before complaint
    ("c-key", "normal", True): (at(1, 9, 30), at(1, 14)),
    ("c-reg", "normal", True): (at(1, 10), at(2, 20)),  # 48h of working days
    ("c-pro", "normal", True): (at(1, 10), at(2, 20)),
    ("c-reg", "urgent", False): (at(0, 20, 30), at(1, 20)),  # 30m and 24h around the clock
    ("c-pro", "urgent", False): (at(0, 20, 30), at(1, 20)),
}


@pytest.mark.parametrize(("case", "expected"), list(BEFORE.items()), ids=str)
def test_a_default_desk_keeps_the_targets_it_gave_before(
    sla_desk: SupportDesk, case: tuple[str, str, bool], expected: tuple[datetime, datetime]
) -> None:
    customer, priority, complaint = case
    body = "a complaint about the invoice" if complaint else "a question about the invoice"
    ticket = sla_desk.intake(channel="email", customer_id=customer, body=body, priority=priority)
    assert (ticket.complaint_category is not None) == complaint
    assert dues(ticket) == expected


def test_urgent_vip_and_key_tickets_are_faster_than_before(sla_desk: SupportDesk) -> None:
    """The urgent rule's 24x7 targets, shortened by the tier's: min(rule, tier)."""
    vip = sla_desk.intake(channel="email", customer_id="c-vip", body="down", priority="urgent")
    key = sla_desk.intake(channel="email", customer_id="c-key", body="down", priority="urgent")
    assert dues(vip) == (at(0, 20, 15), at(1, 8))  # before: 20:30 and Tuesday 20:00
    assert dues(key) == (at(0, 20, 30), at(1, 14))  # before: 20:30 and Tuesday 20:00


def test_the_vip_hotline_answers_phone_tickets_around_the_clock(sla_desk: SupportDesk) -> None:
    vip = sla_desk.intake(channel="phone", customer_id="c-vip", body="a question")
    key = sla_desk.intake(channel="phone", customer_id="c-key", body="a question")
    assert dues(vip) == (at(0, 20, 15), at(1, 8)), "resolution keeps the working-day calendar"
    assert dues(key) == (at(1, 9, 30), at(1, 14)), "key has no hotline"
    assigned = sla_desk.assign(vip.id, "a-bob")
    assert assigned.acknowledgement_due_at == at(0, 20, 10)
    text = str(sla_desk.explain_sla(vip.id))
    assert "vip terms: 1h on business → 15m on 24x7 (phone around the clock)" in text


def test_acknowledgement_targets_follow_the_tier(sla_desk: SupportDesk) -> None:
    found = {}
    for customer in TIERS:
        ticket = sla_desk.intake(channel="email", customer_id=customer, body="a question")
        found[customer] = sla_desk.assign(ticket.id, "a-bob").acknowledgement_due_at
    assert found == {
        "c-vip": at(1, 9, 10),
        "c-key": at(1, 9, 15),
        "c-reg": at(1, 9, 30),
        "c-pro": at(1, 9, 30),
    }


CUSTOM_SLA = SlaPolicy.from_dict(
    {
        "calendars": {"business": HOURS.model_dump(mode="json")},
        "rules": [{"name": "all", "targets": {"first_response": "2h", "resolution": "8h"}}],
    }
)


def test_a_policy_keeps_its_own_tier_terms_without_a_table(
    open_desk: Callable[..., Any],
) -> None:
    with open_desk(FixedClock(at(0, 9)), sla_policy=CUSTOM_SLA) as desk:
        assert desk.sla_policy is CUSTOM_SLA
        assert desk.entitlements is DEFAULT_ENTITLEMENTS
        vip = desk.intake(channel="email", customer_id="c-vip", body="a question")
        assert dues(vip) == (at(0, 11), at(0, 17))


def test_the_desks_table_sets_the_sla_terms(open_desk: Callable[..., Any]) -> None:
    table = TierEntitlements(vip={"sla_multiplier": 0.5}, key={"sla_targets": {}})
    with open_desk(FixedClock(at(0, 9)), sla_policy=CUSTOM_SLA, entitlements=table) as desk:
        assert desk.entitlements is table
        policy = desk.sla_policy
        assert policy is not None
        assert policy.tiers == table.sla_terms()
        vip = desk.intake(channel="email", customer_id="c-vip", body="a question")
        key = desk.intake(channel="email", customer_id="c-key", body="a question")
        assert dues(vip) == (at(0, 10), at(0, 13))
        assert dues(key) == (at(0, 11), at(0, 17))
        assert "vip terms: 2h on business → 1h on business" in str(desk.explain_sla(vip.id))
        # A policy put in place later gets the same table's terms, in what_if too.
        stricter = SlaPolicy.from_dict(
            {
                "calendars": {"business": HOURS.model_dump(mode="json")},
                "rules": [{"name": "all", "targets": {"first_response": "1h"}}],
                "tiers": {"key": {"multiplier": 0.1}},
            }
        )
        impact = desk.what_if(stricter)
        assert (vip.id, SlaMetric.FIRST_RESPONSE, at(0, 10), at(0, 9, 30)) in impact.moved
        assert (key.id, SlaMetric.FIRST_RESPONSE, at(0, 11), at(0, 10)) in impact.moved
        desk.set_sla_policy(stricter)
        assert desk.sla_policy is not None
        assert desk.sla_policy.tiers == table.sla_terms()
        assert desk.get_ticket(vip.id).first_response_due_at == at(0, 9, 30)


def test_a_default_table_given_changes_nothing_on_the_default_policy(
    open_desk: Callable[..., Any],
) -> None:
    with open_desk(
        FixedClock(at(0, 20)), sla_policy=DEFAULT_SLA, entitlements=TierEntitlements()
    ) as desk:
        assert desk.sla_policy == DEFAULT_SLA
        for (customer, priority, complaint), expected in BEFORE.items():
            if not complaint:
                ticket = desk.intake(
                    channel="email", customer_id=customer, body="hello", priority=priority
                )
                assert dues(ticket) == expected


# -- queue order ------------------------------------------------------------------------


def intake_in_turn(desk: SupportDesk, clock: FixedClock, *requests: tuple[str, str]) -> list[str]:
    """Tickets from ``(customer, priority)`` one minute apart; their ids in that order."""
    ids = []
    for customer, priority in requests:
        clock.advance(timedelta(minutes=1))
        ticket = desk.intake(channel="email", customer_id=customer, body="help", priority=priority)
        ids.append(ticket.id)
    return ids


def test_the_queue_serves_higher_tiers_first_within_a_priority(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, _ = opened
    pro, reg, key, vip, urgent, vip_later, low_vip = intake_in_turn(
        desk,
        clock,
        ("c-pro", "normal"),
        ("c-reg", "normal"),
        ("c-key", "normal"),
        ("c-vip", "normal"),
        ("c-pro", "urgent"),
        ("c-vip", "normal"),
        ("c-vip", "low"),
    )
    assert [t.id for t in desk.queue()] == [urgent, vip, vip_later, key, reg, pro, low_vip]


def test_the_queue_uses_the_customers_tier_now(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, _ = opened
    reg, pro = intake_in_turn(desk, clock, ("c-reg", "normal"), ("c-pro", "normal"))
    assert [t.id for t in desk.queue()] == [reg, pro]
    override = TierOverride(
        tier="vip", reason="pilot", set_by="a-lead", expires_at=clock.now() + timedelta(days=1)
    )
    desk.set_tier_override("c-pro", override, actor="a-lead")
    assert [t.id for t in desk.queue()] == [pro, reg]


def test_the_queue_follows_the_desks_table(
    store_factory: Callable[[], Store], make_desk: Callable[..., SupportDesk], clock: FixedClock
) -> None:
    flat = TierEntitlements(
        vip={"routing_priority": 0}, key={"routing_priority": 0}, regular={"routing_priority": 0}
    )
    store = store_factory()
    try:
        desk = make_desk(store, clock, entitlements=flat)
        pro, vip, reg = intake_in_turn(
            desk, clock, ("c-pro", "normal"), ("c-vip", "normal"), ("c-reg", "normal")
        )
        assert [t.id for t in desk.queue()] == [pro, vip, reg]
    finally:
        store.close()


def test_queued_tickets_are_assigned_in_tier_order(
    store_factory: Callable[[], Store], make_desk: Callable[..., SupportDesk], clock: FixedClock
) -> None:
    store = store_factory()
    try:
        desk = make_desk(store, clock, auto_assign=True)
        for agent in ("a-ann", "a-bob", "a-sue"):
            desk.set_agent_status(agent, "offline")
        reg, pro, vip = intake_in_turn(
            desk, clock, ("c-reg", "normal"), ("c-pro", "normal"), ("c-vip", "normal")
        )
        assert all(desk.get_ticket(t).assignee_id is None for t in (reg, pro, vip))
        desk.add_agent(Agent(id="a-new", name="New", teams=("t-support",), capacity=1))
        assert desk.get_ticket(vip).assignee_id == "a-new"
        assert [t.id for t in desk.queue()] == [reg, pro]
    finally:
        store.close()


# -- the record and bad input -----------------------------------------------------------


def test_intake_records_the_customers_tier(opened: tuple[SupportDesk, Store]) -> None:
    desk, _ = opened
    for customer in TIERS:
        ticket = desk.intake(channel="chat", customer_id=customer, body="hello")
        created = desk.history(ticket.id)[0]
        assert created.type == "ticket.created"
        assert created.data["customer_tier"] == desk.get_customer(customer).tier.value


def test_a_follow_up_records_the_customers_tier_too(
    opened: tuple[SupportDesk, Store], clock: FixedClock
) -> None:
    desk, _ = opened
    ticket = desk.intake(channel="email", customer_id="c-key", body="hello")
    desk.assign(ticket.id, "a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    desk.resolve(ticket.id, agent_id="a-bob", resolution="done")
    desk.close(ticket.id)
    follow_up = desk.customer_replied(ticket.id, body="again")
    assert follow_up.follow_up_of == ticket.id
    assert desk.history(follow_up.id)[0].data["customer_tier"] == "key"


def test_a_channel_the_tier_is_not_offered_still_makes_a_ticket(
    store_factory: Callable[[], Store], make_desk: Callable[..., SupportDesk], clock: FixedClock
) -> None:
    table = TierEntitlements(prospect={"channels": ["email", "web_form"]})
    assert not table.prospect.allows("phone")
    store = store_factory()
    try:
        desk = make_desk(store, clock, entitlements=table)
        ticket = desk.intake(channel="phone", customer_id="c-pro", body="hello")
        assert desk.get_ticket(ticket.id).channel == "phone"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("entitlements", "field"),
    [
        ("vip", "entitlements"),
        ({"vip": {"routing_priority": 1}}, "entitlements"),
        (TierPolicy(), "entitlements"),
    ],
)
def test_a_bad_table_is_refused_by_name(
    opened: tuple[SupportDesk, Store], entitlements: Any, field: str
) -> None:
    desk, store = opened
    ticket = desk.intake(channel="chat", customer_id="c-vip", body="hello")
    with pytest.raises(ValidationFailed) as caught:
        SupportDesk(store, entitlements=entitlements)
    assert caught.value.field == field
    assert len(desk.history(ticket.id)) == 1
    assert [t.id for t in desk.queue()] == [ticket.id]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"vip": {"sla_multiplier": 0}}, "vip.sla_multiplier"),
        ({"key": {"sla_targets": {"resolution": "0m"}}}, "key.sla_targets.resolution"),
        ({"vip": {"routing_priority": 5}}, "vip.routing_priority"),
        ({"regular": {"channels": ["pigeon"]}}, "regular.channels.0"),
        ({"vip": {"channels": ["email"]}}, "vip.hotline_24x7"),
        ({"gold": {}}, "gold"),
    ],
)
def test_a_bad_table_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        TierEntitlements.model_validate(data)
    assert caught.value.field == field


def test_routing_reads_the_desks_table_not_only_its_own() -> None:
    """A desk whose table takes key customers' account manager away routes them generally."""
    no_key_manager = TierEntitlements(key={"dedicated_account_manager": False})
    for table, expected in ((None, "am"), (no_key_manager, "gen")):
        desk = SupportDesk(
            MemoryStore(),
            clock=FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)),
            assignment=standard_pipeline(),  # its own table is the default one
            entitlements=table,
        )
        desk.add_team(Team(id="t", name="T"))
        desk.add_agent(Agent(id="am", name="AM", teams=("t",)))
        desk.add_agent(Agent(id="gen", name="Gen", teams=("t",)))
        desk.add_customer(
            Customer(id="k", name="K", tier=CustomerTier.KEY, account_manager_id="am")
        )
        desk.add_customer(Customer(id="r", name="R"))
        # "gen" has fewer tickets, so only the account-manager preference picks "am".
        warm_up = desk.intake(channel="email", customer_id="r", body="warm up", team_id="t")
        desk.assign(warm_up.id, "am")
        ticket = desk.intake(channel="email", customer_id="k", body="help", team_id="t")
        assert desk.assign(ticket.id).assignee_id == expected
