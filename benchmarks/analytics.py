"""Support analytics from the event log: supportflow's one streaming pass against pandas.

Data: a month of real desk events. A ``SupportDesk`` with the shipped default SLA policy
(weekday hours) runs ``--base-tickets`` tickets (default 10,000) through intake,
assignment, acknowledgement, replies, requests for information and the customer's
answers, escalations, resolutions, reopens and survey answers at simulated times spread
over March 2026 (fixed seed), with ``run_due_jobs`` every simulated six hours, so the log
holds SLA warnings and breaches as well; about 8% of tickets are complaints, and a surge of
shipping complaints comes on March 17. That log is copied, each copy's tickets renamed and
moved by up to a day, until it holds ``--events`` events, and written to a SQLite store.
The file is kept in ``benchmarks/.cache`` and reused by later runs.

Compared, each reading the same SQLite file from cold Python objects:

- supportflow: ``monthly_report`` over ``uow.events.between(*report_window(month))`` (the
  store streams the rows and validates each event) grouped by team, agent, channel,
  category and tier, with the business calendar (business and calendar time both), then
  rendered to JSON, Markdown and HTML;
- pandas: the events loaded with ``read_sql`` and their JSON parsed, then the report's
  figures by group-bys (see :func:`pandas_report`), in calendar time only: pandas does
  less (no business time, no surge test, no rendering).

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

from supportflow import Agent, Customer, MemoryStore, SqliteStore, SupportDesk, Team, Ticket
from supportflow.analytics.html import to_html
from supportflow.analytics.markdown import to_markdown
from supportflow.analytics.report import MonthlyReport, monthly_report, report_window
from supportflow.models import ComplaintCategory, CustomerTier, TicketEvent, event_id
from supportflow.routing.protocols import Classification
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
MONTH = "2026-03"
SURGE_AT = datetime(2026, 3, 17, 10, tzinfo=UTC)
CACHE = Path(__file__).resolve().parent / ".cache"
CACHE_VERSION = 3  # bump when desk_month or the schema changes


class ComplaintMarker:
    """Classifies a body starting ``"Complaint (category):"`` as that complaint category."""

    def classify(self, ticket: Ticket) -> Classification:
        if ticket.body.startswith("Complaint ("):
            name = ticket.body[len("Complaint (") : ticket.body.index(")")]
            return Classification(complaint_category=ComplaintCategory(name))
        return Classification()


def desk_month(tickets: int, seed: int) -> tuple[list[TicketEvent], dict[str, CustomerTier]]:
    """A month of ``tickets`` run through a real desk; its events in time order, and tiers.

    About 8% of tickets are complaints; on March 17, 10:00-13:00 UTC, 60 extra shipping
    complaints arrive (a surge). About 35% of resolutions get a survey answer.
    """
    rng = random.Random(seed)
    store = MemoryStore()
    clock = FixedClock(START)
    desk = SupportDesk(
        store, clock=clock, sla_policy=default_policy(HOURS), classifier=ComplaintMarker()
    )
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
    surge = (SURGE_AT - START).total_seconds()
    for n in range(60):
        later(rng.uniform(surge, surge + 3 * 3600), 0.01, "surge", f"s{n}", "")
    ids: dict[str, str] = {}
    answered: set[str] = set()
    customers = list(tiers)
    next_jobs = 6 * 3600.0
    while actions:
        at, _, step, key, agent = heapq.heappop(actions)
        while at >= next_jobs:
            clock.set(START + timedelta(seconds=next_jobs))
            desk.run_due_jobs()
            next_jobs += 6 * 3600
        clock.set(START + timedelta(seconds=at))
        if step in ("intake", "surge"):
            team = rng.choice(TEAMS)
            body = "Something is wrong with my account."
            if step == "surge":
                body = "Complaint (product_quality): the parcel arrived broken."
            elif rng.random() < 0.08:
                body = f"Complaint ({rng.choice(list(ComplaintCategory)).value}): not good."
            ticket = desk.intake(
                channel=rng.choice(CHANNELS),
                customer_id=rng.choice(customers),
                subject="Help",
                body=body,
                category="shipping" if step == "surge" else rng.choice(CATEGORIES),
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
            if rng.random() < 0.35:
                later(at, 600, "survey", key, agent)
        elif step == "survey":
            ticket = desk.get_ticket(ids[key])
            survey = f"{ticket.id}/survey/{ticket.reopen_count + 1}"
            if ticket.status.value in ("resolved", "closed") and survey not in answered:
                answered.add(survey)
                desk.submit_feedback(
                    survey,
                    csat=rng.choices((1, 2, 3, 4, 5), (5, 5, 10, 30, 50))[0],
                    nps=rng.choices(range(11), (2, 1, 1, 2, 2, 4, 8, 15, 15, 20, 30))[0],
                )
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
    path = CACHE / f"analytics-v{CACHE_VERSION}-{total}-{base_tickets}-{seed}.sqlite3"
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
) -> tuple[float, MonthlyReport, dict[str, int]]:
    """Seconds to stream the file's events into the monthly report and render it three ways.

    Only the first ``limit`` events with ``limit``. Also the size of each rendering.
    """
    calendar = BusinessCalendar(HOURS)
    started = time.perf_counter()
    store = SqliteStore(path)
    try:
        with store.unit_of_work() as uow:
            events: Any = uow.events.between(*report_window(MONTH))
            if limit is not None:
                events = itertools.islice(events, limit)
            report = monthly_report(events, month=MONTH, calendar=calendar, tiers=tiers)
    finally:
        store.close()
    sizes = {
        "json": len(report.to_json()),
        "markdown": len(to_markdown(report)),
        "html": len(to_html(report)),
    }
    return time.perf_counter() - started, report, sizes


def peak_mb(path: Path, tiers: dict[str, CustomerTier], limit: int | None) -> float:
    """The Python heap's peak while streaming the first ``limit`` events (all: None)."""
    gc.collect()
    tracemalloc.start()
    supportflow_report(path, tiers, limit)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


