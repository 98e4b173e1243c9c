"""Several worker processes running a support desk on one store, and what they must leave intact.

The load and crash tests and ``benchmarks/workers.py`` share this harness. Each worker is a
``spawn``-ed process with its own :class:`~supportflow.SupportDesk` (``auto_assign=True``,
the real clock) on its own connection to one store, looping for a set time over:

- **intake**, about one delivery in ten a *duplicate*: it re-delivers an external id that
  this worker or another one already used, often the one another worker is delivering at
  that moment, so the same delivery races between processes;
- **assignment** of queued tickets (an agent pulling the next one with ``take_next``, or
  ``assign`` to a named agent or the strategy's pick) and
  reassignment, **acknowledgement**, **replies** and **resolution** (which hands the queue
  out), each picked among the oldest tickets in that state, so workers contend for them.

Every desk call goes through :func:`~supportflow.retry.retry_on_conflict`, wrapped to count
each ``ConcurrencyConflict`` seen, each retry and each call that still conflicted after the
last attempt (a *give-up*: counted, not fatal). A clean refusal is counted as *refused*:
``AssignmentFailed`` (the agent, or every agent, is at capacity), ``InvalidTransition``
(another worker moved the ticket first), ``NotPermitted`` (the ticket was reassigned since
the worker read its assignee). Any other exception stops the worker and is reported with its
traceback (:class:`WorkloadFailed`).

Each worker also writes a *journal* (one JSON line per record, ``worker-<slot>.jsonl`` in the
work directory, appended with one ``write`` so a ``kill -9`` loses at most the record being
written): the commit window ``[t0, t1]`` (nanoseconds, ``time.time_ns``) around every
commit that appended ticket events, with those events' ids, and every delivery with the
ticket intake returned for it. :func:`check_invariants` uses it; see there.

Example::

    spec = StoreSpec.sqlite("load.db")
    result = run_workload(spec, workers=4, seconds=30, workdir="work")
    assert check_invariants(spec, read_journal("work")) == []
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import time
import traceback
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

import attrs

from ..desk import SupportDesk
from ..errors import (
    AssignmentFailed,
    ConcurrencyConflict,
    InvalidTransition,
    NotPermitted,
    SupportflowError,
    ValidationFailed,
)
from ..events import EventType, replay
from ..models import Agent, Channel, Customer, CustomerTier, Team, Ticket, TicketEvent
from ..retry import retry_on_conflict
from ..storage.protocols import DEFAULT_TENANT, OPEN_STATUSES, EventLog, Store, UnitOfWork
from ..storage.sql import SqliteStore

__all__ = [
    "InvariantReport",
    "Journal",
    "KillRecord",
    "StoreSpec",
    "WorkerStats",
    "Workload",
    "WorkloadFailed",
    "WorkloadResult",
    "WorkloadSettings",
    "check_invariants",
    "inspect_store",
    "prepare",
    "read_journal",
    "run_workload",
    "worker_main",
]

T = TypeVar("T")

_FOREVER = 2**62
"""An instant after every other, in nanoseconds."""
_CHANNELS = (Channel.EMAIL, Channel.CHAT, Channel.WEB_FORM, Channel.PORTAL)
_TIERS = (CustomerTier.VIP, CustomerTier.KEY, CustomerTier.REGULAR, CustomerTier.PROSPECT)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
_READY_TIMEOUT_S = 120.0

# Phases a worker publishes on the board, so a crash test can kill it mid-work.
STARTING, RUNNING, IN_UNIT, WROTE, COMMITTING, FINISHED = range(6)
PHASE_NAMES = {
    STARTING: "starting",
    RUNNING: "between units of work",
    IN_UNIT: "inside a unit of work",
    WROTE: "after appending events, before commit",
    COMMITTING: "inside commit",
    FINISHED: "finished",
}
_FIELDS = 3  # per slot on the board: operations, phase, external ids issued


class WorkloadFailed(SupportflowError, RuntimeError):
    """A worker raised an unexpected exception, died, or hung; the message says which."""


@attrs.frozen
class StoreSpec:
    """Where the workload's store is, as plain data a ``spawn``-ed worker can receive.

    ``kind`` is ``"sqlite"`` (``target`` a database file) or ``"postgres"`` (``target`` a
    DSN; needs ``supportflow.storage.postgres``).
    """

    kind: Literal["sqlite", "postgres"]
    target: str
    tenant_id: str = DEFAULT_TENANT

    @classmethod
    def sqlite(cls, path: str | os.PathLike[str]) -> StoreSpec:
        """An SQLite database file."""
        return cls("sqlite", os.fspath(path))

    @classmethod
    def postgres(cls, dsn: str) -> StoreSpec:
        """A PostgreSQL database."""
        return cls("postgres", dsn)

    def open(self) -> Store:
        """A new store on the database (each process opens its own)."""
        if self.kind == "sqlite":
            return SqliteStore(self.target, busy_timeout_s=10.0)
        from ..storage.postgres import PostgresStore

        return PostgresStore(self.target)

    def orphan_messages(self) -> list[str]:
        """Ids of stored messages whose ticket is not stored (one SQL statement).

        The store protocol can list a ticket's messages but not messages without a ticket,
        so this asks the database directly (the shipped SQL schema).
        """
        sql = (
            "SELECT m.id FROM messages m WHERE m.tenant_id = {p} AND NOT EXISTS"
            " (SELECT 1 FROM tickets t WHERE t.tenant_id = m.tenant_id AND t.id = m.ticket_id)"
            " ORDER BY m.id"
        )
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.target, timeout=30)
            try:
                rows = conn.execute(sql.format(p="?"), (self.tenant_id,)).fetchall()
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(self.target) as pg:
                rows = pg.execute(sql.format(p="%s"), (self.tenant_id,)).fetchall()
        return [str(row[0]) for row in rows]


@attrs.frozen
class WorkloadSettings:
    """The desk the workload runs (seeded by :func:`prepare`) and how workers behave."""

    agents: int = 12
    """Agents, spread over the teams, each with a capacity drawn from the range below."""
    min_capacity: int = 3
    max_capacity: int = 5
    teams: int = 2
    customers: int = 40
    duplicate_share: float = 0.10
    """Share of intakes that re-deliver an external id already used."""
    max_queue: int = 24
    """No new deliveries while this many tickets wait unassigned (workers work instead)."""
    attempts: int = 6
    """``retry_on_conflict`` attempts per desk call."""
    seed: int = 0
    """Seeds the capacities."""

    def agent_ids(self) -> list[str]:
        """The agents' ids."""
        return [f"a-{n:02d}" for n in range(self.agents)]

    def team_of(self, agent_index: int) -> str:
        """The team of the agent with this index."""
        return f"t-{agent_index % self.teams}"

    def capacities(self) -> dict[str, int]:
        """Each agent's capacity."""
        rng = random.Random(self.seed)
        return {
            agent_id: rng.randint(self.min_capacity, self.max_capacity)
            for agent_id in self.agent_ids()
        }


