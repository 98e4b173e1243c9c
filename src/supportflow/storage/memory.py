"""An in-memory store: the reference implementation of the storage protocols.

Good for tests, demos and hosts that keep nothing between runs. Units of work stage their
writes and apply them under one lock at ``commit()``, after checking every version and
unique key, so a commit is all or nothing; readers see the last committed state (read
committed). Models are frozen, so stored objects are shared, not copied.

The code is written for the desk's hot path (a few dictionary operations per call), which
is why repositories are made lazily and checks are inlined.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Generic, NoReturn, Protocol, TypeVar

from ..errors import (
    AgentNotFound,
    ArticleNotFound,
    ConcurrencyConflict,
    ConflictError,
    CustomerNotFound,
    DuplicateEntity,
    NotFound,
    StorageError,
    TeamNotFound,
    TicketNotFound,
)
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
from .protocols import (
    DEFAULT_TENANT,
    MAX_CURSOR_NAME_CHARS,
    MAX_CURSOR_VALUE_CHARS,
    OPEN_STATUSES,
    _check_cursor_text,
)

__all__ = ["MemoryStore", "MemoryUnitOfWork"]


class _Part(Protocol):
    def check(self) -> None: ...

    def apply(self) -> None: ...


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


E = TypeVar("E", bound=_Versioned)


class _TenantData:
    """Everything committed for one tenant."""

    __slots__ = (
        "agents",
        "articles",
        "by_customer",
        "by_status",
        "claims",
        "cursors",
        "customer_event_keys",
        "customer_events",
        "customer_events_by_customer",
        "customers",
        "event_keys",
        "events",
        "events_by_ticket",
        "external",
        "message_ids",
        "messages",
        "open_by_assignee",
        "revisions",
        "teams",
        "tickets",
    )

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.by_status: dict[TicketStatus, set[str]] = {}
        """Ticket ids by status: the queue lists the new tickets without a full scan."""
        self.by_customer: dict[str, set[str]] = {}
        """Ticket ids by customer: sticky routing reads a customer's tickets."""
        self.external: dict[tuple[Channel, str], str] = {}
        self.claims: dict[str, object] = {}
        """Queued ticket ids claimed by an open unit of work, with the claiming repository."""
        self.open_by_assignee: dict[str, set[str]] = {}
        """The ids of each assignee's tickets in ``OPEN_STATUSES``."""
        self.customers: dict[str, Customer] = {}
        self.agents: dict[str, Agent] = {}
        self.teams: dict[str, Team] = {}
        self.events: list[TicketEvent] = []
        self.events_by_ticket: dict[str, list[TicketEvent]] = {}
        self.event_keys: set[tuple[str, int]] = set()
        self.customer_events: list[CustomerEvent] = []
        self.customer_events_by_customer: dict[str, list[CustomerEvent]] = {}
        self.customer_event_keys: set[tuple[str, int]] = set()
        self.messages: dict[str, list[Message]] = {}
        self.message_ids: set[str] = set()
        self.cursors: dict[str, str] = {}
        self.articles: dict[str, Article] = {}
        self.revisions: dict[str, dict[int, ArticleRevision]] = {}
        """Each article's revisions, by version."""


