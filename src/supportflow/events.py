"""Names of the events a ticket records, and replaying a ticket from its events.

Every change a desk call makes appends one or more :class:`~supportflow.models.TicketEvent`
with the ticket's new state. ``ticket.created`` carries the whole ticket
(``data["ticket"]``), the customer's tier at intake (``data["customer_tier"]``, a
``CustomerTier`` value, which analytics groups by) and, when a classifier answered,
``data["classification"]``; every later event carries ``data["changes"]``, the fields it
set. :func:`replay` rebuilds the ticket from its
stream, which is how audits and the load tests check that nothing was lost. ``kb.*``
events set only ``version`` and ``updated_at``: they record what the knowledge base did
for the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from .errors import ValidationFailed
from .models import Ticket, TicketEvent

__all__ = ["EventType", "json_value", "replay"]


class EventType(StrEnum):
    """The ``type`` of each ticket event (past tense: something that happened)."""

    CREATED = "ticket.created"
    """A request became a ticket: ``data["ticket"]``, ``data["customer_tier"]``."""
    QUEUED = "ticket.queued"
    ASSIGNED = "ticket.assigned"
    REASSIGNED = "ticket.reassigned"
    ACKNOWLEDGED = "ticket.acknowledged"
    REPLIED = "ticket.replied"
    NOTE_ADDED = "ticket.note_added"
    INFO_REQUESTED = "ticket.info_requested"
    CUSTOMER_REPLIED = "ticket.customer_replied"
    HELD = "ticket.held"
    RELEASED = "ticket.released"
    ESCALATED = "ticket.escalated"
    RESOLVED = "ticket.resolved"
    CLOSED = "ticket.closed"
    REOPENED = "ticket.reopened"
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"
    SLA_ESCALATED = "sla.escalated"
    SLA_RETARGETED = "sla.retargeted"
    SLA_TARGET_OVERRIDDEN = "sla.target_overridden"
    """A lead set one SLA target of the ticket by hand: ``data["metric"]``,
    ``data["target"]`` (``None``: the override was removed), ``data["reason"]``."""
    SURVEY_REQUESTED = "feedback.survey_requested"
    """A resolution asked the customer for feedback (``supportflow.feedback``)."""
    SURVEY_ANSWERED = "feedback.survey_answered"
    """The customer answered a survey: CSAT and/or NPS, a comment, the channel."""
    FOLLOW_UP_RAISED = "feedback.follow_up_raised"
    """A low score: the team lead investigates (the documents: at once)."""
    KB_SUGGESTED = "kb.suggested"
    """Articles were suggested for the ticket: ``data["article_ids"]``, ``data["scores"]``."""
    KB_ARTICLE_LINKED = "kb.article_linked"
    """An agent marked an article as what solved the ticket: ``data["article_id"]``."""


_PLAIN = (str, int, float, bool, type(None))


def json_value(value: Any) -> Any:
    """``value`` as JSON-ready data: datetimes as ISO 8601, enums as their values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [json_value(v) for v in value]
    return value


def json_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """A change set as JSON-ready data."""
    return {key: json_value(value) for key, value in changes.items()}


def replay(events: Iterable[TicketEvent]) -> Ticket:
    """Rebuild a ticket from its event stream (which must start with ``ticket.created``)."""
    current: dict[str, Any] | None = None
    for event in sorted(events, key=lambda e: e.seq):
        if current is None:
            if event.type != EventType.CREATED:
                raise ValidationFailed("events", f"stream starts with {event.type!r}")
            current = dict(event.data["ticket"])
        else:
            current.update(event.data.get("changes", {}))
    if current is None:
        raise ValidationFailed("events", "no events to replay")
    try:
        return Ticket.model_validate(current)
    except ValidationFailed as exc:
        raise exc.prefixed("events") from None