def prepare(spec: StoreSpec, settings: WorkloadSettings | None = None) -> None:
    """Seed an empty store with the workload's teams, agents and customers."""
    settings = WorkloadSettings() if settings is None else settings
    store = spec.open()
    try:
        desk = SupportDesk(store, tenant_id=spec.tenant_id)
        for k in range(settings.teams):
            desk.add_team(Team(id=f"t-{k}", name=f"Team {k}"))
        for n, (agent_id, capacity) in enumerate(settings.capacities().items()):
            desk.add_agent(
                Agent(
                    id=agent_id,
                    name=f"Agent {n}",
                    teams=(settings.team_of(n),),
                    capacity=capacity,
                )
            )
        for n in range(settings.customers):
            desk.add_customer(
                Customer(id=f"c-{n:03d}", name=f"Customer {n}", tier=_TIERS[n % len(_TIERS)])
            )
    finally:
        store.close()


def _delivery(external_id: str, settings: WorkloadSettings) -> dict[str, Any]:
    """The request behind an external id: every delivery of it carries the same one."""
    h = zlib.crc32(external_id.encode())
    return {
        "channel": _CHANNELS[h % len(_CHANNELS)],
        "customer_id": f"c-{h % settings.customers:03d}",
        "team_id": f"t-{(h >> 8) % settings.teams}",
        "body": f"Request {external_id}: the router drops the connection every hour.",
        "external_id": external_id,
    }


# -- what workers report -------------------------------------------------------------------


@attrs.define
class WorkerStats:
    """What one worker did. ``conflicts == retries + gave_up`` when every conflict was either
    retried by the helper or counted as a give-up."""

    slot: int
    pid: int = 0
    seconds: float = 0.0
    """How long it ran its loop."""
    operations: int = 0
    """Desk calls that changed something (or returned the ticket of a duplicate delivery)."""
    by_action: dict[str, int] = attrs.field(factory=dict)
    intakes: int = 0
    duplicate_deliveries: int = 0
    calls: int = 0
    """Desk calls made, reads included (each possibly several attempts)."""
    attempts: int = 0
    conflicts: int = 0
    """``ConcurrencyConflict`` raised by an attempt."""
    conflicts_by_action: dict[str, int] = attrs.field(factory=dict)
    gave_up: int = 0
    """Calls whose last attempt still conflicted."""
    refused: dict[str, int] = attrs.field(factory=dict)
    """``"action: Error"``: clean refusals (agent full, or the ticket had moved on)."""
    idle: int = 0
    """Loop turns that found no ticket for the action drawn."""
    error: str | None = None
    """The traceback of an unexpected exception, which stopped the worker."""

    @property
    def retries(self) -> int:
        """Attempts after the first, over all calls."""
        return self.attempts - self.calls

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerStats:
        """Read back :meth:`as_dict`."""
        return cls(**data)


@attrs.frozen
class KillRecord:
    """One ``SIGKILL`` a crash test sent: the worker, its operations then, its phase."""

    slot: int
    operations: int
    phase: int

    @property
    def phase_name(self) -> str:
        """What the worker was doing, as published just before the kill."""
        return PHASE_NAMES.get(self.phase, str(self.phase))


