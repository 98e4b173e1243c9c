"""The SQL schema as numbered migrations, and the dialect its SQL is written in.

The schema is an ordered list of :class:`Migration` (``MIGRATIONS``): version 1 is the
initial schema, version 2 adds the ``cursors`` table, version 3 the knowledge base
(``articles`` and ``article_revisions``), version 4 the customer event log
(``customer_events``). ``migrate(connection)`` runs at
every store open. It refuses a database recorded at a newer version than this code knows
(:class:`~supportflow.errors.SchemaVersionError`, nothing changed); a database already up
to date is only read, so opening a store never waits for other writers. Otherwise, inside
one write transaction, it creates ``schema_migrations`` if needed, applies every missing
migration in order and records each with the time it was applied. Two processes opening a
new database at once are safe: the second waits for the first's transaction and then
finds nothing left to apply.

Adding a migration in a later release, so hosts keep their data:

1. Append ``Migration(<next version>, "what it does", (...))`` to ``MIGRATIONS``. Never
   edit, renumber or remove a released migration: databases in the field have recorded it
   as applied.
2. Write it as additive steps over existing rows: ``ALTER TABLE ... ADD COLUMN`` (nullable
   or with a default), ``CREATE INDEX``, ``UPDATE`` to backfill. A step that needs Python
   (for example filling a new column from each row's JSON ``data``) is a callable
   ``step(connection, dialect)``; it runs in the same transaction.
3. Models only gain fields with defaults, so ``Model.model_validate_json`` still reads the
   ``data`` JSON written by older releases; rows are not rewritten for a new field.
4. Add a test that opens a database created at the previous version, reopens it with the
   new code and finds every row intact and ``schema_migrations`` listing every version
   (migration 2 has ``test_version_1_database_gains_cursors_and_keeps_its_rows``).

A host that upgrades then runs the new migration once, on its first open; if it fails, the
transaction rolls back and the database stays at the previous version. A host that
downgrades the library afterwards gets ``SchemaVersionError`` instead of a store that
misreads its data.

Portability: statements use standard SQL; type names come from :class:`Dialect` fields
(``{key}``, ``{text}``, ``{integer}``, ``{json}``, ``{timestamp}`` in the DDL), and no table
needs a storage option, so a PostgreSQL dialect needs no rewrite of the schema.

Write cost shapes the schema: a commit writes every b-tree page its transaction changed
(SQLite: one WAL frame each, synced again at the next checkpoint), so what matters is how
many pages each insert or update touches:

- **Rows go to rowid tables** (in PostgreSQL, heaps), so a new row lands on the table's
  last page. Clustering a table on its key (SQLite ``WITHOUT ROWID``) was measured to cost
  more, not less: ticket ids are random, so rows of several hundred bytes arrive all over
  the tree and keep splitting full pages (each split rewrites three siblings and their
  parent). The event log is keyed ``(tenant_id, ticket_id, seq)``, which is both its
  uniqueness rule and the order of ``for_ticket``.
- **Indexes are few, and end where their filter ends.** ``tickets_customer (tenant_id,
  customer_id)`` leaves the order among equal keys to the row id, so a new entry is
  appended at the end of its key's run instead of landing at a random place by ticket id;
  the few rows a listing selects are sorted after (``ORDER BY created_at, id``). The event
  log's time index, which reads many rows, is the exception (migration 5, below).
  ``tickets_status (tenant_id, status, assignee_id)`` alone serves the status filter, the
  assignee filter (queried as ``status IN (every status) AND assignee_id = ?``), the
  open-ticket counts per assignee, and one assignee's open tickets (``status IN (every
  open status) AND assignee_id = ?``). The unfiltered ticket listing needs no index of its
  own: it reads every row of the tenant anyway.
- **Cursors** (migration 2) are a few short rows per tenant, keyed ``(tenant_id, name)``
  and rewritten in place: a put changes one row and no index.
- **Articles** (migration 3) are few and rarely written beside tickets, but large (a body
  of up to 200,000 characters): keyed ``(tenant_id, id)``, which also serves the listing
  ordered by id. The status filter has ``articles_status (tenant_id, status, id)``: it
  ends past its filter, unlike the ticket indexes, because without the id SQLite's planner
  prefers walking the whole tenant in key order to sorting the few rows the filter
  selects, and an article write is rare enough that where its entry lands costs little.
  Revisions are keyed ``(tenant_id, article_id, version)``, both their uniqueness rule
  and the order of ``revisions``; they are only appended, never updated.
- **Customer events** (migration 4) mirror the ticket event log: keyed ``(tenant_id,
  customer_id, seq)``, their uniqueness rule and the order of ``for_customer``, with
  ``customer_events_at (tenant_id, at)`` for ``between``, which sorts the rows it
  selects by ``(at, customer_id, seq)``. A new table only: no existing row changes.
- **The event log's time index** (migration 5) becomes ``ticket_events_at (tenant_id, at,
  ticket_id, seq)``, the order ``between`` returns. Reading a month of events for a report
  is a million rows, and sorting the runs of equal times in a temporary b-tree cost 0.8 s
  of 2.3 s for them. Events arrive in time order, so a new entry still lands at the end
  of the index: ties on ``at`` are rare.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, TypeAlias

import attrs

from ..errors import SchemaVersionError, StorageError

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "MIGRATION_LOCK",
    "POSTGRESQL",
    "SQLITE",
    "Dialect",
    "Migration",
    "migrate",
]


@attrs.frozen
class Dialect:
    """What differs between SQL databases; every other piece of SQL is standard.

    Statements are written with ``?`` placeholders and ``{name}`` type fields; ``sql()``
    and ``ddl()`` turn them into this dialect's text once, when a store opens.

    No row-locking syntax is needed for writes: they are plain ``INSERT`` (uniqueness is
    enforced by keys) and version-checked ``UPDATE ... WHERE version = ?``, in
    transactions the database runs serializably (SQLite has one writer at a time;
    PostgreSQL units run at ``SERIALIZABLE``, so a read another unit's commit made stale,
    such as an agent's load, fails the later unit instead of double-booking). The one
    upsert, of cursors (``INSERT ... ON CONFLICT (tenant_id, name) DO UPDATE SET value =
    excluded.value``), is accepted as written by SQLite (3.24 or later) and PostgreSQL
    (9.5 or later).
    """

    name: str
    placeholder: str
    """The parameter marker: ``?`` (qmark) or ``%s`` (format)."""
    key: str
    """Type of id and tenant columns; must compare bytewise (``TEXT COLLATE "C"`` in
    PostgreSQL) so listings order ids exactly as Python sorts ``str``."""
    text: str
    integer: str
    json: str
    """Type of the ``data`` column holding a model's JSON."""
    timestamp: str
    """Type of indexed datetime columns, stored as UTC ISO-8601 text that sorts."""
    begin: str
    """Start a transaction that takes no lock until it reads or writes."""
    begin_write: str
    """Start a transaction that holds the database's write lock (used to migrate)."""
    claim_suffix: str = ""
    """Appended to the query that claims a queued ticket (``FOR UPDATE SKIP LOCKED``)."""
    begin_claim: str = "BEGIN"
    """Start a unit whose first statement claims a queued ticket; SQLite takes its write
    lock at once (``BEGIN IMMEDIATE``), so no other writer can claim meanwhile."""
    insert_suffix: str = ""
    """Appended to every plain ``INSERT``. PostgreSQL's ``ON CONFLICT DO NOTHING`` keeps
    the transaction usable after a duplicate key (the store sees no row inserted and
    raises ``DuplicateEntity``); SQLite's error leaves it usable already."""

    def sql(self, statement: str) -> str:
        """``statement`` with this dialect's placeholders."""
        if self.placeholder == "?":
            return statement
        return statement.replace("?", self.placeholder)

    def ddl(self, statement: str) -> str:
        """``statement`` with this dialect's type names."""
        return statement.format(
            key=self.key,
            text=self.text,
            integer=self.integer,
            json=self.json,
            timestamp=self.timestamp,
        )


SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    key="TEXT",
    text="TEXT",
    integer="INTEGER",
    json="TEXT",
    timestamp="TEXT",
    begin="BEGIN",
    begin_write="BEGIN IMMEDIATE",
    begin_claim="BEGIN IMMEDIATE",
)
"""SQLite 3.35 or later (partial indexes, WAL)."""

