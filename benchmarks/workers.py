"""Throughput of 1, 2 and 4 worker processes on one store: SQLite file and PostgreSQL.

Runs the load tests' workload (``supportflow.testing.workload``: intake with 10% duplicate
deliveries, assignment, acknowledgement, replies, resolution, every desk call through
``retry_on_conflict``) on a fresh database per run, checks the invariants afterwards, and
prints operations/s, intakes/s, conflicts, retries and give-ups. The issue sets no numeric
bar for these figures, so no BAR line is printed. PostgreSQL runs on a throwaway server
(``supportflow.testing.postgres``) and is skipped, with the reason, when none can start.

Usage: python benchmarks/workers.py [--seconds S] [--workers 1,2,4] [--no-postgres]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from supportflow.testing.workload import (
    StoreSpec,
    WorkloadResult,
    check_invariants,
    read_journal,
    run_workload,
)

if TYPE_CHECKING:
    from supportflow.testing.postgres import FreshDatabases


def postgres_skip_reason() -> str | None:
    """Why PostgreSQL cannot be measured here, or None."""
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install supportflow[postgres])"
    from supportflow.testing.postgres import postgres_available

    return postgres_available()


@contextmanager
def postgres() -> Iterator[FreshDatabases]:
    """Fresh databases on a throwaway server."""
    from supportflow.testing.postgres import FreshDatabases, postgres_server

    with postgres_server() as dsn:
        yield FreshDatabases(dsn)


def measure(spec: StoreSpec, workers: int, seconds: float, workdir: Path) -> WorkloadResult:
    """One run on an empty store; refuses figures from a run that broke an invariant."""
    result = run_workload(spec, workers, seconds, workdir=workdir)
    violations = check_invariants(spec, read_journal(workdir))
    if violations:
        raise SystemExit(
            f"{spec.kind}, {workers} workers: invariants broken:\n" + "\n".join(violations)
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    results: list[WorkloadResult] = []
    with ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sf-workers-")))
        stores: list[tuple[str, FreshDatabases | None]] = [("sqlite", None)]
        reason = "--no-postgres" if args.no_postgres else postgres_skip_reason()
        if reason is None:
            stores.append(("postgres", stack.enter_context(postgres())))
        else:
            print(f"PostgreSQL skipped: {reason}")
        for kind, databases in stores:
            for workers in counts:
                run = base / f"{kind}-{workers}"
                run.mkdir()
                if databases is None:
                    spec = StoreSpec.sqlite(run / "load.db")
                else:
                    spec = StoreSpec.postgres(databases.new_dsn())
                result = measure(spec, workers, args.seconds, run / "work")
                print(result.summary(), flush=True)
                results.append(result)
    print()
    header = (
        f"{'store':<9} {'workers':>7} {'ops/s':>8} {'intakes/s':>9} {'ops':>7} "
        f"{'dupes':>6} {'conflicts':>9} {'retries':>7} {'give-ups':>8} {'refused':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.kind:<9} {r.workers:>7} {r.throughput:>8.1f} {r.intake_rate:>9.1f} "
            f"{r.operations:>7} {r.duplicate_deliveries:>6} {r.conflicts:>9} {r.retries:>7} "
            f"{r.gave_up:>8} {r.refused:>7}"
        )
    print(
        "\nops: desk calls that succeeded (intake, assign, acknowledge, reply, resolve); "
        "conflicts: ConcurrencyConflict seen by retry_on_conflict; give-ups: calls still "
        "conflicting after 6 attempts; refused: clean refusals (agent at capacity, or another "
        "worker moved the ticket first)."
    )


if __name__ == "__main__":
    main()