@attrs.frozen
class WorkloadResult:
    """A run: the workers' reports and the totals the tests and benchmark print."""

    kind: str
    workers: int
    seconds: float
    stats: tuple[WorkerStats, ...]
    kills: tuple[KillRecord, ...] = ()

    def _sum(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.stats)

    @property
    def operations(self) -> int:
        """Desk calls that succeeded, all workers."""
        return self._sum("operations")

    @property
    def intakes(self) -> int:
        """Intake calls that returned, duplicates included."""
        return self._sum("intakes")

    @property
    def duplicate_deliveries(self) -> int:
        """Intakes that re-delivered an external id."""
        return self._sum("duplicate_deliveries")

    @property
    def conflicts(self) -> int:
        """``ConcurrencyConflict`` seen by the retry helper."""
        return self._sum("conflicts")

    @property
    def retries(self) -> int:
        """Attempts the helper made after a conflict."""
        return self._sum("retries")

    @property
    def gave_up(self) -> int:
        """Calls that still conflicted after the last attempt."""
        return self._sum("gave_up")

    @property
    def refused(self) -> int:
        """Calls refused cleanly (agent at capacity, or the ticket had moved on)."""
        return sum(sum(s.refused.values()) for s in self.stats)

    def conflicts_by_action(self) -> dict[str, int]:
        """Conflicts per desk call (``"list"`` for the workers' reads)."""
        total: Counter[str] = Counter()
        for s in self.stats:
            total.update(s.conflicts_by_action)
        return dict(sorted(total.items()))

    @property
    def throughput(self) -> float:
        """Successful desk calls per second."""
        return self.operations / self.seconds if self.seconds > 0 else 0.0

    @property
    def intake_rate(self) -> float:
        """Intakes per second."""
        return self.intakes / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Totals and per-worker figures, JSON-ready."""
        return {
            "store": self.kind,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "operations": self.operations,
            "operations_per_s": round(self.throughput, 1),
            "intakes": self.intakes,
            "intakes_per_s": round(self.intake_rate, 1),
            "duplicate_deliveries": self.duplicate_deliveries,
            "conflicts": self.conflicts,
            "retries": self.retries,
            "gave_up": self.gave_up,
            "refused": self.refused,
            "conflicts_by_action": self.conflicts_by_action(),
            "kills": [attrs.asdict(k) | {"phase_name": k.phase_name} for k in self.kills],
            "per_worker": [s.as_dict() for s in self.stats],
        }

    def summary(self) -> str:
        """One line of figures."""
        return (
            f"{self.kind}, {self.workers} worker(s), {self.seconds:.1f} s: "
            f"{self.throughput:.1f} ops/s ({self.operations} ops), "
            f"{self.intake_rate:.1f} intakes/s ({self.duplicate_deliveries} duplicates), "
            f"{self.conflicts} conflicts, {self.retries} retries, {self.gave_up} give-ups, "
            f"{self.refused} refused"
        )


# -- the journal ---------------------------------------------------------------------------


class _JournalWriter:
    """Appends one worker's journal lines, each with one ``write`` to an ``O_APPEND`` file."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _write(self, record: Mapping[str, Any]) -> None:
        os.write(self._fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())

    def commit(self, t0: int, t1: int, event_ids: Sequence[str]) -> None:
        self._write({"t0": t0, "t1": t1, "events": list(event_ids)})

    def delivery(self, external_id: str, ticket_id: str) -> None:
        self._write({"delivery": external_id, "ticket": ticket_id})

    def close(self) -> None:
        os.close(self._fd)


@attrs.frozen
class Journal:
    """What the workers' journals recorded.

    ``windows`` maps an event id to the ``(t0, t1)`` nanoseconds around the commit that
    stored it; ``deliveries`` maps an external id to every ticket id intake returned for it.
    """

    windows: Mapping[str, tuple[int, int]] = attrs.field(factory=dict)
    deliveries: Mapping[str, frozenset[str]] = attrs.field(factory=dict)


def read_journal(workdir: str | os.PathLike[str]) -> Journal:
    """Every worker journal in ``workdir``. A last line cut short by a kill is ignored."""
    windows: dict[str, tuple[int, int]] = {}
    deliveries: defaultdict[str, set[str]] = defaultdict(set)
    for path in sorted(Path(workdir).glob("worker-*.jsonl")):
        lines = path.read_bytes().split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                if number == len(lines):  # no newline after it: written when killed
                    continue
                raise WorkloadFailed(f"{path}:{number} is not a journal record") from None
            if "delivery" in record:
                deliveries[record["delivery"]].add(record["ticket"])
            else:
                window = (int(record["t0"]), int(record["t1"]))
                for event_id in record["events"]:
                    windows[event_id] = window
    return Journal(windows, {k: frozenset(v) for k, v in deliveries.items()})


# -- the shared board ----------------------------------------------------------------------


class _Board:
    """Shared memory the parent and workers read without locks (a lock a killed worker
    held would never be released): a start flag, and per slot its operations, its phase
    and how many external ids it has issued. Each cell has one writer."""

    def __init__(self, cells: Any) -> None:
        self._cells = cells

    def go(self) -> None:
        self._cells[0] = 1

    def started(self) -> bool:
        return bool(self._cells[0])

    def _at(self, slot: int, field: int) -> int:
        return 1 + slot * _FIELDS + field

    def operations(self, slot: int) -> int:
        return int(self._cells[self._at(slot, 0)])

    def set_operations(self, slot: int, value: int) -> None:
        self._cells[self._at(slot, 0)] = value

    def phase(self, slot: int) -> int:
        return int(self._cells[self._at(slot, 1)])

    def set_phase(self, slot: int, value: int) -> None:
        self._cells[self._at(slot, 1)] = value

    def issued(self, slot: int) -> int:
        return int(self._cells[self._at(slot, 2)])

    def set_issued(self, slot: int, value: int) -> None:
        self._cells[self._at(slot, 2)] = value

    @property
    def slots(self) -> int:
        return (len(self._cells) - 1) // _FIELDS