MIGRATION_LOCK = 7_460_301
"""The PostgreSQL advisory lock key that serializes concurrent migrations."""

POSTGRESQL = Dialect(
    name="postgresql",
    placeholder="%s",
    key='TEXT COLLATE "C"',
    text="TEXT",
    integer="BIGINT",
    json="TEXT",
    timestamp='TEXT COLLATE "C"',
    begin="BEGIN ISOLATION LEVEL SERIALIZABLE",
    # READ COMMITTED, so statements after the lock see what a migrator before us committed.
    begin_write=(
        f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"
    ),
    insert_suffix=" ON CONFLICT DO NOTHING",
    claim_suffix=" FOR UPDATE SKIP LOCKED",
    begin_claim="BEGIN ISOLATION LEVEL SERIALIZABLE",
)
"""PostgreSQL 12 or later. ``json`` is ``TEXT``, not ``JSONB``: the store reads and writes
whole documents and never queries inside them, and ``JSONB`` refuses the ``\u0000`` escape
that a model's JSON may hold. Timestamps are fixed-width UTC text in the ``C`` collation,
so they sort as instants, as in SQLite."""

Step: TypeAlias = str | Callable[[Any, Dialect], None]
"""A DDL/DML statement template (``{type}`` fields, ``?`` placeholders), or a function."""


