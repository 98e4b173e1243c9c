"""The PostgreSQL store, for hosts that run several worker processes on one database.

:class:`PostgresStore` shares everything with :class:`~supportflow.storage.sql.SqliteStore`
but the driver: the schema and its migrations (:data:`~supportflow.storage.migrations.
POSTGRESQL` is the dialect), every statement, the repositories and the unit of work. It
speaks psycopg 3 directly (the ``postgres`` extra). SQLAlchemy Core would add a second
layer between the same SQL and the same driver: the statements are already portable and
built once per store, and what differs between the databases (types, placeholders, how a
transaction begins, what an error means) fits in a dialect and three methods.

**Concurrency.** Each unit of work is one ``SERIALIZABLE`` transaction on its own pooled
connection. PostgreSQL then gives the guarantees SQLite's single writer gives, with many
writers at once:

- a version-checked update that another unit changed first matches no row, or fails with
  a serialization failure: ``ConcurrencyConflict``;
- two units that each read an agent's load and assign that agent a different ticket
  cannot both commit (a serialization failure for the second), so capacity holds;
- two intakes of one delivery: the second's insert of the same external id fails with a
  serialization failure (not a duplicate key), so the desk's retry finds the first's ticket;
- a duplicate key against a committed row is ``DuplicateEntity`` and leaves the unit usable
  (inserts are ``ON CONFLICT DO NOTHING``, checked for the row count).

Serialization failures, deadlocks and lock timeouts all become ``ConcurrencyConflict``:
retry the whole unit of work (:func:`~supportflow.retry.retry_on_conflict`). A write that
waits more than ``lock_timeout_s`` for a row another unit holds gives up the same way; so
does, at once, a second writing unit of the store in one thread (it would wait for its own
thread's lock). Lost connections and other database errors are ``StorageError``.

**Work queues.** :meth:`TicketRepository.lock_queued
<supportflow.storage.protocols.TicketRepository.lock_queued>` is ``SELECT ... FOR UPDATE
SKIP LOCKED``: workers handing out the queue at once each lock different tickets and none
waits for another.

Text: PostgreSQL cannot store a NUL character in a text column. Ids, external ids and
cursors holding one are refused with ``ValidationFailed`` (and match nothing when looked
up); a NUL inside a model's text (a ticket body) is stored, escaped in its JSON.

Example::

    store = PostgresStore("postgresql://support@db.internal/support")
    desk = SupportDesk(store, tenant_id="acme")
"""

from __future__ import annotations

import itertools
from typing import Any

from ..errors import (
    ConcurrencyConflict,
    DuplicateEntity,
    OptionalDependencyMissing,
    StorageError,
    SupportflowError,
    ValidationFailed,
)
from .migrations import POSTGRESQL, migrate
from .sql import _SqlStore

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.pq import TransactionStatus
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise OptionalDependencyMissing("postgres", "psycopg") from exc

__all__ = ["PostgresStore"]

_CONFLICTS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)
_stream_names = itertools.count()


class PostgresStore(_SqlStore):
    """A :class:`~supportflow.storage.protocols.Store` in a PostgreSQL database.

    ``dsn`` is a libpq connection string or URI. The schema is created or upgraded at open
    (concurrent openers wait for one another on an advisory lock). Units of work take
    connections from a pool that grows to the number open at once; ``close()`` closes them.
    ``lock_timeout_s`` bounds how long a statement waits for a row lock before the unit
    fails with ``ConcurrencyConflict``; ``connect_timeout_s`` bounds opening a connection.
    """

    _errors = (psycopg.Error,)

    def __init__(
        self,
        dsn: str,
        *,
        lock_timeout_s: float = 5.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if not isinstance(dsn, str) or not dsn.strip():
            raise ValidationFailed("dsn", "must be a non-empty connection string")
        for field, value in (
            ("lock_timeout_s", lock_timeout_s),
            ("connect_timeout_s", connect_timeout_s),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValidationFailed(field, "must be a number of seconds > 0")
        self._dsn = dsn
        self._lock_timeout_ms = max(1, round(lock_timeout_s * 1000))
        self._connect_timeout_s = max(1, round(connect_timeout_s))
        super().__init__(POSTGRESQL, "the PostgreSQL database")
        try:
            conn = self._connect()
            migrate(conn, dialect=POSTGRESQL, errors=self._errors)
        except BaseException:
            self.close()
            raise
        self._idle.append(conn)

    def _new_connection(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=self._connect_timeout_s)
        conn.execute(f"SET lock_timeout = {self._lock_timeout_ms}")
        return conn

    def _translate(
        self,
        exc: Exception,
        kind: str,
        key: str,
        expected: int | None = None,
        other_key: tuple[str, str] | None = None,
    ) -> SupportflowError:
        if isinstance(exc, pg_errors.UniqueViolation):
            if other_key is not None and other_key[0] in str(exc):
                key = other_key[1]
            return DuplicateEntity(kind, key)
        if isinstance(exc, _CONFLICTS):
            conflict = ConcurrencyConflict(kind, key, expected, None)
            sqlstate = getattr(exc, "sqlstate", None)
            conflict.args = (
                f"{kind} {key!r}: another unit of work holds or has changed the data "
                f"(SQLSTATE {sqlstate}); retry the unit of work",
            )
            return conflict
        if isinstance(exc, pg_errors.NumericValueOutOfRange):
            return StorageError(f"{kind} {key!r}: a number is out of range: {exc}")
        return StorageError(f"{kind} {key!r}: {type(exc).__name__}: {exc}")

    def _in_transaction(self, conn: psycopg.Connection[Any]) -> bool:
        return bool(conn.closed or conn.info.transaction_status != TransactionStatus.IDLE)

    def _unencodable(self, exc: Exception) -> bool:
        # Raised by psycopg before sending (the transaction is untouched): a NUL in text.
        return type(exc) is psycopg.DataError and "NUL" in str(exc)

    def _open_stream(self, conn: psycopg.Connection[Any], sql: str, params: Any) -> Any:
        # A server-side cursor: a month of events is read in batches, not all at once.
        cursor = conn.cursor(name=f"supportflow_stream_{next(_stream_names)}")
        cursor.execute(sql, params)
        return cursor
