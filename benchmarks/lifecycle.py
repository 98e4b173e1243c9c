"""Full ticket lifecycles through SupportDesk against the bare python-statemachine loop.

Each lifecycle is intake -> assign -> acknowledge -> reply -> resolve -> close. The peer
is what a host would otherwise write: one python-statemachine machine per ticket, created
and driven through the same transitions. Both run in this process, one after the other.

Bars (issue 2):
- the desk on the memory store runs at least 10x the bare python-statemachine loop;
- the desk on a SQLite file (WAL, each desk call its own transaction) runs at least
  1,000 lifecycles per second.
Also reported: peak memory per 100,000 tickets stored in the memory store, measured in a
child process as the growth of its maximum resident set size.

Each figure is the median of ``--repeat`` runs (default 3), interleaved so that a noisy
moment on a shared machine hits every figure alike.

Usage: python benchmarks/lifecycle.py [--tickets N] [--repeat R] [--memory-tickets M]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportflow import Agent, Customer, MemoryStore, SqliteStore, Store, SupportDesk, Team
from supportflow.lifecycle import TicketLifecycle
from supportflow.testing import FixedClock

STEPS = ("assign", "acknowledge", "reply", "resolve", "close")
AGENTS = 20


class _Record:
    """The host-side object a python-statemachine machine is bound to."""

    status: str | None = None


def bare_statemachine(tickets: int) -> float:
    """Lifecycles per second driving one python-statemachine machine per ticket."""
    start = time.perf_counter()
    for _ in range(tickets):
        machine = TicketLifecycle(_Record(), state_field="status")
        for event in STEPS:
            machine.send(event)
    return tickets / (time.perf_counter() - start)


def _desk(store: Store) -> SupportDesk:
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    desk = SupportDesk(store, clock=clock)
    desk.add_team(Team(id="support", name="Support"))
    for n in range(AGENTS):
        desk.add_agent(Agent(id=f"agent-{n}", name=f"Agent {n}", teams=("support",)))
    desk.add_customer(Customer(id="acme", name="ACME Ltd"))
    return desk


def run_desk(desk: SupportDesk, tickets: int) -> float:
    """Lifecycles per second through the desk's public calls."""
    start = time.perf_counter()
    for n in range(tickets):
        agent = f"agent-{n % AGENTS}"
        ticket = desk.intake(
            channel="email",
            customer_id="acme",
            subject="Cannot log in",
            body="I cannot log in to my account since this morning.",
            external_id=f"msg-{n}",
        )
        desk.assign(ticket.id, agent)
        desk.acknowledge(ticket.id, agent_id=agent)
        desk.reply(ticket.id, agent_id=agent, body="We reset your session; please try again.")
        desk.resolve(ticket.id, agent_id=agent, resolution="Session reset.")
        desk.close(ticket.id, actor=agent)
    return tickets / (time.perf_counter() - start)


def sqlite_run(tickets: int) -> float:
    """Lifecycles per second on a fresh SQLite file in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "bench.sqlite3")
        try:
            return run_desk(_desk(store), tickets)
        finally:
            store.close()


def memory_child(tickets: int) -> None:
    """Child process: store ``tickets`` lifecycles in memory and print RSS growth."""
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    desk = _desk(MemoryStore())
    run_desk(desk, tickets)
    gc.collect()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"kib": after - before, "tickets": tickets}))


def peak_memory_mib(tickets: int) -> float:
    """Peak RSS growth in MiB for ``tickets`` stored lifecycles, measured in a child."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(tickets)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["kib"]) / 1024


def bar(name: str, value: float, op: str, target: float) -> str:
    ok = value >= target if op == ">=" else value <= target
    shown = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"BAR {name} {shown} {op} {target:g} {'PASS' if ok else 'MISS'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--bare-tickets", type=int, default=5_000)
    parser.add_argument("--memory-tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median kept")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    runs: dict[str, list[float]] = {"bare": [], "memory": [], "sqlite": []}
    for _ in range(args.repeat):  # interleaved, so a noisy moment hits every figure alike
        runs["bare"].append(bare_statemachine(args.bare_tickets))
        runs["memory"].append(run_desk(_desk(MemoryStore()), args.tickets))
        runs["sqlite"].append(sqlite_run(args.tickets))
    bare, memory, sqlite = (statistics.median(runs[k]) for k in ("bare", "memory", "sqlite"))
    peak = peak_memory_mib(args.memory_tickets) if args.memory_tickets else float("nan")
    per_100k = peak * 100_000 / args.memory_tickets if args.memory_tickets else float("nan")

    print(
        f"lifecycle = intake, {', '.join(STEPS)}; {args.tickets} tickets per run; "
        f"median of {args.repeat} interleaved runs; pid {os.getpid()}"
    )
    for name, rates in runs.items():
        print(f"  {name:<8} runs: " + ", ".join(f"{r:.0f}" for r in rates) + " lifecycles/s")
    print(f"{'python-statemachine, one machine per ticket':<48}{bare:>10.0f} lifecycles/s")
    print(f"{'SupportDesk + MemoryStore':<48}{memory:>10.0f} lifecycles/s  {memory / bare:5.1f}x")
    label = "SupportDesk + SqliteStore (file, WAL)"
    print(f"{label:<48}{sqlite:>10.0f} lifecycles/s  {sqlite / bare:5.1f}x")
    print(
        f"{'MemoryStore peak memory':<48}{per_100k:>10.0f} MiB per 100,000 tickets "
        f"(measured on {args.memory_tickets}; each with 6 events and 2 messages)"
    )
    print(bar("desk_memory_vs_statemachine_ratio", memory / bare, ">=", 10))
    print(bar("desk_sqlite_lifecycles_per_s", sqlite, ">=", 1000))


if __name__ == "__main__":
    main()
