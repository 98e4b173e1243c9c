"""SupportDesk: the service layer a host calls to run tickets through the process.

Each call validates its arguments, opens one unit of work on the injected store, checks
the change against the lifecycle, writes the ticket's new state with exactly one event per
ticket it changes, and commits; a refused call raises a
:class:`~supportflow.errors.SupportflowError` subclass and stores nothing. A ticket's
``version`` equals the number of its events, and each event's ``seq`` is the version it
produced, so ``supportflow.events.replay`` rebuilds the stored ticket from its events.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
from pydantic import BaseModel, Field, field_validator

from . import _validate as check
from ._build import assemble, evolve
from .clock import Clock, SystemClock
from .errors import (
    AssignmentFailed,
    ConcurrencyConflict,
    DuplicateEntity,
    InvalidTransition,
    NotPermitted,
    ReopenWindowExpired,
    ValidationFailed,
)
from .events import EventType, json_changes, json_value
from .lifecycle import ALLOWED_EVENTS, LifecycleEvent, next_status
from .models import (
    MAX_SUBJECT_CHARS,
    Agent,
    AgentStatus,
    AuthorKind,
    Channel,
    ComplaintCategory,
    Customer,
    Message,
    Priority,
    SupportflowModel,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
    event_id,
)
from .routing.defaults import LanguageOnlyClassifier, LeastLoaded
from .routing.protocols import AssignmentStrategy, Classifier
from .sla.protocols import Deadline, NoSlaPolicy, SlaPolicy
from .storage.protocols import DEFAULT_TENANT, Store, UnitOfWork
from .text import subject_from_body

__all__ = ["DeskSettings", "DueJobsReport", "SupportDesk"]

SYSTEM_ACTOR = "system"
_M = TypeVar("_M", bound=BaseModel)
# Every optional Ticket field at its default: intake fills the rest from checked input.
_TICKET_DEFAULTS: dict[str, Any] = {
    name: field.default for name, field in Ticket.model_fields.items() if not field.is_required()
}


class DeskSettings(SupportflowModel):
    """Rules of the desk that are data, not code."""

    reopen_window: timedelta = Field(
        default=timedelta(days=7),
        description="How long after resolution a ticket may be reopened; later customer "
        "messages open a follow-up ticket instead.",
    )
    auto_close_after: timedelta = Field(
        default=timedelta(days=3),
        description="run_due_jobs closes resolved tickets this long after resolution.",
    )

    @field_validator("reopen_window", "auto_close_after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value


@attrs.frozen(slots=True)
class DueJobsReport:
    """What one ``run_due_jobs`` pass did."""

    closed: tuple[str, ...] = ()
    """Tickets auto-closed."""
    deferred: tuple[str, ...] = ()
    """Tickets skipped because another writer changed them; the next pass retries."""


class SupportDesk:
    """Runs tickets through intake, assignment, work, resolution and closing.

    Args:
        store: where data lives (``MemoryStore``, ``SqliteStore`` or the host's own).
        tenant_id: the company this desk serves; every read and write is scoped to it.
        clock: the source of "now" (``SystemClock`` by default; tests inject a fixed one).
        classifier: called once at intake (default: language detection only).
        assignment: picks an agent when ``assign`` is given none (default: least loaded).
        sla_policy: computes deadlines for ``deadlines`` (default: none).
        settings: reopen window and auto-close delay.
        new_id: makes ids for tickets and messages (default: 128 random bits in hex);
            event ids are always ``"{ticket_id}#{seq}"``.
    """

    def __init__(
        self,
        store: Store,
        *,
        tenant_id: str = DEFAULT_TENANT,
        clock: Clock | None = None,
        classifier: Classifier | None = None,
        assignment: AssignmentStrategy | None = None,
        sla_policy: SlaPolicy | None = None,
        settings: DeskSettings | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        if store is None:
            raise ValidationFailed("store", "is required (MemoryStore, SqliteStore or your own)")
        if isinstance(clock, datetime):
            raise ValidationFailed("clock", "must be a Clock, not a datetime; use FixedClock(...)")
        _collaborator("store", store, "unit_of_work")
        _collaborator("clock", clock, "now")
        _collaborator("classifier", classifier, "classify")
        _collaborator("assignment", assignment, "choose")
        _collaborator("sla_policy", sla_policy, "deadlines")
        if settings is not None and not isinstance(settings, DeskSettings):
            raise ValidationFailed(
                "settings", f"must be DeskSettings, not {type(settings).__name__}"
            )
        if new_id is not None and not callable(new_id):
            raise ValidationFailed("new_id", "must be a callable returning a new id")
        self._store = store
        self._tenant_id = check.object_id("tenant_id", tenant_id)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._classifier: Classifier = (
            classifier if classifier is not None else LanguageOnlyClassifier()
        )
        self._assignment: AssignmentStrategy = (
            assignment if assignment is not None else LeastLoaded()
        )
        self._sla_policy: SlaPolicy = sla_policy if sla_policy is not None else NoSlaPolicy()
        self.settings = settings if settings is not None else DeskSettings()
        self._new_id: Callable[[], str] = new_id if new_id is not None else _random_id

    @property
    def tenant_id(self) -> str:
        """The tenant this desk is scoped to."""
        return self._tenant_id

    # -- directory ---------------------------------------------------------------------

    def add_customer(self, customer: Customer | Mapping[str, Any]) -> Customer:
        """Store a new customer, given as a model or its fields (``DuplicateEntity`` if taken)."""
        stored = _as_model("customer", Customer, customer)
        with self._store.unit_of_work(self._tenant_id) as uow:
            uow.customers.add(stored)
            uow.commit()
        return stored

    def add_team(self, team: Team | Mapping[str, Any]) -> Team:
        """Store a new team, given as a model or its fields."""
        stored = _as_model("team", Team, team)
        with self._store.unit_of_work(self._tenant_id) as uow:
            uow.teams.add(stored)
            uow.commit()
        return stored

    def add_agent(self, agent: Agent | Mapping[str, Any]) -> Agent:
        """Store a new agent, given as a model or its fields; every team it names must exist."""
        stored = _as_model("agent", Agent, agent)
        with self._store.unit_of_work(self._tenant_id) as uow:
            for team_id in stored.teams:
                uow.teams.get(team_id)
            uow.agents.add(stored)
            uow.commit()
        return stored

    def set_agent_status(self, agent_id: str, status: AgentStatus | str) -> Agent:
        """Mark an agent available, away or offline (routing skips offline agents)."""
        agent_id = check.object_id("agent_id", agent_id)
        new_status = check.enum_value("status", AgentStatus, status)
        with self._store.unit_of_work(self._tenant_id) as uow:
            agent = uow.agents.get(agent_id)
            updated = evolve(agent, {"status": new_status, "version": agent.version + 1})
            uow.agents.update(updated)
            uow.commit()
        return updated

    def get_customer(self, customer_id: str) -> Customer:
        """The customer, or ``CustomerNotFound``."""
        customer_id = check.object_id("customer_id", customer_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            return uow.customers.get(customer_id)

    def get_agent(self, agent_id: str) -> Agent:
        """The agent, or ``AgentNotFound``."""
        agent_id = check.object_id("agent_id", agent_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            return uow.agents.get(agent_id)

    # -- reads -------------------------------------------------------------------------

    def get_ticket(self, ticket_id: str) -> Ticket:
        """The ticket, or ``TicketNotFound``."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            return uow.tickets.get(ticket_id)

    def find_by_external_id(self, channel: Channel | str, external_id: str) -> Ticket | None:
        """The ticket a delivery made, if any: lets a host tell a new request from a repeat."""
        found_channel = check.enum_value("channel", Channel, channel)
        found_id = check.text("external_id", external_id, required=True, limit=500).strip()
        with self._store.unit_of_work(self._tenant_id) as uow:
            return uow.tickets.find_by_external_id(found_channel, found_id)

    def list_tickets(
        self,
        *,
        status: TicketStatus | str | None = None,
        assignee_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[Ticket]:
        """Tickets matching every given filter, oldest first."""
        wanted = None if status is None else check.enum_value("status", TicketStatus, status)
        assignee_id = check.optional_id("assignee_id", assignee_id)
        customer_id = check.optional_id("customer_id", customer_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            return uow.tickets.list(status=wanted, assignee_id=assignee_id, customer_id=customer_id)

    def history(self, ticket_id: str) -> list[TicketEvent]:
        """The ticket's events in order (``TicketNotFound`` for an unknown ticket)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            uow.tickets.get(ticket_id)
            return uow.events.for_ticket(ticket_id)

    def messages(self, ticket_id: str) -> list[Message]:
        """The ticket's conversation: the customer's messages, replies and internal notes."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            uow.tickets.get(ticket_id)
            return uow.messages.for_ticket(ticket_id)

    def deadlines(self, ticket_id: str) -> Sequence[Deadline]:
        """The ticket's open SLA deadlines under the desk's policy."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            history = uow.events.for_ticket(ticket_id)
        return self._sla_policy.deadlines(ticket, history)

    # -- intake ------------------------------------------------------------------------

    def intake(
        self,
        *,
        channel: Channel | str,
        customer_id: str,
        body: str = "",
        subject: str = "",
        external_id: str | None = None,
        priority: Priority | str | None = None,
        category: str | None = None,
        team_id: str | None = None,
        tags: Iterable[str] = (),
        language: str | None = None,
        received_at: datetime | None = None,
    ) -> Ticket:
        """Turn a request from any channel into a ticket, exactly once.

        Idempotent on ``(channel, external_id)``: delivering the same request again
        returns the ticket made the first time and stores nothing. At least one of
        ``subject`` and ``body`` must have text; a missing subject is taken from the
        body's first line, a missing body from the subject. ``received_at`` (default now)
        becomes ``created_at``, so SLA clocks start when the customer wrote.
        """
        channel = check.enum_value("channel", Channel, channel)
        customer_id = check.object_id("customer_id", customer_id)
        subject = check.text("subject", subject, required=False, limit=MAX_SUBJECT_CHARS).strip()
        body = check.text("body", body, required=False)
        if not subject and not body.strip():
            raise ValidationFailed("body", "subject and body are both empty")
        external_id = check.optional_text("external_id", external_id, limit=500)
        fields: dict[str, Any] = {
            "channel": channel,
            "external_id": external_id,
            "customer_id": customer_id,
            "subject": subject or subject_from_body(body),
            "body": body if body.strip() else subject,
            "priority": None
            if priority is None
            else check.enum_value("priority", Priority, priority),
            "category": check.optional_text("category", category, limit=100),
            "team_id": check.optional_id("team_id", team_id),
            "tags": check.labels("tags", tags),
            "language": check.optional_text("language", language, limit=100),
        }
        now = self._now()
        created_at = now if received_at is None else check.aware("received_at", received_at)
        try:
            return self._intake(fields, created_at)
        except DuplicateEntity:
            # Another worker stored the same delivery between our read and our commit.
            if external_id is None:
                raise
            with self._store.unit_of_work(self._tenant_id) as uow:
                existing = uow.tickets.find_by_external_id(channel, external_id)
            if existing is None:
                raise
            return existing

    def _intake(self, fields: dict[str, Any], created_at: datetime) -> Ticket:
        with self._store.unit_of_work(self._tenant_id) as uow:
            external_id = fields["external_id"]
            if external_id is not None:
                existing = uow.tickets.find_by_external_id(fields["channel"], external_id)
                if existing is not None:
                    return existing
            uow.customers.get(fields["customer_id"])
            if fields["team_id"] is not None:
                uow.teams.get(fields["team_id"])
            given = {k: v for k, v in fields.items() if v is not None}
            draft = assemble(
                Ticket,
                {
                    **_TICKET_DEFAULTS,
                    **given,
                    "id": self._new_id(),
                    "created_at": created_at,
                    "updated_at": created_at,
                },
            )
            ticket = self._classified(draft, given)
            uow.tickets.add(ticket)
            uow.events.append((self._created_event(ticket),))
            uow.messages.add(
                self._message(
                    ticket, AuthorKind.CUSTOMER, ticket.customer_id, ticket.body, created_at
                )
            )
            uow.commit()
        return ticket

    def _classified(self, ticket: Ticket, given: Mapping[str, Any]) -> Ticket:
        """Apply the classifier's answer to what the request did not state itself."""
        result = self._classifier.classify(ticket)
        if result is None:
            return ticket
        update: dict[str, Any] = {}
        if "category" not in given and result.category is not None:
            update["category"] = check.text(
                "classification.category", result.category, required=True, limit=100
            )
        if result.complaint_category is not None:
            update["complaint_category"] = check.enum_value(
                "classification.complaint_category", ComplaintCategory, result.complaint_category
            )
        if "priority" not in given and result.priority is not None:
            update["priority"] = check.enum_value(
                "classification.priority", Priority, result.priority
            )
        if "language" not in given and result.language is not None:
            update["language"] = check.text(
                "classification.language", result.language, required=True, limit=100
            )
        return evolve(ticket, update) if update else ticket

    def _created_event(self, ticket: Ticket) -> TicketEvent:
        return assemble(
            TicketEvent,
            {
                "id": event_id(ticket.id, ticket.version),
                "ticket_id": ticket.id,
                "seq": ticket.version,
                "type": EventType.CREATED.value,
                "at": ticket.created_at,
                "actor": f"customer:{ticket.customer_id}",
                "data": {"ticket": ticket.model_dump(mode="json")},
            },
        )

    # -- assignment --------------------------------------------------------------------

    def assign(
        self, ticket_id: str, agent_id: str | None = None, *, actor: str = SYSTEM_ACTOR
    ) -> Ticket:
        """Give the ticket to ``agent_id``, or to the strategy's pick when ``None``.

        A new ticket is assigned, one already assigned is reassigned; either way the new
        assignee must acknowledge it. The agent must be below capacity
        (``AssignmentFailed`` otherwise).
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.optional_id("agent_id", agent_id)
        actor = check.object_id("actor", actor)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            command = (
                LifecycleEvent.ASSIGN
                if ticket.status is TicketStatus.NEW
                else LifecycleEvent.REASSIGN
            )
            status = next_status(ticket.id, ticket.status, command)
            agent = self._pick_agent(uow, ticket, agent_id, team_id=ticket.team_id)
            event_type = (
                EventType.ASSIGNED if command is LifecycleEvent.ASSIGN else EventType.REASSIGNED
            )
            updated = self._record(
                uow,
                ticket,
                event_type,
                actor,
                now,
                {"assignee_id": agent.id, "assigned_at": now, "acknowledged_at": None},
                status=status,
                data={"previous_assignee_id": ticket.assignee_id},
            )
            uow.commit()
        return updated

    def _pick_agent(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        agent_id: str | None,
        *,
        team_id: str | None,
        field: str = "agent_id",
    ) -> Agent:
        counts = uow.tickets.open_counts_by_assignee()
        if agent_id is not None:
            agent = uow.agents.get(agent_id)
            if agent.id == ticket.assignee_id:
                raise ValidationFailed(field, f"ticket is already assigned to {agent.id!r}")
            if counts.get(agent.id, 0) >= agent.capacity:
                raise AssignmentFailed(
                    ticket.id, f"agent {agent.id!r} is at capacity ({agent.capacity})"
                )
            return agent
        candidates = [
            a
            for a in uow.agents.list()
            if a.status is not AgentStatus.OFFLINE
            and a.id != ticket.assignee_id
            and (team_id is None or team_id in a.teams)
            and counts.get(a.id, 0) < a.capacity
        ]
        chosen = self._assignment.choose(ticket, candidates, counts)
        if chosen is None:
            where = f" in team {team_id!r}" if team_id else ""
            raise AssignmentFailed(ticket.id, f"no agent{where} is available below capacity")
        if chosen not in candidates:
            raise AssignmentFailed(ticket.id, f"strategy chose {chosen.id!r}, not a candidate")
        return chosen

    def acknowledge(self, ticket_id: str, *, agent_id: str) -> Ticket:
        """The assignee confirms they have taken the ticket (assigned → in progress)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.ACKNOWLEDGE)
            uow.agents.get(agent_id)
            if ticket.assignee_id != agent_id:
                raise NotPermitted(
                    agent_id, "acknowledge", f"the ticket is assigned to {ticket.assignee_id!r}"
                )
            updated = self._record(
                uow,
                ticket,
                EventType.ACKNOWLEDGED,
                agent_id,
                now,
                {"acknowledged_at": now},
                status=status,
            )
            uow.commit()
        return updated

    # -- conversation ------------------------------------------------------------------

    def reply(self, ticket_id: str, *, agent_id: str, body: str, internal: bool = False) -> Ticket:
        """Post a public reply to the customer, or an internal note when ``internal``.

        The first public reply sets ``first_response_at``. Notes do not move the ticket and
        are accepted in every status but closed.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        body = check.text("body", body, required=True)
        internal = check.flag("internal", internal)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            if internal:
                if ticket.status is TicketStatus.CLOSED:
                    raise InvalidTransition(ticket.id, "add_note", ticket.status.value, ())
                status: TicketStatus = ticket.status
                event_type, changes = EventType.NOTE_ADDED, {}
            else:
                status = next_status(ticket.id, ticket.status, LifecycleEvent.REPLY)
                event_type, changes = EventType.REPLIED, self._first_response(ticket, now)
            uow.agents.get(agent_id)
            message = self._message(
                ticket, AuthorKind.AGENT, agent_id, body, now, internal=internal
            )
            uow.messages.add(message)
            updated = self._record(
                uow,
                ticket,
                event_type,
                agent_id,
                now,
                changes,
                status=status,
                data={"message_id": message.id},
            )
            uow.commit()
        return updated

    def request_info(self, ticket_id: str, *, agent_id: str, body: str) -> Ticket:
        """Ask the customer for information; the ticket waits on the customer."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        body = check.text("body", body, required=True)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.REQUEST_INFO)
            uow.agents.get(agent_id)
            message = self._message(ticket, AuthorKind.AGENT, agent_id, body, now)
            uow.messages.add(message)
            updated = self._record(
                uow,
                ticket,
                EventType.INFO_REQUESTED,
                agent_id,
                now,
                self._first_response(ticket, now),
                status=status,
                data={"message_id": message.id},
            )
            uow.commit()
        return updated

    def customer_replied(
        self, ticket_id: str, *, body: str, message_id: str | None = None
    ) -> Ticket:
        """Record a message from the customer and return the ticket that now holds it.

        A ticket waiting on the customer goes back in progress; a resolved one within the
        reopen window is reopened. A closed ticket is final: the message opens a follow-up
        ticket linked by ``follow_up_of`` (a resolved ticket past the window is closed and
        followed up the same way), and the follow-up is returned. ``message_id`` makes
        redelivery idempotent: a message already recorded returns the ticket unchanged.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        body = check.text("body", body, required=True)
        message_id = check.optional_id("message_id", message_id)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            if message_id is not None:
                holder = self._holder_of(uow, ticket, message_id)
                if holder is not None:
                    return holder
            if ticket.status is TicketStatus.CLOSED or self._reopen_expired(ticket, now):
                follow_up = self._follow_up(uow, ticket, body, now, message_id)
                uow.commit()
                return follow_up
            status = next_status(ticket.id, ticket.status, LifecycleEvent.CUSTOMER_REPLIED)
            message = self._message(
                ticket, AuthorKind.CUSTOMER, ticket.customer_id, body, now, message_id=message_id
            )
            uow.messages.add(message)
            changes: dict[str, Any] = {}
            if ticket.status is TicketStatus.RESOLVED:
                changes = {
                    "resolved_at": None,
                    "resolution": None,
                    "reopen_count": ticket.reopen_count + 1,
                }
            updated = self._record(
                uow,
                ticket,
                EventType.CUSTOMER_REPLIED,
                f"customer:{ticket.customer_id}",
                now,
                changes,
                status=status,
                data={"message_id": message.id},
            )
            uow.commit()
        return updated

    @staticmethod
    def _holder_of(uow: UnitOfWork, ticket: Ticket, message_id: str) -> Ticket | None:
        """The ticket already holding ``message_id``: this one or a follow-up of it."""
        if any(m.id == message_id for m in uow.messages.for_ticket(ticket.id)):
            return ticket
        if ticket.status is not TicketStatus.CLOSED:
            return None
        for other in uow.tickets.list(customer_id=ticket.customer_id):
            if other.follow_up_of == ticket.id:
                found = SupportDesk._holder_of(uow, other, message_id)
                if found is not None:
                    return found
        return None

    def _follow_up(
        self, uow: UnitOfWork, ticket: Ticket, body: str, now: datetime, message_id: str | None
    ) -> Ticket:
        if ticket.status is TicketStatus.RESOLVED:
            self._record(
                uow,
                ticket,
                EventType.CLOSED,
                SYSTEM_ACTOR,
                now,
                {"closed_at": now},
                status=next_status(ticket.id, ticket.status, LifecycleEvent.CLOSE),
                data={"reason": "customer wrote after the reopen window"},
            )
        subject = ticket.subject if ticket.subject.startswith("Re: ") else f"Re: {ticket.subject}"
        follow_up = Ticket(
            id=self._new_id(),
            channel=ticket.channel,
            customer_id=ticket.customer_id,
            subject=subject[:MAX_SUBJECT_CHARS],
            body=body,
            language=ticket.language,
            category=ticket.category,
            complaint_category=ticket.complaint_category,
            priority=ticket.priority,
            team_id=ticket.team_id,
            tags=ticket.tags,
            follow_up_of=ticket.id,
            created_at=now,
            updated_at=now,
        )
        uow.tickets.add(follow_up)
        uow.events.append([self._created_event(follow_up)])
        uow.messages.add(
            self._message(
                follow_up, AuthorKind.CUSTOMER, ticket.customer_id, body, now, message_id=message_id
            )
        )
        return follow_up

    # -- hold, escalate ----------------------------------------------------------------

    def hold(self, ticket_id: str, *, agent_id: str, reason: str) -> Ticket:
        """Park the ticket (waiting on a third party, a fix, a visit)."""
        return self._simple(
            ticket_id, agent_id, LifecycleEvent.HOLD, EventType.HELD, {}, reason=("reason", reason)
        )

    def release(self, ticket_id: str, *, agent_id: str) -> Ticket:
        """Take a parked ticket back into work."""
        return self._simple(ticket_id, agent_id, LifecycleEvent.RELEASE, EventType.RELEASED, {})

    def escalate(
        self,
        ticket_id: str,
        *,
        actor: str,
        reason: str,
        to_agent_id: str | None = None,
        to_team_id: str | None = None,
    ) -> Ticket:
        """Raise the escalation level, optionally handing the ticket over.

        With ``to_agent_id`` the ticket goes to that agent (a senior, say); with only
        ``to_team_id`` the assignment strategy picks within that team. A handover puts the
        ticket back to assigned, so the new owner acknowledges it. One event records it.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        actor = check.object_id("actor", actor)
        reason = check.text("reason", reason, required=True, limit=MAX_SUBJECT_CHARS * 4)
        to_agent_id = check.optional_id("to_agent_id", to_agent_id)
        to_team_id = check.optional_id("to_team_id", to_team_id)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.ESCALATE)
            changes: dict[str, Any] = {"escalation_level": ticket.escalation_level + 1}
            if to_team_id is not None:
                uow.teams.get(to_team_id)
                changes["team_id"] = to_team_id
            if to_agent_id is not None or to_team_id is not None:
                command = (
                    LifecycleEvent.ASSIGN if status is TicketStatus.NEW else LifecycleEvent.REASSIGN
                )
                status = next_status(ticket.id, status, command)
                team = to_team_id if to_team_id is not None else None
                agent = self._pick_agent(
                    uow, ticket, to_agent_id, team_id=team, field="to_agent_id"
                )
                changes.update(assignee_id=agent.id, assigned_at=now, acknowledged_at=None)
            updated = self._record(
                uow,
                ticket,
                EventType.ESCALATED,
                actor,
                now,
                changes,
                status=status,
                data={"reason": reason, "previous_assignee_id": ticket.assignee_id},
            )
            uow.commit()
        return updated

    # -- resolve, close, reopen --------------------------------------------------------

    def resolve(self, ticket_id: str, *, agent_id: str, resolution: str) -> Ticket:
        """Mark the ticket solved; ``resolution`` says how (it feeds the knowledge base)."""
        return self._simple(
            ticket_id,
            agent_id,
            LifecycleEvent.RESOLVE,
            EventType.RESOLVED,
            {},
            resolution=("resolution", resolution),
            stamp="resolved_at",
        )

    def close(self, ticket_id: str, *, actor: str = SYSTEM_ACTOR) -> Ticket:
        """Close a resolved ticket for good."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        actor = check.object_id("actor", actor)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            updated = self._close(uow, ticket, actor, now, reason=None)
            uow.commit()
        return updated

    def _close(
        self, uow: UnitOfWork, ticket: Ticket, actor: str, now: datetime, reason: str | None
    ) -> Ticket:
        status = next_status(ticket.id, ticket.status, LifecycleEvent.CLOSE)
        data = {} if reason is None else {"reason": reason}
        return self._record(
            uow, ticket, EventType.CLOSED, actor, now, {"closed_at": now}, status=status, data=data
        )

    def reopen(self, ticket_id: str, *, actor: str, reason: str) -> Ticket:
        """Reopen a resolved ticket within the reopen window (``ReopenWindowExpired`` after)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        actor = check.object_id("actor", actor)
        reason = check.text("reason", reason, required=True, limit=MAX_SUBJECT_CHARS * 4)
        now = self._now()
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.REOPEN)
            if self._reopen_expired(ticket, now):
                allowed = [e for e in ALLOWED_EVENTS[ticket.status] if e != LifecycleEvent.REOPEN]
                raise ReopenWindowExpired(
                    ticket.id, ticket.status.value, allowed, self.settings.reopen_window
                )
            updated = self._record(
                uow,
                ticket,
                EventType.REOPENED,
                actor,
                now,
                {"resolved_at": None, "resolution": None, "reopen_count": ticket.reopen_count + 1},
                status=status,
                data={"reason": reason},
            )
            uow.commit()
        return updated

    # -- scheduled work ----------------------------------------------------------------

    def run_due_jobs(self, now: datetime | None = None) -> DueJobsReport:
        """Do the work that falls due by ``now``: close resolved tickets after the delay.

        The host schedules this (every minute is plenty). Each ticket is its own unit of
        work; one changed concurrently is left for the next pass.
        """
        at = self._now() if now is None else check.aware("now", now)
        with self._store.unit_of_work(self._tenant_id) as uow:
            resolved = uow.tickets.list(status=TicketStatus.RESOLVED)
        cutoff = at - self.settings.auto_close_after
        closed: list[str] = []
        deferred: list[str] = []
        for ticket in resolved:
            if ticket.resolved_at is None or ticket.resolved_at > cutoff:
                continue
            try:
                with self._store.unit_of_work(self._tenant_id) as uow:
                    current = uow.tickets.get(ticket.id)
                    if current.version != ticket.version:
                        raise ConcurrencyConflict(
                            "ticket", ticket.id, ticket.version, current.version
                        )
                    self._close(
                        uow, current, SYSTEM_ACTOR, at, reason="auto-closed after resolution"
                    )
                    uow.commit()
                closed.append(ticket.id)
            except (ConcurrencyConflict, InvalidTransition):
                deferred.append(ticket.id)
        return DueJobsReport(closed=tuple(closed), deferred=tuple(deferred))

    # -- internals ---------------------------------------------------------------------

    def _simple(
        self,
        ticket_id: str,
        agent_id: str,
        command: LifecycleEvent,
        event_type: EventType,
        changes: Mapping[str, Any],
        *,
        reason: tuple[str, str] | None = None,
        resolution: tuple[str, str] | None = None,
        stamp: str | None = None,
    ) -> Ticket:
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        data: dict[str, Any] = {}
        update = dict(changes)
        if reason is not None:
            data["reason"] = check.text(
                reason[0], reason[1], required=True, limit=MAX_SUBJECT_CHARS * 4
            )
        if resolution is not None:
            update["resolution"] = check.text(resolution[0], resolution[1], required=True)
        now = self._now()
        if stamp is not None:
            update[stamp] = now
        with self._store.unit_of_work(self._tenant_id) as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, command)
            uow.agents.get(agent_id)
            updated = self._record(
                uow, ticket, event_type, agent_id, now, update, status=status, data=data
            )
            uow.commit()
        return updated

    def _record(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        event_type: EventType,
        actor: str,
        now: datetime,
        changes: Mapping[str, Any],
        *,
        status: TicketStatus,
        data: Mapping[str, Any] | None = None,
    ) -> Ticket:
        """Write the ticket's next version and the one event that produced it."""
        version = ticket.version + 1
        update = dict(changes)
        if status is not ticket.status:
            update["status"] = status
        update["updated_at"] = now
        update["version"] = version
        updated = evolve(ticket, update)
        event_data: dict[str, Any] = {"changes": json_changes(update)}
        if data:
            event_data.update({k: json_value(v) for k, v in data.items()})
        event = assemble(
            TicketEvent,
            {
                "id": event_id(ticket.id, version),
                "ticket_id": ticket.id,
                "seq": version,
                "type": event_type.value,
                "at": now,
                "actor": actor,
                "data": event_data,
            },
        )
        uow.tickets.update(updated)
        uow.events.append((event,))
        return updated

    def _message(
        self,
        ticket: Ticket,
        kind: AuthorKind,
        author_id: str,
        body: str,
        now: datetime,
        *,
        internal: bool = False,
        message_id: str | None = None,
    ) -> Message:
        return assemble(
            Message,
            {
                "id": message_id if message_id is not None else self._new_id(),
                "ticket_id": ticket.id,
                "author_kind": kind,
                "author_id": author_id,
                "body": body,
                "internal": internal,
                "created_at": now,
            },
        )

    @staticmethod
    def _first_response(ticket: Ticket, now: datetime) -> dict[str, Any]:
        return {} if ticket.first_response_at is not None else {"first_response_at": now}

    def _reopen_expired(self, ticket: Ticket, now: datetime) -> bool:
        return (
            ticket.status is TicketStatus.RESOLVED
            and ticket.resolved_at is not None
            and now - ticket.resolved_at > self.settings.reopen_window
        )

    def _now(self) -> datetime:
        return check.aware("clock", self._clock.now())


def _collaborator(field: str, value: object, method: str) -> None:
    """Refuse at construction an injected object that lacks the method its protocol needs."""
    if value is not None and not callable(getattr(value, method, None)):
        raise ValidationFailed(
            field, f"must have a {method}() method ({type(value).__name__} has none)"
        )


def _as_model(field: str, model: type[_M], value: object) -> _M:
    """``value`` as a ``model``: the model itself, or a mapping of its fields validated."""
    if isinstance(value, model):
        return value
    if not isinstance(value, Mapping):
        raise ValidationFailed(field, f"must be a {model.__name__} or a mapping of its fields")
    try:
        return model.model_validate(value)
    except ValidationFailed as exc:
        raise exc.prefixed(field) from None


def _random_id() -> str:
    """128 random bits as 32 hex digits (the shape of a UUID4 hex, at a fifth of the cost)."""
    return os.urandom(16).hex()
