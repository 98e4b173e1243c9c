"""The SLA extension point: a policy that says when each commitment on a ticket falls due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ..models import Ticket, TicketEvent

__all__ = ["Deadline", "NoSlaPolicy", "SlaPolicy"]


@attrs.frozen(slots=True)
class Deadline:
    """One commitment on a ticket: ``metric`` (e.g. ``"first_response"``) due at ``due_at``."""

    metric: str
    due_at: datetime


class SlaPolicy(Protocol):
    """Computes a ticket's open deadlines from the ticket and its event history.

    Contract: pure and deterministic; ``history`` is ordered by ``seq``; returned
    deadlines are timezone-aware and ordered by ``due_at``. Met commitments are omitted.
    """

    def deadlines(self, ticket: Ticket, history: Sequence[TicketEvent]) -> Sequence[Deadline]:
        """The ticket's open deadlines."""
        ...


class NoSlaPolicy:
    """No commitments: the default until a host configures a policy."""

    def deadlines(self, ticket: Ticket, history: Sequence[TicketEvent]) -> Sequence[Deadline]:
        """Always empty."""
        return ()