@attrs.frozen
class Migration:
    """One numbered schema change, applied once, in one transaction with its record."""

    version: int
    description: str
    steps: tuple[Step, ...]


_V1_ENTITY = """
CREATE TABLE {table} (
    tenant_id {{key}} NOT NULL,
    id {{key}} NOT NULL,
    version {{integer}} NOT NULL,
    data {{json}} NOT NULL,
    PRIMARY KEY (tenant_id, id)
)"""

_V1: tuple[Step, ...] = (
    """
    CREATE TABLE tickets (
        tenant_id {key} NOT NULL,
        id {key} NOT NULL,
        channel {text} NOT NULL,
        external_id {text},
        customer_id {key} NOT NULL,
        status {text} NOT NULL,
        assignee_id {key},
        team_id {key},
        priority {text} NOT NULL,
        created_at {timestamp} NOT NULL,
        updated_at {timestamp} NOT NULL,
        version {integer} NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )""",
    "CREATE UNIQUE INDEX tickets_external_id ON tickets (tenant_id, channel, external_id)"
    " WHERE external_id IS NOT NULL",
    "CREATE INDEX tickets_status ON tickets (tenant_id, status, assignee_id)",
    "CREATE INDEX tickets_customer ON tickets (tenant_id, customer_id)",
    _V1_ENTITY.format(table="customers"),
    _V1_ENTITY.format(table="agents"),
    _V1_ENTITY.format(table="teams"),
    """
    CREATE TABLE ticket_events (
        tenant_id {key} NOT NULL,
        id {key} NOT NULL,
        ticket_id {key} NOT NULL,
        seq {integer} NOT NULL,
        type {text} NOT NULL,
        at {timestamp} NOT NULL,
        actor {key} NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (tenant_id, ticket_id, seq)
    )""",
    "CREATE INDEX ticket_events_at ON ticket_events (tenant_id, at)",
    """
    CREATE TABLE messages (
        tenant_id {key} NOT NULL,
        id {key} NOT NULL,
        ticket_id {key} NOT NULL,
        position {integer} NOT NULL,
        created_at {timestamp} NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )""",
    "CREATE UNIQUE INDEX messages_position ON messages (tenant_id, ticket_id, position)",
)

_V2: tuple[Step, ...] = (
    """
    CREATE TABLE cursors (
        tenant_id {key} NOT NULL,
        name {key} NOT NULL,
        value {text} NOT NULL,
        PRIMARY KEY (tenant_id, name)
    )""",
)

