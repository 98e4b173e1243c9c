"""An in-memory store: the reference implementation of the storage protocols.

Good for tests, demos and hosts that keep nothing between runs. Units of work stage their
writes and apply them under one lock at ``commit()``, after checking every version and
unique key, so a commit is all or nothing; readers see the last committed state (read
committed). Models are frozen, so stored objects are shared, not copied.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from ..errors import (
    AgentNotFound,
    ConcurrencyConflict,
    CustomerNotFound,
    DuplicateEntity,
    NotFound,
    StorageError,
    TeamNotFound,
    TicketNotFound,
)
from ..models import Agent, Channel, Customer, Message, Team, Ticket, TicketEvent, TicketStatus
from .protocols import DEFAULT_TENANT, OPEN_STATUSES

__all__ = ["MemoryStore", "MemoryUnitOfWork"]


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


E = TypeVar("E", bound=_Versioned)


class _TenantData:
    __slots__ = (
        "agents",
        "customers",
        "event_ids",
        "event_keys",
        "events",
        "events_by_ticket",
        "external",
        "message_ids",
        "messages",
        "open_by_assignee",
        "teams",
        "tickets",
    )

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.external: dict[tuple[Channel, str], str] = {}
        self.open_by_assignee: Counter[str] = Counter()
        self.customers: dict[str, Customer] = {}
        self.agents: dict[str, Agent] = {}
        self.teams: dict[str, Team] = {}
        self.events: list[TicketEvent] = []
        self.events_by_ticket: dict[str, list[TicketEvent]] = {}
        self.event_ids: set[str] = set()
        self.event_keys: set[tuple[str, int]] = set()
        self.messages: dict[str, list[Message]] = {}
        self.message_ids: set[str] = set()


def _open_assignee(ticket: Ticket | None) -> str | None:
    if ticket is None or ticket.status not in OPEN_STATUSES:
        return None
    return ticket.assignee_id


class _Staged(Generic[E]):
    """Staged adds and updates of one kind of versioned entity."""

    def __init__(
        self,
        kind: str,
        committed: dict[str, E],
        not_found: Callable[[str], NotFound],
    ) -> None:
        self.kind = kind
        self.committed = committed
        self.not_found = not_found
        self.staged: dict[str, E] = {}
        self.added: set[str] = set()
        self.expected: dict[str, int] = {}

    def find(self, object_id: str) -> E | None:
        found = self.staged.get(object_id)
        return found if found is not None else self.committed.get(object_id)

    def get(self, object_id: str) -> E:
        found = self.find(object_id)
        if found is None:
            raise self.not_found(object_id)
        return found

    def add(self, obj: E) -> None:
        if obj.id in self.staged or obj.id in self.committed:
            raise DuplicateEntity(self.kind, obj.id)
        self.staged[obj.id] = obj
        self.added.add(obj.id)

    def update(self, obj: E) -> None:
        current = self.get(obj.id)
        if obj.version != current.version + 1:
            raise ConcurrencyConflict(self.kind, obj.id, obj.version - 1, current.version)
        if obj.id not in self.added and obj.id not in self.expected:
            self.expected[obj.id] = current.version
        self.staged[obj.id] = obj

    def values(self) -> list[E]:
        merged = dict(self.committed)
        merged.update(self.staged)
        return list(merged.values())

    def check(self) -> None:
        for object_id in self.added:
            if object_id in self.committed:
                raise DuplicateEntity(self.kind, object_id)
        for object_id, version in self.expected.items():
            stored = self.committed.get(object_id)
            actual = None if stored is None else stored.version
            if actual != version:
                raise ConcurrencyConflict(self.kind, object_id, version, actual)

    def apply(self) -> None:
        self.committed.update(self.staged)

    def clear(self) -> None:
        self.staged.clear()
        self.added.clear()
        self.expected.clear()


class _TicketRepo:
    def __init__(self, data: _TenantData) -> None:
        self._data = data
        self._stage: _Staged[Ticket] = _Staged("ticket", data.tickets, TicketNotFound)

    def get(self, ticket_id: str) -> Ticket:
        return self._stage.get(ticket_id)

    def find_by_external_id(self, channel: Channel, external_id: str) -> Ticket | None:
        for ticket in self._stage.staged.values():
            if ticket.channel == channel and ticket.external_id == external_id:
                return ticket
        ticket_id = self._data.external.get((channel, external_id))
        if ticket_id is None:
            return None
        found = self._stage.find(ticket_id)
        if found is None or found.external_id != external_id or found.channel != channel:
            return None
        return found

    def add(self, ticket: Ticket) -> None:
        if ticket.external_id is not None:
            other = self.find_by_external_id(ticket.channel, ticket.external_id)
            if other is not None:
                raise DuplicateEntity("ticket", f"{ticket.channel.value}:{ticket.external_id}")
        self._stage.add(ticket)

    def update(self, ticket: Ticket) -> None:
        self._stage.update(ticket)

    def list(
        self,
        *,
        status: TicketStatus | None = None,
        assignee_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[Ticket]:
        found = [
            t
            for t in self._stage.values()
            if (status is None or t.status == status)
            and (assignee_id is None or t.assignee_id == assignee_id)
            and (customer_id is None or t.customer_id == customer_id)
        ]
        found.sort(key=lambda t: (t.created_at, t.id))
        return found

    def open_counts_by_assignee(self) -> Mapping[str, int]:
        counts = Counter(self._data.open_by_assignee)
        for ticket_id, ticket in self._stage.staged.items():
            before = _open_assignee(self._data.tickets.get(ticket_id))
            after = _open_assignee(ticket)
            if before is not None:
                counts[before] -= 1
            if after is not None:
                counts[after] += 1
        return {agent: n for agent, n in counts.items() if n > 0}

    def check(self) -> None:
        self._stage.check()
        for ticket_id in self._stage.added:
            ticket = self._stage.staged[ticket_id]
            if ticket.external_id is not None:
                key = (ticket.channel, ticket.external_id)
                if key in self._data.external:
                    raise DuplicateEntity("ticket", f"{ticket.channel.value}:{ticket.external_id}")

    def apply(self) -> None:
        data = self._data
        for ticket_id, ticket in self._stage.staged.items():
            before = data.tickets.get(ticket_id)
            old = _open_assignee(before)
            if old is not None:
                data.open_by_assignee[old] -= 1
            new = _open_assignee(ticket)
            if new is not None:
                data.open_by_assignee[new] += 1
            if before is not None and before.external_id is not None:
                data.external.pop((before.channel, before.external_id), None)
            if ticket.external_id is not None:
                data.external[(ticket.channel, ticket.external_id)] = ticket_id
        self._stage.apply()

    def clear(self) -> None:
        self._stage.clear()


class _EntityRepo(Generic[E]):
    def __init__(self, stage: _Staged[E]) -> None:
        self._stage = stage

    def get(self, object_id: str) -> E:
        return self._stage.get(object_id)

    def add(self, obj: E) -> None:
        self._stage.add(obj)

    def update(self, obj: E) -> None:
        self._stage.update(obj)

    def list(self) -> list[E]:
        return sorted(self._stage.values(), key=lambda o: o.id)


class _EventLog:
    def __init__(self, data: _TenantData) -> None:
        self._data = data
        self._staged: list[TicketEvent] = []
        self._ids: set[str] = set()
        self._keys: set[tuple[str, int]] = set()

    def append(self, events: Sequence[TicketEvent]) -> None:
        ids = set(self._ids)
        keys = set(self._keys)
        for event in events:
            key = (event.ticket_id, event.seq)
            if event.id in ids or event.id in self._data.event_ids:
                raise DuplicateEntity("event", event.id)
            if key in keys or key in self._data.event_keys:
                raise DuplicateEntity("event", f"{event.ticket_id}#{event.seq}")
            ids.add(event.id)
            keys.add(key)
        self._staged.extend(events)
        self._ids = ids
        self._keys = keys

    def for_ticket(self, ticket_id: str) -> list[TicketEvent]:
        found = list(self._data.events_by_ticket.get(ticket_id, ()))
        staged = [e for e in self._staged if e.ticket_id == ticket_id]
        if staged:
            found.extend(staged)
            found.sort(key=lambda e: e.seq)
        return found

    def between(self, start: datetime, end: datetime) -> Iterator[TicketEvent]:
        found = [e for e in (*self._data.events, *self._staged) if start <= e.at < end]
        found.sort(key=lambda e: (e.at, e.ticket_id, e.seq))
        return iter(found)

    def check(self) -> None:
        data = self._data
        if not self._ids.isdisjoint(data.event_ids):
            raise DuplicateEntity("event", min(self._ids & data.event_ids))
        if not self._keys.isdisjoint(data.event_keys):
            ticket_id, seq = min(self._keys & data.event_keys)
            raise DuplicateEntity("event", f"{ticket_id}#{seq}")

    def apply(self) -> None:
        data = self._data
        for event in self._staged:
            data.events.append(event)
            data.events_by_ticket.setdefault(event.ticket_id, []).append(event)
        data.event_ids |= self._ids
        data.event_keys |= self._keys

    def clear(self) -> None:
        self._staged = []
        self._ids = set()
        self._keys = set()


class _MessageRepo:
    def __init__(self, data: _TenantData) -> None:
        self._data = data
        self._staged: list[Message] = []

    def add(self, message: Message) -> None:
        if message.id in self._data.message_ids or any(m.id == message.id for m in self._staged):
            raise DuplicateEntity("message", message.id)
        self._staged.append(message)

    def for_ticket(self, ticket_id: str) -> list[Message]:
        found = list(self._data.messages.get(ticket_id, ()))
        found.extend(m for m in self._staged if m.ticket_id == ticket_id)
        return found

    def check(self) -> None:
        for message in self._staged:
            if message.id in self._data.message_ids:
                raise DuplicateEntity("message", message.id)

    def apply(self) -> None:
        for message in self._staged:
            self._data.messages.setdefault(message.ticket_id, []).append(message)
            self._data.message_ids.add(message.id)

    def clear(self) -> None:
        self._staged = []


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore`; see ``storage.protocols.UnitOfWork``.

    After ``commit()`` or ``rollback()`` the unit may be used again for further work.
    """

    def __init__(self, store: MemoryStore, tenant_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id
        data = store._tenant(tenant_id)
        self._tickets = _TicketRepo(data)
        self._customers: _Staged[Customer] = _Staged("customer", data.customers, CustomerNotFound)
        self._agents: _Staged[Agent] = _Staged("agent", data.agents, AgentNotFound)
        self._teams: _Staged[Team] = _Staged("team", data.teams, TeamNotFound)
        self._customer_repo = _EntityRepo(self._customers)
        self._agent_repo = _EntityRepo(self._agents)
        self._team_repo = _EntityRepo(self._teams)
        self._events = _EventLog(data)
        self._messages = _MessageRepo(data)

    @property
    def tenant_id(self) -> str:
        """The tenant this unit is scoped to."""
        return self._tenant_id

    @property
    def tickets(self) -> _TicketRepo:
        """Tickets."""
        return self._tickets

    @property
    def customers(self) -> _EntityRepo[Customer]:
        """Customers."""
        return self._customer_repo

    @property
    def agents(self) -> _EntityRepo[Agent]:
        """Agents."""
        return self._agent_repo

    @property
    def teams(self) -> _EntityRepo[Team]:
        """Teams."""
        return self._team_repo

    @property
    def events(self) -> _EventLog:
        """The event log."""
        return self._events

    @property
    def messages(self) -> _MessageRepo:
        """Messages."""
        return self._messages

    def __enter__(self) -> MemoryUnitOfWork:
        self._store._check_open()
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
        self._store._check_open()
        with self._store._lock:
            self._tickets.check()
            self._customers.check()
            self._agents.check()
            self._teams.check()
            self._events.check()
            self._messages.check()
            self._tickets.apply()
            self._customers.apply()
            self._agents.apply()
            self._teams.apply()
            self._events.apply()
            self._messages.apply()
        self.rollback()

    def rollback(self) -> None:
        """Discard every staged write."""
        self._tickets.clear()
        self._customers.clear()
        self._agents.clear()
        self._teams.clear()
        self._events.clear()
        self._messages.clear()


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
        self._check_open()
        return MemoryUnitOfWork(self, tenant_id)

    def close(self) -> None:
        """Drop all data; later calls raise :class:`~supportflow.errors.StorageError`."""
        self._closed = True
        self._tenants = {}

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the store is closed")

    def _tenant(self, tenant_id: str) -> _TenantData:
        data = self._tenants.get(tenant_id)
        if data is None:
            with self._lock:
                data = self._tenants.setdefault(tenant_id, _TenantData())
        return data
