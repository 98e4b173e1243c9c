"""Four worker processes on one store for 30 s: no duplicate, no double booking, no lost update.

Each worker takes deliveries (one in ten a duplicate of an external id this or another
worker used), assigns, acknowledges, replies and resolves, every call through
``retry_on_conflict`` (``supportflow.testing.workload``). Afterwards the store is checked
against its event log and the workers' commit journals (``check_invariants``), and the
figures are printed (``-s``) and written to ``load-figures.json`` in the test's tmp dir.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportflow.testing.workload import StoreSpec, inspect_store, read_journal, run_workload

WORKERS = 4
SECONDS = 30.0
"""How long the workers run, per store (CI runs the whole thing)."""


@pytest.mark.load
def test_workers_keep_every_invariant(spec: StoreSpec, tmp_path: Path) -> None:
    work = tmp_path / "work"
    result = run_workload(spec, WORKERS, SECONDS, workdir=work)
    journal = read_journal(work)
    report = inspect_store(spec, journal)
    figures = result.as_dict() | {
        "tickets": report.tickets,
        "events": report.events,
        "agents_at_capacity": report.at_capacity(),
        "violations": list(report.violations),
    }
    (tmp_path / "load-figures.json").write_text(json.dumps(figures, indent=2))
    print(f"\n{result.summary()}")
    print(f"conflicts by call: {result.conflicts_by_action()}")
    print(f"figures: {tmp_path / 'load-figures.json'}")

    assert report.violations == ()
    assert all(s.operations > 0 for s in result.stats)
    assert result.duplicate_deliveries > 0
    assert set(journal.deliveries) == report.external_ids  # every delivery, one ticket each
    assert report.timed_events == report.events  # no kills: every commit was journaled
    assert report.at_capacity(), "no agent was ever certainly full: the check saw nothing"
    assert result.conflicts > 0
    assert result.conflicts == result.retries + result.gave_up
