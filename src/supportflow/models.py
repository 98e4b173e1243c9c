"""The records that cross between supportflow and its host, as validated pydantic models.

Every model is frozen: a change produces a new object (``model_copy(update=...)`` inside the
library), so a stored ticket can be shared without defensive copies. Datetimes must carry a
time zone; a naive one is refused. ``json_schemas()`` exports the JSON Schema of each model.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .errors import ValidationFailed
from .masking import mask_email, mask_handle, mask_phone

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_SUBJECT_CHARS",
    "Agent",
    "AgentRole",
    "AgentStatus",
    "AuthorKind",
    "Channel",
    "ComplaintCategory",
    "Contact",
    "Customer",
    "CustomerEvent",
    "CustomerTier",
    "Message",
    "Priority",
    "SupportflowModel",
    "Team",
    "Ticket",
    "TicketEvent",
    "TicketStatus",
    "event_id",
    "json_schemas",
]

MAX_BODY_CHARS = 100_000
"""Longest ticket or message body accepted, in characters (about 25 pages of text).

Longer text is refused rather than truncated: a host that needs more stores an attachment
and links it."""

MAX_SUBJECT_CHARS = 500
"""Longest subject accepted, in characters."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Body = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)]
Subject = Annotated[str, StringConstraints(max_length=MAX_SUBJECT_CHARS)]


class Channel(StrEnum):
    """Where a request came in."""

    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    WEB_FORM = "web_form"
    SOCIAL_MEDIA = "social_media"
    PORTAL = "portal"


class Priority(StrEnum):
    """How soon the ticket must be handled; ``URGENT`` runs around the clock."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class TicketStatus(StrEnum):
    """Lifecycle states; the transitions between them live in ``supportflow.lifecycle``."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ComplaintCategory(StrEnum):
    """The documents' complaint taxonomy."""

    PRODUCT_QUALITY = "product_quality"
    SERVICE_ATTITUDE = "service_attitude"
    FUNCTIONAL_PROBLEM = "functional_problem"
    OTHER = "other"


class CustomerTier(StrEnum):
    """Customer grade by purchase history, spend and service needs."""

    VIP = "vip"
    KEY = "key"
    REGULAR = "regular"
    PROSPECT = "prospect"


class AgentRole(StrEnum):
    """What an agent does on the team."""

    AGENT = "agent"
    SENIOR = "senior"
    LEAD = "lead"
    QUALITY = "quality"
    TRAINER = "trainer"


