"""``kill -9`` of a worker in the middle of its work, five times, on one store.

Four workers run; at random moments one is killed, preferably after its unit of work has
appended events and before its commit returned. After each kill the store is checked while
the others keep running (one unit of work, a consistent snapshot): no ticket without its
events, no events or messages without their ticket, every ticket equal to the replay of its
events, no duplicate and no double booking. A replacement worker is started each time; at
the end every worker alive after a kill must have done more work since.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from supportflow.testing.workload import (
    COMMITTING,
    WROTE,
    StoreSpec,
    Workload,
    WorkloadResult,
    WorkloadSettings,
    inspect_store,
    prepare,
    read_journal,
)

WORKERS = 4
KILLS = 5
RUN_SECONDS = 24.0
"""How long the first workers run; replacements run to about the same end."""


@pytest.mark.load
def test_killed_workers_leave_no_partial_units(spec: StoreSpec, tmp_path: Path) -> None:
    settings = WorkloadSettings()
    prepare(spec, settings)
    work = tmp_path / "work"
    load = Workload(spec, work, settings, slots=WORKERS + KILLS)
    rng = random.Random(8)
    checker = spec.open()
    seen_after_kill: dict[int, int] = {}
    try:
        for n in range(WORKERS):
            load.start(RUN_SECONDS, seed=n)
        load.wait_ready()
        load.go()
        started = time.monotonic()
        for k in range(KILLS):
            time.sleep(rng.uniform(1.0, 2.5))
            victim = rng.choice(load.alive())
            killed = load.kill(victim)
            seen_after_kill.pop(victim, None)
            report = inspect_store(spec, read_journal(work), store=checker)
            assert report.violations == (), f"after kill {k + 1} ({killed}): {report.violations}"
            remaining = RUN_SECONDS - (time.monotonic() - started)
            load.start(max(remaining, 5.0), seed=100 + k)
            seen_after_kill.update({slot: load.board.operations(slot) for slot in load.alive()})
        reports = load.join()
    finally:
        load.stop_all()
        checker.close()
    final = inspect_store(spec, read_journal(work))
    result = WorkloadResult(
        spec.kind, len(reports), RUN_SECONDS, tuple(reports), tuple(load.killed)
    )
    (tmp_path / "crash-figures.json").write_text(json.dumps(result.as_dict(), indent=2))
    print(f"\n{result.summary()}")
    for record in load.killed:
        print(f"killed worker {record.slot} after {record.operations} ops, {record.phase_name}")

    assert final.violations == ()
    assert len(load.killed) == KILLS
    assert any(k.phase in (WROTE, COMMITTING) for k in load.killed), "no kill landed mid-unit"
    done = {r.slot: r.operations for r in reports}
    assert set(seen_after_kill) <= set(done)
    carried_on = {slot: (ops, done[slot]) for slot, ops in seen_after_kill.items()}
    assert all(after > before for before, after in carried_on.values()), carried_on
    assert result.conflicts == result.retries + result.gave_up
