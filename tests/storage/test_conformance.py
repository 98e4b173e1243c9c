"""The storage contract, run against every store supportflow ships."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from supportflow.storage.memory import MemoryStore
from supportflow.storage.sql import SqliteStore
from supportflow.testing.conformance import StoreContract

try:
    from supportflow.storage.postgres import PostgresStore
except ImportError:  # the postgres extra is missing: the fixture skips with the reason
    PostgresStore = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from supportflow.storage.protocols import Store
    from supportflow.testing.postgres import FreshDatabases


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = MemoryStore()
        yield store
        store.close()


class TestSqliteStoreInMemory(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = SqliteStore(":memory:")
        yield store
        store.close()


class TestSqliteStoreFile(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = SqliteStore(tmp_path / "support.db")
        yield store
        store.close()

    @pytest.fixture
    def reopen_store(self, tmp_path: Path) -> Callable[[], Store]:
        return lambda: SqliteStore(tmp_path / "support.db")


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, postgres_databases: FreshDatabases) -> Iterator[Store]:
        self.dsn = postgres_databases.new_dsn()
        store = PostgresStore(self.dsn)
        yield store
        store.close()

    @pytest.fixture
    def reopen_store(self, store: Store) -> Callable[[], Store]:
        return lambda: PostgresStore(self.dsn)
