"""Shared builders for the routing tests: a Monday-morning ticket and the tickets an agent holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from supportflow.models import Channel, Ticket, TicketStatus

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MONDAY_20 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


def make_ticket(ticket_id: str = "t-new", **fields: Any) -> Ticket:
    """A ticket created Monday 10:00 by ``c-1`` (email unless ``channel`` is given)."""
    fields.setdefault("channel", Channel.EMAIL)
    return Ticket(
        id=ticket_id,
        customer_id="c-1",
        subject="",
        body="help",
        created_at=MONDAY_10,
        updated_at=MONDAY_10,
        **fields,
    )


def held_by(agent_id: str, count: int, **fields: Any) -> list[Ticket]:
    """``count`` open tickets assigned to ``agent_id``."""
    fields.setdefault("status", TicketStatus.ASSIGNED)
    return [make_ticket(f"{agent_id}-{n}", assignee_id=agent_id, **fields) for n in range(count)]
