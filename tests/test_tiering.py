"""Tiering: rule boundaries, overrides, bulk changes, entitlements, loading and properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.models import Channel, Customer, CustomerTier, Priority
from supportflow.sla import CalendarSpec, SlaMetric, Target, TicketFacts, default_policy
from supportflow.sla.calendar import WEEKDAYS
from supportflow.sla.policy import DEFAULT_TIER_TERMS, TierTerms
from supportflow.tiering import (
    DEFAULT_ENTITLEMENTS,
    TIER_RANK,
    CustomerFacts,
    Entitlements,
    Purchase,
    TierDecision,
    TierEntitlements,
    TierOverride,
    TierPolicy,
    assess,
    assess_all,
    effective_tier,
    entitlements_for,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
OFFICE = CalendarSpec.model_validate(
    {
        "timezone": "Asia/Shanghai",
        "weekly": dict.fromkeys(WEEKDAYS[:5], ("09:00-12:00", "13:00-18:00")),
        "holidays": [{"date": "2026-05-01"}],
    }
)
POLICY = TierPolicy()
PROPERTY = settings(max_examples=60, deadline=None)


def bought(*amounts: int | str, days_ago: int = 10) -> tuple[Purchase, ...]:
    """Purchases of ``amounts``, all ``days_ago`` days before NOW."""
    return tuple(Purchase(NOW - days_ago * DAY, Decimal(a)) for a in amounts)


def facts(**fields: Any) -> CustomerFacts:
    """Facts for customer ``c1`` with ``fields``."""
    return CustomerFacts(customer_id=fields.pop("customer_id", "c1"), **fields)


def tier_of(**fields: Any) -> CustomerTier:
    """The default policy's tier for ``fields``."""
    return assess(facts(**fields), POLICY, now=NOW).tier


# -- rules and their boundaries --------------------------------------------------------


def test_no_purchase_is_prospect_even_with_a_contract() -> None:
    decision = assess(facts(active_contracts=3), POLICY, now=NOW)
    assert decision.tier is CustomerTier.PROSPECT
    assert decision.reason == "prospect: no purchase yet"


def test_purchase_after_now_does_not_count_yet() -> None:
    assert tier_of(purchases=bought(500_000, days_ago=-1)) is CustomerTier.PROSPECT


def test_vip_at_exactly_the_spend_threshold() -> None:
    decision = assess(facts(purchases=bought(100_000)), POLICY, now=NOW)
    assert decision.tier is CustomerTier.VIP
    assert decision.rule == "vip.min_spend"
    assert decision.reason == "vip: spend 100,000 over 365 days ≥ 100,000"


def test_one_cent_below_vip_spend_is_key() -> None:
    decision = assess(facts(purchases=bought("99999.99")), POLICY, now=NOW)
    assert decision.tier is CustomerTier.KEY
    assert decision.reason == "key: spend 99,999.99 over 365 days ≥ 20,000"


def test_strategic_contract_makes_vip_whatever_the_spend() -> None:
    decision = assess(facts(purchases=bought(1), strategic_contract=True), POLICY, now=NOW)
    assert (decision.tier, decision.rule) == (CustomerTier.VIP, "vip.strategic_contract")


def test_spend_outside_the_window_does_not_count() -> None:
    old = bought(500_000, days_ago=366)
    assert tier_of(purchases=old) is CustomerTier.REGULAR
    assert tier_of(purchases=bought(500_000, days_ago=365)) is CustomerTier.VIP


def test_key_at_four_purchases_regular_at_three() -> None:
    assert tier_of(purchases=bought(10, 10, 10, 10)) is CustomerTier.KEY
    decision = assess(facts(purchases=bought(10, 10, 10)), POLICY, now=NOW)
    assert decision.tier is CustomerTier.REGULAR
    assert decision.reason == (
        "regular: spend 30 over 365 days < 20,000; 3 purchases over 365 days < 4"
    )


def test_key_at_exactly_the_spend_threshold() -> None:
    assert tier_of(purchases=bought(20_000)) is CustomerTier.KEY
    assert tier_of(purchases=bought(19_999)) is CustomerTier.REGULAR


def test_one_active_contract_makes_key() -> None:
    decision = assess(facts(purchases=bought(1), active_contracts=1), POLICY, now=NOW)
    assert decision.reason == "key: 1 active contract ≥ 1"


