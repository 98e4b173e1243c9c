"""The SQL store: SQLite by default, with SQL written so PostgreSQL can follow.

:class:`SqliteStore` implements ``storage.protocols`` over the standard library's
``sqlite3``. Every table keys rows by tenant; a ``data`` column holds the model's JSON
(``model_dump_json``, read back with ``model_validate_json``), and the columns that
queries filter or sort on are copied beside it, datetimes as fixed-width UTC ISO-8601 text
so they sort as instants. The schema and its upgrades live in
:mod:`supportflow.storage.migrations`; every statement is built once per store from the
:class:`~supportflow.storage.migrations.Dialect`. A ticket, customer, agent, team or
article whose JSON the store has recently written or read is not validated again: the store keeps a
bounded map from JSON text to model, so a read may return the very object written (as the
memory store does) or one validated from the same text, equal either way.

Concurrency is optimistic and left to the database: a unit of work is one deferred
transaction (``BEGIN``; no lock until it writes), an update is
``UPDATE ... WHERE version = <expected>``, and uniqueness is enforced by keys. When two
units of work race for the same rows, the database refuses the loser (no row matched,
``SQLITE_BUSY`` or ``SQLITE_BUSY_SNAPSHOT``) and the store raises
:class:`~supportflow.errors.ConcurrencyConflict`: retry the whole unit of work. Cursors
are the exception by design: a put is an upsert and the last commit wins.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, TypeVar

import attrs
from pydantic import BaseModel, ValidationError

from ..errors import (
    AgentNotFound,
    ArticleNotFound,
    ConcurrencyConflict,
    CustomerNotFound,
    DuplicateEntity,
    NotFound,
    StorageError,
    SupportflowError,
    TeamNotFound,
    TicketNotFound,
    ValidationFailed,
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
from .migrations import SQLITE, Dialect, migrate
from .protocols import (
    DEFAULT_TENANT,
    MAX_CURSOR_NAME_CHARS,
    MAX_CURSOR_VALUE_CHARS,
    OPEN_STATUSES,
    UnitOfWork,
    _check_cursor_text,
)

__all__ = ["SqliteStore"]

M = TypeVar("M", Customer, Agent, Team)
B = TypeVar("B", bound=BaseModel)
F = TypeVar("F", Ticket, Customer, Agent, Team, Article)

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_UNIQUE_ERRORS = frozenset({"SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"})
_FETCH_BATCH = 500
_WAL_CHECKPOINT_PAGES = 10_000
_PARSED_LIMIT = 1024
"""Texts each :class:`_Parsed` keeps (per store and model: a few MiB for tickets)."""
_PARSED_ARTICLES_LIMIT = 128
"""Article texts kept: fewer, as one article may be a hundred times a ticket's size."""

_NEW, _IDLE, _IN_TX, _DONE = range(4)
"""A unit of work's states: not entered, between transactions, in one, exited."""


_last_utc: tuple[datetime | None, str] = (None, "")
"""The last datetime :func:`_utc` converted and its text: one desk call stamps the ticket,
its event and its message with the same ``now``. One tuple, so threads swap it whole."""


def _utc(value: datetime) -> str:
    """Fixed-width UTC ISO-8601 text (``2024-05-01T09:30:00.000000+00:00``), which sorts."""
    global _last_utc
    last, text = _last_utc
    if value is last:
        return text
    if value.utcoffset():
        text = value.astimezone(UTC).isoformat("T", "microseconds")
    else:
        text = value.isoformat("T", "microseconds")
    _last_utc = (value, text)
    return text


