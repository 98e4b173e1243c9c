"""The priority detector: urgency cues, customer tier and channel add up to a priority."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from supportflow import Channel, CustomerTier, Priority, Ticket, ValidationFailed
from supportflow.routing import PriorityDetector, UrgencyCue

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETECTOR = PriorityDetector()


def _ticket(body: str, customer_id: str = "c-1", channel: Channel = Channel.EMAIL) -> Ticket:
    return Ticket(
        id="t-1",
        channel=channel,
        customer_id=customer_id,
        subject="",
        body=body,
        created_at=AT,
        updated_at=AT,
    )


@pytest.mark.parametrize(
    "text",
    ["Our site is down for everyone", "full outage since 9am", "系统宕机了", "服务器瘫痪"],
)
def test_outages_are_urgent_for_anyone(text: str) -> None:
    assessment = DETECTOR.assess(text, tier=CustomerTier.PROSPECT, channel=Channel.EMAIL)
    assert assessment.priority is Priority.URGENT


@pytest.mark.parametrize("text", ["I cannot log in", "I can't log in", "无法登录", "登录不了"])
def test_lock_outs_are_high_and_urgent_for_key_customers(text: str) -> None:
    assert DETECTOR.assess(text, tier=CustomerTier.REGULAR).priority is Priority.HIGH
    assert DETECTOR.assess(text, tier=CustomerTier.KEY).priority is Priority.URGENT


def test_urgent_words_are_high_and_urgent_from_a_vip() -> None:
    assert DETECTOR.assess("urgent: invoice", tier=CustomerTier.REGULAR).priority is Priority.HIGH
    assert DETECTOR.assess("紧急，发票", tier=CustomerTier.VIP).priority is Priority.URGENT


def test_a_typo_in_a_cue_still_counts() -> None:
    assessment = DETECTOR.assess("this is urgnet")
    assert assessment.priority is Priority.HIGH
    assert any("urgnet" in reason for reason in assessment.reasons)


@pytest.mark.parametrize(
    "text", ["this is not urgent", "no rush at all", "不紧急", "不急，有空再看"]
)
def test_negated_urgency_lowers_the_priority(text: str) -> None:
    assert DETECTOR.assess(text).priority is Priority.LOW


def test_a_repeated_cue_counts_once() -> None:
    assert DETECTOR.assess("urgent urgent urgent ASAP").score == 2


def test_tier_and_channel_add_points() -> None:
    assert DETECTOR.assess("hello", tier=CustomerTier.VIP).priority is Priority.HIGH
    assert DETECTOR.assess("hello", tier=CustomerTier.KEY).priority is Priority.NORMAL
    assert DETECTOR.assess("hello", tier=CustomerTier.PROSPECT).priority is Priority.LOW
    high = DETECTOR.assess("hello", tier=CustomerTier.KEY, channel=Channel.PHONE)
    assert high.priority is Priority.HIGH
    assert high.reasons == ("tier key +1", "channel phone +1", "score 2: high")


def test_classify_looks_up_the_tier_by_customer_id() -> None:
    detector = PriorityDetector(tiers={"c-vip": CustomerTier.VIP})
    vip = detector.classify(_ticket("urgent", customer_id="c-vip"))
    unknown = detector.classify(_ticket("urgent", customer_id="c-new"))
    assert vip.priority is Priority.URGENT
    assert unknown.priority is Priority.HIGH
    assert vip.category is None
    assert vip.source == "priority"


def test_tiers_may_be_a_function_returning_tier_values() -> None:
    detector = PriorityDetector(tiers=lambda customer_id: "vip" if customer_id == "c-1" else None)
    assert detector.classify(_ticket("hi", channel=Channel.CHAT)).priority is Priority.HIGH


def test_a_tier_function_returning_nonsense_raises_validation_failed() -> None:
    detector = PriorityDetector(tiers=lambda customer_id: "gold")
    with pytest.raises(ValidationFailed) as info:
        detector.classify(_ticket("hi"))
    assert info.value.field == "tiers"


def test_host_cues_and_points_replace_the_defaults() -> None:
    detector = PriorityDetector(
        cues=[UrgencyCue("chargeback", 4)],
        tier_points={"vip": 0},  # type: ignore[dict-item]
        channel_points={},
    )
    assert detector.assess("a chargeback").priority is Priority.URGENT
    assert detector.assess("outage", tier=CustomerTier.VIP).priority is Priority.NORMAL


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tiers": 3}, "tiers"),
        ({"cues": ["urgent"]}, "cues[0]"),
        ({"tier_points": {"gold": 1}}, "tier_points"),
        ({"tier_points": {"vip": 1.5}}, "tier_points[vip]"),
        ({"channel_points": {"fax": 1}}, "channel_points"),
        ({"urgent_at": 1, "high_at": 2}, "high_at"),
        ({"high_at": -1}, "high_at"),
        ({"urgent_at": "4"}, "urgent_at"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        PriorityDetector(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_cues_and_arguments_are_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        UrgencyCue("", 2)
    assert info.value.field == "phrase"
    with pytest.raises(ValidationFailed) as info:
        UrgencyCue("urgent", 1.5)  # type: ignore[arg-type]
    assert info.value.field == "points"
    with pytest.raises(ValidationFailed) as info:
        DETECTOR.assess("x", tier="vip")  # type: ignore[arg-type]
    assert info.value.field == "tier"
    with pytest.raises(ValidationFailed) as info:
        DETECTOR.assess(None)  # type: ignore[arg-type]
    assert info.value.field == "text"


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.text(st.characters(categories=["Cs", "So", "Lo"]), max_size=100),
        st.text(alphabet="urgent not 紧急 不 down is", max_size=100),
    ),
    tier=st.none() | st.sampled_from(CustomerTier),
    channel=st.none() | st.sampled_from(Channel),
)
@example(text="down " * 20_000, tier=None, channel=None)
def test_any_text_gets_a_priority_that_matches_its_score(
    text: str, tier: CustomerTier | None, channel: Channel | None
) -> None:
    """Never raises for text; the priority is the documented function of the score."""
    assessment = DETECTOR.assess(text, tier=tier, channel=channel)
    assert assessment == DETECTOR.assess(text, tier=tier, channel=channel)
    expected = (
        Priority.URGENT
        if assessment.score >= 4
        else Priority.HIGH
        if assessment.score >= 2
        else Priority.NORMAL
        if assessment.score >= 0
        else Priority.LOW
    )
    assert assessment.priority is expected


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=80), tier=st.sampled_from(CustomerTier))
def test_a_better_tier_never_lowers_the_priority(text: str, tier: CustomerTier) -> None:
    order = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
    tiers = [CustomerTier.PROSPECT, CustomerTier.REGULAR, CustomerTier.KEY, CustomerTier.VIP]
    ranks = [order.index(DETECTOR.assess(text, tier=t).priority) for t in tiers]
    assert ranks == sorted(ranks)