def test_service_needs_count_only_when_enabled() -> None:
    busy = {"purchases": bought(1), "tickets": 30, "complaints": 5}
    assert tier_of(**busy) is CustomerTier.REGULAR
    policy = TierPolicy.from_dict({"key": {"min_tickets": 30, "min_complaints": 5}})
    decision = assess(facts(**busy), policy, now=NOW)
    assert decision.reason == "key: 30 tickets over 90 days ≥ 30"
    decision = assess(facts(purchases=bought(1), complaints=5), policy, now=NOW)
    assert decision.rule == "key.min_complaints"


def test_totals_only_all_purchases_inside_the_window_are_exact() -> None:
    customer = Customer(
        id="c9",
        name="Nine",
        purchase_count=2,
        total_spend=Decimal(150_000),
        first_purchase_at=NOW - 30 * DAY,
        last_purchase_at=NOW - 2 * DAY,
    )
    decision = assess(CustomerFacts.from_customer(customer), POLICY, now=NOW)
    assert decision.reason == "vip: spend 150,000 over 365 days ≥ 100,000"


def test_totals_only_straddling_the_window_is_marked_estimated() -> None:
    customer = Customer(
        id="c9",
        name="Nine",
        purchase_count=2,
        total_spend=Decimal(30_000),
        first_purchase_at=NOW - 800 * DAY,
        last_purchase_at=NOW - 2 * DAY,
    )
    decision = assess(CustomerFacts.from_customer(customer), POLICY, now=NOW)
    assert decision.tier is CustomerTier.KEY
    assert "(estimated from lifetime totals)" in decision.reason


def test_totals_only_last_purchase_before_the_window_counts_nothing() -> None:
    customer = Customer(
        id="c9",
        name="Nine",
        purchase_count=9,
        total_spend=Decimal(900_000),
        first_purchase_at=NOW - 900 * DAY,
        last_purchase_at=NOW - 400 * DAY,
    )
    assert assess(CustomerFacts.from_customer(customer), POLICY, now=NOW).tier is (
        CustomerTier.REGULAR
    )


def test_customer_without_purchases_is_prospect() -> None:
    customer = Customer(id="c0", name="Zero", tier=CustomerTier.PROSPECT)
    made = CustomerFacts.from_customer(customer)
    assert made.tier is CustomerTier.PROSPECT
    assert assess(made, POLICY, now=NOW).tier is CustomerTier.PROSPECT


def test_customer_with_inconsistent_totals_is_refused() -> None:
    customer = Customer(id="c0", name="Zero", purchase_count=2)
    with pytest.raises(ValidationFailed) as caught:
        CustomerFacts.from_customer(customer)
    assert caught.value.field.startswith("customer.")


# -- bad input -------------------------------------------------------------------------


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        assess(facts(), POLICY, now=datetime(2026, 1, 1))
    assert caught.value.field == "now"


def test_naive_purchase_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        facts(purchases=[(datetime(2026, 1, 1), 5)])
    assert caught.value.field == "purchases.0.0"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"customer_id": " "}, "customer_id"),
        ({"purchases": [(NOW, -1)]}, "purchases.0.1"),
        ({"purchases": [(NOW, "NaN")]}, "purchases.0.1"),
        ({"active_contracts": -1}, "active_contracts"),
        ({"tickets": "many"}, "tickets"),
        (
            {"purchases": bought(1), "totals": {"count": 1, "first_at": NOW, "last_at": NOW}},
            "totals",
        ),
    ],
)
def test_bad_facts_name_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        facts(**fields)
    assert caught.value.field == field


def test_assess_refuses_what_is_not_facts_or_policy() -> None:
    with pytest.raises(ValidationFailed, match="facts"):
        assess({"customer_id": "c1"}, POLICY, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="policy"):
        assess(facts(), {}, now=NOW)  # type: ignore[arg-type]


# -- policy loading --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"window_days": 0}, "window_days"),
        ({"vip": {"min_spend": -1}}, "vip.min_spend"),
        ({"key": {"min_purchases": 0}}, "key.min_purchases"),
        ({"key": {"min_spend": 200_000}}, "vip.min_spend"),
        ({"vip": {"bogus": 1}}, "vip.bogus"),
        ({"entitlements": {"vip": {"sla_multiplier": 2}}}, "entitlements.vip.sla_multiplier"),
        (
            {"entitlements": {"vip": {"sla_targets": {"first_response": "soon"}}}},
            "entitlements.vip.sla_targets.first_response",
        ),
        (
            {"entitlements": {"vip": {"sla_targets": {"lunch": "1h"}}}},
            "entitlements.vip.sla_targets.lunch.[key]",
        ),
        ({"entitlements": {"key": {"routing_priority": 99}}}, "vip.routing_priority"),
    ],
)
def test_policy_errors_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        TierPolicy.from_dict(data)
    assert caught.value.field.removeprefix("entitlements.") == field.removeprefix("entitlements.")