class _Repo(Generic[E]):
    """Staged adds and updates of one kind of versioned entity over its committed dict.

    ``_base`` maps each staged id to the stored version the write was based on, 0 for an
    add; ``check`` compares them with what is committed when the unit commits.
    """

    __slots__ = ("_base", "_committed", "_kind", "_not_found", "_refused", "_staged")

    def __init__(
        self, kind: str, committed: dict[str, E], not_found: Callable[[str], NotFound]
    ) -> None:
        self._kind = kind
        self._committed = committed
        self._not_found = not_found
        self._staged: dict[str, E] = {}
        self._base: dict[str, int] = {}
        self._refused: ConflictError | None = None

    def _refuse(self, error: ConflictError) -> NoReturn:
        # A write refused at the call poisons the unit: its commit must store nothing.
        self._refused = error
        raise error

    def get(self, object_id: str) -> E:
        found = self._staged.get(object_id)
        if found is None:
            found = self._committed.get(object_id)
            if found is None:
                raise self._not_found(object_id)
        return found

    def add(self, obj: E) -> None:
        object_id = obj.id
        if object_id in self._staged or object_id in self._committed:
            self._refuse(DuplicateEntity(self._kind, object_id))
        self._staged[object_id] = obj
        self._base[object_id] = 0

    def update(self, obj: E) -> None:
        object_id = obj.id
        current = self.get(object_id)
        if obj.version != current.version + 1:
            self._refuse(
                ConcurrencyConflict(self._kind, object_id, obj.version - 1, current.version)
            )
        if object_id not in self._base:
            self._base[object_id] = current.version
        self._staged[object_id] = obj

    def list(self) -> list[E]:
        merged = {**self._committed, **self._staged}
        return sorted(merged.values(), key=lambda o: o.id)

    def check(self) -> None:
        if self._refused is not None:
            raise self._refused
        committed = self._committed
        for object_id, base in self._base.items():
            stored = committed.get(object_id)
            if base == 0:
                if stored is not None:
                    raise DuplicateEntity(self._kind, object_id)
            elif stored is None or stored.version != base:
                actual = None if stored is None else stored.version
                raise ConcurrencyConflict(self._kind, object_id, base, actual)

    def apply(self) -> None:
        self._committed.update(self._staged)


def _external_key(ticket: Ticket) -> str:
    return f"{ticket.channel.value}:{ticket.external_id}"


