"""Stores for the load and crash tests: an SQLite file, and a fresh PostgreSQL database.

The PostgreSQL variants use the session's throwaway server (``postgres_databases`` in
``tests/conftest.py``), which skips with the reason when none can be started here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supportflow.testing.workload import StoreSpec

STORE_KINDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]


@pytest.fixture(params=STORE_KINDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """An empty store of each kind: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return StoreSpec.sqlite(tmp_path / "load.db")
    databases: Any = request.getfixturevalue("postgres_databases")
    return StoreSpec.postgres(databases.new_dsn())
