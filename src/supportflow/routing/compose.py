"""Declared ways to combine classifiers: the first confident answer, or a weighted vote.

Both composites are classifiers themselves, so they nest. Both share these rules:

- An abstention (``None``) is ignored, as if that classifier were not in the list.
- Only answers with a ``category`` that do not themselves ask for triage take part in
  choosing the category. When the chosen confidence is below ``threshold`` (or nothing
  had an opinion) the result is the triage answer: ``category`` is ``triage_category``
  (``"other"``), ``needs_triage`` is true, ``confidence`` is 0 and ``labels`` keep the
  most confident answer's guesses for the agent.
- ``complaint_category``, ``priority`` and ``language`` are not voted on: each comes from
  the first answer, in list order, that has an opinion on it, whichever answer decided
  the category. So a ``PriorityDetector`` anywhere in the list supplies the priority, and
  putting it first lets it override any other classifier's priority.
- ``evidence`` collects every answer's evidence in list order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import ValidationFailed
from ..models import Ticket
from .protocols import Classification, Classifier

__all__ = ["TRIAGE_CATEGORY", "FirstConfident", "Vote"]

TRIAGE_CATEGORY = "other"
"""The category of a ticket no classifier was sure about; it waits for a person."""


class FirstConfident:
    """Asks classifiers in order; the first confident category wins, else triage.

    An answer is confident when it has a category, does not ask for triage itself and
    its confidence is at least ``threshold``; the rest of the list is still asked, for
    the fields it may fill (see the module docstring). Laws the tests check: abstaining
    classifiers change nothing, nesting is associative
    (``FirstConfident(a, FirstConfident(b, c)) == FirstConfident(a, b, c)`` for the same
    threshold), and raising the threshold never turns a triaged ticket into a decided one.

    Example::

        classifier = FirstConfident(KeywordClassifier(), trained, PriorityDetector())
    """

    def __init__(
        self,
        *classifiers: Classifier,
        threshold: float = 0.5,
        triage_category: str = TRIAGE_CATEGORY,
    ) -> None:
        self._classifiers = _classifiers(classifiers)
        self._threshold = _threshold(threshold)
        self._triage = _triage_category(triage_category)

    @property
    def threshold(self) -> float:
        """The confidence an answer needs to decide the category."""
        return self._threshold

    def classify(self, ticket: Ticket) -> Classification:
        """The first confident answer's category (or triage), with fields filled in order."""
        answers = _answers(self._classifiers, ticket)
        for answer in answers:
            if _has_category(answer) and answer.confidence >= self._threshold:
                return _merge(answer, answers)
        return _triaged(answers, self._threshold, self._triage)


class Vote:
    """Weighted vote: each answer gives ``weight * confidence`` to its category.

    The category with the most votes wins (ties go to the one voted for first, in list
    order); its confidence is its votes over the total weight of the answers that voted,
    so abstentions do not dilute it, and a vote of one classifier gives that classifier's
    own confidence. Below ``threshold`` the ticket goes to triage. Weights default to 1.

    Example::

        classifier = Vote(KeywordClassifier(), trained, weights=(1, 2), threshold=0.4)
    """

    def __init__(
        self,
        *classifiers: Classifier,
        weights: Sequence[float] | None = None,
        threshold: float = 0.5,
        triage_category: str = TRIAGE_CATEGORY,
        top_k: int = 5,
    ) -> None:
        self._classifiers = _classifiers(classifiers)
        if weights is None:
            weights = [1.0] * len(self._classifiers)
        if isinstance(weights, str) or not isinstance(weights, Sequence):
            raise ValidationFailed("weights", "must be a list of numbers, one per classifier")
        if len(weights) != len(self._classifiers):
            raise ValidationFailed(
                "weights", f"has {len(weights)} entries for {len(self._classifiers)} classifiers"
            )
        for index, weight in enumerate(weights):
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight <= 0
            ):
                raise ValidationFailed(f"weights[{index}]", "must be a finite number above 0")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValidationFailed("top_k", "must be an integer of at least 1")
        self._weights = tuple(float(w) for w in weights)
        self._threshold = _threshold(threshold)
        self._triage = _triage_category(triage_category)
        self._top_k = top_k

    @property
    def threshold(self) -> float:
        """The share of the votes the winner needs to decide the category."""
        return self._threshold

    def classify(self, ticket: Ticket) -> Classification:
        """The category with the most weighted votes (or triage), fields filled in order."""
        answers: list[Classification] = []
        votes: dict[str, float] = {}
        voters: dict[str, list[Classification]] = {}
        cast = 0.0
        for classifier, weight in zip(self._classifiers, self._weights, strict=True):
            answer = classifier.classify(ticket)
            if answer is None:
                continue
            answers.append(answer)
            if _has_category(answer):
                assert answer.category is not None
                votes[answer.category] = votes.get(answer.category, 0.0) + (
                    weight * answer.confidence
                )
                voters.setdefault(answer.category, []).append(answer)
                cast += weight
        if not votes:
            return _triaged(answers, self._threshold, self._triage)
        order = {category: n for n, category in enumerate(votes)}
        ranked = sorted(votes.items(), key=lambda item: (-item[1], order[item[0]]))
        labels = tuple((category, min(1.0, v / cast)) for category, v in ranked[: self._top_k])
        winner, confidence = labels[0]
        if confidence < self._threshold:
            return _triaged(answers, self._threshold, self._triage, labels=labels)
        decided = Classification(
            category=winner,
            confidence=confidence,
            labels=labels,
            source="vote",
        )
        merged = _merge(voters[winner][0], answers)
        return _replace(merged, decided)