# -- the journaled store a worker's desk runs on -------------------------------------------


class _JournaledEvents:
    """The event log, noting the ids of events appended in the current transaction."""

    def __init__(self, inner: EventLog, unit: _JournaledUnit) -> None:
        self._inner = inner
        self._unit = unit

    def append(self, events: Sequence[TicketEvent]) -> None:
        self._inner.append(events)
        self._unit.appended([e.id for e in events])

    def for_ticket(self, ticket_id: str) -> list[TicketEvent]:
        return self._inner.for_ticket(ticket_id)

    def between(self, start: datetime, end: datetime) -> Iterator[TicketEvent]:
        return self._inner.between(start, end)


class _JournaledUnit:
    """A unit of work that journals the commit window of the events it stored."""

    def __init__(self, inner: UnitOfWork, store: _JournaledStore) -> None:
        self._inner = inner
        self._store = store
        self._pending: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def events(self) -> _JournaledEvents:
        return _JournaledEvents(self._inner.events, self)

    def appended(self, event_ids: list[str]) -> None:
        self._pending.extend(event_ids)
        self._store.phase(WROTE)

    def __enter__(self) -> _JournaledUnit:
        self._store.phase(IN_UNIT)
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._inner.__exit__(exc_type, exc, tb)
        finally:
            self._pending.clear()
            self._store.phase(RUNNING)

    def commit(self) -> None:
        self._store.phase(COMMITTING)
        t0 = time.time_ns()
        self._inner.commit()
        t1 = time.time_ns()
        if self._pending:
            self._store.journal.commit(t0, t1, self._pending)
            self._pending = []
        self._store.phase(IN_UNIT)

    def rollback(self) -> None:
        self._pending.clear()
        self._inner.rollback()


class _JournaledStore:
    """The worker's store, wrapped so every commit's window lands in its journal."""

    def __init__(self, inner: Store, journal: _JournalWriter, board: _Board, slot: int) -> None:
        self._inner = inner
        self.journal = journal
        self._board = board
        self._slot = slot

    def phase(self, value: int) -> None:
        self._board.set_phase(self._slot, value)

    def unit_of_work(self, tenant_id: str = DEFAULT_TENANT) -> UnitOfWork:
        return cast(UnitOfWork, _JournaledUnit(self._inner.unit_of_work(tenant_id), self))

    def close(self) -> None:
        self._inner.close()


# -- the worker ----------------------------------------------------------------------------

_ASSIGN_REFUSALS = (AssignmentFailed, InvalidTransition, ValidationFailed)
_WEIGHTS = {
    "intake": 30,
    "assign": 8,
    "reassign": 4,
    "acknowledge": 20,
    "reply": 18,
    "resolve": 20,
}


