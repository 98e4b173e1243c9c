"""The simple classifier and assignment strategy a desk uses when the host gives none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..models import Agent, AgentStatus, Ticket
from ..text import detect_language
from .protocols import Classification

__all__ = ["LanguageOnlyClassifier", "LeastLoaded"]


class LanguageOnlyClassifier:
    """Detects the language and offers no category: every ticket waits for triage."""

    def classify(self, ticket: Ticket) -> Classification | None:
        """A classification carrying only the detected language."""
        return Classification(language=detect_language(f"{ticket.subject}\n{ticket.body}"))


class LeastLoaded:
    """Assigns to the available agent with the most free capacity.

    Ranks by share of capacity in use, then open tickets, then agent id, so ties break the
    same way every time. Agents who are away are used only when no one is available.
    """

    def choose(
        self, ticket: Ticket, candidates: Sequence[Agent], open_counts: Mapping[str, int]
    ) -> Agent | None:
        """The least-loaded available candidate, else the least-loaded away one."""
        for wanted in (AgentStatus.AVAILABLE, AgentStatus.AWAY):
            pool = [a for a in candidates if a.status is wanted]
            if pool:
                return min(
                    pool,
                    key=lambda a: (
                        open_counts.get(a.id, 0) / a.capacity,
                        open_counts.get(a.id, 0),
                        a.id,
                    ),
                )
        return None
