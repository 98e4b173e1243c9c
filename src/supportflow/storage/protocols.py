"""What a store must do: small repository protocols and a unit of work, all tenant-scoped.

A host that keeps supportflow's data in its own database implements these protocols (no
inheritance needed) and runs ``supportflow.testing.conformance`` against its store.

The contract every implementation keeps:

- **Tenancy.** A unit of work is opened for one tenant; nothing it reads or writes belongs
  to another tenant. Ids are unique per tenant, not globally.
- **Atomicity.** Writes made through a unit of work become visible to others only on
  ``commit()``, all together; leaving the ``with`` block without committing (or with an
  exception) discards them all. A unit of work sees its own uncommitted writes.
- **Versions.** Tickets, customers, agents, teams and knowledge-base articles carry
  ``version``. ``add`` stores the object as given; ``update(obj)`` requires
  ``obj.version`` to be the stored version plus one and otherwise raises
  :class:`~supportflow.errors.ConcurrencyConflict` (at the call or at ``commit()``, at the
  latest; either way nothing of the unit of work is stored).
- **Uniqueness.** ``add`` with an id already stored, a ticket whose
  ``(channel, external_id)`` is already stored, an article revision whose
  ``(article_id, version)`` is already stored, or a ticket or customer event whose
  ``(ticket_id, seq)`` / ``(customer_id, seq)`` is already stored, raises
  :class:`~supportflow.errors.DuplicateEntity` (at the call or at ``commit()``).
- **Order.** Listings are ordered as each method says, so two stores given the same
  operations return the same results. Ids compare by code point, as Python compares
  ``str`` (PostgreSQL needs ``COLLATE "C"``); datetimes compare as instants, whatever
  their zone.
- **Unknown ids.** ``get`` and ``update`` of an id not stored raise the kind's
  :class:`~supportflow.errors.NotFound` subclass.
- **Locking stores.** A store may refuse a second writing unit in the same thread at once
  (with ``ConcurrencyConflict``) rather than wait for a lock the thread itself holds.
- **Errors.** Only :class:`~supportflow.errors.SupportflowError` subclasses escape.

Articles (``uow.articles``) keep their history beside them: each
:class:`~supportflow.kb.articles.ArticleRevision` is appended once, never replaced, and a
store keeps it exactly as given (the article's current state is whatever ``update`` last
stored; a store does not check that the two agree).

Customer events (``uow.customer_events``) are the customers' record, kept like the ticket
event log: append-only, one event per ``(customer_id, seq)`` (an append that repeats one,
stored or in the same unit or call, raises :class:`~supportflow.errors.DuplicateEntity`
and nothing of the unit is stored), visible to other units only at ``commit()``. Every
tier change or override of a customer is appended in the same unit of work as the
customer's new state. A store does not check that the customer exists.

Cursors (``uow.cursors``) are the one unversioned kind: small named strings, last write
wins, for state that a lost update only makes slightly less fair (a round robin's
position), never wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from ..errors import ValidationFailed
from ..kb.articles import Article, ArticleRevision, ArticleStatus
from ..models import (
    Agent,
    Channel,
    Customer,
    CustomerEvent,
    Message,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)

__all__ = [
    "DEFAULT_TENANT",
    "MAX_CURSOR_NAME_CHARS",
    "MAX_CURSOR_VALUE_CHARS",
    "OPEN_STATUSES",
    "AgentRepository",
    "ArticleRepository",
    "CursorRepository",
    "CustomerEventLog",
    "CustomerRepository",
    "EventLog",
    "MessageRepository",
    "Store",
    "TeamRepository",
    "TicketRepository",
    "UnitOfWork",
]

DEFAULT_TENANT = "default"
"""The tenant of hosts that serve a single company."""

OPEN_STATUSES: frozenset[TicketStatus] = frozenset(TicketStatus) - {
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
}
"""Statuses that count against an agent's capacity."""

MAX_CURSOR_NAME_CHARS = 300
"""The longest cursor name a store must accept."""

MAX_CURSOR_VALUE_CHARS = 500
"""The longest cursor value a store must accept."""


def _check_cursor_text(field: str, text: object, limit: int) -> None:
    """Refuse a cursor name or value that not every store could keep as given."""
    if not isinstance(text, str):
        raise ValidationFailed(field, f"must be a string, not {type(text).__name__}")
    if not text:
        raise ValidationFailed(field, "must not be empty")
    if len(text) > limit:
        raise ValidationFailed(field, f"must be at most {limit} characters, got {len(text)}")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(field, "must be valid Unicode (no lone surrogates)") from None