class _Runner:
    """One worker's loop over the desk."""

    def __init__(
        self,
        desk: SupportDesk,
        settings: WorkloadSettings,
        stats: WorkerStats,
        journal: _JournalWriter,
        board: _Board,
        rng: random.Random,
    ) -> None:
        self.desk = desk
        self.settings = settings
        self.stats = stats
        self.journal = journal
        self.board = board
        self.rng = rng
        self.slot = stats.slot
        agent_ids = settings.agent_ids()
        self.team_agents: dict[str, list[str]] = defaultdict(list)
        for n, agent_id in enumerate(agent_ids):
            self.team_agents[settings.team_of(n)].append(agent_id)
        self.actions = list(_WEIGHTS)
        self.weights = list(_WEIGHTS.values())

    def run(self, seconds: float) -> None:
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline:
            self.step()
        self.stats.seconds = time.monotonic() - started

    def step(self) -> None:
        action = self.rng.choices(self.actions, self.weights)[0]
        if action == "intake" and not self.intake():
            action = self.rng.choice(self.actions[1:])
        if action == "assign":
            self.assign()
        elif action == "reassign":
            self.reassign()
        elif action == "acknowledge":
            self.acknowledge()
        elif action == "reply":
            self.reply()
        elif action == "resolve":
            self.resolve()

    def call(
        self,
        action: str,
        fn: Callable[[], T],
        refusals: tuple[type[Exception], ...] = (),
        *,
        write: bool = True,
    ) -> T | None:
        """``fn`` through the retry helper, counted; ``None`` when refused or given up.

        Reads go through it too (``write=False``: not counted as operations): a store may
        refuse a read that could not be serialized with concurrent writes.
        """
        stats = self.stats
        stats.calls += 1

        def attempt() -> T:
            stats.attempts += 1
            try:
                return fn()
            except ConcurrencyConflict:
                stats.conflicts += 1
                by_action = stats.conflicts_by_action
                by_action[action] = by_action.get(action, 0) + 1
                raise

        try:
            result = retry_on_conflict(attempt, attempts=self.settings.attempts)
        except ConcurrencyConflict:
            stats.gave_up += 1
            return None
        except refusals as exc:
            if isinstance(exc, ValidationFailed) and "already assigned" not in exc.reason:
                raise
            key = f"{action}: {type(exc).__name__}"
            stats.refused[key] = stats.refused.get(key, 0) + 1
            return None
        if not write:
            return result
        stats.operations += 1
        stats.by_action[action] = stats.by_action.get(action, 0) + 1
        self.board.set_operations(self.slot, stats.operations)
        return result

    def pick(self, status: str, oldest: int | None = 3) -> Ticket | None:
        """One of the oldest tickets in ``status`` (any of them when ``oldest`` is None)."""
        found = self.call("list", lambda: self.desk.list_tickets(status=status), write=False)
        if not found:
            self.stats.idle += 1
            return None
        pool = found if oldest is None else found[:oldest]
        return self.rng.choice(pool)

    def other_agent(self, ticket: Ticket) -> str:
        team = self.team_agents.get(ticket.team_id or "", []) or self.settings.agent_ids()
        choices = [a for a in team if a != ticket.assignee_id] or team
        return self.rng.choice(choices)

    def duplicate_id(self) -> str | None:
        """An external id some worker (maybe this one) already issued, often the newest."""
        issued = [(s, self.board.issued(s)) for s in range(self.board.slots)]
        issued = [(s, n) for s, n in issued if n > 0]
        if not issued:
            return None
        slot, count = self.rng.choice(issued)
        number = count - 1 if self.rng.random() < 0.5 else self.rng.randrange(count)
        return f"ext-{slot}-{number}"

    def intake(self) -> bool:
        """Deliver a request; False when the queue is too long for a new one."""
        external_id = None
        if self.rng.random() < self.settings.duplicate_share:
            external_id = self.duplicate_id()
        duplicate = external_id is not None
        if external_id is None:
            queued = self.call("list", lambda: self.desk.list_tickets(status="new"), write=False)
            if queued is None or len(queued) >= self.settings.max_queue:
                return False
            number = self.board.issued(self.slot)
            self.board.set_issued(self.slot, number + 1)
            external_id = f"ext-{self.slot}-{number}"
        request = _delivery(external_id, self.settings)
        ticket = self.call("intake", lambda: self.desk.intake(**request))
        if ticket is not None:
            self.journal.delivery(external_id, ticket.id)
            self.stats.intakes += 1
            self.stats.duplicate_deliveries += duplicate
        return True

    def assign(self) -> None:
        if self.rng.random() < 0.5:
            # An agent pulls the next ticket: claimed without waiting (SKIP LOCKED).
            puller = self.rng.choice(self.settings.agent_ids())
            self.call("take_next", lambda: self.desk.take_next(puller), _ASSIGN_REFUSALS)
            return
        ticket = self.pick("new")
        if ticket is None:
            return
        agent = None if self.rng.random() < 0.5 else self.other_agent(ticket)
        self.call("assign", lambda: self.desk.assign(ticket.id, agent), _ASSIGN_REFUSALS)

    def reassign(self) -> None:
        status = "assigned" if self.rng.random() < 0.5 else "in_progress"
        ticket = self.pick(status, oldest=None)
        if ticket is None:
            return
        agent = self.other_agent(ticket)
        self.call("reassign", lambda: self.desk.assign(ticket.id, agent), _ASSIGN_REFUSALS)

    def acknowledge(self) -> None:
        ticket = self.pick("assigned")
        if ticket is None or ticket.assignee_id is None:
            return
        agent = ticket.assignee_id
        self.call(
            "acknowledge",
            lambda: self.desk.acknowledge(ticket.id, agent_id=agent),
            (InvalidTransition, NotPermitted),
        )

    def reply(self) -> None:
        ticket = self.pick("in_progress", oldest=None)
        if ticket is None or ticket.assignee_id is None:
            return
        agent = ticket.assignee_id
        self.call(
            "reply",
            lambda: self.desk.reply(ticket.id, agent_id=agent, body="Please restart the router."),
            (InvalidTransition, NotPermitted),
        )

    def resolve(self) -> None:
        ticket = self.pick("in_progress")
        if ticket is None or ticket.assignee_id is None:
            return
        agent = ticket.assignee_id
        self.call(
            "resolve",
            lambda: self.desk.resolve(ticket.id, agent_id=agent, resolution="Firmware updated."),
            (InvalidTransition, NotPermitted),
        )


def worker_main(
    spec: StoreSpec,
    settings: WorkloadSettings,
    slot: int,
    seconds: float,
    seed: int,
    workdir: str,
    cells: Any,
) -> None:
    """One worker process: run the loop for ``seconds`` once the parent says go.

    Writes ``result-<slot>.json`` (a :class:`WorkerStats`) at the end, also after an
    unexpected exception (its traceback in ``error``; the process then exits with 1).
    """
    board = _Board(cells)
    stats = WorkerStats(slot=slot, pid=os.getpid())
    journal = _JournalWriter(Path(workdir) / f"worker-{slot}.jsonl")
    store: Store | None = None
    try:
        store = spec.open()
        wrapped = _JournaledStore(store, journal, board, slot)
        desk = SupportDesk(wrapped, tenant_id=spec.tenant_id, auto_assign=True)
        board.set_phase(slot, RUNNING)
        waited = time.monotonic()
        while not board.started():
            if time.monotonic() - waited > _READY_TIMEOUT_S:
                raise WorkloadFailed("the parent never said go")
            time.sleep(0.005)
        _Runner(desk, settings, stats, journal, board, random.Random(seed)).run(seconds)
    except BaseException:
        stats.error = traceback.format_exc()
    finally:
        board.set_phase(slot, FINISHED)
        if store is not None:
            store.close()
        journal.close()
        result = Path(workdir) / f"result-{slot}.json"
        partial = result.with_suffix(".tmp")
        partial.write_text(json.dumps(stats.as_dict()))
        partial.replace(result)
    if stats.error is not None:
        raise SystemExit(1)