SLA = ("first_response", "acknowledgement", "next_response", "resolution")
STAGE_OF = {"new": "assignment", "assigned": "acknowledgement", "waiting_on_customer": "customer"}
STAGE_OF |= {"on_hold": "on_hold"}


def pandas_report(path: Path, tiers: dict[str, CustomerTier]) -> tuple[float, dict[str, Any]]:
    """Seconds for pandas to load the events and compute the report's figures by group-bys.

    The same figures as the monthly report, in calendar time only (pandas has no business
    calendar): volume; first response and resolution (median, p90, within 24 h); SLA
    attainment; reopen, escalation and first-contact resolution; time in each stage;
    CSAT and NPS; complaints this month and last; the backlog by hour; tickets per hour per
    category with a four-week seasonal baseline. Grouped by team, agent, channel, category
    and tier.
    """
    import pandas as pd

    started = time.perf_counter()
    window = report_window(MONTH)
    with sqlite3.connect(path) as connection:
        frame = pd.read_sql(
            "SELECT ticket_id, type, at, data FROM ticket_events WHERE at >= ? AND at < ?"
            " ORDER BY at, ticket_id, seq",
            connection,
            params=tuple(t.isoformat() for t in window),
        )
    data = [json.loads(text)["data"] for text in frame["data"]]
    changes = [d.get("changes") or {} for d in data]
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    kind = frame["type"]
    created = frame[kind == "ticket.created"]
    tickets = pd.DataFrame([data[i]["ticket"] for i in created.index])
    tickets = tickets[["id", "team_id", "channel", "category", "customer_id", "complaint_category"]]
    tickets["created_at"] = created["at"].to_numpy()
    tickets["tier"] = tickets["customer_id"].map({k: v.value for k, v in tiers.items()})
    tickets = tickets.set_index("id")
    # The assignee at the last resolution (else the last assignee).
    assigned = pd.DataFrame(
        {
            "ticket_id": frame["ticket_id"],
            "agent": [c.get("assignee_id") for c in changes],
            "has": ["assignee_id" in c for c in changes],
        }
    )
    tickets["agent"] = assigned[assigned["has"]].groupby("ticket_id")["agent"].last()
    replied = frame[["first_response_at" in c for c in changes]]
    first_response = replied.groupby("ticket_id")["at"].min()
    resolved = frame[kind == "ticket.resolved"].groupby("ticket_id")["at"].max()
    tickets["first_response_s"] = (first_response - tickets["created_at"]).dt.total_seconds()
    tickets["resolution_s"] = (resolved - tickets["created_at"]).dt.total_seconds()
    tickets["within_goal"] = tickets["resolution_s"] <= 24 * 3600
    counts = frame.groupby(["ticket_id", "type"]).size().unstack(fill_value=0)
    tickets["reopened"] = counts.get("ticket.reopened", 0) > 0
    tickets["escalated"] = counts.get("ticket.escalated", 0) > 0
    messages = counts.get("ticket.replied", 0) + counts.get("ticket.info_requested", 0)
    tickets["fcr"] = (messages == 1) & ~tickets["reopened"]
    # SLA: committed when a due time was stamped, breached when an sla.breached came.
    stamped = {m: [bool(c.get(f"{m}_due_at")) for c in changes] for m in SLA}
    created_due = {
        m: [bool(data[i]["ticket"].get(f"{m}_due_at")) for i in created.index] for m in SLA
    }
    breaches = frame[kind == "sla.breached"]
    metric = pd.Series([data[i].get("metric") for i in breaches.index], index=breaches.index)
    for m in SLA:
        later = frame[stamped[m]].groupby("ticket_id").size() > 0
        tickets[f"{m}_committed"] = pd.Series(created_due[m], index=tickets.index) | later.reindex(
            tickets.index, fill_value=False
        )
        hit = breaches[metric == m].groupby("ticket_id").size() > 0
        tickets[f"{m}_breached"] = hit.reindex(tickets.index, fill_value=False)
    # Stages: time from each status change to the next, until the last resolution.
    moves = pd.DataFrame(
        {
            "ticket_id": frame["ticket_id"],
            "at": frame["at"],
            "status": [c.get("status") for c in changes],
            "replied": ["first_response_at" in c for c in changes],
        }
    )
    moves.loc[kind == "ticket.created", "status"] = "new"
    moves = moves[moves["status"].notna() | moves["replied"]]
    moves["status"] = moves.groupby("ticket_id")["status"].ffill()
    moves["after_reply"] = moves.groupby("ticket_id")["replied"].cummax()
    moves["seconds"] = (moves.groupby("ticket_id")["at"].shift(-1) - moves["at"]).dt.total_seconds()
    moves["stage"] = moves["status"].map(STAGE_OF)
    working = moves["status"] == "in_progress"
    moves.loc[working, "stage"] = moves.loc[working, "after_reply"].map(
        {True: "handling", False: "first_reply"}
    )
    stages = moves.dropna(subset=["stage", "seconds"]).pivot_table(
        index="ticket_id", columns="stage", values="seconds", aggfunc="sum", fill_value=0.0
    )
    # Surveys, grouped by the context recorded with each answer.
    answers = frame[(kind == "feedback.survey_answered") & (frame["at"] >= START)]
    feedback = pd.DataFrame(
        [
            {**data[i]["response"], **data[i].get("context", {}), "at": frame.at[i, "at"]}
            for i in answers.index
        ]
    )
    feedback["satisfied"] = feedback["csat"] >= 4
    feedback["promoter"] = feedback["nps"] >= 9
    feedback["detractor"] = feedback["nps"] <= 6
    feedback["tier"] = feedback["customer_id"].map({k: v.value for k, v in tiers.items()})
    feedback = feedback.rename(columns={"agent_id": "agent"})
    in_period = tickets[(tickets["created_at"] >= START) & (tickets["created_at"] < END)]
    resolved_in = tickets[tickets.index.isin(resolved[resolved >= START].index)]
    previous = tickets[tickets["created_at"] < START]
    figures: dict[str, Any] = {
        "volume": len(in_period),
        "complaints": in_period.groupby("complaint_category").size(),
        "previous_complaints": previous.groupby("complaint_category").size(),
    }
    # Backlog at each hour: +1 at creation, -1 when resolved or closed, +1 when reopened.
    delta = pd.Series(0, index=frame.index)
    delta[kind == "ticket.created"] = 1
    status = pd.Series([c.get("status") for c in changes], index=frame.index)
    delta[status.isin(["resolved", "closed"]) & (kind != "ticket.closed")] = -1
    delta[kind == "ticket.reopened"] = 1
    open_now = delta.groupby(frame["at"].dt.floor("h")).sum().cumsum()
    hours = pd.date_range(START, END, freq="h", inclusive="left")
    figures["backlog"] = open_now.reindex(hours, method="ffill")
    # Tickets per hour per category and complaint, against four weeks' same hour.
    keys = created["at"].dt.floor("h")
    per_hour = pd.crosstab(keys, tickets["category"].to_numpy())
    per_hour = per_hour.reindex(pd.date_range(window[0], END, freq="h", inclusive="left"))
    per_hour = per_hour.fillna(0)
    baseline = sum(per_hour.shift(168 * k) for k in range(1, 5))
    figures["surge_ratio"] = (per_hour / (baseline / 4 + 1)).loc[START:]
    for dimension in ("team_id", "agent", "channel", "category", "tier"):
        grouped = in_period.groupby(dimension)
        by_resolution = resolved_in.groupby(dimension)
        table = pd.DataFrame(
            {
                "volume": grouped.size(),
                "first_response_median": grouped["first_response_s"].median(),
                "first_response_p90": grouped["first_response_s"].quantile(0.9),
                "resolution_median": by_resolution["resolution_s"].median(),
                "resolution_p90": by_resolution["resolution_s"].quantile(0.9),
                "within_goal": by_resolution["within_goal"].mean(),
                "reopen_rate": by_resolution["reopened"].mean(),
                "escalation_rate": by_resolution["escalated"].mean(),
                "fcr_rate": by_resolution["fcr"].mean(),
            }
        )
        for m in SLA:
            committed = in_period[in_period[f"{m}_committed"]].groupby(dimension)
            table[f"{m}_attainment"] = 1 - committed[f"{m}_breached"].mean()
        table = table.join(
            stages.join(resolved_in[dimension], how="inner").groupby(dimension).sum()
        )
        survey_key = {"team_id": "team_id"}.get(dimension, dimension)
        answered = feedback.groupby(survey_key)
        table["csat"] = 100 * answered["satisfied"].mean()
        table["nps"] = 100 * (answered["promoter"].mean() - answered["detractor"].mean())
        figures[dimension] = table
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
    seconds, report, sizes = supportflow_report(path, tiers)
    pandas_seconds, figures = pandas_report(path, tiers)
    total = report.metrics.total
    print(
        f"\n{args.events:,} events, {total.volume:,} tickets created in {MONTH}:"
        f" supportflow {seconds:.1f} s (report and its JSON, Markdown and HTML),"
        f" pandas {pandas_seconds:.1f} s (load and group-bys)"
    )
    print(f"  volume: supportflow {total.volume:,}, pandas {figures['volume']:,}")
    team = figures["team_id"]
    for name, metrics in sorted(report.metrics.groups["team"].items()):
        if name in team.index:
            median = metrics.resolution.median or 0.0
            csat = metrics.csat.value or 0.0
            print(
                f"  team {name}: resolution median {median / 3600:.2f} h,"
                f" pandas {team.loc[name, 'resolution_median'] / 3600:.2f} h;"
                f" CSAT {csat:.1f}%, pandas {team.loc[name, 'csat']:.1f}%"
            )
    print(f"  bottleneck: {total.bottleneck}")
    for surge in report.surges[:5]:
        print(f"  surge: {surge.describe()}")
    print(f"  renderings: {', '.join(f'{k} {v / 1000:.0f} kB' for k, v in sizes.items())}")
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
