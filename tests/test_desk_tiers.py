"""Tiers in the desk: recompute a customer's tier, override it by hand, keep the record.

A change updates the customer and appends a ``customer.tier_changed`` event (its data is
``TierChange.event_data()``) in the same unit of work; an override is recorded as
``customer.tier_override_set`` and wins over the policy until it expires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from supportflow import Customer, CustomerTier, Store, SupportDesk
from supportflow.models import CustomerEvent
from supportflow.testing import FixedClock
from supportflow.tiering import CustomerFacts, Purchase, TierOverride, TierPolicy

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