_V3: tuple[Step, ...] = (
    """
    CREATE TABLE articles (
        tenant_id {key} NOT NULL,
        id {key} NOT NULL,
        status {text} NOT NULL,
        version {integer} NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (tenant_id, id)
    )""",
    "CREATE INDEX articles_status ON articles (tenant_id, status, id)",
    """
    CREATE TABLE article_revisions (
        tenant_id {key} NOT NULL,
        article_id {key} NOT NULL,
        version {integer} NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (tenant_id, article_id, version)
    )""",
)

_V4: tuple[Step, ...] = (
    """
    CREATE TABLE customer_events (
        tenant_id {key} NOT NULL,
        id {key} NOT NULL,
        customer_id {key} NOT NULL,
        seq {integer} NOT NULL,
        type {text} NOT NULL,
        at {timestamp} NOT NULL,
        actor {key} NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (tenant_id, customer_id, seq)
    )""",
    "CREATE INDEX customer_events_at ON customer_events (tenant_id, at)",
)

_V5: tuple[Step, ...] = (
    "DROP INDEX ticket_events_at",
    "CREATE INDEX ticket_events_at ON ticket_events (tenant_id, at, ticket_id, seq)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "named cursors per tenant", _V2),
    Migration(3, "knowledge-base articles and their revisions", _V3),
    Migration(4, "customer event log", _V4),
    Migration(5, "ticket events indexed in the order between() reads them", _V5),
)
"""Every migration, in version order; append only."""

LATEST_VERSION = MIGRATIONS[-1].version
"""The schema version this code reads and writes."""

_CREATE_LOG = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version {integer} NOT NULL PRIMARY KEY,
    description {text} NOT NULL,
    applied_at {timestamp} NOT NULL
)"""


def migrate(
    connection: Any,
    *,
    dialect: Dialect = SQLITE,
    migrations: Sequence[Migration] = MIGRATIONS,
    errors: tuple[type[Exception], ...] = (sqlite3.Error,),
) -> list[int]:
    """Bring the database up to the latest of ``migrations``; return the versions applied.

    ``connection`` is a DB-API connection whose ``execute`` returns a cursor (``sqlite3``,
    psycopg 3), in autocommit mode (``isolation_level=None`` for ``sqlite3``) with no
    transaction open; ``errors`` are its driver's exception classes. A database that is up
    to date is only read; otherwise everything happens in one write transaction (under
    ``dialect.begin_write``, which serializes migrators): on any error it rolls back and raises
    :class:`~supportflow.errors.StorageError`. A database recorded at a version above the
    latest known raises :class:`~supportflow.errors.SchemaVersionError` and is not changed.
    """
    latest = migrations[-1].version if migrations else 0
    wanted = {migration.version for migration in migrations}
    try:
        done = _recorded(connection)
    except errors:
        done = None
    if done is not None:
        _check_not_newer(done, latest)
        if wanted <= done:
            return []
    applied: list[int] = []
    try:
        connection.execute(dialect.begin_write)
        try:
            connection.execute(dialect.ddl(_CREATE_LOG))
            done = _recorded(connection)
            _check_not_newer(done, latest)
            record = dialect.sql(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)"
            )
            for migration in migrations:
                if migration.version in done:
                    continue
                for step in migration.steps:
                    if isinstance(step, str):
                        connection.execute(dialect.ddl(step))
                    else:
                        step(connection, dialect)
                now = datetime.now(UTC).isoformat(timespec="microseconds")
                connection.execute(record, (migration.version, migration.description, now))
                applied.append(migration.version)
            connection.execute("COMMIT")
        except BaseException:
            with suppress(*errors):
                connection.execute("ROLLBACK")
            raise
    except errors as exc:
        raise StorageError(f"cannot migrate the database schema: {exc}") from exc
    return applied


def _recorded(connection: Any) -> set[int]:
    return {int(row[0]) for row in connection.execute("SELECT version FROM schema_migrations")}


def _check_not_newer(done: set[int], latest: int) -> None:
    found = max(done, default=0)
    if found > latest:
        raise SchemaVersionError(found, latest)