class _TicketRepo(_Repo[Ticket]):
    """Tickets, with the external-id index and open counts kept up to date on apply."""

    __slots__ = ("_claimed", "_data")

    def __init__(self, data: _TenantData) -> None:
        super().__init__("ticket", data.tickets, TicketNotFound)
        self._data = data
        self._claimed: list[str] = []

    def claim_waiting(self, ticket_id: str) -> Ticket | None:
        ticket = self._staged.get(ticket_id) or self._committed.get(ticket_id)
        if ticket is None or ticket.status is not TicketStatus.NEW or ticket.assignee_id:
            return None
        # setdefault is one step under the GIL: of two units racing, exactly one owns it.
        if self._data.claims.setdefault(ticket_id, self) is not self:
            return None
        self._claimed.append(ticket_id)
        return ticket

    def release_claims(self) -> None:
        """Give back every ticket this repository claimed (its unit has ended)."""
        claims = self._data.claims
        for ticket_id in self._claimed:
            if claims.get(ticket_id) is self:
                del claims[ticket_id]
        self._claimed.clear()

    def find_by_external_id(self, channel: Channel, external_id: str) -> Ticket | None:
        for ticket in self._staged.values():
            if ticket.external_id == external_id and ticket.channel == channel:
                return ticket
        ticket_id = self._data.external.get((channel, external_id))
        return None if ticket_id is None else self.get(ticket_id)

    def add(self, ticket: Ticket) -> None:
        if (
            ticket.external_id is not None
            and self.find_by_external_id(ticket.channel, ticket.external_id) is not None
        ):
            self._refuse(DuplicateEntity("ticket", _external_key(ticket)))
        super().add(ticket)

    def open_for_assignee(self, assignee_id: str) -> list[Ticket]:
        # The ids are copied in one step, so a commit in another thread cannot change them
        # midway; each ticket is checked again, as it may have moved (or not be stored yet).
        held = set(self._data.open_by_assignee.get(assignee_id, ()))
        committed, staged = self._committed, self._staged
        found = [committed.get(i) for i in held if i not in staged]
        found += staged.values()
        mine = [
            t
            for t in found
            if t is not None and t.assignee_id == assignee_id and t.status in OPEN_STATUSES
        ]
        mine.sort(key=lambda t: (t.created_at, t.id))
        return mine

    def list(
        self,
        *,
        status: TicketStatus | None = None,
        assignee_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[Ticket]:
        committed, staged = self._committed, self._staged
        pool: Iterable[Ticket | None]
        index: set[str] | None = None
        if customer_id is not None:
            index = self._data.by_customer.get(customer_id, set())
        elif status is not None:
            index = self._data.by_status.get(status, set())
        if index is None:
            pool = {**committed, **staged}.values()
        else:
            # As in open_for_assignee: the ids are copied in one step, then each ticket is
            # checked again (it may have moved on, or be staged in this unit).
            ids = set(index)
            pool = [committed.get(i) for i in ids if i not in staged]
            pool += staged.values()
        found = [
            t
            for t in pool
            if t is not None
            and (status is None or t.status == status)
            and (assignee_id is None or t.assignee_id == assignee_id)
            and (customer_id is None or t.customer_id == customer_id)
        ]
        found.sort(key=lambda t: (t.created_at, t.id))
        return found

    def open_counts_by_assignee(self) -> Mapping[str, int]:
        counts = Counter({a: len(ids) for a, ids in self._data.open_by_assignee.copy().items()})
        for ticket_id, ticket in self._staged.items():
            before = self._committed.get(ticket_id)
            if before is not None and before.assignee_id and before.status in OPEN_STATUSES:
                counts[before.assignee_id] -= 1
            if ticket.assignee_id and ticket.status in OPEN_STATUSES:
                counts[ticket.assignee_id] += 1
        return {agent: n for agent, n in counts.items() if n > 0}

    def check(self) -> None:
        super().check()
        external = self._data.external
        for ticket_id, base in self._base.items():
            ticket = self._staged[ticket_id]
            if (
                base == 0
                and ticket.external_id is not None
                and (ticket.channel, ticket.external_id) in external
            ):
                raise DuplicateEntity("ticket", _external_key(ticket))

    def apply(self) -> None:
        data = self._data
        committed = self._committed
        open_ids = data.open_by_assignee
        for ticket_id, ticket in self._staged.items():
            before = committed.get(ticket_id)
            if before is not None:
                if before.status is not ticket.status:
                    data.by_status[before.status].discard(ticket_id)
                if before.assignee_id and before.status in OPEN_STATUSES:
                    held = open_ids[before.assignee_id]
                    held.discard(ticket_id)
                    if not held:
                        del open_ids[before.assignee_id]
                if before.external_id is not None:
                    data.external.pop((before.channel, before.external_id), None)
            if ticket.assignee_id and ticket.status in OPEN_STATUSES:
                holding = open_ids.get(ticket.assignee_id)
                if holding is None:
                    open_ids[ticket.assignee_id] = {ticket_id}
                else:
                    holding.add(ticket_id)
            if ticket.external_id is not None:
                data.external[(ticket.channel, ticket.external_id)] = ticket_id
            if before is None or before.status is not ticket.status:
                data.by_status.setdefault(ticket.status, set()).add(ticket_id)
            if before is None or before.customer_id != ticket.customer_id:
                if before is not None:
                    data.by_customer[before.customer_id].discard(ticket_id)
                data.by_customer.setdefault(ticket.customer_id, set()).add(ticket_id)
            committed[ticket_id] = ticket


def _revision_key(article_id: str, version: int) -> str:
    return f"{article_id}#{version}"


class _ArticleRepo(_Repo[Article]):
    """Articles, with their revisions staged beside them and applied in the same commit."""

    __slots__ = ("_data", "_revisions")

    def __init__(self, data: _TenantData) -> None:
        super().__init__("article", data.articles, ArticleNotFound)
        self._data = data
        self._revisions: dict[tuple[str, int], ArticleRevision] = {}

    def add_revision(self, revision: ArticleRevision) -> None:
        article_id, version = revision.article_id, revision.version
        stored = self._data.revisions.get(article_id)
        if (article_id, version) in self._revisions or (stored and version in stored):
            self._refuse(DuplicateEntity("article revision", _revision_key(article_id, version)))
        self._revisions[article_id, version] = revision

    def revisions(self, article_id: str) -> list[ArticleRevision]:
        found = list(self._data.revisions.get(article_id, {}).values())
        found += (r for (a, _), r in self._revisions.items() if a == article_id)
        found.sort(key=lambda r: r.version)
        return found

    def list(self, *, status: ArticleStatus | None = None) -> list[Article]:
        merged = {**self._committed, **self._staged}
        found = [a for a in merged.values() if status is None or a.status == status]
        found.sort(key=lambda a: a.id)
        return found

    def check(self) -> None:
        super().check()
        stored = self._data.revisions
        taken = sorted(key for key in self._revisions if key[1] in stored.get(key[0], ()))
        if taken:
            raise DuplicateEntity("article revision", _revision_key(*taken[0]))

    def apply(self) -> None:
        super().apply()
        stored = self._data.revisions
        for (article_id, version), revision in self._revisions.items():
            history = stored.get(article_id)
            if history is None:
                stored[article_id] = {version: revision}
            else:
                history[version] = revision


class _EventLog:
    __slots__ = ("_data", "_keys", "_refused", "_staged")

    def __init__(self, data: _TenantData) -> None:
        self._data = data
        self._staged: list[TicketEvent] = []
        self._keys: set[tuple[str, int]] = set()
        self._refused: ConflictError | None = None

    def _refuse(self, error: ConflictError) -> NoReturn:
        self._refused = error
        raise error

    def append(self, events: Sequence[TicketEvent]) -> None:
        stored = self._data.event_keys
        keys: set[tuple[str, int]] = set()
        for event in events:
            key = (event.ticket_id, event.seq)
            if key in keys or key in self._keys or key in stored:
                self._refuse(DuplicateEntity("event", event.id))
            keys.add(key)
        self._staged.extend(events)
        self._keys |= keys

    def for_ticket(self, ticket_id: str) -> list[TicketEvent]:
        found = list(self._data.events_by_ticket.get(ticket_id, ()))
        found.extend(e for e in self._staged if e.ticket_id == ticket_id)
        found.sort(key=lambda e: e.seq)
        return found

    def between(self, start: datetime, end: datetime) -> Iterator[TicketEvent]:
        found = [e for e in (*self._data.events, *self._staged) if start <= e.at < end]
        found.sort(key=lambda e: (e.at, e.ticket_id, e.seq))
        return iter(found)

    def check(self) -> None:
        if self._refused is not None:
            raise self._refused
        data = self._data
        if not self._keys.isdisjoint(data.event_keys):
            ticket_id, seq = min(self._keys & data.event_keys)
            raise DuplicateEntity("event", f"{ticket_id}#{seq}")

    def apply(self) -> None:
        data = self._data
        by_ticket = data.events_by_ticket
        for event in self._staged:
            data.events.append(event)
            stream = by_ticket.get(event.ticket_id)
            if stream is None:
                by_ticket[event.ticket_id] = [event]
            else:
                stream.append(event)
        data.event_keys |= self._keys


class _CustomerEventLog:
    """Customer events, staged like ticket events and applied in the same commit."""

    __slots__ = ("_data", "_keys", "_refused", "_staged")

    def __init__(self, data: _TenantData) -> None:
        self._data = data
        self._staged: list[CustomerEvent] = []
        self._keys: set[tuple[str, int]] = set()
        self._refused: ConflictError | None = None

    def append(self, events: Sequence[CustomerEvent]) -> None:
        stored = self._data.customer_event_keys
        keys: set[tuple[str, int]] = set()
        for event in events:
            key = (event.customer_id, event.seq)
            if key in keys or key in self._keys or key in stored:
                # A refused append poisons the unit: its commit must store nothing.
                self._refused = DuplicateEntity("customer event", event.id)
                raise self._refused
            keys.add(key)
        self._staged.extend(events)
        self._keys |= keys

    def for_customer(self, customer_id: str) -> list[CustomerEvent]:
        found = list(self._data.customer_events_by_customer.get(customer_id, ()))
        found.extend(e for e in self._staged if e.customer_id == customer_id)
        found.sort(key=lambda e: e.seq)
        return found

    def between(self, start: datetime, end: datetime) -> Iterator[CustomerEvent]:
        events = (*self._data.customer_events, *self._staged)
        found = [e for e in events if start <= e.at < end]
        found.sort(key=lambda e: (e.at, e.customer_id, e.seq))
        return iter(found)

    def check(self) -> None:
        if self._refused is not None:
            raise self._refused
        taken = self._keys & self._data.customer_event_keys
        if taken:
            customer_id, seq = min(taken)
            raise DuplicateEntity("customer event", f"{customer_id}#{seq}")

    def apply(self) -> None:
        data = self._data
        by_customer = data.customer_events_by_customer
        for event in self._staged:
            data.customer_events.append(event)
            stream = by_customer.get(event.customer_id)
            if stream is None:
                by_customer[event.customer_id] = [event]
            else:
                stream.append(event)
        data.customer_event_keys |= self._keys


class _MessageRepo:
    __slots__ = ("_data", "_ids", "_refused", "_staged")

    def __init__(self, data: _TenantData) -> None:
        self._data = data
        self._staged: list[Message] = []
        self._ids: set[str] = set()
        self._refused: ConflictError | None = None

    def add(self, message: Message) -> None:
        if message.id in self._ids or message.id in self._data.message_ids:
            self._refused = DuplicateEntity("message", message.id)
            raise self._refused
        self._staged.append(message)
        self._ids.add(message.id)

    def for_ticket(self, ticket_id: str) -> list[Message]:
        found = list(self._data.messages.get(ticket_id, ()))
        found.extend(m for m in self._staged if m.ticket_id == ticket_id)
        return found

    def check(self) -> None:
        if self._refused is not None:
            raise self._refused
        if not self._ids.isdisjoint(self._data.message_ids):
            raise DuplicateEntity("message", min(self._ids & self._data.message_ids))

    def apply(self) -> None:
        messages = self._data.messages
        for message in self._staged:
            stream = messages.get(message.ticket_id)
            if stream is None:
                messages[message.ticket_id] = [message]
            else:
                stream.append(message)
        self._data.message_ids |= self._ids


class _CursorRepo:
    """Cursors: puts staged over the committed dict, applied at commit, last write wins."""

    __slots__ = ("_committed", "_staged")

    def __init__(self, data: _TenantData) -> None:
        self._committed = data.cursors
        self._staged: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        _check_cursor_text("name", name, MAX_CURSOR_NAME_CHARS)
        found = self._staged.get(name)
        return self._committed.get(name) if found is None else found

    def put(self, name: str, value: str) -> None:
        _check_cursor_text("name", name, MAX_CURSOR_NAME_CHARS)
        _check_cursor_text("value", value, MAX_CURSOR_VALUE_CHARS)
        self._staged[name] = value

    def check(self) -> None:
        """Nothing to check: cursors carry no version."""

    def apply(self) -> None:
        self._committed.update(self._staged)


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore`; see ``storage.protocols.UnitOfWork``.

    Repositories are made on first use and dropped at ``commit()`` or ``rollback()``, after
    which the unit may be used again for further work.
    """

    __slots__ = (
        "_agents",
        "_articles",
        "_cursors",
        "_customer_events",
        "_customers",
        "_data",
        "_events",
        "_messages",
        "_store",
        "_teams",
        "_tenant_id",
        "_tickets",
    )
    _tickets: _TicketRepo | None
    _customers: _Repo[Customer] | None
    _agents: _Repo[Agent] | None
    _teams: _Repo[Team] | None
    _events: _EventLog | None
    _customer_events: _CustomerEventLog | None
    _messages: _MessageRepo | None
    _articles: _ArticleRepo | None
    _cursors: _CursorRepo | None

    def __init__(self, store: MemoryStore, tenant_id: str, data: _TenantData) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._data = data
        self.rollback()

    @property
    def tenant_id(self) -> str:
        """The tenant this unit is scoped to."""
        return self._tenant_id

    @property
    def tickets(self) -> _TicketRepo:
        """Tickets."""
        repo = self._tickets
        if repo is None:
            repo = self._tickets = _TicketRepo(self._data)
        return repo

    @property
    def customers(self) -> _Repo[Customer]:
        """Customers."""
        repo = self._customers
        if repo is None:
            repo = self._customers = _Repo("customer", self._data.customers, CustomerNotFound)
        return repo

    @property
    def agents(self) -> _Repo[Agent]:
        """Agents."""
        repo = self._agents
        if repo is None:
            repo = self._agents = _Repo("agent", self._data.agents, AgentNotFound)
        return repo

    @property
    def teams(self) -> _Repo[Team]:
        """Teams."""
        repo = self._teams
        if repo is None:
            repo = self._teams = _Repo("team", self._data.teams, TeamNotFound)
        return repo

    @property
    def events(self) -> _EventLog:
        """The event log."""
        repo = self._events
        if repo is None:
            repo = self._events = _EventLog(self._data)
        return repo

    @property
    def customer_events(self) -> _CustomerEventLog:
        """The customer event log."""
        repo = self._customer_events
        if repo is None:
            repo = self._customer_events = _CustomerEventLog(self._data)
        return repo

    @property
    def messages(self) -> _MessageRepo:
        """Messages."""
        repo = self._messages
        if repo is None:
            repo = self._messages = _MessageRepo(self._data)
        return repo

    @property
    def articles(self) -> _ArticleRepo:
        """Knowledge-base articles and their revisions."""
        repo = self._articles
        if repo is None:
            repo = self._articles = _ArticleRepo(self._data)
        return repo

    @property
    def cursors(self) -> _CursorRepo:
        """Named values, last write wins."""
        repo = self._cursors
        if repo is None:
            repo = self._cursors = _CursorRepo(self._data)
        return repo

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Check every version and unique key, then apply all writes at once."""
        store = self._store
        if store._closed:
            raise StorageError("the store is closed")
        parts: list[_Part] = []
        for repo in (
            self._tickets,
            self._customers,
            self._agents,
            self._teams,
            self._events,
            self._customer_events,
            self._messages,
            self._articles,
            self._cursors,
        ):
            if repo is not None:
                parts.append(repo)
        with store._lock:
            for part in parts:
                part.check()
            for part in parts:
                part.apply()
        self.rollback()

    def rollback(self) -> None:
        """Discard every staged write and give back the unit's claims."""
        tickets = getattr(self, "_tickets", None)
        if tickets is not None:
            tickets.release_claims()
        self._tickets = None
        self._customers = None
        self._agents = None
        self._teams = None
        self._events = None
        self._customer_events = None
        self._messages = None
        self._articles = None
        self._cursors = None


class MemoryStore:
    """Keeps every tenant's data in dictionaries for the life of the process.

    Thread-safe: commits are serialized by one lock. A test double and a reference
    implementation as much as a store; see docs/storage.md.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tenants: dict[str, _TenantData] = {}
        self._closed = False

    def unit_of_work(self, tenant_id: str = DEFAULT_TENANT) -> MemoryUnitOfWork:
        """A new unit of work scoped to ``tenant_id``."""
        if self._closed:
            raise StorageError("the store is closed")
        data = self._tenants.get(tenant_id)
        if data is None:
            with self._lock:
                data = self._tenants.setdefault(tenant_id, _TenantData())
        return MemoryUnitOfWork(self, tenant_id, data)

    def close(self) -> None:
        """Drop all data; later calls raise :class:`~supportflow.errors.StorageError`."""
        self._closed = True
        self._tenants = {}
