"""Composition of classifiers: first confident answer, weighted vote, triage, and their laws."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from supportflow import (
    Channel,
    ComplaintCategory,
    CustomerTier,
    Priority,
    SupportDesk,
    Ticket,
    ValidationFailed,
)
from supportflow.routing import (
    Classification,
    FirstConfident,
    KeywordClassifier,
    PriorityDetector,
    Vote,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TICKET = Ticket(
    id="t-1",
    channel=Channel.EMAIL,
    customer_id="c-1",
    subject="",
    body="body",
    created_at=AT,
    updated_at=AT,
)


class Fixed:
    """A classifier that always gives the same answer (``None`` abstains)."""

    def __init__(self, answer: Classification | None) -> None:
        self.answer = answer

    def classify(self, ticket: Ticket) -> Classification | None:
        return self.answer


def _answer(category: str | None, confidence: float = 0.0, **fields: object) -> Classification:
    labels = ((category, confidence),) if category is not None else ()
    return Classification(category=category, confidence=confidence, labels=labels, **fields)  # type: ignore[arg-type]


ANSWERS = st.one_of(
    st.none(),
    st.builds(
        _answer,
        category=st.none() | st.sampled_from(["billing", "technical", "account"]),
        confidence=st.sampled_from([0.0, 0.2, 0.4, 0.5, 0.6, 0.9, 1.0]),
        priority=st.none() | st.sampled_from(Priority),
        complaint_category=st.none() | st.sampled_from(ComplaintCategory),
        language=st.none() | st.sampled_from(["en", "zh"]),
        evidence=st.just(()) | st.tuples(st.sampled_from(["a", "b"])),
    ),
)
THRESHOLDS = st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0])


def _core(result: Classification) -> Classification:
    """Everything but the evidence (nesting adds a triage note per level)."""
    return attrs.evolve(result, evidence=())


def test_the_first_confident_answer_wins() -> None:
    chain = FirstConfident(
        Fixed(_answer("billing", 0.4)),
        Fixed(_answer("technical", 0.8)),
        Fixed(_answer("account", 0.9)),
    )
    result = chain.classify(TICKET)
    assert (result.category, result.confidence, result.needs_triage) == ("technical", 0.8, False)


def test_below_the_threshold_the_ticket_needs_triage_with_the_best_guess() -> None:
    chain = FirstConfident(
        Fixed(_answer("billing", 0.3)), Fixed(_answer("technical", 0.45)), threshold=0.5
    )
    result = chain.classify(TICKET)
    assert result.category == "other"
    assert result.needs_triage
    assert result.confidence == 0.0
    assert result.labels == (("technical", 0.45),)
    assert result.evidence[-1] == "needs triage: best guess technical 0.45 < 0.50"


def test_when_every_classifier_abstains_the_ticket_needs_triage() -> None:
    result = FirstConfident(Fixed(None), triage_category="unsorted").classify(TICKET)
    assert result.category == "unsorted"
    assert result.needs_triage
    assert result.labels == ()


def test_other_fields_come_from_the_first_answer_that_has_them() -> None:
    chain = FirstConfident(
        Fixed(_answer(None, language="zh")),
        Fixed(_answer("billing", 0.9, language="en", priority=Priority.LOW)),
        Fixed(_answer(None, priority=Priority.URGENT, evidence=("cue",))),
    )
    result = chain.classify(TICKET)
    assert result.category == "billing"
    assert result.language == "zh"
    assert result.priority is Priority.LOW
    assert result.evidence == ("cue",)


def test_shipped_classifiers_compose() -> None:
    chain = FirstConfident(KeywordClassifier(), PriorityDetector())
    result = chain.classify(TICKET.model_copy(update={"body": "Urgent: I want a refund"}))
    assert result.category == "billing"
    assert result.priority is Priority.HIGH
    assert result.source == "keywords"


def test_a_vote_sums_weighted_confidences() -> None:
    vote = Vote(
        Fixed(_answer("billing", 0.9)),
        Fixed(_answer("technical", 0.6)),
        Fixed(_answer("technical", 0.6)),
        Fixed(None),
        threshold=0.3,
    )
    result = vote.classify(TICKET)
    assert result.category == "technical"
    assert result.confidence == pytest.approx(1.2 / 3)
    assert result.labels[1] == ("billing", pytest.approx(0.3))


def test_weights_can_swing_a_vote() -> None:
    answers = (Fixed(_answer("billing", 0.9)), Fixed(_answer("technical", 0.6)))
    assert Vote(*answers, threshold=0.0).classify(TICKET).category == "billing"
    swung = Vote(*answers, weights=(1, 3), threshold=0.0).classify(TICKET)
    assert swung.category == "technical"


def test_a_vote_below_threshold_needs_triage() -> None:
    vote = Vote(Fixed(_answer("billing", 0.9)), Fixed(_answer("technical", 0.8)))
    result = vote.classify(TICKET)
    assert result.needs_triage
    assert result.category == "other"
    assert result.labels[0][0] == "billing"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: FirstConfident(), "classifiers"),
        (lambda: FirstConfident(object()), "classifiers[0]"),  # type: ignore[arg-type]
        (lambda: FirstConfident(Fixed(None), threshold=1.5), "threshold"),
        (lambda: FirstConfident(Fixed(None), threshold=math.nan), "threshold"),
        (lambda: FirstConfident(Fixed(None), triage_category=""), "triage_category"),
        (lambda: Vote(Fixed(None), weights=(1, 2)), "weights"),
        (lambda: Vote(Fixed(None), weights=(0,)), "weights[0]"),
        (lambda: Vote(Fixed(None), top_k=0), "top_k"),
    ],
)
def test_bad_composition_is_refused(make: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        make()  # type: ignore[operator]
    assert info.value.field == field


def test_confidence_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        Classification(category="x", confidence=1.5)
    assert info.value.field == "classification.confidence"


# -- laws --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    answers=st.lists(ANSWERS, min_size=1, max_size=5), threshold=THRESHOLDS, at=st.integers(0, 5)
)
def test_abstaining_classifiers_change_nothing(
    answers: list[Classification | None], threshold: float, at: int
) -> None:
    plain = [Fixed(a) for a in answers]
    padded = [*plain[:at], Fixed(None), *plain[at:]]
    for make in (FirstConfident, Vote):
        assert make(*plain, threshold=threshold).classify(TICKET) == make(
            *padded, threshold=threshold
        ).classify(TICKET)


@settings(max_examples=200, deadline=None)
@given(a=ANSWERS, b=ANSWERS, c=ANSWERS, threshold=THRESHOLDS)
def test_first_confident_nests_associatively(
    a: Classification | None, b: Classification | None, c: Classification | None, threshold: float
) -> None:
    flat = FirstConfident(Fixed(a), Fixed(b), Fixed(c), threshold=threshold)
    right = FirstConfident(
        Fixed(a), FirstConfident(Fixed(b), Fixed(c), threshold=threshold), threshold=threshold
    )
    left = FirstConfident(
        FirstConfident(Fixed(a), Fixed(b), threshold=threshold), Fixed(c), threshold=threshold
    )
    assert _core(flat.classify(TICKET)) == _core(right.classify(TICKET))
    assert _core(flat.classify(TICKET)) == _core(left.classify(TICKET))


@settings(max_examples=200, deadline=None)
@given(answers=st.lists(ANSWERS, min_size=1, max_size=4), low=THRESHOLDS, high=THRESHOLDS)
def test_raising_the_threshold_never_decides_a_triaged_ticket(
    answers: list[Classification | None], low: float, high: float
) -> None:
    assume(low <= high)
    for make in (FirstConfident, Vote):
        if make(*map(Fixed, answers), threshold=low).classify(TICKET).needs_triage:
            assert make(*map(Fixed, answers), threshold=high).classify(TICKET).needs_triage


@settings(max_examples=200, deadline=None)
@given(answer=ANSWERS, threshold=THRESHOLDS)
def test_one_classifier_votes_as_it_would_decide_alone(
    answer: Classification | None, threshold: float
) -> None:
    voted = Vote(Fixed(answer), threshold=threshold).classify(TICKET)
    first = FirstConfident(Fixed(answer), threshold=threshold).classify(TICKET)
    assert (voted.category, voted.confidence, voted.needs_triage) == (
        first.category,
        first.confidence,
        first.needs_triage,
    )


@settings(max_examples=200, deadline=None)
@given(
    answers=st.lists(st.tuples(ANSWERS, st.sampled_from([1.0, 2.0, 3.5])), min_size=1, max_size=5),
    threshold=THRESHOLDS,
    data=st.data(),
)
def test_a_vote_does_not_depend_on_the_order_without_ties(
    answers: list[tuple[Classification | None, float]], threshold: float, data: st.DataObject
) -> None:
    totals: dict[str, float] = {}
    for answer, weight in answers:
        if answer is not None and answer.category is not None:
            totals[answer.category] = totals.get(answer.category, 0.0) + weight * answer.confidence
    top = sorted(totals.values(), reverse=True)
    assume(len(top) < 2 or top[0] - top[1] > 1e-9)
    shuffled = data.draw(st.permutations(answers))
    results = [
        Vote(
            *(Fixed(a) for a, _ in order), weights=[w for _, w in order], threshold=threshold
        ).classify(TICKET)
        for order in (answers, shuffled)
    ]
    assert results[0].category == results[1].category
    assert results[0].confidence == pytest.approx(results[1].confidence)


@settings(max_examples=100, deadline=None)
@given(
    category=st.sampled_from(["billing", "technical"]),
    confidences=st.lists(st.sampled_from([0.5, 0.7, 1.0]), min_size=1, max_size=4),
)
def test_a_unanimous_confident_vote_decides(category: str, confidences: list[float]) -> None:
    vote = Vote(*(Fixed(_answer(category, c)) for c in confidences), threshold=0.5)
    result = vote.classify(TICKET)
    assert result.category == category
    assert not result.needs_triage


def test_a_desk_applies_the_composed_classification_at_intake(
    open_desk: Callable[..., AbstractContextManager[SupportDesk]],
) -> None:
    """Category from the keywords, priority from the tier (c-vip is a VIP), both stored."""
    classifier = FirstConfident(
        KeywordClassifier(), PriorityDetector(tiers={"c-vip": CustomerTier.VIP})
    )
    with open_desk(classifier=classifier) as desk:
        ticket = desk.intake(channel="email", customer_id="c-vip", body="Urgent: refund me")
        assert (ticket.category, ticket.priority) == ("billing", Priority.URGENT)
        vague = desk.intake(channel="email", customer_id="c-reg", body="hello")
        assert (vague.category, vague.priority) == ("other", Priority.NORMAL)
