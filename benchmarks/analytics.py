"""Support analytics from the event log: supportflow's one streaming pass against pandas.

Data: a month of real desk events. A ``SupportDesk`` with the shipped default SLA policy
(weekday hours) runs ``--base-tickets`` tickets (default 10,000) through intake,
assignment, acknowledgement, replies, requests for information and the customer's
answers, escalations, resolutions and reopens at simulated times spread over March 2026
(fixed seed), with ``run_due_jobs`` every simulated six hours, so the log holds SLA
warnings and breaches as well. That log is copied, each copy's tickets renamed and moved
by up to a day, until it holds ``--events`` events, and written to a SQLite store. The
file is kept in ``benchmarks/.cache`` and reused by later runs.

Compared, each reading the same SQLite file from cold Python objects:

- supportflow: ``compute_metrics`` over ``uow.events.between(...)`` (the store streams the
  rows and validates each event) grouped by team, agent, channel, category and tier, with
  the business calendar (business and calendar time both);
- pandas: the events loaded with ``read_sql`` and their JSON parsed, then the same core
  figures by group-bys: volume, first-response and resolution time (median and p90, calendar
  time only) by team, agent, channel and category, and the reopen and escalation counts.
  pandas does less work (no business time, no SLA attainment, no backlog).

Memory: the peak of Python's heap (``tracemalloc``) during supportflow's pass, at 250,000
events and at the full size.

Bars (issue 6): 1,000,000 events into the report in at most 20 s; memory flat in the number
of events (reported, the peak at 1,000,000 over the peak at 250,000); supportflow not
slower than pandas including pandas' load time.

Usage: python benchmarks/analytics.py [--events N] [--base-tickets N] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import json
import random
import re
import sqlite3
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from supportflow import Agent, Customer, MemoryStore, SqliteStore, SupportDesk, Team
from supportflow.analytics import MetricsReport, compute_metrics
from supportflow.models import CustomerTier, TicketEvent, event_id
from supportflow.sla import BusinessCalendar, CalendarSpec, default_policy
from supportflow.testing import FixedClock

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
LOOKBACK = timedelta(days=3)
HOURS = CalendarSpec.model_validate(
    {
        "name": "desk hours",
        "weekly": {d: ["08:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
)
TEAMS = ("billing", "technical", "account")
CHANNELS = ("email", "chat", "phone", "web_form", "portal", "social_media")
CATEGORIES = ("billing", "technical", "account", "shipping", "other")
CACHE = Path(__file__).resolve().parent / ".cache"


def desk_month(tickets: int, seed: int) -> tuple[list[TicketEvent], dict[str, CustomerTier]]:
    """A month of ``tickets`` run through a real desk; its events in time order, and tiers."""
    rng = random.Random(seed)
    store = MemoryStore()
    clock = FixedClock(START)
    desk = SupportDesk(store, clock=clock, sla_policy=default_policy(HOURS))
    agents: dict[str, list[str]] = {}
    for team in TEAMS:
        desk.add_team(Team(id=team, name=team.title()))
        agents[team] = [f"{team}-{n}" for n in range(12)]
        for agent in agents[team]:
            desk.add_agent(Agent(id=agent, name=agent, teams=(team,), capacity=10_000))
    tier_choices = (CustomerTier.VIP, CustomerTier.KEY, *[CustomerTier.REGULAR] * 6)
    tiers = {f"c{n:05d}": rng.choice((*tier_choices, CustomerTier.PROSPECT)) for n in range(5000)}
    for customer, tier in tiers.items():
        desk.add_customer(Customer(id=customer, name=customer, tier=tier))
    span = (END - START - timedelta(days=2)).total_seconds()
    actions: list[tuple[float, int, str, str, str]] = []
    order = 0

    def later(at: float, minutes: float, step: str, key: str, agent: str) -> None:
        nonlocal order
        delay = rng.expovariate(1 / (minutes * 60))
        heapq.heappush(actions, (at + delay, order, step, key, agent))
        order += 1

    for n in range(tickets):
        later(rng.uniform(0, span), 0.01, "intake", str(n), "")
    ids: dict[str, str] = {}
    customers = list(tiers)
    next_jobs = 6 * 3600.0
    while actions:
        at, _, step, key, agent = heapq.heappop(actions)
        while at >= next_jobs:
            clock.set(START + timedelta(seconds=next_jobs))
            desk.run_due_jobs()
            next_jobs += 6 * 3600
        clock.set(START + timedelta(seconds=at))
        if step == "intake":
            team = rng.choice(TEAMS)
            ticket = desk.intake(
                channel=rng.choice(CHANNELS),
                customer_id=rng.choice(customers),
                subject="Help",
                body="Something is wrong with my account.",
                category=rng.choice(CATEGORIES),
                team_id=team,
                priority=rng.choice(("urgent", "high", "normal", "normal", "low")),
            )
            ids[key] = ticket.id
            later(at, 20, "assign", key, rng.choice(agents[team]))
        elif step == "assign":
            desk.assign(ids[key], agent)
            later(at, 10, "acknowledge", key, agent)
        elif step == "acknowledge":
            desk.acknowledge(ids[key], agent_id=agent)
            later(at, 45, "reply", key, agent)
        elif step == "reply":
            desk.reply(ids[key], agent_id=agent, body="Here is what we found.")
            roll = rng.random()
            if roll < 0.25:
                later(at, 30, "ask", key, agent)
            elif roll < 0.30:
                later(at, 30, "escalate", key, agent)
            else:
                later(at, 180, "resolve", key, agent)
        elif step == "ask":
            desk.request_info(ids[key], agent_id=agent, body="Which invoice?")
            later(at, 240, "answer", key, agent)
        elif step == "answer":
            desk.customer_replied(ids[key], body="The March one.")
            later(at, 60, "resolve", key, agent)
        elif step == "escalate":
            desk.escalate(ids[key], actor=agent, reason="needs a specialist")
            later(at, 240, "resolve", key, agent)
        elif step == "resolve":
            desk.resolve(ids[key], agent_id=agent, resolution="Fixed.")
            if rng.random() < 0.08:
                later(at, 600, "reopen", key, agent)
        elif step == "reopen" and desk.get_ticket(ids[key]).status.value == "resolved":
            desk.reopen(ids[key], actor="customer", reason="still broken")
            later(at, 60, "reply", key, agent)
    with store.unit_of_work() as uow:
        return list(uow.events.between(START - LOOKBACK, END + LOOKBACK)), tiers


_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _moved(value: Any, delta: timedelta, suffix: str) -> Any:
    """``value`` with every ISO time moved by ``delta`` and every ``id`` renamed."""
    if isinstance(value, str):
        if _ISO.match(value):
            return (datetime.fromisoformat(value) + delta).isoformat()
        return value
    if isinstance(value, dict):
        return {
            k: v + suffix if k == "id" and isinstance(v, str) else _moved(v, delta, suffix)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_moved(v, delta, suffix) for v in value]
    return value


def copies(base: list[TicketEvent], total: int, seed: int) -> Iterator[TicketEvent]:
    """``total`` events: the base log, then renamed copies moved by up to a day."""
    rng = random.Random(seed)
    produced = 0
    copy = 0
    while produced < total:
        delta = timedelta(seconds=rng.uniform(-43_200, 43_200)) if copy else timedelta(0)
        suffix = f"-{copy}" if copy else ""
        by_ticket: dict[str, list[TicketEvent]] = {}
        for event in base:
            by_ticket.setdefault(event.ticket_id, []).append(event)
        for events in by_ticket.values():
            if produced >= total:
                return
            for event in events:
                ticket_id = event.ticket_id + suffix
                yield TicketEvent.model_construct(
                    id=event_id(ticket_id, event.seq),
                    ticket_id=ticket_id,
                    seq=event.seq,
                    type=event.type,
                    at=event.at + delta,
                    actor=event.actor,
                    data=_moved(event.data, delta, suffix),
                )
            produced += len(events)
        copy += 1


def database(total: int, base_tickets: int, seed: int) -> tuple[Path, dict[str, CustomerTier]]:
    """The SQLite file with ``total`` events (made once, then reused), and the tiers."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"analytics-{total}-{base_tickets}-{seed}.sqlite3"
    tiers_path = path.with_suffix(".tiers.json")
    if path.exists() and tiers_path.exists():
        loaded = json.loads(tiers_path.read_text())
        return path, {k: CustomerTier(v) for k, v in loaded.items()}
    started = time.perf_counter()
    base, tiers = desk_month(base_tickets, seed)
    print(f"  desk month: {base_tickets:,} tickets, {len(base):,} events", end="")
    print(f" in {time.perf_counter() - started:.0f} s")
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = SqliteStore(partial)
    try:
        batch: list[TicketEvent] = []
        with store.unit_of_work() as uow:
            for event in copies(base, total, seed):
                batch.append(event)
                if len(batch) == 10_000:
                    uow.events.append(batch)
                    batch = []
            uow.events.append(batch)
            uow.commit()
    finally:
        store.close()
    partial.rename(path)
    tiers_path.write_text(json.dumps({k: v.value for k, v in tiers.items()}))
    print(f"  written {total:,} events to {path.name} in {time.perf_counter() - started:.0f} s")
    return path, tiers