class TicketRepository(Protocol):
    """Tickets of one tenant."""

    def get(self, ticket_id: str) -> Ticket:
        """The ticket, or :class:`~supportflow.errors.TicketNotFound`."""
        ...

    def find_by_external_id(self, channel: Channel, external_id: str) -> Ticket | None:
        """The ticket delivered with this channel and external id, if any."""
        ...

    def add(self, ticket: Ticket) -> None:
        """Store a new ticket (``DuplicateEntity`` if its id or external id is taken)."""
        ...

    def update(self, ticket: Ticket) -> None:
        """Replace the stored ticket; ``ticket.version`` must be the stored one plus one."""
        ...

    def open_for_assignee(self, assignee_id: str) -> list[Ticket]:
        """The tickets in ``OPEN_STATUSES`` assigned to ``assignee_id``, ordered by
        ``(created_at, id)``: one agent's load, without counting every agent's."""
        ...

    def list(
        self,
        *,
        status: TicketStatus | None = None,
        assignee_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[Ticket]:
        """Tickets matching every given filter, ordered by ``(created_at, id)``."""
        ...

    def open_counts_by_assignee(self) -> Mapping[str, int]:
        """How many tickets in ``OPEN_STATUSES`` each assignee holds (absent means 0)."""
        ...

    def claim_waiting(self, ticket_id: str) -> Ticket | None:
        """Take a queued ticket for this unit of work, without waiting for anyone.

        Returns the ticket when it is waiting in the queue (status ``new``, no assignee)
        and no other open unit of work has claimed it; it then stays claimed until this
        unit ends, so two units never assign the same queued ticket. Returns ``None`` when
        the ticket is not waiting (or not stored) or another unit holds it: the caller
        moves on to the next ticket instead of blocking. PostgreSQL claims with ``SELECT
        ... FOR UPDATE SKIP LOCKED``; SQLite, which has one writer at a time, begins the
        unit as an immediate transaction (its write lock taken at once, so the assignment
        that follows cannot fail on a stale read); the memory store keeps a set of claims.
        Call it first in its unit: a store may refuse with ``ConcurrencyConflict`` when the
        ticket changed after the unit's earlier reads.
        """
        ...


class CustomerRepository(Protocol):
    """Customers of one tenant."""

    def get(self, customer_id: str) -> Customer:
        """The customer, or :class:`~supportflow.errors.CustomerNotFound`."""
        ...

    def add(self, customer: Customer) -> None:
        """Store a new customer (``DuplicateEntity`` if the id is taken)."""
        ...

    def update(self, customer: Customer) -> None:
        """Replace the stored customer; ``customer.version`` must be stored plus one."""
        ...

    def list(self) -> list[Customer]:
        """All customers, ordered by id."""
        ...


class AgentRepository(Protocol):
    """Agents of one tenant."""

    def get(self, agent_id: str) -> Agent:
        """The agent, or :class:`~supportflow.errors.AgentNotFound`."""
        ...

    def add(self, agent: Agent) -> None:
        """Store a new agent (``DuplicateEntity`` if the id is taken)."""
        ...

    def update(self, agent: Agent) -> None:
        """Replace the stored agent; ``agent.version`` must be the stored one plus one."""
        ...

    def list(self) -> list[Agent]:
        """All agents, ordered by id."""
        ...


class TeamRepository(Protocol):
    """Teams of one tenant."""

    def get(self, team_id: str) -> Team:
        """The team, or :class:`~supportflow.errors.TeamNotFound`."""
        ...

    def add(self, team: Team) -> None:
        """Store a new team (``DuplicateEntity`` if the id is taken)."""
        ...

    def update(self, team: Team) -> None:
        """Replace the stored team; ``team.version`` must be the stored one plus one."""
        ...

    def list(self) -> list[Team]:
        """All teams, ordered by id."""
        ...


class EventLog(Protocol):
    """The append-only record of ticket events of one tenant."""

    def append(self, events: Sequence[TicketEvent]) -> None:
        """Append events (``DuplicateEntity`` if an event id or (ticket, seq) is taken)."""
        ...

    def for_ticket(self, ticket_id: str) -> list[TicketEvent]:
        """One ticket's events, ordered by ``seq``."""
        ...

    def between(self, start: datetime, end: datetime) -> Iterator[TicketEvent]:
        """Events with ``start <= at < end``, ordered by ``(at, ticket_id, seq)``."""
        ...


class CustomerEventLog(Protocol):
    """The append-only record of customer events (tier changes, overrides) of one tenant."""

    def append(self, events: Sequence[CustomerEvent]) -> None:
        """Append events (``DuplicateEntity`` if a ``(customer_id, seq)`` is taken, by a
        stored event or by another in this unit or this call)."""
        ...

    def for_customer(self, customer_id: str) -> list[CustomerEvent]:
        """One customer's events, ordered by ``seq`` (empty for an unknown customer)."""
        ...

    def between(self, start: datetime, end: datetime) -> Iterator[CustomerEvent]:
        """Events with ``start <= at < end``, ordered by ``(at, customer_id, seq)``."""
        ...


class MessageRepository(Protocol):
    """Messages on tickets of one tenant; append-only."""

    def add(self, message: Message) -> None:
        """Store a message (``DuplicateEntity`` if the id is taken)."""
        ...

    def for_ticket(self, ticket_id: str) -> list[Message]:
        """One ticket's messages, in the order they were added."""
        ...


class ArticleRepository(Protocol):
    """Knowledge-base articles of one tenant, and the revision history of each.

    Articles are versioned like tickets. Revisions are append-only: one per
    ``(article_id, version)``, usually added in the same unit of work as the article
    version they record, so the two are committed (or discarded) together.
    """

    def get(self, article_id: str) -> Article:
        """The article, or :class:`~supportflow.errors.ArticleNotFound`."""
        ...

    def add(self, article: Article) -> None:
        """Store a new article (``DuplicateEntity`` if the id is taken)."""
        ...

    def update(self, article: Article) -> None:
        """Replace the stored article; ``article.version`` must be the stored one plus one."""
        ...

    def add_revision(self, revision: ArticleRevision) -> None:
        """Append a revision (``DuplicateEntity`` if its ``(article_id, version)`` is taken).

        The article need not be stored: the store keeps history, it does not check it."""
        ...

    def revisions(self, article_id: str) -> list[ArticleRevision]:
        """One article's revisions, ordered by ``version`` (empty for an unknown id)."""
        ...

    def list(self, *, status: ArticleStatus | None = None) -> list[Article]:
        """Articles with ``status`` (all when ``None``), ordered by id."""
        ...


class CursorRepository(Protocol):
    """Small named strings of one tenant, such as where each team's round robin stands.

    Unversioned: the last ``put`` committed wins, so two units that read a cursor at once
    may both act on the same value (a store that refuses any unit whose reads are stale,
    as SQLite does, raises ``ConcurrencyConflict`` for the later one instead). Fit for
    state where that costs only a little fairness, not for anything that must not be lost.
    Transactional like every other write.

    A name is a string of 1 to :data:`MAX_CURSOR_NAME_CHARS` characters, a value one of 1
    to :data:`MAX_CURSOR_VALUE_CHARS`, both valid Unicode (no lone surrogates); anything
    else raises :class:`~supportflow.errors.ValidationFailed` naming ``"name"`` or
    ``"value"``, stores nothing and leaves the unit usable.
    """

    def get(self, name: str) -> str | None:
        """The value last put under ``name``, or ``None``; a name ``put`` would refuse is
        refused here too."""
        ...

    def put(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``, replacing any value there (no version check)."""
        ...


class UnitOfWork(Protocol):
    """One transaction over one tenant's repositories; use it as a context manager once."""

    @property
    def tenant_id(self) -> str:
        """The tenant every read and write of this unit is scoped to."""
        ...

    @property
    def tickets(self) -> TicketRepository:
        """Tickets."""
        ...

    @property
    def customers(self) -> CustomerRepository:
        """Customers."""
        ...

    @property
    def agents(self) -> AgentRepository:
        """Agents."""
        ...

    @property
    def teams(self) -> TeamRepository:
        """Teams."""
        ...

    @property
    def events(self) -> EventLog:
        """The event log."""
        ...

    @property
    def customer_events(self) -> CustomerEventLog:
        """The customer event log."""
        ...

    @property
    def messages(self) -> MessageRepository:
        """Messages."""
        ...

    @property
    def articles(self) -> ArticleRepository:
        """Knowledge-base articles and their revisions."""
        ...

    @property
    def cursors(self) -> CursorRepository:
        """Named values, last write wins."""
        ...

    def __enter__(self) -> UnitOfWork:
        """Begin the transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Discard whatever was not committed; never swallows the exception."""
        ...

    def commit(self) -> None:
        """Make every write of this unit visible at once, or raise and store none."""
        ...

    def rollback(self) -> None:
        """Discard every uncommitted write."""
        ...


class Store(Protocol):
    """A place supportflow's data lives; hands out units of work."""

    def unit_of_work(self, tenant_id: str = DEFAULT_TENANT) -> UnitOfWork:
        """A new unit of work scoped to ``tenant_id``."""
        ...

    def close(self) -> None:
        """Release connections and files; the store is unusable afterwards."""
        ...
