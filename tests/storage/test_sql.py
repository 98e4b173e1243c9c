"""SQLite-specific behaviour of ``SqliteStore`` and its migrations.

The storage contract itself is checked by ``test_conformance.py``; these tests look at what
only a SQL store has: the file, its schema and migrations, connections racing for the write
lock, and the rows as SQL sees them.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest

from supportflow.errors import (
    ConcurrencyConflict,
    DuplicateEntity,
    SchemaVersionError,
    StorageError,
    TicketNotFound,
    ValidationFailed,
)
from supportflow.kb.articles import Article, ArticleStatus
from supportflow.models import Channel, CustomerTier, Ticket, TicketStatus
from supportflow.storage import SqliteStore
from supportflow.storage import sql as sql_module
from supportflow.storage.migrations import LATEST_VERSION, MIGRATIONS, Migration, migrate
from supportflow.storage.protocols import OPEN_STATUSES
from supportflow.storage.sql import _Parsed
from supportflow.testing.conformance import (
    T0,
    TRICKY_TEXTS,
    make_agent,
    make_article,
    make_customer,
    make_customer_event,
    make_event,
    make_message,
    make_revision,
    make_team,
    make_ticket,
    next_version,
    seed,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from supportflow.storage.protocols import UnitOfWork

TICKET_COLUMNS = (
    "channel",
    "external_id",
    "customer_id",
    "status",
    "assignee_id",
    "team_id",
    "priority",
    "created_at",
    "updated_at",
    "version",
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "support.db"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(path)
    yield opened
    opened.close()


def raw(path: Path) -> closing[sqlite3.Connection]:
    """A plain sqlite3 connection to the store's file, for looking at rows as SQL sees them."""
    return closing(sqlite3.connect(path, isolation_level=None))


def stored_ticket(store: SqliteStore, ticket_id: str, tenant_id: str = "default") -> Ticket:
    with store.unit_of_work(tenant_id) as uow:
        return uow.tickets.get(ticket_id)


# The file