def supportflow_report(
    path: Path, tiers: dict[str, CustomerTier], limit: int | None = None
) -> tuple[float, MetricsReport]:
    """Seconds to stream the file's events into the report (the first ``limit`` only)."""
    calendar = BusinessCalendar(HOURS)
    started = time.perf_counter()
    store = SqliteStore(path)
    try:
        with store.unit_of_work() as uow:
            events: Any = uow.events.between(START - LOOKBACK, END)
            if limit is not None:
                events = itertools.islice(events, limit)
            report = compute_metrics(events, start=START, end=END, calendar=calendar, tiers=tiers)
    finally:
        store.close()
    return time.perf_counter() - started, report


def peak_mb(path: Path, tiers: dict[str, CustomerTier], limit: int | None) -> float:
    """The Python heap's peak while streaming the first ``limit`` events (all: None)."""
    gc.collect()
    tracemalloc.start()
    supportflow_report(path, tiers, limit)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def pandas_report(path: Path) -> tuple[float, dict[str, Any]]:
    """Seconds for pandas to load the events and compute the core figures by group."""
    import pandas as pd

    started = time.perf_counter()
    with sqlite3.connect(path) as connection:
        frame = pd.read_sql(
            "SELECT ticket_id, type, at, data FROM ticket_events WHERE at >= ? AND at < ?"
            " ORDER BY at, ticket_id, seq",
            connection,
            params=((START - LOOKBACK).isoformat(), END.isoformat()),
        )
    data = [json.loads(text)["data"] for text in frame["data"]]
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    created = frame[frame["type"] == "ticket.created"]
    tickets = pd.DataFrame(
        [data[i]["ticket"] for i in created.index],
        columns=None,
    )[["id", "team_id", "channel", "category", "assignee_id"]]
    tickets["created_at"] = created["at"].to_numpy()
    tickets = tickets.set_index("id")
    first_response = (
        frame[[("first_response_at" in d.get("changes", {})) for d in data]]
        .groupby("ticket_id")["at"]
        .min()
    )
    resolved = frame[frame["type"] == "ticket.resolved"].groupby("ticket_id")["at"].max()
    assignee = frame[frame["type"] == "ticket.assigned"].groupby("ticket_id").tail(1)
    assignee_ids = pd.Series(
        [data[i]["changes"].get("assignee_id") for i in assignee.index],
        index=assignee["ticket_id"].to_numpy(),
    )
    tickets["agent"] = assignee_ids
    tickets["first_response_s"] = (first_response - tickets["created_at"]).dt.total_seconds()
    tickets["resolution_s"] = (resolved - tickets["created_at"]).dt.total_seconds()
    counts = frame.groupby(["ticket_id", "type"]).size().unstack(fill_value=0)
    for kind in ("ticket.reopened", "ticket.escalated"):
        tickets[kind] = counts.get(kind, 0)
    in_period = tickets[(tickets["created_at"] >= START) & (tickets["created_at"] < END)]
    figures: dict[str, Any] = {"volume": len(in_period)}
    for dimension in ("team_id", "agent", "channel", "category"):
        grouped = in_period.groupby(dimension)
        figures[dimension] = pd.DataFrame(
            {
                "volume": grouped.size(),
                "first_response_median": grouped["first_response_s"].median(),
                "first_response_p90": grouped["first_response_s"].quantile(0.9),
                "resolution_median": grouped["resolution_s"].median(),
                "resolution_p90": grouped["resolution_s"].quantile(0.9),
                "reopened": grouped["ticket.reopened"].sum(),
                "escalated": grouped["ticket.escalated"].sum(),
            }
        )
    return time.perf_counter() - started, figures


