"""The routing extension points: classifiers and assignment strategies.

A classifier or a strategy is any object with the right method; no base class needed.
The desk calls the classifier once at intake and the strategy whenever it must pick an
assignee itself. Both are pure: they read what they are given and return an answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from ..models import Agent, ComplaintCategory, Priority, Ticket

__all__ = ["AssignmentStrategy", "Classification", "Classifier"]


@attrs.frozen(slots=True)
class Classification:
    """What a classifier concluded about a ticket; ``None`` fields mean "no opinion".

    ``labels`` keeps the top candidates with their confidences (0..1), best first, for the
    agent's UI; ``category`` is the one chosen.
    """

    category: str | None = None
    confidence: float = 0.0
    labels: tuple[tuple[str, float], ...] = ()
    complaint_category: ComplaintCategory | None = None
    priority: Priority | None = None
    language: str | None = None


class Classifier(Protocol):
    """Classifies a new ticket.

    Contract: ``classify`` does not mutate the ticket, does not raise for any text (it
    abstains by returning ``None`` instead), and is deterministic for the same input.

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


class AssignmentStrategy(Protocol):
    """Picks the agent for a ticket among candidates.

    Contract: ``candidates`` are the tenant's agents that may take the ticket (in its team
    when it has one, not offline, below capacity); ``open_counts`` maps agent id to open
    tickets held. Return one of the candidates, or ``None`` when none fits. Deterministic
    for the same input.
    """

    def choose(
        self, ticket: Ticket, candidates: Sequence[Agent], open_counts: Mapping[str, int]
    ) -> Agent | None:
        """The chosen agent, or ``None``."""
        ...