def test_policy_from_toml() -> None:
    policy = TierPolicy.from_toml(
        """
        window_days = 180
        [vip]
        min_spend = 50000
        strategic_contract = false
        [entitlements.vip]
        sla_targets = { first_response = "10m" }
        """
    )
    assert policy.window_days == 180
    assert policy.vip.min_spend == Decimal(50_000)
    assert not policy.vip.strategic_contract
    assert policy.key == TierPolicy().key
    vip = policy.entitlements.vip
    assert vip.sla_targets == {SlaMetric.FIRST_RESPONSE: timedelta(minutes=10)}
    assert vip.sla_multiplier == 1, "the SLA terms are replaced together"
    assert vip.routing_priority == 30, "a partial tier keeps its other defaults"
    assert vip.hotline_24x7


def test_policy_from_json_and_bad_documents() -> None:
    assert TierPolicy.from_json('{"window_days": 30}').window_days == 30
    with pytest.raises(ValidationFailed) as caught:
        TierPolicy.from_toml("window_days = ")
    assert caught.value.field == "toml"
    with pytest.raises(ValidationFailed) as caught:
        TierPolicy.from_json("[1]")
    assert caught.value.field == "json"


# -- overrides -------------------------------------------------------------------------


def override(**fields: Any) -> TierOverride:
    """An override to VIP by ``ann`` until a day after NOW, with ``fields`` changed."""
    data: dict[str, Any] = {
        "tier": "vip",
        "reason": "strategic pilot",
        "set_by": "ann",
        "expires_at": NOW + DAY,
    }
    return TierOverride(**{**data, **fields})


def test_active_override_wins_and_says_why() -> None:
    decision = assess(facts(purchases=bought(1)), POLICY, now=NOW)
    effective = effective_tier(decision, override(), NOW)
    assert effective.tier is CustomerTier.VIP
    assert effective.rule == "override"
    assert "override by ann" in effective.reason
    assert "strategic pilot" in effective.reason
    assert "(policy says regular)" in effective.reason


def test_override_expires_at_its_expiry_instant() -> None:
    decision = assess(facts(purchases=bought(1)), POLICY, now=NOW)
    assert effective_tier(decision, override(), NOW + DAY) == decision
    assert effective_tier(decision, override(), NOW + DAY - timedelta(seconds=1)).tier is (
        CustomerTier.VIP
    )


