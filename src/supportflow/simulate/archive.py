"""A simulation kept in its SQLite file, so its report can be rendered again later.

The desk's own tables already hold every ticket and event. What only the simulation knew
goes into one more table, ``supportflow_simulation``: the scenario, the seed, each ticket's
arrival, first response and resolution as the simulated people saw them, the agents'
busy time and the calls the desk refused. :func:`load_run` reads it back into a
:class:`StoredRun` that :func:`~supportflow.simulate.results.summarize` and
:func:`~supportflow.simulate.report.to_html` take like a live
:class:`~supportflow.simulate.engine.Simulation`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import attrs

from ..errors import StorageError, ValidationFailed
from ..storage.protocols import Store
from ..storage.sql import SqliteStore
from .engine import Simulation, TicketRecord
from .scenario import Scenario

__all__ = ["StoredRun", "load_run", "save_run"]

_TABLE = "supportflow_simulation"


@attrs.define
class StoredRun:
    """A finished run read back from its file; close :attr:`store` when done."""

    scenario: Scenario
    seed: int
    records: Sequence[TicketRecord]
    store: Store
    wall_seconds: float
    refused: Mapping[str, int]
    busy: Mapping[str, float]

    def utilisation(self) -> Mapping[str, float]:
        """Each agent's busy share of the scenario's span."""
        span = self.scenario.duration.total_seconds()
        return {agent: seconds / span for agent, seconds in self.busy.items()}


def save_run(path: str | Path, sim: Simulation) -> None:
    """Keep what only ``sim`` knew in its SQLite file at ``path`` (one run per file)."""
    records = [
        [r.number, r.ticket_id, r.created, r.tier, r.category, r.first_response, r.resolved]
        for r in sim.records
    ]
    data = {
        "scenario": sim.scenario.model_dump(mode="json"),
        "seed": sim.seed,
        "wall_seconds": sim.wall_seconds,
        "refused": dict(sim.refused),
        "busy": {a.agent_id: a.busy_seconds for a in sim.agents.values()},
        "records": records,
    }
    try:
        with closing(sqlite3.connect(path)) as db, db:
            db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (run INTEGER PRIMARY KEY, data TEXT)")
            db.execute(f"DELETE FROM {_TABLE}")
            db.execute(f"INSERT INTO {_TABLE} (run, data) VALUES (1, ?)", (json.dumps(data),))
    except sqlite3.Error as exc:
        raise StorageError(f"cannot keep the simulation in {str(path)!r}: {exc}") from exc


def load_run(path: str | Path) -> StoredRun:
    """The run kept in the SQLite file at ``path`` by :func:`save_run`."""
    where = Path(path)
    if not where.is_file():
        raise ValidationFailed("path", f"no such database file {str(where)!r}")
    try:
        with closing(sqlite3.connect(f"file:{where}?mode=ro", uri=True)) as db:
            row = db.execute(f"SELECT data FROM {_TABLE} WHERE run = 1").fetchone()
    except sqlite3.Error:
        row = None
    if row is None:
        raise ValidationFailed("path", f"{str(where)!r} holds no simulation run")
    data: dict[str, Any] = json.loads(row[0])
    records = [TicketRecord(*values) for values in data["records"]]
    return StoredRun(
        scenario=Scenario.from_dict(data["scenario"]),
        seed=int(data["seed"]),
        records=records,
        store=SqliteStore(where),
        wall_seconds=float(data["wall_seconds"]),
        refused={str(k): int(v) for k, v in data["refused"].items()},
        busy={str(k): float(v) for k, v in data["busy"].items()},
    )