class AgentStatus(StrEnum):
    """Whether an agent can take work now."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class AuthorKind(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class SupportflowModel(BaseModel):
    """Base of supportflow's models: frozen, no unknown fields, errors as ``ValidationFailed``.

    pydantic's ``ValidationError`` never escapes: construction, ``model_validate`` and
    ``model_validate_json`` raise :class:`~supportflow.errors.ValidationFailed` naming each
    bad field; assigning to a field raises it too (models are frozen; use
    ``model_copy(update=...)``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc) from None

    # Tell pydantic this __init__ only wraps the base one, so validation (model_validate,
    # nested models) does not call it; pydantic's RootModel does the same.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate ``obj`` into a model (``ValidationFailed`` on bad input)."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc) from None

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Validate JSON text into a model (``ValidationFailed`` on bad input)."""
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise ValidationFailed(name, "models are frozen; use model_copy(update=...)")

    def __delattr__(self, name: str) -> None:
        raise ValidationFailed(name, "models are frozen")


class Contact(SupportflowModel):
    """How to reach a customer; every field optional.

    ``repr()`` and ``str()`` mask every field (``a***@e***.com``, ``***42``, ``@m***``:
    ``supportflow.masking``) and so do the errors about them, so a contact can be logged;
    ``model_dump()`` and JSON keep the values whole. The values are not checked beyond
    their length: a CRM holds what customers gave it ("call after 5pm"), and data stored
    by earlier releases must still load.
    """

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    handle: str | None = Field(default=None, max_length=200, description="chat or social id")

    def __repr_args__(self) -> Iterator[tuple[str, str | None]]:
        # Display only: repr() and str() of a contact (and of a customer holding it) are
        # masked; model_dump() is not.
        yield "email", None if self.email is None else mask_email(self.email)
        yield "phone", None if self.phone is None else mask_phone(self.phone)
        yield "handle", None if self.handle is None else mask_handle(self.handle)


class Customer(SupportflowModel):
    """A customer of the host, with the figures tiering is computed from."""

    id: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    contact: Contact = Contact()
    tier: CustomerTier = CustomerTier.REGULAR
    account_manager_id: Id | None = None
    purchase_count: int = Field(default=0, ge=0)
    total_spend: Decimal = Field(default=Decimal(0), ge=0)
    first_purchase_at: AwareDatetime | None = None
    last_purchase_at: AwareDatetime | None = None
    language: Label | None = None
    version: int = Field(default=1, ge=1)


class Team(SupportflowModel):
    """A group of agents.

    ``escalation_team_id`` names the team that takes this team's escalations (senior
    technical support, say); hosts pass it as ``SupportDesk.escalate(to_team_id=...)``.
    """

    id: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    lead_id: Id | None = None
    escalation_team_id: Id | None = None
    version: int = Field(default=1, ge=1)


class Agent(SupportflowModel):
    """A person who works tickets.

    ``capacity`` caps their open tickets and ``channel_capacity`` the open tickets of a
    channel (three chats at once, say). ``calendar`` names their working-hours calendar;
    the ``Availability`` routing filter looks it up among the calendars it was given.
    """

    id: Id
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    teams: tuple[Id, ...] = ()
    skills: tuple[Label, ...] = ()
    languages: tuple[Label, ...] = ("en",)
    role: AgentRole = AgentRole.AGENT
    capacity: int = Field(default=10, ge=1, le=10_000)
    channel_capacity: dict[Channel, Annotated[int, Field(ge=1, le=10_000)]] = Field(
        default_factory=dict
    )
    calendar: Label | None = None
    status: AgentStatus = AgentStatus.AVAILABLE
    version: int = Field(default=1, ge=1)


class Ticket(SupportflowModel):
    """One customer request and where it stands.

    ``version`` counts committed changes; stores refuse a write whose expected version is
    not the stored one. ``follow_up_of`` links a follow-up to the closed ticket it continues.
    With an SLA policy the desk stamps each running commitment's due time
    (``*_due_at``; ``None`` when not running) and ``sla_check_at``, the next instant an SLA
    warning, breach or escalation falls due, which ``run_due_jobs`` looks for.
    """

    id: Id
    channel: Channel
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    customer_id: Id
    subject: Subject
    body: Body
    language: Label | None = None
    category: Label | None = None
    complaint_category: ComplaintCategory | None = None
    priority: Priority = Priority.NORMAL
    status: TicketStatus = TicketStatus.NEW
    assignee_id: Id | None = None
    team_id: Id | None = None
    escalation_level: int = Field(default=0, ge=0)
    tags: tuple[Label, ...] = ()
    resolution: Body | None = None
    follow_up_of: Id | None = None
    reopen_count: int = Field(default=0, ge=0)
    created_at: AwareDatetime
    updated_at: AwareDatetime
    assigned_at: AwareDatetime | None = None
    acknowledged_at: AwareDatetime | None = None
    first_response_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    first_response_due_at: AwareDatetime | None = None
    acknowledgement_due_at: AwareDatetime | None = None
    next_response_due_at: AwareDatetime | None = None
    resolution_due_at: AwareDatetime | None = None
    sla_check_at: AwareDatetime | None = None
    version: int = Field(default=1, ge=1)


class Message(SupportflowModel):
    """A message on a ticket: the customer's, a public reply, or an internal note."""

    id: Id
    ticket_id: Id
    author_kind: AuthorKind
    author_id: Id
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_CHARS)]
    internal: bool = False
    created_at: AwareDatetime


class TicketEvent(SupportflowModel):
    """One change to a ticket, appended with the ticket's new state in the same unit of work.

    ``seq`` is the event's position in its ticket's stream (1, 2, ...) and the event's
    identity: ``id`` is always ``event_id(ticket_id, seq)``, ``"{ticket_id}#{seq}"``, so a
    store needs one unique key, not two. ``data["changes"]`` holds the ticket fields the
    event set, in JSON form, so the ticket can be replayed from its events
    (``supportflow.events.replay``).
    """

    id: Id
    ticket_id: Id
    seq: int = Field(ge=1)
    type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    at: AwareDatetime
    actor: Id
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _id_is_stream_position(self) -> Self:
        if self.id != event_id(self.ticket_id, self.seq):
            raise ValueError(f"id must be {event_id(self.ticket_id, self.seq)!r} (ticket_id#seq)")
        return self


class CustomerEvent(SupportflowModel):
    """One change to a customer (a tier change, an override), appended with its new state.

    Customers change too, and those changes are part of the record like a ticket's: who
    changed the tier, when and why stays in ``data`` (a tier change carries its reason).
    As for :class:`TicketEvent`, ``seq`` is the position in the customer's stream and
    ``id`` is always ``event_id(customer_id, seq)``, so a store needs one unique key.
    """

    id: Id
    customer_id: Id
    seq: int = Field(ge=1)
    type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    at: AwareDatetime
    actor: Id
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _id_is_stream_position(self) -> Self:
        expected = event_id(self.customer_id, self.seq)
        if self.id != expected:
            raise ValueError(f"id must be {expected!r} (customer_id#seq)")
        return self


def event_id(ticket_id: str, seq: int) -> str:
    """The id of event ``seq`` of ``ticket_id``: ``"{ticket_id}#{seq}"``.

    Customer events use it with the customer's id (the parameter keeps its released name).
    """
    return f"{ticket_id}#{seq}"


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every boundary model, by model name."""
    models: tuple[type[BaseModel], ...] = (
        Customer,
        Team,
        Agent,
        Ticket,
        Message,
        TicketEvent,
        CustomerEvent,
    )
    return {model.__name__: model.model_json_schema() for model in models}