# -- the parent ----------------------------------------------------------------------------


class Workload:
    """Worker processes on one store: start, say go, watch, kill, join.

    ``slots`` bounds how many workers can ever be started (replacements included).
    """

    def __init__(
        self,
        spec: StoreSpec,
        workdir: str | os.PathLike[str],
        settings: WorkloadSettings | None = None,
        *,
        slots: int = 16,
    ) -> None:
        self.spec = spec
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.settings = WorkloadSettings() if settings is None else settings
        self._ctx = multiprocessing.get_context("spawn")
        self._cells = self._ctx.RawArray("q", 1 + slots * _FIELDS)
        self.board = _Board(self._cells)
        self.processes: dict[int, Any] = {}
        self.killed: list[KillRecord] = []
        self._slots = slots

    def start(self, seconds: float, *, seed: int) -> int:
        """Start one worker for ``seconds`` of work; returns its slot."""
        slot = len(self.processes)
        if slot >= self._slots:
            raise WorkloadFailed(f"all {self._slots} slots are used")
        process = self._ctx.Process(
            target=worker_main,
            args=(self.spec, self.settings, slot, seconds, seed, str(self.workdir), self._cells),
            name=f"supportflow-worker-{slot}",
            daemon=True,
        )
        process.start()
        self.processes[slot] = process
        return slot

    def wait_ready(self, timeout: float = _READY_TIMEOUT_S) -> None:
        """Wait until every started worker has opened its store."""
        deadline = time.monotonic() + timeout
        for slot, process in self.processes.items():
            while self.board.phase(slot) == STARTING:
                if not process.is_alive():
                    self.join()  # raises with the worker's error
                if time.monotonic() > deadline:
                    raise WorkloadFailed(f"worker {slot} did not start in {timeout:.0f} s")
                time.sleep(0.01)

    def go(self) -> None:
        """Let the workers run."""
        self.board.go()

    def alive(self) -> list[int]:
        """Slots of workers still running."""
        killed = {k.slot for k in self.killed}
        return [s for s, p in self.processes.items() if s not in killed and p.is_alive()]

    def kill(self, slot: int, *, wait_for_write_s: float = 2.0) -> KillRecord:
        """``SIGKILL`` a worker, preferably while a unit of work of it has written.

        Waits up to ``wait_for_write_s`` for the worker to publish that it has appended
        events and not yet committed (or is committing), then kills at once either way.
        """
        process = self.processes[slot]
        if not process.is_alive():
            raise WorkloadFailed(f"worker {slot} is not running (exit code {process.exitcode})")
        deadline = time.monotonic() + wait_for_write_s
        while self.board.phase(slot) < WROTE and time.monotonic() < deadline:
            time.sleep(0.0002)
        phase = self.board.phase(slot)
        os.kill(process.pid, signal.SIGKILL)
        process.join(30)
        record = KillRecord(slot, self.board.operations(slot), phase)
        self.killed.append(record)
        return record

    def join(self, timeout: float = 120.0) -> list[WorkerStats]:
        """Wait for the workers not killed; their reports, or :class:`WorkloadFailed`."""
        killed = {k.slot for k in self.killed}
        deadline = time.monotonic() + timeout
        problems: list[str] = []
        reports: list[WorkerStats] = []
        for slot, process in self.processes.items():
            if slot in killed:
                continue
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(10)
                problems.append(f"worker {slot} hung (killed after {timeout:.0f} s)")
                continue
            result = self.workdir / f"result-{slot}.json"
            if not result.exists():
                problems.append(f"worker {slot} exited with {process.exitcode} and no report")
                continue
            stats = WorkerStats.from_dict(json.loads(result.read_text()))
            if stats.error is not None:
                problems.append(f"worker {slot} failed:\n{stats.error}")
            elif process.exitcode != 0:
                problems.append(f"worker {slot} exited with {process.exitcode}")
            reports.append(stats)
        if problems:
            raise WorkloadFailed("\n".join(problems))
        return reports

    def stop_all(self) -> None:
        """Kill whatever still runs (cleanup after a failure)."""
        for process in self.processes.values():
            if process.is_alive():
                process.kill()
                process.join(10)


def run_workload(
    spec: StoreSpec,
    workers: int,
    seconds: float,
    *,
    workdir: str | os.PathLike[str],
    settings: WorkloadSettings | None = None,
    seed: int = 0,
) -> WorkloadResult:
    """Seed the (empty) store, run ``workers`` processes for ``seconds``, and report.

    Raises :class:`WorkloadFailed` if a worker hit an unexpected exception or died.
    """
    if workers < 1:
        raise ValidationFailed("workers", "must be at least 1")
    settings = WorkloadSettings() if settings is None else settings
    prepare(spec, settings)
    load = Workload(spec, workdir, settings, slots=workers)
    try:
        for n in range(workers):
            load.start(seconds, seed=seed * 1000 + n)
        load.wait_ready()
        load.go()
        reports = load.join(timeout=seconds + 120)
    finally:
        load.stop_all()
    window = max((s.seconds for s in reports), default=seconds)
    return WorkloadResult(spec.kind, workers, window, tuple(reports))


