"""The storage contract, run against every store supportflow ships."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from supportflow.storage.memory import MemoryStore
from supportflow.storage.sql import SqliteStore
from supportflow.testing.conformance import StoreContract

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from supportflow.storage.protocols import Store


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