def _aware(field: str, value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(field, "must be a timezone-aware datetime")
    return _utc(value)


def _load(model: type[B], data: str, kind: str) -> B:
    """The model in a row's ``data``; a row that no longer validates is a ``StorageError``
    (the stored data is at fault, not the caller's input)."""
    try:
        return model.model_validate_json(data)
    except (ValidationError, ValidationFailed) as exc:
        raise StorageError(f"a stored {kind} is unreadable: {exc}") from exc


class _Parsed(Generic[F]):
    """The models read from (or written as) JSON texts, keyed by the text itself.

    Frozen models whose fields are all immutable (tickets, customers, agents, teams,
    articles) are
    fully determined by their JSON, so a text seen before can be answered with the model
    made from it then instead of being validated again: a ticket read right after it was
    written, or an agent read on every call, costs a dict lookup. A write remembers the
    model it was given, which dumps to that very text. At most ``limit`` texts are kept:
    when full, all are forgotten at once (cheaper than ordering them, and what is in use
    comes back at its next read).

    Shared by every unit of work of a store, so by threads: each step is one dict
    operation, atomic in CPython (and locked per dict in free-threaded builds), and a race
    can at worst forget an entry, which costs one validation again, never a wrong answer.
    """

    __slots__ = ("_entries", "_kind", "_limit", "model")

    def __init__(self, model: type[F], kind: str, limit: int = _PARSED_LIMIT) -> None:
        self.model: type[F] = model
        self._kind = kind
        self._limit = limit
        self._entries: dict[str, F] = {}

    def load(self, data: str) -> F:
        """The model in a row's ``data``; see :func:`_load` for a row that does not validate."""
        found = self._entries.get(data)
        if found is None:
            found = _load(self.model, data, self._kind)
            self.remember(data, found)
        return found

    def remember(self, data: str, obj: F) -> None:
        """Note that ``obj`` is the model ``data`` holds."""
        entries = self._entries
        if len(entries) >= self._limit:
            entries.clear()
        entries[data] = obj


def _translate(
    exc: Exception,
    kind: str,
    key: str,
    expected: int | None = None,
    other_key: tuple[str, str] | None = None,
) -> SupportflowError:
    """The supportflow error for a sqlite3 error; ``other_key`` is ``(column, key)`` to
    name when a unique violation mentions that column instead of the id."""
    if getattr(exc, "sqlite_errorname", None) in _UNIQUE_ERRORS:
        if other_key is not None and other_key[0] in str(exc):
            key = other_key[1]
        return DuplicateEntity(kind, key)
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        conflict = ConcurrencyConflict(kind, key, expected, None)
        conflict.args = (
            f"{kind} {key!r}: another unit of work holds or has changed the data ({exc}); "
            "retry the unit of work",
        )
        return conflict
    return StorageError(f"{kind} {key!r}: {type(exc).__name__}: {exc}")


_INDEXED_GROUPS = (
    ("channel", "external_id"),
    ("customer_id",),
    ("status",),
    ("assignee_id",),
    ("created_at",),
)
_ALWAYS_SET = ("team_id", "priority", "updated_at", "version", "data")


def _update_columns(changed: int) -> list[str]:
    """Columns an update sets: the indexed groups flagged in ``changed``, then the rest."""
    flagged = [
        column
        for bit, group in enumerate(_INDEXED_GROUPS)
        if changed & (1 << bit)
        for column in group
    ]
    return [*flagged, *_ALWAYS_SET]


def _update_params(old: Ticket | None, new: Ticket, data: str) -> tuple[int, list[Any]]:
    """Which indexed groups differ from ``old`` (all when unknown), and the values to set.

    Setting an indexed column rewrites its index entries even when the value is the same,
    and every page rewritten is a page the commit writes; unchanged groups are left out.
    """
    changed = 0
    params: list[Any] = []
    if old is None or new.channel != old.channel or new.external_id != old.external_id:
        changed |= 1
        params += (new.channel.value, new.external_id)
    if old is None or new.customer_id != old.customer_id:
        changed |= 2
        params.append(new.customer_id)
    if old is None or new.status != old.status:
        changed |= 4
        params.append(new.status.value)
    if old is None or new.assignee_id != old.assignee_id:
        changed |= 8
        params.append(new.assignee_id)
    if old is None or new.created_at != old.created_at:
        changed |= 16
        params.append(_utc(new.created_at))
    params += (
        new.team_id,
        new.priority.value,
        _utc(new.updated_at),
        new.version,
        data,
    )
    return changed, params


def _external_key(ticket: Ticket) -> tuple[str, str] | None:
    if ticket.external_id is None:
        return None
    return ("external_id", f"{ticket.channel.value}:{ticket.external_id}")


@attrs.frozen
class _EntitySql:
    get: str
    insert: str
    update: str
    version: str
    list: str


def _entity_sql(dialect: Dialect, table: str) -> _EntitySql:
    q = dialect.sql
    return _EntitySql(
        get=q(f"SELECT data FROM {table} WHERE tenant_id = ? AND id = ?"),
        insert=q(
            f"INSERT INTO {table} (tenant_id, id, version, data) VALUES (?, ?, ?, ?)"
            + dialect.insert_suffix
        ),
        update=q(
            f"UPDATE {table} SET version = ?, data = ? "
            "WHERE tenant_id = ? AND id = ? AND version = ?"
        ),
        version=q(f"SELECT version FROM {table} WHERE tenant_id = ? AND id = ?"),
        list=q(f"SELECT data FROM {table} WHERE tenant_id = ? ORDER BY id"),
    )


class _Statements:
    """Every statement the store runs, in one dialect, built once per store."""

    def __init__(self, dialect: Dialect) -> None:
        q = dialect.sql
        self.begin = dialect.begin
        self.ticket_get = q("SELECT data FROM tickets WHERE tenant_id = ? AND id = ?")
        self.ticket_by_external_id = q(
            "SELECT data FROM tickets WHERE tenant_id = ? AND channel = ? AND external_id = ?"
        )
        self.ticket_insert = q(
            "INSERT INTO tickets (tenant_id, id, channel, external_id, customer_id, status,"
            " assignee_id, team_id, priority, created_at, updated_at, version, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + dialect.insert_suffix
        )
        self.ticket_updates = tuple(
            q(
                "UPDATE tickets SET "
                + ", ".join(f"{column} = ?" for column in _update_columns(changed))
                + " WHERE tenant_id = ? AND id = ? AND version = ?"
            )
            for changed in range(1 << len(_INDEXED_GROUPS))
        )
        self.ticket_version = q("SELECT version FROM tickets WHERE tenant_id = ? AND id = ?")
        self.begin_claim = dialect.begin_claim
        self.ticket_claim = q(
            "SELECT data FROM tickets WHERE tenant_id = ? AND id = ? AND status = ?"
            " AND assignee_id IS NULL" + dialect.claim_suffix
        )
        # The assignee filter names every status so it can use the (status, assignee) index.
        self.all_statuses = tuple(s.value for s in TicketStatus)
        every_status = ", ".join("?" for _ in self.all_statuses)
        self.ticket_list: dict[tuple[bool, bool, bool], str] = {}
        for status in (False, True):
            for assignee in (False, True):
                for customer in (False, True):
                    where = "tenant_id = ?"
                    if status:
                        where += " AND status = ?"
                    elif assignee:
                        where += f" AND status IN ({every_status})"
                    where += " AND assignee_id = ?" if assignee else ""
                    where += " AND customer_id = ?" if customer else ""
                    self.ticket_list[status, assignee, customer] = q(
                        f"SELECT data FROM tickets WHERE {where} ORDER BY created_at, id"
                    )
        self.open_statuses = tuple(sorted(s.value for s in OPEN_STATUSES))
        open_marks = ", ".join("?" for _ in self.open_statuses)
        self.open_counts = q(
            "SELECT assignee_id, COUNT(*) FROM tickets WHERE tenant_id = ?"
            f" AND status IN ({open_marks}) AND assignee_id IS NOT NULL GROUP BY assignee_id"
        )
        # Served by the (tenant_id, status, assignee_id) index: one range per open status.
        self.open_for_assignee = q(
            f"SELECT data FROM tickets WHERE tenant_id = ? AND status IN ({open_marks})"
            " AND assignee_id = ? ORDER BY created_at, id"
        )
        self.customers = _entity_sql(dialect, "customers")
        self.agents = _entity_sql(dialect, "agents")
        self.teams = _entity_sql(dialect, "teams")
        self.event_insert = q(
            "INSERT INTO ticket_events (tenant_id, id, ticket_id, seq, type, at, actor, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + dialect.insert_suffix
        )
        self.events_for_ticket = q(
            "SELECT data FROM ticket_events WHERE tenant_id = ? AND ticket_id = ? ORDER BY seq"
        )
        self.events_between = q(
            "SELECT data FROM ticket_events WHERE tenant_id = ? AND at >= ? AND at < ?"
            " ORDER BY at, ticket_id, seq"
        )
        self.customer_event_insert = q(
            "INSERT INTO customer_events"
            " (tenant_id, id, customer_id, seq, type, at, actor, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + dialect.insert_suffix
        )
        self.customer_events_for_customer = q(
            "SELECT data FROM customer_events WHERE tenant_id = ? AND customer_id = ? ORDER BY seq"
        )
        self.customer_events_between = q(
            "SELECT data FROM customer_events WHERE tenant_id = ? AND at >= ? AND at < ?"
            " ORDER BY at, customer_id, seq"
        )
        self.savepoint = "SAVEPOINT supportflow_append"
        self.release = "RELEASE SAVEPOINT supportflow_append"
        self.rollback_to = "ROLLBACK TO SAVEPOINT supportflow_append"
        self.message_insert = q(
            "INSERT INTO messages (tenant_id, id, ticket_id, position, created_at, data)"
            " VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM messages"
            " WHERE tenant_id = ? AND ticket_id = ?), ?, ?)" + dialect.insert_suffix
        )
        self.messages_for_ticket = q(
            "SELECT data FROM messages WHERE tenant_id = ? AND ticket_id = ? ORDER BY position"
        )
        self.article_get = q("SELECT data FROM articles WHERE tenant_id = ? AND id = ?")
        self.article_insert = q(
            "INSERT INTO articles (tenant_id, id, status, version, data) VALUES (?, ?, ?, ?, ?)"
            + dialect.insert_suffix
        )
        self.article_update = q(
            "UPDATE articles SET status = ?, version = ?, data = ?"
            " WHERE tenant_id = ? AND id = ? AND version = ?"
        )
        self.article_version = q("SELECT version FROM articles WHERE tenant_id = ? AND id = ?")
        self.article_list = q("SELECT data FROM articles WHERE tenant_id = ? ORDER BY id")
        self.article_list_by_status = q(
            "SELECT data FROM articles WHERE tenant_id = ? AND status = ? ORDER BY id"
        )
        self.revision_insert = q(
            "INSERT INTO article_revisions (tenant_id, article_id, version, data)"
            " VALUES (?, ?, ?, ?)" + dialect.insert_suffix
        )
        self.revisions_for_article = q(
            "SELECT data FROM article_revisions WHERE tenant_id = ? AND article_id = ?"
            " ORDER BY version"
        )
        self.cursor_get = q("SELECT value FROM cursors WHERE tenant_id = ? AND name = ?")
        self.cursor_put = q(
            "INSERT INTO cursors (tenant_id, name, value) VALUES (?, ?, ?)"
            " ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value"
        )


class _SqlUnitOfWork:
    """One deferred SQLite transaction over one tenant; see ``protocols.UnitOfWork``.

    The transaction begins at the first read or write. A ``ConcurrencyConflict`` or
    ``StorageError`` rolls it back at once (releasing the write lock for others) and is
    raised again by every later call, ``commit()`` included, until ``rollback()``. A
    ``DuplicateEntity``, ``NotFound`` or ``ValidationFailed`` changes nothing and leaves
    the transaction usable. After ``commit()`` or ``rollback()`` the unit may be used
    again; the next call begins a new transaction.
    """

    __slots__ = (
        "_agents",
        "_articles",
        "_conn",
        "_cursors",
        "_customer_events",
        "_customers",
        "_events",
        "_failure",
        "_messages",
        "_sql",
        "_state",
        "_store",
        "_teams",
        "_tenant_id",
        "_tickets",
        "_writer",
    )

    def __init__(self, store: _SqlStore, tenant_id: str) -> None:
        self._store = store
        self._sql = store._sql
        self._tenant_id = tenant_id
        self._conn: Any = None
        self._state = _NEW
        self._failure: SupportflowError | None = None
        self._writer: int | None = None
        # Repositories are made on first use: most units touch two or three of eight.
        self._tickets: _Tickets | None = None
        self._customers: _Entities[Customer] | None = None
        self._agents: _Entities[Agent] | None = None
        self._teams: _Entities[Team] | None = None
        self._events: _Events | None = None
        self._customer_events: _CustomerEvents | None = None
        self._messages: _Messages | None = None
        self._articles: _Articles | None = None
        self._cursors: _Cursors | None = None

    @property
    def tenant_id(self) -> str:
        """The tenant every read and write of this unit is scoped to."""
        return self._tenant_id

    @property
    def tickets(self) -> _Tickets:
        """Tickets."""
        found = self._tickets
        if found is None:
            found = self._tickets = _Tickets(self)
        return found

    @property
    def customers(self) -> _Entities[Customer]:
        """Customers."""
        found = self._customers
        if found is None:
            store = self._store
            found = _Entities(self, self._sql.customers, store._parsed_customers, CustomerNotFound)
            self._customers = found
        return found

    @property
    def agents(self) -> _Entities[Agent]:
        """Agents."""
        found = self._agents
        if found is None:
            found = _Entities(self, self._sql.agents, self._store._parsed_agents, AgentNotFound)
            self._agents = found
        return found

    @property
    def teams(self) -> _Entities[Team]:
        """Teams."""
        found = self._teams
        if found is None:
            found = _Entities(self, self._sql.teams, self._store._parsed_teams, TeamNotFound)
            self._teams = found
        return found

    @property
    def events(self) -> _Events:
        """The event log."""
        found = self._events
        if found is None:
            found = self._events = _Events(self)
        return found

    @property
    def customer_events(self) -> _CustomerEvents:
        """The customer event log."""
        found = self._customer_events
        if found is None:
            found = self._customer_events = _CustomerEvents(self)
        return found

    @property
    def messages(self) -> _Messages:
        """Messages."""
        found = self._messages
        if found is None:
            found = self._messages = _Messages(self)
        return found

    @property
    def articles(self) -> _Articles:
        """Knowledge-base articles and their revisions."""
        found = self._articles
        if found is None:
            found = self._articles = _Articles(self)
        return found

    @property
    def cursors(self) -> _Cursors:
        """Named values, last write wins."""
        found = self._cursors
        if found is None:
            found = self._cursors = _Cursors(self)
        return found

    def __enter__(self) -> _SqlUnitOfWork:
        if self._state != _NEW:
            raise StorageError("a unit of work can be entered only once; open a new one")
        self._conn = self._store._acquire()
        self._state = _IDLE
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, state = self._conn, self._state
        self._state = _DONE
        if conn is None or state == _DONE:
            return
        failure: Exception | None = None
        if state == _IN_TX:
            self._release_write_lock()
            try:
                conn.execute("ROLLBACK")
            except self._store._errors as error:
                failure = error
        self._store._release(conn, healthy=failure is None)
        if failure is not None and exc is None and not self._store._closed:
            raise StorageError(f"rollback failed: {failure}") from failure

    def commit(self) -> None:
        """Make every write of this unit visible at once, or raise and store none."""
        conn = self._conn
        if self._state == _IN_TX and conn is not None:
            try:
                conn.execute("COMMIT")
            except self._store._errors as exc:
                raise self._fail(exc, "unit of work", self._tenant_id) from exc
            self._state = _IDLE
            self._release_write_lock()
        elif self._failure is not None:
            raise self._failure
        elif self._state != _IDLE:
            raise self._misuse()

    def rollback(self) -> None:
        """Discard every uncommitted write, and forget an earlier failure."""
        self._failure = None
        conn = self._conn
        if self._state == _IN_TX and conn is not None:
            self._state = _IDLE
            self._release_write_lock()
            try:
                conn.execute("ROLLBACK")
            except self._store._errors as exc:
                raise self._fail(exc, "unit of work", self._tenant_id) from exc

    def _connection(self) -> Any:
        """The connection, in a transaction (begun here if none is open)."""
        conn = self._conn
        if self._state == _IN_TX and conn is not None:
            return conn
        if self._failure is not None:
            raise self._failure
        if self._state != _IDLE or conn is None:
            raise self._misuse()
        try:
            conn.execute(self._sql.begin)
        except self._store._errors as exc:
            raise self._fail(exc, "unit of work", self._tenant_id) from exc
        self._state = _IN_TX
        if self._tickets is not None:
            self._tickets.seen.clear()
        return conn

    def _begin_claim(self, kind: str, key: str) -> None:
        """Begin the transaction as one that claims rows (SQLite: write lock at once), when
        none is open; inside one already, the claim is an ordinary statement of it."""
        conn = self._conn
        if self._state != _IDLE or conn is None or self._failure is not None:
            return
        if self._writer is None:
            self._claim_write_lock(kind, key)
        try:
            conn.execute(self._sql.begin_claim)
        except self._store._errors as exc:
            raise self._fail(exc, kind, key) from exc
        self._state = _IN_TX
        if self._tickets is not None:
            self._tickets.seen.clear()

    def _one(self, sql: str, params: Sequence[Any], kind: str, key: str) -> Any:
        """The first row of a query, or None; a parameter the database cannot encode (a
        lone surrogate; a NUL in PostgreSQL) matches nothing, as no stored text has one."""
        conn = self._connection()
        try:
            return conn.execute(sql, params).fetchone()
        except UnicodeEncodeError:
            return None
        except self._store._errors as exc:
            if self._store._unencodable(exc):
                return None
            raise self._fail(exc, kind, key) from exc

    def _all(self, sql: str, params: Sequence[Any], kind: str, key: str) -> list[Any]:
        """Every row of a query; see :meth:`_one` for parameters it cannot encode."""
        conn = self._connection()
        try:
            rows: list[Any] = conn.execute(sql, params).fetchall()
            return rows
        except UnicodeEncodeError:
            return []
        except self._store._errors as exc:
            if self._store._unencodable(exc):
                return []
            raise self._fail(exc, kind, key) from exc

    def _write(
        self,
        sql: str,
        params: Sequence[Any],
        kind: str,
        key: str,
        expected: int | None = None,
        other_key: tuple[str, str] | None = None,
    ) -> Any:
        conn = self._connection()
        if self._writer is None:
            self._claim_write_lock(kind, key)
        try:
            return conn.execute(sql, params)
        except (OverflowError, UnicodeEncodeError) as exc:
            raise ValidationFailed(kind, f"{key!r} cannot be stored: {exc}") from exc
        except self._store._errors as exc:
            if self._store._unencodable(exc):
                raise ValidationFailed(kind, f"{key!r} cannot be stored: {exc}") from exc
            raise self._fail(exc, kind, key, expected, other_key) from exc

    def _insert(self, sql: str, params: Sequence[Any], kind: str, key: str) -> None:
        """Insert one row; a key already taken is ``DuplicateEntity`` and changes nothing."""
        if self._write(sql, params, kind, key).rowcount == 0:
            raise DuplicateEntity(kind, key)

    def _misuse(self) -> StorageError:
        if self._state == _NEW:
            return StorageError("use a unit of work inside `with store.unit_of_work() as uow:`")
        return StorageError("this unit of work has ended; open a new one")

    def _fail(
        self,
        exc: Exception,
        kind: str,
        key: str,
        expected: int | None = None,
        other_key: tuple[str, str] | None = None,
    ) -> SupportflowError:
        error = self._store._translate(exc, kind, key, expected, other_key)
        if isinstance(error, ConcurrencyConflict | StorageError):
            self._abort(error)
        return error

    def _stale(
        self, kind: str, object_id: str, expected: int, version_sql: str, missing: type[NotFound]
    ) -> SupportflowError:
        """The error for an update that matched no row: not found, or a stale version."""
        row = self._one(version_sql, (self._tenant_id, object_id), kind, object_id)
        if row is None:
            return missing(object_id)
        conflict = ConcurrencyConflict(kind, object_id, expected, int(row[0]))
        self._abort(conflict)
        return conflict

    def _abort(self, error: SupportflowError) -> None:
        self._failure = error
        conn = self._conn
        if self._state == _IN_TX and conn is not None:
            self._state = _IDLE
            self._release_write_lock()
            with suppress(*self._store._errors):
                conn.execute("ROLLBACK")

    def _claim_write_lock(self, kind: str, key: str) -> None:
        """Note that this unit now writes (SQLite's write lock is held until it ends); refuse
        at once if another unit of this store in this thread holds it, which no wait can
        release."""
        thread = threading.get_ident()
        writers = self._store._writers
        holder = writers.get(thread)
        if holder is not None and holder is not self:
            conflict = ConcurrencyConflict(kind, key, None, None)
            conflict.args = (
                f"{kind} {key!r}: another unit of work of this store in this thread is "
                "writing; commit or leave it before writing in a second one",
            )
            self._abort(conflict)
            raise conflict
        writers[thread] = self
        self._writer = thread

    def _release_write_lock(self) -> None:
        thread = self._writer
        if thread is not None:
            self._writer = None
            writers = self._store._writers
            if writers.get(thread) is self:
                del writers[thread]


class _Tickets:
    """Tickets; ``seen`` holds each ticket as read or written in the current transaction,
    so an update sets only the indexed columns that changed."""

    __slots__ = ("_parsed", "_sql", "_tenant", "_uow", "seen")

    def __init__(self, uow: _SqlUnitOfWork) -> None:
        self._uow = uow
        self._sql = uow._sql
        self._tenant = uow._tenant_id
        self._parsed = uow._store._parsed_tickets
        self.seen: dict[str, Ticket] = {}

    def get(self, ticket_id: str) -> Ticket:
        row = self._uow._one(self._sql.ticket_get, (self._tenant, ticket_id), "ticket", ticket_id)
        if row is None:
            raise TicketNotFound(ticket_id)
        ticket = self._parsed.load(row[0])
        self.seen[ticket.id] = ticket
        return ticket

    def find_by_external_id(self, channel: Channel, external_id: str) -> Ticket | None:
        row = self._uow._one(
            self._sql.ticket_by_external_id,
            (self._tenant, channel.value, external_id),
            "ticket",
            f"{channel.value}:{external_id}",
        )
        if row is None:
            return None
        ticket = self._parsed.load(row[0])
        self.seen[ticket.id] = ticket
        return ticket

    def add(self, ticket: Ticket) -> None:
        data = ticket.model_dump_json()
        params = (
            self._tenant,
            ticket.id,
            ticket.channel.value,
            ticket.external_id,
            ticket.customer_id,
            ticket.status.value,
            ticket.assignee_id,
            ticket.team_id,
            ticket.priority.value,
            _utc(ticket.created_at),
            _utc(ticket.updated_at),
            ticket.version,
            data,
        )
        uow = self._uow
        other_key = _external_key(ticket)
        cursor = uow._write(self._sql.ticket_insert, params, "ticket", ticket.id, None, other_key)
        if cursor.rowcount == 0:
            # Skipped on a key already taken (PostgreSQL): the id, else the external id.
            version = (self._tenant, ticket.id)
            taken = uow._one(self._sql.ticket_version, version, "ticket", ticket.id) is not None
            key = ticket.id if taken or other_key is None else other_key[1]
            raise DuplicateEntity("ticket", key)
        self.seen[ticket.id] = ticket
        if type(ticket) is Ticket:
            self._parsed.remember(data, ticket)

    def update(self, ticket: Ticket) -> None:
        uow = self._uow
        uow._connection()
        expected = ticket.version - 1
        old = self.seen.get(ticket.id)
        if old is not None and old.version != expected:
            old = None
        data = ticket.model_dump_json()
        changed, params = _update_params(old, ticket, data)
        params += (self._tenant, ticket.id, expected)
        cursor = uow._write(
            self._sql.ticket_updates[changed],
            params,
            "ticket",
            ticket.id,
            expected,
            _external_key(ticket),
        )
        if cursor.rowcount != 1:
            raise uow._stale(
                "ticket", ticket.id, expected, self._sql.ticket_version, TicketNotFound
            )
        self.seen[ticket.id] = ticket
        if type(ticket) is Ticket:
            self._parsed.remember(data, ticket)

    def claim_waiting(self, ticket_id: str) -> Ticket | None:
        uow = self._uow
        uow._begin_claim("ticket", ticket_id)
        params = (self._tenant, ticket_id, TicketStatus.NEW.value)
        row = uow._one(self._sql.ticket_claim, params, "ticket", ticket_id)
        if row is None:
            return None
        ticket = self._parsed.load(row[0])
        self.seen[ticket.id] = ticket
        return ticket

    def open_counts_by_assignee(self) -> Mapping[str, int]:
        params = (self._tenant, *self._sql.open_statuses)
        return dict(self._uow._all(self._sql.open_counts, params, "ticket", "open counts"))

    def open_for_assignee(self, assignee_id: str) -> list[Ticket]:
        params = (self._tenant, *self._sql.open_statuses, assignee_id)
        rows = self._uow._all(self._sql.open_for_assignee, params, "ticket", assignee_id)
        load = self._parsed.load
        return [load(row[0]) for row in rows]

    def list(
        self,
        *,
        status: TicketStatus | None = None,
        assignee_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[Ticket]:
        params: list[str] = [self._tenant]
        if status is not None:
            params.append(status.value)
        elif assignee_id is not None:
            params += self._sql.all_statuses
        if assignee_id is not None:
            params.append(assignee_id)
        if customer_id is not None:
            params.append(customer_id)
        sql = self._sql.ticket_list[
            status is not None, assignee_id is not None, customer_id is not None
        ]
        rows = self._uow._all(sql, params, "ticket", "list")
        load = self._parsed.load
        return [load(row[0]) for row in rows]


class _Entities(Generic[M]):
    """Customers, agents or teams: versioned JSON documents keyed by id."""

    __slots__ = ("_kind", "_missing", "_model", "_parsed", "_sql", "_tenant", "_uow")

    def __init__(
        self,
        uow: _SqlUnitOfWork,
        sql: _EntitySql,
        parsed: _Parsed[M],
        missing: type[NotFound],
    ) -> None:
        self._uow: _SqlUnitOfWork = uow
        self._sql: _EntitySql = sql
        self._tenant = uow._tenant_id
        self._parsed: _Parsed[M] = parsed
        self._model: type[M] = parsed.model
        self._kind = missing.kind
        self._missing = missing

    def get(self, object_id: str) -> M:
        row = self._uow._one(self._sql.get, (self._tenant, object_id), self._kind, object_id)
        if row is None:
            raise self._missing(object_id)
        return self._parsed.load(row[0])

    def add(self, obj: M) -> None:
        data = obj.model_dump_json()
        params = (self._tenant, obj.id, obj.version, data)
        self._uow._insert(self._sql.insert, params, self._kind, obj.id)
        if type(obj) is self._model:
            self._parsed.remember(data, obj)

    def update(self, obj: M) -> None:
        expected = obj.version - 1
        data = obj.model_dump_json()
        params = (obj.version, data, self._tenant, obj.id, expected)
        cursor = self._uow._write(self._sql.update, params, self._kind, obj.id, expected)
        if cursor.rowcount != 1:
            raise self._uow._stale(self._kind, obj.id, expected, self._sql.version, self._missing)
        if type(obj) is self._model:
            self._parsed.remember(data, obj)

    def list(self) -> list[M]:
        rows = self._uow._all(self._sql.list, (self._tenant,), self._kind, "list")
        load = self._parsed.load
        return [load(row[0]) for row in rows]


E = TypeVar("E", TicketEvent, CustomerEvent)


class _EventLog(Generic[E]):
    """An event stream table; an ``append`` of several events is all or nothing (a savepoint).

    Subclasses name the model, the kind used in errors, the field that keys a stream and
    their insert, by-stream and between queries (attribute names on ``_Sql``).
    """

    __slots__ = ("_queries", "_sql", "_tenant", "_uow")

    _model: type[E]
    _kind: str
    _stream_key: str
    _query_names: tuple[str, str, str]

    def __init__(self, uow: _SqlUnitOfWork) -> None:
        self._uow: _SqlUnitOfWork = uow
        self._sql = uow._sql
        self._tenant = uow._tenant_id
        self._queries: tuple[str, ...] = tuple(getattr(self._sql, n) for n in self._query_names)

    def _stream_id(self, event: E) -> str:
        stream_id: str = getattr(event, self._stream_key)
        return stream_id

    def append(self, events: Sequence[E]) -> None:
        if len(events) == 1:
            self._insert(events[0])
            return
        if not events:
            return
        uow, sql, first, kind = self._uow, self._sql, events[0].id, self._kind
        uow._write(sql.savepoint, (), kind, first)
        try:
            for event in events:
                self._insert(event)
        except (DuplicateEntity, ValidationFailed):
            uow._write(sql.rollback_to, (), kind, first)
            uow._write(sql.release, (), kind, first)
            raise
        uow._write(sql.release, (), kind, first)

    def _insert(self, event: E) -> None:
        params = (
            self._tenant,
            event.id,
            self._stream_id(event),
            event.seq,
            event.type,
            _utc(event.at),
            event.actor,
            event.model_dump_json(),
        )
        self._uow._insert(self._queries[0], params, self._kind, event.id)

    def _stream(self, stream_id: str) -> list[E]:
        params = (self._tenant, stream_id)
        rows = self._uow._all(self._queries[1], params, self._kind, stream_id)
        return [_load(self._model, row[0], self._kind) for row in rows]

    def between(self, start: datetime, end: datetime) -> Iterator[E]:
        """Streams the events in batches; consume the iterator inside the unit of work."""
        params = (self._tenant, _aware("start", start), _aware("end", end))
        return _stream(self._uow, self._queries[2], params, self._model, self._kind)


class _Events(_EventLog[TicketEvent]):
    """The ticket event log."""

    __slots__ = ()
    _model = TicketEvent
    _kind = "event"
    _stream_key = "ticket_id"
    _query_names = ("event_insert", "events_for_ticket", "events_between")

    def for_ticket(self, ticket_id: str) -> list[TicketEvent]:
        return self._stream(ticket_id)


class _CustomerEvents(_EventLog[CustomerEvent]):
    """The customer event log."""

    __slots__ = ()
    _model = CustomerEvent
    _kind = "customer event"
    _stream_key = "customer_id"
    _query_names = (
        "customer_event_insert",
        "customer_events_for_customer",
        "customer_events_between",
    )

    def for_customer(self, customer_id: str) -> list[CustomerEvent]:
        return self._stream(customer_id)


def _stream(
    uow: _SqlUnitOfWork, sql: str, params: Sequence[Any], model: type[B], kind: str
) -> Iterator[B]:
    """The models in a query's ``data`` column, fetched in batches.

    The query runs at the first ``next()``, so an iterator never started holds no cursor;
    the cursor is closed when the iterator ends or is dropped. Validates with the model's
    schema validator directly: a million events read for a report spend a second in the
    two wrappers ``_load`` goes through.
    """
    store = uow._store
    conn = uow._connection()
    try:
        cursor = store._open_stream(conn, sql, params)
    except store._errors as exc:
        raise uow._fail(exc, kind, "between") from exc
    validate = model.__pydantic_validator__.validate_json
    try:
        while True:
            try:
                rows = cursor.fetchmany(_FETCH_BATCH)
            except store._errors as exc:
                raise store._translate(exc, kind, "between") from exc
            if not rows:
                return
            try:
                for row in rows:
                    loaded: B = validate(row[0])
                    yield loaded
            except (ValidationError, ValidationFailed) as exc:
                raise StorageError(f"a stored {kind} is unreadable: {exc}") from exc
    finally:
        with suppress(*store._errors):
            cursor.close()


class _Messages:
    """Messages; ``position`` numbers each ticket's messages in the order added."""

    __slots__ = ("_sql", "_tenant", "_uow")

    def __init__(self, uow: _SqlUnitOfWork) -> None:
        self._uow = uow
        self._sql = uow._sql
        self._tenant = uow._tenant_id

    def add(self, message: Message) -> None:
        tenant, ticket_id = self._tenant, message.ticket_id
        params = (
            tenant,
            message.id,
            ticket_id,
            tenant,
            ticket_id,
            _utc(message.created_at),
            message.model_dump_json(),
        )
        self._uow._insert(self._sql.message_insert, params, "message", message.id)

    def for_ticket(self, ticket_id: str) -> list[Message]:
        params = (self._tenant, ticket_id)
        rows = self._uow._all(self._sql.messages_for_ticket, params, "message", ticket_id)
        return [_load(Message, row[0], "message") for row in rows]


class _Articles:
    """Articles (status copied to a column for its filter) and their append-only revisions."""

    __slots__ = ("_parsed", "_sql", "_tenant", "_uow")

    def __init__(self, uow: _SqlUnitOfWork) -> None:
        self._uow = uow
        self._sql = uow._sql
        self._tenant = uow._tenant_id
        self._parsed = uow._store._parsed_articles

    def get(self, article_id: str) -> Article:
        row = self._uow._one(
            self._sql.article_get, (self._tenant, article_id), "article", article_id
        )
        if row is None:
            raise ArticleNotFound(article_id)
        return self._parsed.load(row[0])

    def add(self, article: Article) -> None:
        data = article.model_dump_json()
        params = (self._tenant, article.id, article.status.value, article.version, data)
        self._uow._insert(self._sql.article_insert, params, "article", article.id)
        if type(article) is Article:
            self._parsed.remember(data, article)

    def update(self, article: Article) -> None:
        expected = article.version - 1
        data = article.model_dump_json()
        params = (article.status.value, article.version, data, self._tenant, article.id, expected)
        uow = self._uow
        cursor = uow._write(self._sql.article_update, params, "article", article.id, expected)
        if cursor.rowcount != 1:
            raise uow._stale(
                "article", article.id, expected, self._sql.article_version, ArticleNotFound
            )
        if type(article) is Article:
            self._parsed.remember(data, article)

    def add_revision(self, revision: ArticleRevision) -> None:
        key = f"{revision.article_id}#{revision.version}"
        params = (
            self._tenant,
            revision.article_id,
            revision.version,
            revision.model_dump_json(),
        )
        self._uow._insert(self._sql.revision_insert, params, "article revision", key)

    def revisions(self, article_id: str) -> list[ArticleRevision]:
        params = (self._tenant, article_id)
        sql = self._sql.revisions_for_article
        rows = self._uow._all(sql, params, "article revision", article_id)
        return [_load(ArticleRevision, row[0], "article revision") for row in rows]

    def list(self, *, status: ArticleStatus | None = None) -> list[Article]:
        if status is None:
            rows = self._uow._all(self._sql.article_list, (self._tenant,), "article", "list")
        else:
            params = (self._tenant, status.value)
            rows = self._uow._all(self._sql.article_list_by_status, params, "article", "list")
        load = self._parsed.load
        return [load(row[0]) for row in rows]


class _Cursors:
    """Cursors: one row per name, written with an upsert (no version to check)."""

    __slots__ = ("_sql", "_tenant", "_uow")

    def __init__(self, uow: _SqlUnitOfWork) -> None:
        self._uow = uow
        self._sql = uow._sql
        self._tenant = uow._tenant_id

    def get(self, name: str) -> str | None:
        _check_cursor_text("name", name, MAX_CURSOR_NAME_CHARS)
        row = self._uow._one(self._sql.cursor_get, (self._tenant, name), "cursor", name)
        return None if row is None else str(row[0])

    def put(self, name: str, value: str) -> None:
        _check_cursor_text("name", name, MAX_CURSOR_NAME_CHARS)
        _check_cursor_text("value", value, MAX_CURSOR_VALUE_CHARS)
        self._uow._write(self._sql.cursor_put, (self._tenant, name, value), "cursor", name)


class _SqlStore(ABC):
    """What the SQL stores share: the statements in one dialect, the parsed-model caches,
    a pool of connections and the units of work. A subclass says how to connect, which
    exceptions its driver raises and what each means (``_translate``)."""

    _errors: tuple[type[Exception], ...]
    """The driver's exception classes, caught around every statement."""

    def __init__(self, dialect: Dialect, description: str) -> None:
        self._description = description
        self._sql = _Statements(dialect)
        self._parsed_tickets = _Parsed(Ticket, "ticket")
        self._parsed_customers = _Parsed(Customer, "customer")
        self._parsed_agents = _Parsed(Agent, "agent")
        self._parsed_teams = _Parsed(Team, "team")
        self._parsed_articles = _Parsed(Article, "article", _PARSED_ARTICLES_LIMIT)
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._idle: deque[Any] = deque()
        self._writers: dict[int, _SqlUnitOfWork] = {}
        self._closed = False

    def unit_of_work(self, tenant_id: str = DEFAULT_TENANT) -> UnitOfWork:
        """A new unit of work scoped to ``tenant_id``; its transaction begins on first use."""
        if not isinstance(tenant_id, str) or not tenant_id.strip():
            raise ValidationFailed("tenant_id", "must be a non-empty string")
        if self._closed:
            raise StorageError("the store is closed")
        return _SqlUnitOfWork(self, tenant_id)

    def close(self) -> None:
        """Close every connection. Idempotent."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
            self._idle.clear()
        for conn in connections:
            with suppress(*self._errors):
                conn.close()

    @abstractmethod
    def _new_connection(self) -> Any:
        """A new connection in autocommit mode, set up for this store."""

    @abstractmethod
    def _translate(
        self,
        exc: Exception,
        kind: str,
        key: str,
        expected: int | None = None,
        other_key: tuple[str, str] | None = None,
    ) -> SupportflowError:
        """The supportflow error for a driver error."""

    @abstractmethod
    def _in_transaction(self, conn: Any) -> bool:
        """Whether ``conn`` has a transaction open."""

    def _unencodable(self, exc: Exception) -> bool:
        """Whether ``exc`` says a parameter cannot be sent (the statement never ran)."""
        return False

    def _open_stream(self, conn: Any, sql: str, params: Sequence[Any]) -> Any:
        """A cursor over ``sql``'s rows, fetched in batches by ``fetchmany``."""
        return conn.execute(sql, params)

    def _connect(self) -> Any:
        try:
            conn = self._new_connection()
        except self._errors as exc:
            raise StorageError(f"cannot open {self._description}: {exc}") from exc
        with self._lock:
            if self._closed:
                conn.close()
                raise StorageError("the store is closed")
            self._connections.append(conn)
        return conn

    def _acquire(self) -> Any:
        if self._closed:
            raise StorageError("the store is closed")
        try:
            return self._idle.pop()
        except IndexError:
            return self._connect()

    def _release(self, conn: Any, *, healthy: bool) -> None:
        if healthy and not self._closed and not self._in_transaction(conn):
            self._idle.append(conn)
            return
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        with suppress(*self._errors):
            conn.close()


class SqliteStore(_SqlStore):
    """A :class:`~supportflow.storage.protocols.Store` in one SQLite database.

    ``path`` is a database file (created and migrated on first open) or ``":memory:"``.
    ``busy_timeout_s`` is how long a write waits for another unit of work's write lock
    before giving up with :class:`~supportflow.errors.ConcurrencyConflict`. Only
    :class:`~supportflow.errors.SupportflowError` subclasses escape: unique-key
    violations become ``DuplicateEntity``, a busy or stale database ``ConcurrencyConflict``
    (retryable), any other ``sqlite3`` error ``StorageError``.

    **File databases** run in WAL mode with ``synchronous=NORMAL``: readers never block
    writers or each other, and a commit does not wait for the disk. The trade-off: a commit
    survives the application crashing, and the file is never corrupted, but a power cut or
    operating-system crash can lose the last transactions committed before it (they sit in
    the WAL until it is synced at a checkpoint, every 10,000 pages written). Each unit of
    work takes its own connection from a pool that grows to the number of units open at
    once, so worker threads (and nested units of work) each get their own connection and
    transaction. Several processes may open the same file; SQLite's locks arbitrate.

    Writers are serialized by SQLite's one write lock, held from a unit's first write to
    its end. A unit whose first statement is a write waits up to ``busy_timeout_s`` for
    it; a unit that has already read is refused at once (waiting could not help: its
    snapshot is stale once the other commits), and so is a second writing unit of the
    same store in the same thread (the lock it waits for is its own thread's). Every
    refusal is ``ConcurrencyConflict``.

    **":memory:"** keeps the same semantics in a private database in a temporary
    directory, with ``synchronous=OFF`` (nothing to keep across a crash), deleted at
    ``close()`` or when the store is garbage-collected.

    ``close()`` closes every connection; call it when no unit of work is running. Later
    calls raise ``StorageError``.

    Example::

        store = SqliteStore("support.db")
        with store.unit_of_work("acme") as uow:
            uow.tickets.add(ticket)
            uow.commit()
        store.close()
    """

    _errors = (sqlite3.Error,)

    def __init__(
        self, path: str | os.PathLike[str] = ":memory:", *, busy_timeout_s: float = 5.0
    ) -> None:
        if not busy_timeout_s >= 0:
            raise ValidationFailed("busy_timeout_s", "must be a number of seconds >= 0")
        self._path = os.fspath(path)
        super().__init__(SQLITE, repr(self._path))
        self._timeout = float(busy_timeout_s)
        self._synchronous = "NORMAL"
        self._file = self._path
        self._cleanup: Callable[[], object] | None = None
        if self._path == ":memory:":
            try:
                directory = tempfile.mkdtemp(prefix="supportflow-")
            except OSError as exc:
                raise StorageError(f"cannot create a temporary database: {exc}") from exc
            self._cleanup = weakref.finalize(self, shutil.rmtree, directory, True)
            self._file = os.path.join(directory, "memory.db")
            self._synchronous = "OFF"
        try:
            conn = self._connect()
            conn.execute("PRAGMA journal_mode = WAL").fetchall()
            migrate(conn)
        except sqlite3.Error as exc:
            self.close()
            raise StorageError(f"cannot open {self._path!r}: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self._idle.append(conn)

    def close(self) -> None:
        """Close every connection (and delete a ``":memory:"`` database). Idempotent."""
        super().close()
        if self._cleanup is not None:
            self._cleanup()

    def _new_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._file,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
        return conn

    def _translate(
        self,
        exc: Exception,
        kind: str,
        key: str,
        expected: int | None = None,
        other_key: tuple[str, str] | None = None,
    ) -> SupportflowError:
        return _translate(exc, kind, key, expected, other_key)

    def _in_transaction(self, conn: sqlite3.Connection) -> bool:
        return conn.in_transaction