# -- the invariants ------------------------------------------------------------------------


def _ns(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


@attrs.frozen
class InvariantReport:
    """What :func:`inspect_store` found: the violations, and how much the capacity check saw.

    ``peak_loads`` is, per agent, the most open tickets it *certainly* held at one instant
    (see :func:`check_invariants`); an agent whose peak equals its capacity shows the check
    would have caught one ticket more.
    """

    violations: tuple[str, ...]
    peak_loads: Mapping[str, int]
    capacities: Mapping[str, int]
    tickets: int
    events: int
    timed_events: int
    """Events whose commit window the journal holds."""
    external_ids: frozenset[str] = frozenset()
    """The external ids of the stored tickets."""

    def at_capacity(self) -> list[str]:
        """Agents whose certain peak reached their capacity."""
        return sorted(a for a, peak in self.peak_loads.items() if peak >= self.capacities[a])


def check_invariants(
    spec: StoreSpec, journal: Journal | None = None, *, store: Store | None = None
) -> list[str]:
    """Every violation found in the store (empty when all hold), read in one unit of work.

    - **No duplicate tickets**: one ticket per ``(channel, external_id)``; every delivery
      in the journal returned the same ticket as every other delivery of its external id,
      and that ticket is stored under it (no delivery lost).
    - **No lost updates**: each ticket's events are ``seq`` 1..n with ids
      ``"{ticket_id}#{seq}"``, its ``version`` is n, and :func:`~supportflow.events.replay`
      of them equals the stored ticket.
    - **No partial units**: no ticket without events, no events without their ticket, no
      message without its ticket.
    - **No agent over capacity**, now (the stored open tickets per assignee) and at any
      earlier instant, from the event log, as follows.

    *Capacity over time.* The events of a ticket, in ``seq`` order, say who held it open
    between which two of its events (the ``acquire`` that made the agent its assignee in
    an open status, the ``release`` that ended that). Commits are ordered only per ticket,
    and an event's ``at`` is read from its process's clock *before* its transaction, so
    ``at`` order is not commit order, and ``at`` is only a lower bound of the commit
    instant. The journal adds an upper bound: each worker reads the clock before and after
    every commit (``[t0, t1]``, the same system-wide clock). An event's commit instant
    thus lies in ``[lo, hi]``: ``lo`` is ``t0`` (else ``at``) raised to the ``lo`` of the
    ticket's previous event, ``hi`` is ``t1`` (else unknown) lowered to the ``hi`` of the
    ticket's next event, as a ticket's events commit in ``seq`` order. A hold is *certain*
    over ``[hi(acquire), lo(release))`` (to the check's start if not released), and the
    check reports an instant where an agent's certain holds exceed their capacity. That is
    sound: every certain hold really was held at that instant, whatever the commit order,
    so an alarm is a real double booking; an event whose window was lost (a worker killed
    between commit and journal write) only makes holds less certain, never more. It catches
    a double booking that lasts longer than the commit windows around it (a millisecond or
    so), or that is still in place at the end. Reopens and capacity changes, which may
    legitimately exceed a capacity, are not part of the workload.

    ``store`` is an open store on ``spec`` to read with (default: one opened here). The
    read is one unit of work, a consistent snapshot, so workers may keep running.
    """
    return list(inspect_store(spec, journal, store=store).violations)


def inspect_store(
    spec: StoreSpec, journal: Journal | None = None, *, store: Store | None = None
) -> InvariantReport:
    """:func:`check_invariants`, with what the capacity check saw."""
    own = store is None
    current = spec.open() if store is None else store
    started_ns = time.time_ns()
    try:
        for attempt in range(5):
            try:
                with current.unit_of_work(spec.tenant_id) as uow:
                    tickets = uow.tickets.list()
                    events = list(uow.events.between(_EPOCH, _FAR_FUTURE))
                    agents = uow.agents.list()
                break
            except ConcurrencyConflict:
                if attempt == 4:
                    raise
                time.sleep(0.05)
    finally:
        if own:
            current.close()
    orphans = spec.orphan_messages()
    journal = Journal() if journal is None else journal
    problems: list[str] = []
    by_ticket: defaultdict[str, list[TicketEvent]] = defaultdict(list)
    for event in events:
        by_ticket[event.ticket_id].append(event)
    for stream in by_ticket.values():
        stream.sort(key=lambda e: e.seq)
    stored = {t.id: t for t in tickets}
    problems += _duplicates(tickets, journal)
    problems += _replays(stored, by_ticket)
    problems += [
        f"events without their ticket: {tid!r} ({len(by_ticket[tid])} events)"
        for tid in sorted(set(by_ticket) - set(stored))
    ]
    problems += [f"message without its ticket: {mid!r}" for mid in orphans]
    capacity = {a.id: a.capacity for a in agents}
    problems += _capacity_now(tickets, capacity)
    streams = {tid: by_ticket[tid] for tid in stored if by_ticket.get(tid)}
    over_time, peaks = _capacity_over_time(streams, capacity, journal.windows, started_ns)
    problems += over_time
    return InvariantReport(
        violations=tuple(problems),
        peak_loads=peaks,
        capacities=capacity,
        tickets=len(tickets),
        events=len(events),
        timed_events=sum(1 for e in events if e.id in journal.windows),
        external_ids=frozenset(t.external_id for t in tickets if t.external_id is not None),
    )


def _duplicates(tickets: Sequence[Ticket], journal: Journal) -> list[str]:
    problems: list[str] = []
    by_key: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for ticket in tickets:
        if ticket.external_id is not None:
            by_key[ticket.channel.value, ticket.external_id].append(ticket.id)
    for (channel, external_id), ids in sorted(by_key.items()):
        if len(ids) > 1:
            problems.append(f"duplicate tickets for {channel}:{external_id}: {sorted(ids)}")
    by_external = {external_id: ids for (_, external_id), ids in by_key.items()}
    for external_id, returned in sorted(journal.deliveries.items()):
        if len(returned) > 1:
            problems.append(
                f"deliveries of {external_id!r} returned different tickets: {sorted(returned)}"
            )
        found = by_external.get(external_id, [])
        if not returned <= set(found):
            problems.append(
                f"delivery {external_id!r} returned {sorted(returned)}, stored {sorted(found)}"
            )
    return problems


def _replays(stored: Mapping[str, Ticket], by_ticket: Mapping[str, list[TicketEvent]]) -> list[str]:
    problems: list[str] = []
    for ticket_id, ticket in sorted(stored.items()):
        stream = by_ticket.get(ticket_id, [])
        if not stream:
            problems.append(f"ticket without events: {ticket_id!r}")
            continue
        seqs = [e.seq for e in stream]
        if seqs != list(range(1, len(stream) + 1)):
            problems.append(f"ticket {ticket_id!r}: event seqs {seqs} are not 1..n")
        wrong_ids = [e.id for e in stream if e.id != f"{ticket_id}#{e.seq}"]
        if wrong_ids:
            problems.append(f"ticket {ticket_id!r}: events with wrong ids {wrong_ids}")
        if ticket.version != len(stream):
            problems.append(
                f"ticket {ticket_id!r}: version {ticket.version} but {len(stream)} events"
            )
        try:
            rebuilt = replay(stream)
        except SupportflowError as exc:
            problems.append(f"ticket {ticket_id!r}: its events do not replay: {exc}")
            continue
        if rebuilt != ticket:
            differ = sorted(
                name
                for name in Ticket.model_fields
                if getattr(rebuilt, name) != getattr(ticket, name)
            )
            problems.append(f"ticket {ticket_id!r}: stored state differs from replay in {differ}")
    return problems


def _capacity_now(tickets: Sequence[Ticket], capacity: Mapping[str, int]) -> list[str]:
    held = Counter(
        t.assignee_id for t in tickets if t.status in OPEN_STATUSES and t.assignee_id is not None
    )
    return [
        f"agent {agent!r} holds {count} open tickets, capacity {capacity.get(agent)}"
        for agent, count in sorted(held.items())
        if count > capacity.get(agent, 0)
    ]


def _holder(state: dict[str, Any]) -> str | None:
    assignee = state.get("assignee_id")
    open_now = state.get("status") in {s.value for s in OPEN_STATUSES}
    return str(assignee) if open_now and assignee is not None else None


def _capacity_over_time(
    streams: Mapping[str, list[TicketEvent]],
    capacity: Mapping[str, int],
    windows: Mapping[str, tuple[int, int]],
    until: int,
) -> tuple[list[str], dict[str, int]]:
    holds: defaultdict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for ticket_id, stream in streams.items():
        lo: list[int] = []
        hi: list[int] = []
        for event in stream:
            window = windows.get(event.id)
            lo.append(window[0] if window is not None else _ns(event.at))
            hi.append(window[1] if window is not None else _FOREVER)
        for k in range(1, len(stream)):
            lo[k] = max(lo[k], lo[k - 1])
        for k in range(len(stream) - 2, -1, -1):
            hi[k] = min(hi[k], hi[k + 1])
        state: dict[str, Any] = {}
        holder: str | None = None
        since = 0
        for k, event in enumerate(stream):
            if event.type == EventType.CREATED:
                state = dict(event.data["ticket"])
            else:
                state.update(event.data.get("changes", {}))
            now_held = _holder(state)
            if now_held == holder:
                continue
            if holder is not None:
                holds[holder].append((since, lo[k], ticket_id))
            if now_held is not None:
                since = hi[k]
            holder = now_held
        if holder is not None:
            holds[holder].append((since, until, ticket_id))
    problems: list[str] = []
    peaks = dict.fromkeys(capacity, 0)
    for agent, intervals in sorted(holds.items()):
        limit = capacity.get(agent, 0)
        points: list[tuple[int, int, str]] = []
        for start, end, ticket_id in intervals:
            if start < end:
                points.append((start, 1, ticket_id))
                points.append((end, 0, ticket_id))
        points.sort()
        held: set[str] = set()
        worst: tuple[int, int, list[str]] | None = None
        for instant, kind, ticket_id in points:
            if kind == 0:
                held.discard(ticket_id)
                continue
            held.add(ticket_id)
            peaks[agent] = max(peaks.get(agent, 0), len(held))
            if len(held) > limit and (worst is None or len(held) > worst[0]):
                worst = (len(held), instant, sorted(held))
        if worst is not None:
            when = datetime.fromtimestamp(worst[1] / 1e9, UTC).isoformat()
            problems.append(
                f"agent {agent!r} certainly held {worst[0]} open tickets at {when}, "
                f"capacity {limit}: {worst[2]}"
            )
    return problems, peaks
