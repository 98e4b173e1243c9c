"""SQL injection strings and tricky Unicode in every text field round-trip verbatim.

Customers, tickets (subject, body, tags, external id, category), replies, internal notes and
articles (title, body, tags) are stored with hostile text, read back equal from a reopened
store (a SQLite file; a PostgreSQL database), and every table the schema made is still there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow import SqliteStore, Store, SupportDesk
from supportflow.testing import FixedClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INJECTIONS = [
    "'; DROP TABLE tickets; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "Robert'); DROP TABLE customers;--",
    "1; DELETE FROM events WHERE 1=1",
    "%' UNION SELECT name FROM sqlite_master --",
    "x'); ATTACH DATABASE '/tmp/evil.db' AS evil; --",
    "?; :name; @p; $1",
    "\\'; DROP TABLE articles; --",
    "%_%",
]
UNICODE = [
    "\u202eevil\u202c reversed",  # RTL override
    "\u200f\u05e9\u05dc\u05d5\u05dd\u200e",  # RTL mark, Hebrew
    "e\u0301 vs \u00e9",  # combining vs precomposed: must not be normalised
    "\ufb01le \uff21\uff22",  # ligature and fullwidth letters
    "工单'; DROP TABLE tickets; --測試",
    "emoji 👩\u200d💻 zwj",
    "zero\u200bwidth",
]
TEXTS = INJECTIONS + UNICODE


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def _round_trip(
    tmp_path: Path, populate: Callable[[SupportDesk], None], text: str, label: str
) -> None:
    path = tmp_path / "support.db"
    _round_trip_on(lambda: SqliteStore(str(path)), lambda: _tables(path), populate, text, label)


def _round_trip_on(
    open_store: Callable[[], Store],
    list_tables: Callable[[], set[str]],
    populate: Callable[[SupportDesk], None],
    text: str,
    label: str,
) -> None:
    store = open_store()
    try:
        desk = SupportDesk(store, clock=FixedClock(START))
        populate(desk)
        tables = list_tables()
        assert {"tickets", "customers"} <= tables, tables
        desk.add_customer({"id": f"c-{label}", "name": text})
        ticket = desk.intake(
            channel="email",
            customer_id=f"c-{label}",
            subject=text,
            body=text,
            tags=(label, "sql"),
            external_id=text,
            category=label,
        )
        desk.assign(ticket.id, "a-bob")
        desk.acknowledge(ticket.id, agent_id="a-bob")
        desk.reply(ticket.id, agent_id="a-bob", body=text)
        desk.reply(ticket.id, agent_id="a-bob", body=f"note: {text}", internal=True)
        desk.kb.create(
            {"id": "kb-1", "title": text, "body": text, "tags": [label], "status": "published"},
            editor_id="a-sue",
        )
    finally:
        store.close()

    assert list_tables() == tables
    store = open_store()
    try:
        desk = SupportDesk(store, clock=FixedClock(START))
        assert desk.get_customer(f"c-{label}").name == text
        stored = desk.get_ticket(ticket.id)
        assert (stored.subject, stored.body) == (text, text)
        assert (stored.external_id, stored.category) == (text, label)
        assert stored.tags == (label, "sql")
        found = desk.find_by_external_id("email", text)
        assert found is not None
        assert found.id == ticket.id
        bodies = [m.body for m in desk.messages(ticket.id)]
        assert text in bodies
        assert f"note: {text}" in bodies
        article = desk.kb.get("kb-1")
        assert (article.title, article.body, article.tags) == (text, text, (label,))
        assert len(desk.list_tickets()) == 1
    finally:
        store.close()
    assert list_tables() == tables


@pytest.mark.parametrize("text", TEXTS)
def test_hostile_text_is_stored_and_returned_verbatim(
    tmp_path: Path, populate: Callable[[SupportDesk], None], text: str
) -> None:
    _round_trip(tmp_path, populate, text, label=text)


@pytest.mark.parametrize("text", TEXTS)
def test_hostile_text_round_trips_on_postgres(
    postgres_databases: Any, populate: Callable[[SupportDesk], None], text: str
) -> None:
    import psycopg

    from supportflow.storage.postgres import PostgresStore

    dsn = postgres_databases.new_dsn()

    def tables() -> set[str]:
        with psycopg.connect(dsn) as connection:
            rows = connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            return {name for (name,) in rows}

    _round_trip_on(lambda: PostgresStore(dsn), tables, populate, text, label=text)


TEXT_PARTS = st.lists(
    st.one_of(
        st.sampled_from(TEXTS),
        st.text(
            alphabet=st.characters(exclude_categories=["Cs", "Cc"], include_characters="\n\t"),
            min_size=1,
            max_size=8,
        ),
    ),
    min_size=1,
    max_size=4,
).map("".join)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TEXT_PARTS.filter(lambda t: t.strip() == t and t.strip()))
def test_mixed_hostile_text_round_trips(
    tmp_path_factory: pytest.TempPathFactory, populate: Any, text: str
) -> None:
    _round_trip(tmp_path_factory.mktemp("sql"), populate, text, label=text[:100])