def _classifiers(classifiers: Sequence[object]) -> tuple[Classifier, ...]:
    if not classifiers:
        raise ValidationFailed("classifiers", "must name at least one classifier")
    for index, classifier in enumerate(classifiers):
        if not callable(getattr(classifier, "classify", None)):
            raise ValidationFailed(
                f"classifiers[{index}]",
                f"{type(classifier).__name__} has no classify(ticket) method",
            )
    return tuple(classifiers)  # type: ignore[arg-type]


def _threshold(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise ValidationFailed("threshold", "must be a number from 0 to 1")
    return float(value)


def _triage_category(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationFailed("triage_category", "must be a non-empty label of 100 characters")
    return value


def _answers(classifiers: tuple[Classifier, ...], ticket: Ticket) -> list[Classification]:
    return [a for a in (c.classify(ticket) for c in classifiers) if a is not None]


def _has_category(answer: Classification) -> bool:
    return answer.category is not None and not answer.needs_triage


def _merge(decider: Classification, answers: list[Classification]) -> Classification:
    """``decider``'s category, with the other fields from the answers in list order."""
    ordered = answers
    return Classification(
        category=decider.category,
        confidence=decider.confidence,
        labels=decider.labels,
        complaint_category=next(
            (a.complaint_category for a in ordered if a.complaint_category is not None), None
        ),
        priority=next((a.priority for a in ordered if a.priority is not None), None),
        language=next((a.language for a in ordered if a.language is not None), None),
        needs_triage=decider.needs_triage,
        source=decider.source,
        evidence=tuple(line for a in answers for line in a.evidence),
    )


def _replace(merged: Classification, decided: Classification) -> Classification:
    return Classification(
        category=decided.category,
        confidence=decided.confidence,
        labels=decided.labels,
        complaint_category=merged.complaint_category,
        priority=merged.priority,
        language=merged.language,
        source=decided.source,
        evidence=merged.evidence,
    )


def _guess(answer: Classification) -> tuple[tuple[str, float], ...]:
    """What an answer offers as a guess for the UI: its labels, else its category."""
    if answer.labels:
        return answer.labels
    if answer.category is not None and not answer.needs_triage:
        return ((answer.category, answer.confidence),)
    return ()


def _triaged(
    answers: list[Classification],
    threshold: float,
    triage_category: str,
    *,
    labels: tuple[tuple[str, float], ...] | None = None,
) -> Classification:
    """The triage answer: no category was sure enough; keep the best guesses for the UI."""
    if labels is None:
        guesses = [guess for guess in map(_guess, answers) if guess]
        labels = max(guesses, key=lambda guess: guess[0][1], default=())  # first of equals
    note = (
        f"needs triage: best guess {labels[0][0]} {labels[0][1]:.2f} < {threshold:.2f}"
        if labels
        else "needs triage: no classifier had an opinion"
    )
    base = _merge(Classification(), answers)
    return Classification(
        category=triage_category,
        confidence=0.0,
        labels=labels,
        complaint_category=base.complaint_category,
        priority=base.priority,
        language=base.language,
        needs_triage=True,
        source="triage",
        evidence=(*base.evidence, note),
    )