def test_no_override_keeps_the_decision() -> None:
    decision = assess(facts(purchases=bought(1)), POLICY, now=NOW)
    assert effective_tier(decision, None, NOW) is decision


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": None}, "reason"),
        ({"set_by": ""}, "set_by"),
        ({"tier": "gold"}, "tier"),
        ({"expires_at": datetime(2026, 5, 1)}, "expires_at"),
    ],
)
def test_override_requires_its_fields(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        override(**fields)
    assert caught.value.field == field


def test_effective_tier_refuses_naive_now() -> None:
    decision = assess(facts(), POLICY, now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        effective_tier(decision, override(), datetime(2026, 1, 1))
    assert caught.value.field == "now"


# -- bulk ------------------------------------------------------------------------------


def test_assess_all_reports_only_changes() -> None:
    everyone = [
        facts(customer_id="same", tier=CustomerTier.REGULAR, purchases=bought(1)),
        facts(customer_id="up", tier=CustomerTier.REGULAR, purchases=bought(150_000)),
        facts(customer_id="new", tier=CustomerTier.REGULAR),
        facts(customer_id="kept", tier=CustomerTier.VIP, purchases=bought(1)),
    ]
    changes = assess_all(everyone, POLICY, now=NOW, overrides={"kept": override()})
    assert [(c.customer_id, c.old, c.new) for c in changes] == [
        ("up", CustomerTier.REGULAR, CustomerTier.VIP),
        ("new", CustomerTier.REGULAR, CustomerTier.PROSPECT),
    ]
    assert changes[0].reason == "vip: spend 150,000 over 365 days ≥ 100,000"
    assert changes[0].event_data()["new"] == "vip"


def test_assess_all_expired_override_changes_back() -> None:
    kept = facts(customer_id="kept", tier=CustomerTier.VIP, purchases=bought(1))
    changes = assess_all([kept], POLICY, now=NOW + 2 * DAY, overrides={"kept": override()})
    assert [(c.old, c.new) for c in changes] == [(CustomerTier.VIP, CustomerTier.REGULAR)]


def test_assess_all_refuses_repeats_and_bad_items() -> None:
    with pytest.raises(ValidationFailed) as caught:
        assess_all([facts(), facts()], POLICY, now=NOW)
    assert caught.value.field == "facts[1].customer_id"
    with pytest.raises(ValidationFailed) as caught:
        assess_all([facts(), "c2"], POLICY, now=NOW)  # type: ignore[list-item]
    assert caught.value.field == "facts[1]"
    with pytest.raises(ValidationFailed) as caught:
        assess_all([], POLICY, now=NOW, overrides={"c1": "vip"})  # type: ignore[dict-item]
    assert caught.value.field == "overrides['c1']"


# -- entitlements ----------------------------------------------------------------------


def test_default_entitlements() -> None:
    vip, key = entitlements_for(CustomerTier.VIP), entitlements_for("key")
    regular, prospect = entitlements_for("regular"), entitlements_for("prospect")
    assert vip.sla_targets == {
        SlaMetric.FIRST_RESPONSE: 15 * MINUTE,
        SlaMetric.ACKNOWLEDGEMENT: 10 * MINUTE,
        SlaMetric.NEXT_RESPONSE: 30 * MINUTE,
        SlaMetric.RESOLUTION: 12 * HOUR,
    }
    assert key.sla_targets == {
        SlaMetric.FIRST_RESPONSE: 30 * MINUTE,
        SlaMetric.ACKNOWLEDGEMENT: 15 * MINUTE,
        SlaMetric.NEXT_RESPONSE: HOUR,
        SlaMetric.RESOLUTION: 18 * HOUR,
    }
    assert all(e.sla_multiplier == 1 for e in (vip, key, regular, prospect))
    assert regular.sla_targets == prospect.sla_targets == {}
    assert vip.routing_priority > key.routing_priority > regular.routing_priority
    assert regular.routing_priority > prospect.routing_priority
    assert vip.dedicated_account_manager
    assert key.dedicated_account_manager
    assert not regular.dedicated_account_manager
    assert vip.hotline_24x7
    assert not key.hotline_24x7
    assert all(e.channels == frozenset(Channel) for e in (vip, key, regular, prospect))


def test_the_default_tables_sla_terms_are_the_default_policys() -> None:
    """One source of truth: the default SLA policy carries exactly the default table's terms."""
    assert DEFAULT_ENTITLEMENTS.sla_terms() == DEFAULT_TIER_TERMS
    assert default_policy(OFFICE).tiers == DEFAULT_ENTITLEMENTS.sla_terms()
    assert DEFAULT_ENTITLEMENTS.apply_to(default_policy(OFFICE)) == default_policy(OFFICE)


def test_sla_terms_of_one_tier() -> None:
    vip = entitlements_for("vip")
    assert vip.sla_terms() == TierTerms(targets=vip.sla_targets, around_the_clock=("phone",))
    assert entitlements_for("regular").sla_terms().neutral
    halved = Entitlements(sla_multiplier=0.5)
    assert halved.sla_terms() == TierTerms(multiplier=0.5)


def test_a_table_puts_its_terms_in_a_policy() -> None:
    table = TierEntitlements(key={"sla_multiplier": 0.5}, vip={"hotline_24x7": False})
    assert set(table.sla_terms()) == {CustomerTier.VIP, CustomerTier.KEY}
    policy = table.apply_to(default_policy(OFFICE))
    assert policy.tiers == table.sla_terms()
    key = policy.select(TicketFacts(tier=CustomerTier.KEY))
    assert key[SlaMetric.FIRST_RESPONSE].target == Target(within=30 * MINUTE)
    assert key[SlaMetric.NEXT_RESPONSE].target == Target(within=2 * HOUR)
    phone = policy.select(TicketFacts(tier=CustomerTier.VIP, channel=Channel.PHONE))
    assert phone[SlaMetric.FIRST_RESPONSE].target == Target(within=15 * MINUTE)
    with pytest.raises(ValidationFailed) as caught:
        table.apply_to("default")  # type: ignore[arg-type]
    assert caught.value.field == "policy"


def test_the_sla_terms_of_a_tier_are_replaced_together() -> None:
    """A tier's SLA terms given in part do not inherit the defaults' explicit targets."""
    faster = TierEntitlements(vip={"sla_multiplier": 0.4})
    assert (faster.vip.sla_multiplier, faster.vip.sla_targets) == (0.4, {})
    assert faster.vip.apply_to_target(SlaMetric.FIRST_RESPONSE, HOUR) == 24 * MINUTE
    explicit = TierEntitlements(key={"sla_targets": {"resolution": "8h"}})
    assert explicit.key.sla_targets == {SlaMetric.RESOLUTION: 8 * HOUR}
    assert explicit.key.sla_multiplier == 1
    assert explicit.key.routing_priority == 20
    assert TierEntitlements(vip={"routing_priority": 40}).vip.sla_targets == (
        DEFAULT_ENTITLEMENTS.vip.sla_targets
    ), "other fields keep the SLA defaults"


def test_apply_to_target() -> None:
    hour = HOUR
    assert entitlements_for("vip").apply_to_target(SlaMetric.FIRST_RESPONSE, hour) == 15 * MINUTE
    assert entitlements_for("vip").apply_to_target(SlaMetric.FIRST_RESPONSE, 5 * MINUTE) == (
        5 * MINUTE
    )
    assert entitlements_for("regular").apply_to_target(SlaMetric.RESOLUTION, hour) == hour
    assert Entitlements(sla_multiplier=0.5).apply_to_target(SlaMetric.RESOLUTION, hour) == hour / 2
    explicit = Entitlements(sla_targets={"first_response": "10m"})
    assert explicit.apply_to_target(SlaMetric.FIRST_RESPONSE, hour) == timedelta(minutes=10)
    assert explicit.apply_to_target(SlaMetric.FIRST_RESPONSE, timedelta(minutes=5)) == (
        timedelta(minutes=5)
    ), "an entitlement never slows a target"
    assert explicit.apply_to_target(SlaMetric.RESOLUTION, hour) == hour


def test_channels_say_what_the_host_offers() -> None:
    chat_only = Entitlements(channels={Channel.CHAT, Channel.EMAIL})
    assert chat_only.allows("chat")
    assert chat_only.allows(Channel.EMAIL)
    assert not chat_only.allows(Channel.PHONE)
    assert all(entitlements_for("prospect").allows(c) for c in Channel)
    with pytest.raises(ValidationFailed) as caught:
        chat_only.allows("pigeon")
    assert caught.value.field == "channel"


def test_apply_to_target_refuses_bad_input() -> None:
    vip = entitlements_for("vip")
    with pytest.raises(ValidationFailed, match="metric"):
        vip.apply_to_target("lunch", timedelta(hours=1))  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="target"):
        vip.apply_to_target(SlaMetric.RESOLUTION, timedelta(0))
    with pytest.raises(ValidationFailed, match="target"):
        vip.apply_to_target(SlaMetric.RESOLUTION, 3600)  # type: ignore[arg-type]


def test_entitlements_for_refuses_unknown_tier_and_uses_a_given_table() -> None:
    with pytest.raises(ValidationFailed) as caught:
        entitlements_for("gold")
    assert caught.value.field == "tier"
    table = TierEntitlements(vip={"hotline_24x7": False})
    assert not entitlements_for("vip", table).hotline_24x7
    assert entitlements_for("vip", table).routing_priority == 30
    assert TierPolicy().entitlements == DEFAULT_ENTITLEMENTS


def test_hotline_needs_the_phone_channel() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Entitlements(hotline_24x7=True, channels={Channel.EMAIL})
    assert caught.value.field == "hotline_24x7"


# -- properties ------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False)
ages = st.integers(min_value=0, max_value=800)
purchase_lists = st.lists(st.tuples(ages, amounts), max_size=8)
policies = st.builds(
    lambda window, vip, key, strategic, buys: TierPolicy.from_dict(
        {
            "window_days": window,
            "vip": {"min_spend": vip + key, "strategic_contract": strategic},
            "key": {"min_spend": key, "min_purchases": buys},
        }
    ),
    st.integers(1, 800),
    st.integers(0, 200_000),
    st.integers(0, 50_000),
    st.booleans(),
    st.integers(1, 10),
)
fact_strategy = st.builds(
    lambda history, contracts, strategic, tier: CustomerFacts(
        customer_id="c1",
        tier=tier,
        purchases=tuple(Purchase(NOW - age * DAY, amount) for age, amount in history),
        active_contracts=contracts,
        strategic_contract=strategic,
    ),
    purchase_lists,
    st.integers(0, 3),
    st.booleans(),
    st.sampled_from(CustomerTier),
)


@PROPERTY
@given(fact_strategy, policies, st.lists(amounts, min_size=8, max_size=8))
def test_more_spend_never_lowers_the_tier(
    base: CustomerFacts, policy: TierPolicy, extra: list[Decimal]
) -> None:
    richer = base.model_copy(
        update={
            "purchases": tuple(
                Purchase(p.at, p.amount + more)
                for p, more in zip(base.purchases, extra, strict=False)
            )
        }
    )
    before = assess(base, policy, now=NOW).tier
    after = assess(richer, policy, now=NOW).tier
    assert TIER_RANK[after] >= TIER_RANK[before]


@PROPERTY
@given(fact_strategy, policies)
def test_prospects_never_have_purchases(item: CustomerFacts, policy: TierPolicy) -> None:
    decision = assess(item, policy, now=NOW)
    assert (decision.tier is CustomerTier.PROSPECT) == (item.purchase_count == 0)


@PROPERTY
@given(fact_strategy, policies)
def test_assess_is_deterministic(item: CustomerFacts, policy: TierPolicy) -> None:
    copy = CustomerFacts.model_validate(item.model_dump())
    assert assess(item, policy, now=NOW) == assess(copy, policy, now=NOW)


@PROPERTY
@given(
    st.sampled_from(CustomerTier),
    st.sampled_from(CustomerTier),
    st.integers(-10_000, 10_000),
    st.integers(0, 10_000),
)
def test_an_expired_override_never_applies(
    own: CustomerTier, forced: CustomerTier, expires_in: int, later: int
) -> None:
    decision = TierDecision(customer_id="c1", tier=own, rule="regular", reason="r")
    expiry = NOW + timedelta(minutes=expires_in)
    manual = override(tier=forced, expires_at=expiry)
    assert effective_tier(decision, manual, expiry + timedelta(minutes=later)) == decision


RANKED = sorted(CustomerTier, key=TIER_RANK.__getitem__)  # prospect, regular, key, vip
ENTITLED = DEFAULT_ENTITLEMENTS.apply_to(default_policy(OFFICE))
PLAIN = default_policy(OFFICE).with_tier_terms({})
ticket_facts = st.builds(
    TicketFacts,
    priority=st.sampled_from(Priority),
    channel=st.sampled_from(Channel),
    category=st.none() | st.just("billing"),
    complaint=st.booleans(),
)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
)


