"""The classifier extension point: what a classifier returns and the protocol it keeps.

A classifier is any object with a ``classify`` method; no base class needed. The desk
calls it once at intake. Assignment strategies have theirs in ``routing.assignment``.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from ..errors import ValidationFailed
from ..models import ComplaintCategory, Priority, Ticket

__all__ = ["Classification", "Classifier"]


def _confidence(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ValidationFailed(f"classification.{attribute.name}", "must be a number from 0 to 1")


@attrs.frozen(slots=True)
class Classification:
    """What a classifier concluded about a ticket; ``None`` fields mean "no opinion".

    ``labels`` keeps the top candidates with their confidences (0..1), best first, for the
    agent's UI; ``category`` is the one chosen and ``confidence`` its confidence (a
    ``confidence`` outside 0..1 raises ``ValidationFailed``). ``needs_triage`` marks a
    ticket no classifier was sure enough about: ``category`` is then the triage category
    (``"other"``) and ``labels`` keeps the best guesses. ``source`` names the classifier
    that decided the category and ``evidence`` says why (matched keywords, cue points,
    thresholds), one short line each, for the agent and the event log.
    """

    category: str | None = None
    confidence: float = attrs.field(default=0.0, validator=_confidence)
    labels: tuple[tuple[str, float], ...] = ()
    complaint_category: ComplaintCategory | None = None
    priority: Priority | None = None
    language: str | None = None
    needs_triage: bool = False
    source: str | None = None
    evidence: tuple[str, ...] = ()


class Classifier(Protocol):
    """Classifies a new ticket.

    Contract: ``classify`` does not mutate the ticket, does not raise for any text a
    ``Ticket`` can hold, and is deterministic for the same input. It abstains by returning
    ``None``; a ``Classification`` with ``category=None`` abstains on the category only
    (a priority detector, say, answers just ``priority``). How several classifiers combine
    is declared by the composites in ``supportflow.routing.compose`` (``FirstConfident``,
    ``Vote``).

    Example::

        class BillingWords:
            def classify(self, ticket: Ticket) -> Classification | None:
                if "invoice" in ticket.body.lower():
                    return Classification(category="billing", confidence=0.9)
                return None
    """

    def classify(self, ticket: Ticket) -> Classification | None:
        """The classification of ``ticket``, or ``None`` to abstain."""
        ...
