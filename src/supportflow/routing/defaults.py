"""The simple classifier and assignment strategy a desk uses when the host gives none."""

from __future__ import annotations

from ..models import Ticket
from ..text import detect_language
from .pipeline import Pipeline
from .protocols import Classification
from .steps import Availability, LeastLoaded, TeamRouting, WithinCapacity

__all__ = ["LanguageOnlyClassifier", "default_strategy"]


class LanguageOnlyClassifier:
    """Detects the language and offers no category: every ticket waits for triage."""

    def classify(self, ticket: Ticket) -> Classification | None:
        """A classification carrying only the detected language."""
        return Classification(language=detect_language(f"{ticket.subject}\n{ticket.body}"))


def default_strategy() -> Pipeline:
    """The least-loaded agent of the ticket's team who is at work and has room.

    No skills, languages, tiers or escalation rungs: a desk that has not described its
    agents still routes. ``standard_pipeline()`` is the full process.
    """
    return Pipeline(
        (Availability(), WithinCapacity()),
        order=LeastLoaded(),
        team=TeamRouting(senior_from_level=None, escalation_team_from_level=None),
        name="default",
    )