def due(facts: TicketFacts, tier: CustomerTier, start: datetime) -> dict[SlaMetric, datetime]:
    """Each metric's due instant for ``facts`` of a ``tier`` customer, under the default table."""
    chosen = ENTITLED.select(attrs.evolve(facts, tier=tier))
    return {
        m: ENTITLED.calendar(s.target.calendar).add(start, s.target.within)
        for m, s in chosen.items()
    }


@PROPERTY
@given(ticket_facts, instants)
def test_a_higher_tier_is_never_due_later(facts: TicketFacts, start: datetime) -> None:
    """Monotone in tier order with the default table, for every metric and start."""
    dues = [due(facts, tier, start) for tier in RANKED]
    for lower, higher in itertools.pairwise(dues):
        assert lower.keys() == higher.keys()
        assert all(higher[m] <= lower[m] for m in lower)


@PROPERTY
@given(ticket_facts, st.sampled_from((CustomerTier.REGULAR, CustomerTier.PROSPECT)))
def test_regular_and_prospect_get_the_rules_targets(facts: TicketFacts, tier: CustomerTier) -> None:
    facts = attrs.evolve(facts, tier=tier)
    assert ENTITLED.select(facts) == PLAIN.select(facts)


@PROPERTY
@given(
    st.sampled_from(SlaMetric),
    st.integers(1, 10**6).map(lambda n: timedelta(seconds=n)),
    st.floats(min_value=0.01, max_value=1),
    st.none() | st.integers(1, 10**6).map(lambda n: timedelta(seconds=n)),
)
def test_an_entitled_target_is_never_longer(
    metric: SlaMetric, target: timedelta, multiplier: float, explicit: timedelta | None
) -> None:
    entitled = Entitlements(
        sla_multiplier=multiplier, sla_targets={} if explicit is None else {metric: explicit}
    )
    shortened = entitled.apply_to_target(metric, target)
    assert timedelta(seconds=1) <= shortened <= target
    if explicit is not None:
        assert shortened == min(explicit, target)
