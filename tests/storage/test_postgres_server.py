"""The throwaway PostgreSQL server the PostgreSQL store's tests will run against.

They start a real server (skipping with the reason only when none can be started here) and
check what the store will rely on: UTF-8 text and parameters round-trip, and
``FOR UPDATE SKIP LOCKED`` hands concurrent workers different rows.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportflow.testing import postgres
from supportflow.testing.postgres import PostgresServer, PostgresUnavailable, postgres_server

psycopg = pytest.importorskip("psycopg", reason="psycopg is the [postgres] extra")


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    reason = postgres.postgres_available()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server() as dsn:
        yield dsn


def test_text_and_injection_round_trip(dsn: str) -> None:
    """Chinese text and a SQL-injection string are stored as given, as parameters."""
    texts = ["无法登录，密码重置链接已过期", "'); DROP TABLE notes; --"]
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
        for text in texts:
            conn.execute("INSERT INTO notes (body) VALUES (%s)", (text,))
        rows = conn.execute("SELECT body FROM notes ORDER BY id").fetchall()
    assert [row[0] for row in rows] == texts


def test_skip_locked_gives_two_workers_different_rows(dsn: str) -> None:
    """A row one transaction locked is skipped by the next: the work-queue primitive."""
    claim = "SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE jobs (id int PRIMARY KEY)")
        setup.execute("INSERT INTO jobs VALUES (1), (2)")
    with psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        assert first.execute(claim).fetchone() == (1,)
        assert second.execute(claim).fetchone() == (2,)
        assert second.execute(claim).fetchone() == (2,)  # its own lock, still held
        first.rollback()
        assert first.execute(claim).fetchone() == (1,)


def test_stop_shuts_the_server_down_and_removes_its_directory() -> None:
    reason = postgres.postgres_available()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer()
    with server:
        directory = server.directory
        assert directory is not None
        assert (directory / "data" / "PG_VERSION").is_file()
        dsn = server.dsn
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not directory.exists()
    assert server.directory is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)
    server.stop()  # a second stop is harmless


def test_missing_binaries_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "_SEARCH_ROOT", tmp_path / "none")
    with pytest.raises(PostgresUnavailable, match="apt-get install postgresql"):
        PostgresServer(tmp_path).start()


def test_a_server_that_does_not_come_up_reports_its_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A taken port makes the server exit; the error carries the server log's tail."""
    reason = postgres.postgres_available()
    if reason is not None:
        pytest.skip(reason)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(postgres, "_free_port", lambda: taken.getsockname()[1])
        server = PostgresServer()
        with pytest.raises(PostgresUnavailable, match="server log:") as raised:
            server.start()
    assert "could not" in str(raised.value)
    assert server.directory is None