def bar(name: str, value: float, op: str, target: float, digits: int = 2) -> None:
    """One ``BAR`` line, as the brief asks."""
    passed = value >= target if op == ">=" else value <= target
    print(f"BAR {name} {value:.{digits}f} {op} {target:.{digits}f} {'PASS' if passed else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--base-tickets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    path, tiers = database(args.events, args.base_tickets, args.seed)
    quarter = args.events // 4
    seconds, report = supportflow_report(path, tiers)
    pandas_seconds, figures = pandas_report(path)
    print(
        f"\n{args.events:,} events, {report.total.volume:,} tickets created in March:"
        f" supportflow {seconds:.1f} s, pandas {pandas_seconds:.1f} s (load and group-bys)"
    )
    print(f"  volume: supportflow {report.total.volume:,}, pandas {figures['volume']:,}")
    team = figures["team_id"]
    for name, metrics in sorted(report.groups["team"].items()):
        if name in team.index:
            median = metrics.resolution.median or 0.0
            print(
                f"  team {name}: resolution median {median / 3600:.2f} h,"
                f" pandas {team.loc[name, 'resolution_median'] / 3600:.2f} h"
            )
    small = peak_mb(path, tiers, quarter)
    full = peak_mb(path, tiers, None)
    print(f"  peak Python heap: {small:.0f} MB at {quarter:,} events, {full:.0f} MB at all")
    print()
    bar("analytics_1m_events_seconds", seconds, "<=", 20.0, 1)
    bar("analytics_peak_memory_ratio_1m_vs_250k", full / small, "<=", 1.5)
    bar("analytics_pandas_over_supportflow_time", pandas_seconds / seconds, ">=", 1.0)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
