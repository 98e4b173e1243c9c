"""Stores for the load and crash tests: an SQLite file, and a fresh PostgreSQL database.

The PostgreSQL variants skip, with the reason, while ``supportflow.storage.postgres`` does
not exist, without psycopg, or when no throwaway server can be started here.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportflow.testing.workload import StoreSpec, new_postgres_database

STORE_KINDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]


def postgres_skip_reason() -> str | None:
    """Why the PostgreSQL variants cannot run here, or None."""
    if importlib.util.find_spec("supportflow.storage.postgres") is None:
        return "supportflow.storage.postgres (PostgresStore) does not exist yet"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (the [postgres] extra)"
    from supportflow.testing.postgres import postgres_available

    return postgres_available()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session (its maintenance database)."""
    reason = postgres_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from supportflow.testing.postgres import postgres_server

    with postgres_server() as dsn:
        yield dsn


@pytest.fixture(params=STORE_KINDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """An empty store of each kind: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return StoreSpec.sqlite(tmp_path / "load.db")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return StoreSpec.postgres(new_postgres_database(dsn, f"load_{uuid.uuid4().hex[:16]}"))