def test_file_store_runs_in_wal_mode(store: SqliteStore, path: Path) -> None:
    seed(store, make_ticket("t-1"))
    with raw(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_reopened_file_keeps_committed_data(path: Path) -> None:
    records = (
        make_customer("c-1"),
        make_agent("a-1"),
        make_team("team-1"),
        make_ticket("t-1", external_id="mail-1"),
        make_event("t-1", 1),
        make_event("t-1", 2),
        make_message("m-1", "t-1"),
    )
    first = SqliteStore(path)
    seed(first, *records)
    first.close()

    reopened = SqliteStore(path)
    with reopened.unit_of_work() as uow:
        assert uow.customers.get("c-1") == records[0]
        assert uow.agents.get("a-1") == records[1]
        assert uow.teams.get("team-1") == records[2]
        assert uow.tickets.find_by_external_id(Channel.EMAIL, "mail-1") == records[3]
        assert uow.events.for_ticket("t-1") == [records[4], records[5]]
        assert uow.messages.for_ticket("t-1") == [records[6]]
    reopened.close()


def test_messages_added_after_reopening_follow_the_earlier_ones(path: Path) -> None:
    first = SqliteStore(path)
    seed(first, make_message("m-b", "t-1"))
    first.close()
    reopened = SqliteStore(path)
    seed(reopened, make_message("m-a", "t-1"))
    with reopened.unit_of_work() as uow:
        assert [m.id for m in uow.messages.for_ticket("t-1")] == ["m-b", "m-a"]
    reopened.close()


def test_memory_store_lives_in_a_temporary_directory_removed_at_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    store = SqliteStore(":memory:")
    seed(store, make_ticket("t-1"))
    assert [p.name.startswith("supportflow-") for p in tmp_path.iterdir()] == [True]
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_memory_stores_are_private_to_each_instance() -> None:
    first, second = SqliteStore(), SqliteStore()
    seed(first, make_ticket("t-1"))
    with second.unit_of_work() as uow:
        assert uow.tickets.list() == []
    first.close()
    second.close()


# Migrations


def migration_rows(path: Path) -> list[tuple[Any, ...]]:
    with raw(path) as db:
        return db.execute(
            "SELECT version, description, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()


def test_new_database_records_each_migration_once(path: Path) -> None:
    SqliteStore(path).close()
    recorded = migration_rows(path)
    SqliteStore(path).close()
    SqliteStore(path).close()

    assert migration_rows(path) == recorded
    assert [(v, d) for v, d, _ in recorded] == [(m.version, m.description) for m in MIGRATIONS]
    assert all(datetime.fromisoformat(at).utcoffset() == timedelta(0) for *_, at in recorded)


def test_migrate_applies_only_what_is_missing(path: Path) -> None:
    with raw(path) as db:
        assert migrate(db) == [m.version for m in MIGRATIONS]
        assert migrate(db) == []


def test_opening_a_current_database_does_not_wait_for_writers(path: Path) -> None:
    SqliteStore(path).close()
    with raw(path) as db:
        db.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        store = SqliteStore(path, busy_timeout_s=2.0)
        assert time.monotonic() - started < 1.0
        db.execute("ROLLBACK")
    store.close()


def test_newer_schema_version_is_refused_and_changes_nothing(path: Path) -> None:
    store = SqliteStore(path)
    seed(store, make_ticket("t-1"))
    store.close()
    with raw(path) as db:
        db.execute(
            "INSERT INTO schema_migrations VALUES (?, 'from the future', '2099-01-01')",
            (LATEST_VERSION + 1,),
        )

    with pytest.raises(SchemaVersionError) as refused:
        SqliteStore(path)

    assert (refused.value.found, refused.value.supported) == (LATEST_VERSION + 1, LATEST_VERSION)
    assert [row[0] for row in migration_rows(path)] == [*range(1, LATEST_VERSION + 2)]
    with raw(path) as db:
        assert db.execute("SELECT id FROM tickets").fetchall() == [("t-1",)]


def test_failing_migration_rolls_back_entirely(path: Path) -> None:
    SqliteStore(path).close()
    broken = Migration(LATEST_VERSION + 1, "broken", ("CREATE TABLE extra (x)", "NOT SQL"))

    with raw(path) as db:
        with pytest.raises(StorageError):
            migrate(db, migrations=[*MIGRATIONS, broken])
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}

    assert "extra" not in tables
    assert [row[0] for row in migration_rows(path)] == [m.version for m in MIGRATIONS]


def test_a_later_migration_keeps_existing_rows(path: Path) -> None:
    """The upgrade path of the migrations docstring: additive DDL and a Python backfill."""
    store = SqliteStore(path)
    seed(store, make_ticket("t-1", subject="kept"))
    store.close()

    def backfill(connection: sqlite3.Connection, _dialect: object) -> None:
        for ticket_id, data in connection.execute("SELECT id, data FROM tickets").fetchall():
            subject = json.loads(data)["subject"]
            connection.execute("UPDATE tickets SET subject = ? WHERE id = ?", (subject, ticket_id))

    later = Migration(
        LATEST_VERSION + 1,
        "copy subject into a column",
        ("ALTER TABLE tickets ADD COLUMN subject {text}", backfill),
    )
    with raw(path) as db:
        assert migrate(db, migrations=[*MIGRATIONS, later]) == [LATEST_VERSION + 1]
        row = db.execute("SELECT subject, data FROM tickets WHERE id = 't-1'").fetchone()

    assert row[0] == "kept"
    assert Ticket.model_validate_json(row[1]) == make_ticket("t-1", subject="kept")


def test_version_1_database_gains_cursors_and_keeps_its_rows(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 2 on a database of the release before it: every row stays, cursors work."""
    records = (
        make_customer("c-1"),
        make_agent("a-1"),
        make_team("team-1"),
        make_ticket("t-1", external_id="mail-1", status=TicketStatus.ASSIGNED, assignee_id="a-1"),
        make_ticket("t-2", created_at=T0 + timedelta(hours=1)),
        make_event("t-1", 1),
        make_message("m-1", "t-1", body=TRICKY_TEXTS["mixed"]),
    )
    with monkeypatch.context() as patch:
        patch.setattr(sql_module, "migrate", partial(migrate, migrations=MIGRATIONS[:1]))
        old = SqliteStore(path)
        seed(old, *records, tenant_id="acme")
        old.close()
    assert [row[0] for row in migration_rows(path)] == [1]
    with raw(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        rows_before = {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("tickets", "customers", "agents", "teams", "ticket_events", "messages")
        }
    assert "cursors" not in tables

    store = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [m.version for m in MIGRATIONS]
    with raw(path) as db:
        for table, rows in rows_before.items():
            assert db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == rows, table
    with store.unit_of_work("acme") as uow:
        assert uow.customers.get("c-1") == records[0]
        assert uow.agents.get("a-1") == records[1]
        assert uow.teams.get("team-1") == records[2]
        assert uow.tickets.list() == [records[3], records[4]]
        assert uow.tickets.open_for_assignee("a-1") == [records[3]]
        assert uow.events.for_ticket("t-1") == [records[5]]
        assert uow.messages.for_ticket("t-1") == [records[6]]
        assert uow.cursors.get("routing.round_robin:team-1") is None
        uow.cursors.put("routing.round_robin:team-1", "a-1")
        uow.commit()
    store.close()

    reopened = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [m.version for m in MIGRATIONS]
    with reopened.unit_of_work("acme") as uow:
        assert uow.cursors.get("routing.round_robin:team-1") == "a-1"
    reopened.close()


def test_version_2_database_gains_articles_and_keeps_its_rows(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 3 on a database of the release before it: every row stays, articles work."""
    records = (
        make_customer("c-1"),
        make_agent("a-1"),
        make_team("team-1"),
        make_ticket("t-1", external_id="mail-1", status=TicketStatus.ASSIGNED, assignee_id="a-1"),
        make_ticket("t-2", created_at=T0 + timedelta(hours=1)),
        make_event("t-1", 1),
        make_message("m-1", "t-1", body=TRICKY_TEXTS["mixed"]),
    )
    with monkeypatch.context() as patch:
        patch.setattr(sql_module, "migrate", partial(migrate, migrations=MIGRATIONS[:2]))
        old = SqliteStore(path)
        seed(old, *records, tenant_id="acme")
        with old.unit_of_work("acme") as uow:
            uow.cursors.put("routing.round_robin:team-1", "a-1")
            uow.commit()
        old.close()
    assert [row[0] for row in migration_rows(path)] == [1, 2]
    kept = ("tickets", "customers", "agents", "teams", "ticket_events", "messages", "cursors")
    with raw(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        rows_before = {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in kept
        }
    assert not {"articles", "article_revisions"} & tables

    store = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [m.version for m in MIGRATIONS]
    with raw(path) as db:
        for table, rows in rows_before.items():
            assert db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == rows, table
    article = make_article("kb-1", title="发票 invoices", status=ArticleStatus.PUBLISHED)
    with store.unit_of_work("acme") as uow:
        assert uow.customers.get("c-1") == records[0]
        assert uow.agents.get("a-1") == records[1]
        assert uow.teams.get("team-1") == records[2]
        assert uow.tickets.list() == [records[3], records[4]]
        assert uow.tickets.open_for_assignee("a-1") == [records[3]]
        assert uow.events.for_ticket("t-1") == [records[5]]
        assert uow.messages.for_ticket("t-1") == [records[6]]
        assert uow.cursors.get("routing.round_robin:team-1") == "a-1"
        assert uow.articles.list() == []
        assert uow.articles.revisions("kb-1") == []
        uow.articles.add(article)
        uow.articles.add_revision(make_revision(article))
        uow.commit()
    store.close()

    reopened = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [m.version for m in MIGRATIONS]
    with reopened.unit_of_work("acme") as uow:
        assert uow.articles.list(status=ArticleStatus.PUBLISHED) == [article]
        assert uow.articles.revisions("kb-1") == [make_revision(article)]
    reopened.close()


def test_version_3_database_gains_customer_events_and_keeps_its_rows(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 4 on a database of the release before it: every row stays, the customer
    event log works."""
    article = make_article("kb-1", title="发票 invoices", status=ArticleStatus.PUBLISHED)
    records = (
        make_customer("c-1"),
        make_agent("a-1"),
        make_team("team-1"),
        make_ticket("t-1", external_id="mail-1", status=TicketStatus.ASSIGNED, assignee_id="a-1"),
        make_ticket("t-2", created_at=T0 + timedelta(hours=1)),
        make_event("t-1", 1),
        make_message("m-1", "t-1", body=TRICKY_TEXTS["mixed"]),
        article,
        make_revision(article),
    )
    with monkeypatch.context() as patch:
        patch.setattr(sql_module, "migrate", partial(migrate, migrations=MIGRATIONS[:3]))
        old = SqliteStore(path)
        seed(old, *records, tenant_id="acme")
        with old.unit_of_work("acme") as uow:
            uow.cursors.put("routing.round_robin:team-1", "a-1")
            uow.commit()
        old.close()
    assert [row[0] for row in migration_rows(path)] == [1, 2, 3]
    kept = (
        "tickets",
        "customers",
        "agents",
        "teams",
        "ticket_events",
        "messages",
        "cursors",
        "articles",
        "article_revisions",
    )
    with raw(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        rows_before = {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in kept
        }
    assert not {"customer_events", "customer_events_at"} & tables

    store = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [*range(1, LATEST_VERSION + 1)]
    with raw(path) as db:
        for table, rows in rows_before.items():
            assert db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == rows, table
    upgraded = make_customer_event(
        "c-1", 1, data={"from": "regular", "to": "vip", "reason": "年度消费 annual spend"}
    )
    with store.unit_of_work("acme") as uow:
        assert uow.customers.get("c-1") == records[0]
        assert uow.agents.get("a-1") == records[1]
        assert uow.teams.get("team-1") == records[2]
        assert uow.tickets.list() == [records[3], records[4]]
        assert uow.tickets.open_for_assignee("a-1") == [records[3]]
        assert uow.events.for_ticket("t-1") == [records[5]]
        assert uow.messages.for_ticket("t-1") == [records[6]]
        assert uow.cursors.get("routing.round_robin:team-1") == "a-1"
        assert uow.articles.list(status=ArticleStatus.PUBLISHED) == [article]
        assert uow.articles.revisions("kb-1") == [records[8]]
        assert uow.customer_events.for_customer("c-1") == []
        uow.customers.update(next_version(records[0], tier=CustomerTier.VIP))
        uow.customer_events.append([upgraded])
        uow.commit()
    store.close()

    reopened = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [*range(1, LATEST_VERSION + 1)]
    with reopened.unit_of_work("acme") as uow:
        assert uow.customers.get("c-1").tier is CustomerTier.VIP
        assert uow.customer_events.for_customer("c-1") == [upgraded]
        assert list(uow.customer_events.between(T0, T0 + timedelta(days=1))) == [upgraded]
    reopened.close()


def test_version_4_database_upgrades_to_the_read_order_event_index(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 5 rebuilds ticket_events_at in between()'s order; every event stays."""
    events = [
        make_event("t-2", 1),
        make_event("t-1", 1),  # the same instant as t-2's: ordered by ticket id
        make_event("t-1", 2, at=T0 + timedelta(minutes=5)),
        make_event("t-1", 3, at=T0 + timedelta(minutes=5)),
    ]
    with monkeypatch.context() as patch:
        patch.setattr(sql_module, "migrate", partial(migrate, migrations=MIGRATIONS[:4]))
        old = SqliteStore(path)
        seed(old, *events)
        old.close()
    query = (
        "SELECT data FROM ticket_events WHERE tenant_id = ? AND at >= ? AND at < ?"
        " ORDER BY at, ticket_id, seq"
    )
    plan_args = ("default", "2000-01-01", "2100-01-01")
    with raw(path) as db:
        plan = " ".join(str(row) for row in db.execute("EXPLAIN QUERY PLAN " + query, plan_args))
        assert "TEMP B-TREE" in plan
    store = SqliteStore(path)
    assert [row[0] for row in migration_rows(path)] == [1, 2, 3, 4, 5]
    with raw(path) as db:
        plan = " ".join(str(row) for row in db.execute("EXPLAIN QUERY PLAN " + query, plan_args))
        assert "TEMP B-TREE" not in plan
        assert "ticket_events_at" in plan
    with store.unit_of_work() as uow:
        read = list(uow.events.between(T0, T0 + timedelta(hours=1)))
        assert [(e.ticket_id, e.seq) for e in read] == [
            ("t-1", 1),
            ("t-2", 1),
            ("t-1", 2),
            ("t-1", 3),
        ]
    store.close()


# Two connections racing for one ticket


def test_second_writer_that_already_read_is_refused_at_once(path: Path) -> None:
    store_a, store_b = SqliteStore(path), SqliteStore(path)
    seed(store_a, make_ticket("t-1"))
    with store_a.unit_of_work() as first, store_b.unit_of_work() as second:
        mine, theirs = first.tickets.get("t-1"), second.tickets.get("t-1")
        first.tickets.update(next_version(mine, assignee_id="a-1"))
        started = time.monotonic()
        with pytest.raises(ConcurrencyConflict):
            second.tickets.update(next_version(theirs, assignee_id="a-2"))
        assert time.monotonic() - started < 1.0
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()

    assert stored_ticket(store_b, "t-1") == next_version(mine, assignee_id="a-1")
    store_a.close()
    store_b.close()


def test_second_writing_unit_in_one_thread_is_refused_at_once(store: SqliteStore) -> None:
    """Waiting could never end: the lock is held by a unit of this very thread."""
    with store.unit_of_work() as first, store.unit_of_work() as second:
        first.tickets.add(make_ticket("t-1"))
        started = time.monotonic()
        with pytest.raises(ConcurrencyConflict):
            second.tickets.add(make_ticket("t-2"))
        assert time.monotonic() - started < 1.0
        first.commit()
        second.rollback()
        second.tickets.add(make_ticket("t-2"))
        second.commit()
    with store.unit_of_work() as uow:
        assert [t.id for t in uow.tickets.list()] == ["t-1", "t-2"]


def test_writer_on_a_snapshot_older_than_a_commit_is_refused(path: Path) -> None:
    store_a, store_b = SqliteStore(path), SqliteStore(path)
    seed(store_a, make_ticket("t-1"))
    with store_a.unit_of_work() as first, store_b.unit_of_work() as second:
        mine, theirs = first.tickets.get("t-1"), second.tickets.get("t-1")
        first.tickets.update(next_version(mine, status=TicketStatus.ON_HOLD))
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.tickets.update(next_version(theirs, status=TicketStatus.CLOSED))

    assert stored_ticket(store_b, "t-1").status is TicketStatus.ON_HOLD
    store_a.close()
    store_b.close()


def test_racing_threads_commit_exactly_one_update(store: SqliteStore) -> None:
    seed(store, make_ticket("t-1"))
    both_read = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def work(agent_id: str) -> None:
        with store.unit_of_work() as uow:
            ticket = uow.tickets.get("t-1")
            both_read.wait()
            try:
                uow.tickets.update(next_version(ticket, assignee_id=agent_id))
                uow.commit()
                outcomes[agent_id] = "committed"
            except ConcurrencyConflict:
                outcomes[agent_id] = "conflict"

    threads = [threading.Thread(target=work, args=(a,)) for a in ("a-1", "a-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["committed", "conflict"]
    (winner,) = (agent for agent, outcome in outcomes.items() if outcome == "committed")
    assert stored_ticket(store, "t-1").assignee_id == winner
    assert stored_ticket(store, "t-1").version == 2


def test_no_update_is_lost_when_threads_retry_conflicts(store: SqliteStore) -> None:
    seed(store, make_ticket("t-1"), make_event("t-1", 1))
    threads_count, increments = 4, 15

    def escalate_repeatedly() -> None:
        for _ in range(increments):
            while True:
                try:
                    with store.unit_of_work() as uow:
                        ticket = uow.tickets.get("t-1")
                        raised = next_version(ticket, escalation_level=ticket.escalation_level + 1)
                        uow.tickets.update(raised)
                        uow.events.append([make_event("t-1", raised.version)])
                        uow.commit()
                    break
                except ConcurrencyConflict:
                    continue

    threads = [threading.Thread(target=escalate_repeatedly) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total = threads_count * increments
    final = stored_ticket(store, "t-1")
    assert (final.escalation_level, final.version) == (total, total + 1)
    with store.unit_of_work() as uow:
        assert [e.seq for e in uow.events.for_ticket("t-1")] == list(range(1, total + 2))


# Tenancy, as SQL sees it


def test_every_table_and_index_leads_with_tenant_id(store: SqliteStore, path: Path) -> None:
    with raw(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name != "schema_migrations"
        ]
        assert sorted(tables) == [
            "agents",
            "article_revisions",
            "articles",
            "cursors",
            "customer_events",
            "customers",
            "messages",
            "teams",
            "ticket_events",
            "tickets",
        ]
        for table in tables:
            key = sorted(
                (pk, name)
                for _, name, _, _, _, pk in db.execute(f"PRAGMA table_info({table})")
                if pk
            )
            assert key[0] == (1, "tenant_id"), table
            for index in db.execute(f"PRAGMA index_list({table})").fetchall():
                columns = db.execute(f"PRAGMA index_info({index[1]})").fetchall()
                assert columns[0][2] == "tenant_id", (table, index[1])


def test_same_ids_in_two_tenants_are_separate_rows(store: SqliteStore, path: Path) -> None:
    for tenant in ("acme", "globex"):
        seed(
            store,
            make_ticket("t-1", subject=tenant, external_id="mail-1"),
            make_event("t-1", 1),
            make_message("m-1", "t-1"),
            tenant_id=tenant,
        )
    with store.unit_of_work("globex") as uow:
        uow.tickets.update(next_version(uow.tickets.get("t-1"), subject="changed"))
        uow.commit()

    with raw(path) as db:
        for table in ("tickets", "ticket_events", "messages"):
            rows = db.execute(f"SELECT tenant_id FROM {table} ORDER BY tenant_id").fetchall()
            assert rows == [("acme",), ("globex",)], table
        versions = db.execute("SELECT tenant_id, version FROM tickets ORDER BY tenant_id")
        assert versions.fetchall() == [("acme", 1), ("globex", 2)]
    assert stored_ticket(store, "t-1", "acme") == make_ticket(
        "t-1", subject="acme", external_id="mail-1"
    )


# Rows as SQL sees them


def assert_columns_match_json(path: Path) -> None:
    """Every ticket's indexed columns say what its JSON says, datetimes as UTC text."""
    with raw(path) as db:
        columns = ", ".join(TICKET_COLUMNS)
        for row in db.execute(f"SELECT {columns}, data FROM tickets"):
            ticket = Ticket.model_validate_json(row[-1])
            fields = ticket.model_dump(mode="json")
            for name, value in zip(TICKET_COLUMNS, row, strict=False):
                if name in ("created_at", "updated_at"):
                    assert len(value) == len("2024-03-04T09:00:00.000000+00:00"), value
                    assert value.endswith("+00:00"), value
                    assert datetime.fromisoformat(value) == getattr(ticket, name), name
                else:
                    assert value == fields[name], name


def test_indexed_columns_follow_every_update(store: SqliteStore, path: Path) -> None:
    seed(store, make_ticket("t-1", external_id="mail-1"), make_ticket("t-2"))
    changes: list[dict[str, Any]] = [
        {"status": TicketStatus.ASSIGNED, "assignee_id": "a-1"},
        {"updated_at": T0 + timedelta(hours=1)},
        {"channel": Channel.CHAT, "external_id": "chat-9", "customer_id": "c-2"},
        {"created_at": T0 - timedelta(days=1), "team_id": "team-1", "status": TicketStatus.ON_HOLD},
        {"assignee_id": None},
    ]
    for change in changes:
        with store.unit_of_work() as uow:
            uow.tickets.update(next_version(uow.tickets.get("t-1"), **change))
            uow.commit()
        assert_columns_match_json(path)


def test_update_after_a_rollback_rewrites_every_indexed_column(
    store: SqliteStore, path: Path
) -> None:
    """Regression guard: a unit that rolled back must not trust what it wrote before."""
    seed(store, make_ticket("t-1"))
    with store.unit_of_work() as uow:
        v1 = uow.tickets.get("t-1")
        mine = next_version(v1, status=TicketStatus.ASSIGNED, assignee_id="a-1")
        uow.tickets.update(mine)
        uow.rollback()
        with store.unit_of_work() as other:
            other.tickets.update(next_version(v1, status=TicketStatus.ON_HOLD, assignee_id="a-2"))
            other.commit()
        uow.tickets.update(next_version(mine))
        uow.commit()

    assert_columns_match_json(path)
    with store.unit_of_work() as uow:
        assert [t.id for t in uow.tickets.list(status=TicketStatus.ASSIGNED)] == ["t-1"]
        assert uow.tickets.list(status=TicketStatus.ON_HOLD) == []
        assert uow.tickets.open_counts_by_assignee() == {"a-1": 1}


@pytest.mark.parametrize("text", list(TRICKY_TEXTS.values()), ids=list(TRICKY_TEXTS))
def test_tricky_text_is_stored_verbatim_in_rows_and_filters(
    store: SqliteStore, path: Path, text: str
) -> None:
    ticket = make_ticket(
        "t-1",
        subject=text[:500],
        body=text,
        external_id=text,
        customer_id=text.strip() or "c-1",
        assignee_id=text.strip() or "a-1",
        status=TicketStatus.ASSIGNED,
    )
    seed(store, ticket, make_ticket("t-2", assignee_id="a-2"), tenant_id="acme'; --")

    with raw(path) as db:
        row = db.execute("SELECT external_id, data FROM tickets WHERE id = 't-1'").fetchone()
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert row[0] == text
    assert json.loads(row[1])["body"] == text
    assert {"tickets", "ticket_events", "messages"} <= tables
    with store.unit_of_work("acme'; --") as uow:
        assert uow.tickets.list(assignee_id=ticket.assignee_id) == [ticket]
        assert uow.tickets.list(customer_id=ticket.customer_id) == [ticket]
        assert uow.tickets.find_by_external_id(Channel.EMAIL, text) == ticket
        assert uow.tickets.list(assignee_id="' OR '1'='1") == []


def test_every_query_is_served_by_an_index(store: SqliteStore, path: Path) -> None:
    """The schema keeps few indexes (each one costs every write a page); none may be
    missing: no query scans a whole table, or a whole tenant when it filters further."""
    sql = store._sql
    queries = [q for q in vars(sql).values() if isinstance(q, str) and "SELECT" in q]
    queries += sql.ticket_list.values()
    for entity in (sql.customers, sql.agents, sql.teams):
        queries += (entity.get, entity.version, entity.list)
    with raw(path) as db:
        for query in queries:
            plan = db.execute(f"EXPLAIN QUERY PLAN {query}", ["x"] * query.count("?"))
            steps = [row[3] for row in plan]
            assert not any(step.startswith("SCAN") for step in steps), (query, steps)
            if " AND " in query:
                assert not any(step.endswith("(tenant_id=?)") for step in steps), (query, steps)


def test_open_tickets_of_one_assignee_are_searched_in_the_status_index(
    store: SqliteStore, path: Path
) -> None:
    """The capacity check reads one agent's open tickets: a search of the (tenant, status,
    assignee) index per open status, not a scan of the tenant's tickets, also once the
    planner has statistics of a tenant with many tickets."""
    query = store._sql.open_for_assignee
    search = (
        "SEARCH tickets USING INDEX tickets_status (tenant_id=? AND status=? AND assignee_id=?)"
    )
    params = ["acme", *store._sql.open_statuses, "a-1"]
    statuses = list(TicketStatus)
    seed(
        store,
        *(
            make_ticket(
                f"t-{n}",
                status=statuses[n % len(statuses)],
                assignee_id=f"a-{n % 40}",
                customer_id=f"c-{n % 7}",
            )
            for n in range(400)
        ),
        tenant_id="acme",
    )
    with raw(path) as db:
        for analyzed in (False, True):
            if analyzed:
                db.execute("ANALYZE")
            steps = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {query}", params)]
            searches = [step for step in steps if step.startswith("SEARCH")]
            assert searches == [search], (analyzed, steps)
            assert not any(step.startswith("SCAN") for step in steps), (analyzed, steps)
    with store.unit_of_work("acme") as uow:
        found = uow.tickets.open_for_assignee("a-1")
    assert [t.id for t in found] == sorted(
        f"t-{n}" for n in range(1, 400, 40) if statuses[n % len(statuses)] in OPEN_STATUSES
    )


def test_article_status_column_follows_every_update(store: SqliteStore, path: Path) -> None:
    article = make_article("kb-1")
    seed(store, article)
    for status in (*ArticleStatus, ArticleStatus.DRAFT):
        with store.unit_of_work() as uow:
            uow.articles.update(next_version(uow.articles.get("kb-1"), status=status))
            uow.commit()
        with raw(path) as db:
            rows = db.execute("SELECT id, status, version, data FROM articles").fetchall()
        ((article_id, column, version, data),) = rows
        stored = Article.model_validate_json(data)
        assert (article_id, column, version) == (stored.id, stored.status.value, stored.version)
        assert stored.status is status


def test_articles_of_one_status_are_searched_in_the_status_index(
    store: SqliteStore, path: Path
) -> None:
    """Listing one status reads that status's entries, already in id order, not the tenant's
    articles, also once the planner has statistics of a tenant with many articles."""
    statuses = list(ArticleStatus)
    seed(
        store,
        *(make_article(f"kb-{n}", status=statuses[n % len(statuses)]) for n in range(200)),
        tenant_id="acme",
    )
    query = store._sql.article_list_by_status
    with raw(path) as db:
        for analyzed in (False, True):
            if analyzed:
                db.execute("ANALYZE")
            plan = db.execute(f"EXPLAIN QUERY PLAN {query}", ["acme", "published"])
            steps = [row[3] for row in plan]
            assert steps == [
                "SEARCH articles USING INDEX articles_status (tenant_id=? AND status=?)"
            ], (analyzed, steps)
    with store.unit_of_work("acme") as uow:
        found = uow.articles.list(status=ArticleStatus.PUBLISHED)
    assert [a.id for a in found] == sorted(
        f"kb-{n}" for n in range(200) if statuses[n % len(statuses)] is ArticleStatus.PUBLISHED
    )


def test_each_revision_is_one_row_keyed_by_article_and_version(
    store: SqliteStore, path: Path
) -> None:
    v1 = make_article("kb-1")
    v2 = next_version(v1, body="second")
    seed(store, make_revision(v2), make_revision(v1), make_revision(make_article("kb-2")))
    seed(store, make_revision(v1), tenant_id="globex")
    with raw(path) as db:
        rows = db.execute(
            "SELECT tenant_id, article_id, version FROM article_revisions ORDER BY 1, 2, 3"
        ).fetchall()
    assert rows == [
        ("default", "kb-1", 1),
        ("default", "kb-1", 2),
        ("default", "kb-2", 1),
        (
            "globex",
            "kb-1",
            1,
        ),
    ]


def test_duplicate_revision_leaves_the_unit_usable(store: SqliteStore) -> None:
    article = make_article("kb-1")
    seed(store, make_revision(article))
    with store.unit_of_work() as uow:
        uow.articles.add(article)
        with pytest.raises(DuplicateEntity) as refused:
            uow.articles.add_revision(make_revision(article, note="again"))
        assert (refused.value.kind, refused.value.key) == ("article revision", "kb-1#1")
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.articles.get("kb-1") == article
        assert uow.articles.revisions("kb-1") == [make_revision(article)]


def test_a_cursor_is_one_row_rewritten_in_place(store: SqliteStore, path: Path) -> None:
    for tenant, value in (("acme", "a-1"), ("acme", "a-2"), ("globex", "g-1"), ("acme", "a-3")):
        with store.unit_of_work(tenant) as uow:
            uow.cursors.put("routing.round_robin:team-1", value)
            uow.commit()
    with raw(path) as db:
        rows = db.execute("SELECT tenant_id, name, value FROM cursors ORDER BY tenant_id")
        assert rows.fetchall() == [
            ("acme", "routing.round_robin:team-1", "a-3"),
            ("globex", "routing.round_robin:team-1", "g-1"),
        ]


# Reading back: JSON texts already validated are not validated again


def test_a_row_rewritten_behind_the_store_reads_as_stored(store: SqliteStore, path: Path) -> None:
    ticket, agent = make_ticket("t-1"), make_agent("a-1")
    seed(store, ticket, agent)
    assert stored_ticket(store, "t-1") == ticket
    changed = next_version(ticket, subject="changed outside")
    renamed = next_version(agent, name="Renamed")
    with raw(path) as db:
        db.execute("UPDATE tickets SET data = ?", (changed.model_dump_json(),))
        db.execute("UPDATE agents SET data = ?", (renamed.model_dump_json(),))

    assert stored_ticket(store, "t-1") == changed
    with store.unit_of_work() as uow:
        assert uow.agents.get("a-1") == renamed
        assert uow.agents.list() == [renamed]


def test_rolled_back_writes_are_not_read_back(store: SqliteStore) -> None:
    ticket = make_ticket("t-1")
    seed(store, ticket)
    with store.unit_of_work() as uow:
        uow.tickets.update(next_version(uow.tickets.get("t-1"), subject="discarded"))
        uow.rollback()
    assert stored_ticket(store, "t-1") == ticket


def test_parsed_texts_are_equal_models_and_bounded() -> None:
    parsed = _Parsed(Ticket, "ticket", limit=3)
    tickets = [make_ticket(f"t-{n}") for n in range(5)]
    texts = [t.model_dump_json() for t in tickets]

    loaded = [parsed.load(text) for text in texts]
    assert loaded == tickets
    assert len(parsed._entries) <= 3
    assert parsed.load(texts[-1]) is loaded[-1]

    written = next_version(tickets[0], subject="written")
    parsed.remember(written.model_dump_json(), written)
    assert parsed.load(written.model_dump_json()) is written
    with pytest.raises(StorageError):
        parsed.load('{"id": 42}')


# Only supportflow errors escape


def test_closed_store_raises_storage_error(path: Path) -> None:
    store = SqliteStore(path)
    with store.unit_of_work() as uow:
        uow.tickets.list()
        store.close()
        with pytest.raises(StorageError):
            uow.tickets.get("t-1")
    with pytest.raises(StorageError):
        store.unit_of_work()
    store.close()


def test_file_that_is_not_a_database_raises_storage_error(path: Path) -> None:
    path.write_bytes(b"this is a spreadsheet, honest" * 100)
    with pytest.raises(StorageError):
        SqliteStore(path)


def test_missing_directory_raises_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        SqliteStore(tmp_path / "no such directory" / "support.db")


def test_unreadable_row_raises_storage_error(store: SqliteStore, path: Path) -> None:
    seed(store, make_ticket("t-1"))
    with raw(path) as db:
        db.execute("UPDATE tickets SET data = '{\"id\": 42}'")
    with store.unit_of_work() as uow, pytest.raises(StorageError):
        uow.tickets.get("t-1")


@pytest.mark.parametrize(
    "data",
    [
        '{"id": 42}',  # the wrong shape
        '{"id": "t-1#9", "ticket_id": "t-1", "seq": 2}',  # an id that is not its place
        "not json",
    ],
)
def test_an_unreadable_event_in_a_streamed_read_raises_storage_error(
    store: SqliteStore, path: Path, data: str
) -> None:
    seed(store, make_event("t-1", 1), make_event("t-1", 2))
    with raw(path) as db:
        db.execute("UPDATE ticket_events SET data = ? WHERE seq = 2", (data,))
    with store.unit_of_work() as uow:
        events = uow.events.between(T0, T0 + timedelta(hours=1))
        assert next(events) == make_event("t-1", 1)
        with pytest.raises(StorageError, match="a stored event is unreadable"):
            next(events)


def test_database_locked_by_another_program_raises_concurrency_conflict(path: Path) -> None:
    store = SqliteStore(path, busy_timeout_s=0.05)
    with raw(path) as db:
        db.execute("BEGIN IMMEDIATE")
        with store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
            uow.tickets.add(make_ticket("t-1"))
        db.execute("ROLLBACK")
    seed(store, make_ticket("t-1"))
    assert stored_ticket(store, "t-1") == make_ticket("t-1")
    store.close()


def test_conflict_refuses_the_rest_of_the_unit_until_rollback(store: SqliteStore) -> None:
    seed(store, make_ticket("t-1", version=2))
    with store.unit_of_work() as uow:
        uow.customers.add(make_customer("c-1"))
        with pytest.raises(ConcurrencyConflict):
            uow.tickets.update(make_ticket("t-1", version=2))
        with pytest.raises(ConcurrencyConflict):
            uow.tickets.get("t-1")
        with pytest.raises(ConcurrencyConflict):
            uow.commit()
        uow.rollback()
        assert uow.customers.list() == []
        uow.customers.add(make_customer("c-2"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.customers.list() == [make_customer("c-2")]


def test_duplicate_leaves_the_unit_usable_and_stores_none_of_its_append(
    store: SqliteStore,
) -> None:
    seed(store, make_event("t-1", 2))
    with store.unit_of_work() as uow:
        uow.events.append([make_event("t-1", 1)])
        with pytest.raises(DuplicateEntity):
            uow.events.append([make_event("t-1", 3), make_event("t-1", 2), make_event("t-1", 4)])
        uow.commit()
    with store.unit_of_work() as uow:
        assert [e.seq for e in uow.events.for_ticket("t-1")] == [1, 2]


def test_duplicate_customer_event_leaves_the_unit_usable_and_stores_none_of_its_append(
    store: SqliteStore,
) -> None:
    seed(store, make_customer_event("c-1", 2))
    with store.unit_of_work() as uow:
        uow.customer_events.append([make_customer_event("c-1", 1)])
        with pytest.raises(DuplicateEntity):
            uow.customer_events.append(
                [
                    make_customer_event("c-1", 3),
                    make_customer_event("c-1", 2),
                    make_customer_event("c-1", 4),
                ]
            )
        uow.commit()
    with store.unit_of_work() as uow:
        assert [e.seq for e in uow.customer_events.for_customer("c-1")] == [1, 2]


def test_naive_bounds_of_customer_events_between_are_refused(store: SqliteStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(ValidationFailed, match="end"):
        uow.customer_events.between(T0, T0.replace(tzinfo=None))


def test_customer_events_between_streams_more_than_one_fetch(store: SqliteStore) -> None:
    events = [
        make_customer_event(f"c-{n % 7}", n + 1, at=T0 - timedelta(seconds=n)) for n in range(1200)
    ]
    with store.unit_of_work() as uow:
        uow.customer_events.append(events)
        uow.commit()
    with store.unit_of_work() as uow:
        found = list(uow.customer_events.between(T0 - timedelta(days=1), T0 + timedelta(days=1)))
    assert found == sorted(events, key=lambda e: (e.at, e.customer_id, e.seq))


def test_ids_sqlite_cannot_encode_are_simply_not_found(store: SqliteStore) -> None:
    seed(store, make_ticket("t-1"))
    lone_surrogate = "t-1\ud800"
    with store.unit_of_work() as uow:
        with pytest.raises(TicketNotFound):
            uow.tickets.get(lone_surrogate)
        assert uow.tickets.find_by_external_id(Channel.EMAIL, lone_surrogate) is None
        assert uow.tickets.list(assignee_id=lone_surrogate) == []
        assert uow.events.for_ticket(lone_surrogate) == []
        assert uow.customer_events.for_customer(lone_surrogate) == []


def test_version_beyond_sqlite_integers_is_refused(store: SqliteStore) -> None:
    with store.unit_of_work() as uow:
        with pytest.raises(ValidationFailed):
            uow.tickets.add(make_ticket("t-1", version=2**63))
        uow.tickets.add(make_ticket("t-2"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert [t.id for t in uow.tickets.list()] == ["t-2"]


def test_naive_bounds_of_between_are_refused(store: SqliteStore) -> None:
    with store.unit_of_work() as uow, pytest.raises(ValidationFailed, match="start"):
        uow.events.between(T0.replace(tzinfo=None), T0)


def test_between_streams_more_events_than_one_fetch(store: SqliteStore) -> None:
    events = [make_event(f"t-{n % 7}", n + 1, at=T0 - timedelta(seconds=n)) for n in range(1200)]
    with store.unit_of_work() as uow:
        uow.events.append(events)
        uow.commit()
    with store.unit_of_work() as uow:
        found = list(uow.events.between(T0 - timedelta(days=1), T0 + timedelta(days=1)))
    assert found == sorted(events, key=lambda e: (e.at, e.ticket_id, e.seq))


def test_unit_of_work_must_be_entered(store: SqliteStore) -> None:
    uow: UnitOfWork = store.unit_of_work()
    with pytest.raises(StorageError, match="inside"):
        uow.tickets.list()
