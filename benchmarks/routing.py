"""Assignment routing at scale: supportflow's standard pipeline against a full scan.

Data (synthetic, fixed seed): 10 teams (t0-t7 escalate to t8, t8 to t9); agents spread
evenly over them (agent i is in team i mod 10), each with 2-4 of five skills (billing,
technical, account, service, shipping), English (55%), Chinese (25%) or both (20%), a
capacity of 5-15, a chat limit of 2-4 for one in five, 15% seniors and 5% leads, 10% away
and 5% offline; 40,000 customers, 1% VIP and 3% key, most of those with an account
manager, and each with a home team and language (a third Chinese); 100,000 tickets 40
seconds apart, each with a customer, a team (80% the customer's), a language (85% the
customer's; else en, zh, mixed or und), a category (5% ``other``, which waits for triage
and needs no skill), a priority, a channel and an escalation level (7% level 1: a senior;
3% level 2: the escalation team's seniors). Every scale sees the same tickets and
customers; only the agents (and so the account managers' ids) differ.

Compared in one run, deciding the same tickets in the same order:

- pipeline: ``standard_pipeline()`` deciding each ticket against an ``AgentPool``;
- full scan: the same rules written the obvious way, as the ``AssignmentStrategy``
  docstring's example does: every agent is looked at for every ticket (status, load,
  team, role, skill, language, channel limit), then the account manager, the senior pool,
  the returning customer's agent or the least-loaded agent by the pipeline's key.

Both do the desk's bookkeeping after each decision: the assigned ticket is built (as the
desk builds it, without re-validation) and tracked (``AgentPool.track``; the full scan
keeps its own load table), and its agent becomes the customer's recent agent for
``Sticky``. Tickets at escalation level 1 or more are routed as escalations handed over
(``RoutingRequest(escalating=True)``). Once the open tickets reach 70% of the online
agents' capacity, every assignment also resolves the oldest open ticket (tracked as
resolved), so the load holds steady instead of saturating (at 10,000 agents that point
comes after about 67,000 tickets).

The figures are decisions per second of routing: the time inside ``decide`` and
``track``, the pool's lazily built indexes included, summed over the run. The whole loop
(requests, ticket copies, bookkeeping) is printed beside it. The data set is built before
timing and frozen out of the garbage collector (``gc.freeze``), so collections during a
run walk what the run creates, not the 100,000 prebuilt tickets. The two strategies must
choose the same agent (or the queue) for every ticket the full scan decides; the script
stops if they do not.

Scaling: the pipeline runs the same 100,000 tickets at 100, 1,000 and 10,000 agents; the
full scan runs the first ``--peer-tickets`` tickets at each scale (a tenth of them at
10,000 agents, where each of its decisions takes milliseconds), and the pipeline's time
on those same first tickets is its figure in the comparison. Each pipeline run is timed
in chunks (the first tickets, then 5,000 at a time); a figure adds up each chunk's best
time over ``--repeats`` runs of the whole sequence, interleaved across scales, so a burst
of other work on the machine spoils one chunk of one run rather than a whole figure.

Bars: the pipeline's cost per decision grows at most 2x from 100 to 10,000 agents (no
full scan per ticket); at least 20,000 decisions/s at 1,000 agents.

Usage: python benchmarks/routing.py [--tickets N] [--peer-tickets N] [--repeats R] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from supportflow import (
    Agent,
    AgentRole,
    AgentStatus,
    Channel,
    Customer,
    CustomerTier,
    Priority,
    Team,
    Ticket,
    TicketStatus,
)
from supportflow._build import evolve
from supportflow.routing import (
    PRIORITY_WEIGHTS,
    AgentPool,
    Decision,
    RecentAgent,
    RoutingRequest,
    standard_pipeline,
)

TEAMS = 10
CHUNK = 5_000  # tickets per timed chunk
CATEGORIES = ("billing", "technical", "account", "service", "shipping")
CUSTOMERS = 40_000
SCALES = (100, 1_000, 10_000)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPACING = timedelta(seconds=40)
STICKY_WINDOW = timedelta(days=30)
FULL = 0.7  # open tickets held at this share of the online agents' capacity
STATUS_RANK = {AgentStatus.AVAILABLE: 0, AgentStatus.AWAY: 1, AgentStatus.OFFLINE: 2}
SENIOR_ROLES = frozenset({AgentRole.SENIOR, AgentRole.LEAD})
OPEN = frozenset(TicketStatus) - {TicketStatus.RESOLVED, TicketStatus.CLOSED}
ASSIGNED, RESOLVED = TicketStatus.ASSIGNED, TicketStatus.RESOLVED
PATHS = ("account manager", "senior pool", "returning customer", "least loaded", "queued")

LoadKey = tuple[int, float, int, str]

T = TypeVar("T")


def pick(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    """One value of a table of ``(value, weight)`` pairs."""
    return rng.choices([value for value, _ in table], [weight for _, weight in table])[0]


# -- the data --------------------------------------------------------------------------------


def make_teams() -> dict[str, Team]:
    """t0-t7 escalate to t8, t8 to t9."""
    teams = {}
    for i in range(TEAMS):
        up = "t8" if i < 8 else ("t9" if i == 8 else None)
        teams[f"t{i}"] = Team(id=f"t{i}", name=f"Team {i}", escalation_team_id=up)
    return teams


def make_agents(count: int, seed: int) -> list[Agent]:
    rng = random.Random(f"{seed}-agents")
    agents = []
    for i in range(count):
        chat = {Channel.CHAT: rng.randint(2, 4)} if rng.random() < 0.2 else {}
        agents.append(
            Agent(
                id=f"a{i:05d}",
                name=f"Agent {i}",
                teams=(f"t{i % TEAMS}",),
                skills=tuple(rng.sample(CATEGORIES, rng.randint(2, 4))),
                languages=pick(rng, ((("en",), 55), (("zh",), 25), (("en", "zh"), 20))),
                role=pick(
                    rng, ((AgentRole.AGENT, 80), (AgentRole.SENIOR, 15), (AgentRole.LEAD, 5))
                ),
                capacity=rng.randint(5, 15),
                channel_capacity=chat,
                status=pick(
                    rng,
                    ((AgentStatus.AVAILABLE, 85), (AgentStatus.AWAY, 10), (AgentStatus.OFFLINE, 5)),
                ),
            )
        )
    return agents


def make_customers(agent_count: int, seed: int) -> dict[str, Customer]:
    """The same customers at every scale; account managers drawn among ``agent_count``."""
    rng = random.Random(f"{seed}-customers")
    managers = random.Random(f"{seed}-managers-{agent_count}")
    tiers = (
        (CustomerTier.VIP, 1),
        (CustomerTier.KEY, 3),
        (CustomerTier.REGULAR, 80),
        (CustomerTier.PROSPECT, 16),
    )
    customers = {}
    for i in range(CUSTOMERS):
        tier = pick(rng, tiers)
        manager = None
        if tier in (CustomerTier.VIP, CustomerTier.KEY) and rng.random() < 0.8:
            manager = f"a{managers.randrange(agent_count):05d}"
        customers[f"c{i:05d}"] = Customer(
            id=f"c{i:05d}", name=f"Customer {i}", tier=tier, account_manager_id=manager
        )
    return customers


def make_tickets(count: int, seed: int) -> list[Ticket]:
    rng = random.Random(f"{seed}-tickets")
    categories = (*((c, 19) for c in CATEGORIES), ("other", 5))
    channels = (
        (Channel.EMAIL, 40),
        (Channel.CHAT, 30),
        (Channel.PHONE, 10),
        (Channel.WEB_FORM, 10),
        (Channel.PORTAL, 10),
    )
    other_languages = (("en", 3), ("zh", 3), ("mixed", 3), ("und", 1))
    priorities = (
        (Priority.URGENT, 5),
        (Priority.HIGH, 20),
        (Priority.NORMAL, 60),
        (Priority.LOW, 15),
    )
    tickets = []
    for i in range(count):
        at = START + SPACING * i
        customer = rng.randrange(CUSTOMERS)
        home_team, home_language = customer % TEAMS, ("en", "en", "zh")[customer // TEAMS % 3]
        tickets.append(
            Ticket(
                id=f"T{i:06d}",
                channel=pick(rng, channels),
                customer_id=f"c{customer:05d}",
                subject="",
                body="",
                language=home_language if rng.random() < 0.85 else pick(rng, other_languages),
                category=pick(rng, categories),
                priority=pick(rng, priorities),
                team_id=f"t{home_team if rng.random() < 0.8 else rng.randrange(TEAMS)}",
                escalation_level=pick(rng, ((0, 90), (1, 7), (2, 3))),
                created_at=at,
                updated_at=at,
            )
        )
    return tickets


class World:
    """Teams, agents, customers and tickets at one scale."""

    def __init__(self, agent_count: int, tickets: list[Ticket], seed: int) -> None:
        self.teams = make_teams()
        self.agents = make_agents(agent_count, seed)
        self.customers = make_customers(agent_count, seed)
        self.tickets = tickets


# -- the peer: the same rules, every agent looked at for every ticket ------------------------


class FullScan:
    """``standard_pipeline()``'s rules over a plain load table, scanning every agent.

    What each agent never changes (skills, languages, seniority) is computed once, as a
    careful host would; loads are counted as ``AgentPool.track`` counts them (a running
    sum of the weights, exact for the default weights).
    """

    def __init__(self, agents: Sequence[Agent], teams: Mapping[str, Team]) -> None:
        self.teams = teams
        self.rows = [
            (
                agent,
                frozenset(s.casefold() for s in agent.skills),
                frozenset(code.casefold() for code in agent.languages),
                agent.role in SENIOR_ROLES,
            )
            for agent in sorted(agents, key=lambda a: a.id)
        ]
        # agent id -> [open tickets, weighted load, open tickets per channel]
        self.load: dict[str, list[Any]] = {agent.id: [0, 0.0, {}] for agent in agents}
        self.held: dict[str, tuple[str, float, Channel]] = {}

    def track(self, ticket: Ticket) -> None:
        before = self.held.pop(ticket.id, None)
        if before is not None:
            self._add(before[0], -1, -before[1], before[2])
        if ticket.assignee_id is not None and ticket.status in OPEN:
            weight = PRIORITY_WEIGHTS[ticket.priority]
            self.held[ticket.id] = (ticket.assignee_id, weight, ticket.channel)
            self._add(ticket.assignee_id, 1, weight, ticket.channel)

    def _add(self, agent_id: str, count: int, weight: float, channel: Channel) -> None:
        load = self.load[agent_id]
        load[0] += count
        load[1] = max(0.0, load[1] + weight) if load[0] else 0.0
        load[2][channel] = load[2].get(channel, 0) + count

    def decide(self, request: RoutingRequest) -> Decision:
        ticket = request.ticket
        level = ticket.escalation_level
        team = ticket.team_id
        if team is not None and level >= 2 and request.escalating:
            known = self.teams.get(team)
            following = None if known is None else known.escalation_team_id
            if following is not None:
                team = following
        category = ticket.category
        skill = None if category is None or category.casefold() == "other" else category.casefold()
        language = ticket.language
        if language is None or language == "und":
            languages: frozenset[str] = frozenset()
        elif language == "mixed":
            languages = frozenset({"zh", "en"})
        else:
            languages = frozenset({language.casefold()})
        customer = request.customer
        tiered = customer is not None and customer.tier in (CustomerTier.VIP, CustomerTier.KEY)
        manager = None
        if customer is not None and tiered and level == 0:
            manager = customer.account_manager_id
        sticky = None
        for recent in request.recent_agents:
            if recent.ticket_id == ticket.id:
                continue
            if request.now - recent.at <= STICKY_WINDOW:
                sticky = recent.agent_id
            break
        channel = ticket.channel
        holder = ticket.assignee_id
        seniors_only = level >= 1
        manager_fits = sticky_fits = False
        best: LoadKey | None = None
        best_senior: LoadKey | None = None
        load = self.load
        for agent, skills, speaks, senior in self.rows:
            status = agent.status
            if status is AgentStatus.OFFLINE:
                continue
            open_, weighted, by_channel = load[agent.id]
            if open_ >= agent.capacity or agent.id == holder:
                continue
            limit = agent.channel_capacity.get(channel)
            if limit is not None and by_channel.get(channel, 0) >= limit:
                continue
            if agent.id == manager:
                manager_fits = True
            if (skill is not None and skill not in skills) or not languages <= speaks:
                continue
            if (team is not None and team not in agent.teams) or (seniors_only and not senior):
                continue
            if agent.id == sticky:
                sticky_fits = True
            key = (STATUS_RANK[status], weighted / agent.capacity, open_, agent.id)
            if best is None or key < best:
                best = key
            if senior and (best_senior is None or key < best_senior):
                best_senior = key
        if manager is not None and manager_fits:
            return Decision(manager, "account manager")
        if tiered and best_senior is not None:
            return Decision(best_senior[3], "senior pool")
        if sticky is not None and sticky_fits:
            return Decision(sticky, "returning customer")
        if best is not None:
            return Decision(best[3], "least loaded")
        return Decision(None, "queued")


# -- the desk's bookkeeping around either strategy -------------------------------------------


class Desk:
    """Decides tickets one by one and keeps the books a desk keeps after each decision."""

    def __init__(
        self,
        agents: Sequence[Agent],
        customers: Mapping[str, Customer],
        teams: Mapping[str, Team],
        decide: Callable[[RoutingRequest], Decision],
        track: Callable[[Ticket], None],
    ) -> None:
        self.customers = customers
        self.teams = teams
        self.decide = decide
        self.track = track
        self.limit = int(
            FULL * sum(a.capacity for a in agents if a.status is not AgentStatus.OFFLINE)
        )
        # The open tickets, oldest first, as they came in, and their agents.
        self.held: deque[Ticket] = deque()
        self.holders: deque[str] = deque()
        self.recent: dict[str, tuple[RecentAgent, ...]] = {}
        self.chosen: list[str | None] = []  # the agent of each decision (None: queued)
        self.reasons: list[str] = []

    def route(self, tickets: Sequence[Ticket]) -> tuple[float, float]:
        """Decide ``tickets`` in order: the seconds in ``decide`` and ``track``, and the
        seconds of the whole loop."""
        customers, teams, decide, track = self.customers, self.teams, self.decide, self.track
        held, holders, recent, limit = self.held, self.holders, self.recent, self.limit
        chosen, reasons = self.chosen, self.reasons
        clock = time.perf_counter
        routing = 0.0
        began = clock()
        for ticket in tickets:
            now = ticket.created_at
            customer_id = ticket.customer_id
            request = RoutingRequest(
                ticket=ticket,
                now=now,
                customer=customers[customer_id],
                teams=teams,
                escalating=ticket.escalation_level > 0,
                recent=partial(recent.get, customer_id, ()),
            )
            start = clock()
            decision = decide(request)
            routing += clock() - start
            agent_id = decision.agent_id
            chosen.append(agent_id)
            reasons.append(decision.reason)
            if agent_id is None:
                continue
            assigned = evolve(
                ticket, {"assignee_id": agent_id, "status": ASSIGNED, "assigned_at": now}
            )
            start = clock()
            track(assigned)
            routing += clock() - start
            recent[customer_id] = (RecentAgent(agent_id, ticket.id, now),)
            held.append(ticket)
            holders.append(agent_id)
            if len(held) > limit:
                resolved = evolve(
                    held.popleft(),
                    {"assignee_id": holders.popleft(), "status": RESOLVED, "resolved_at": now},
                )
                start = clock()
                track(resolved)
                routing += clock() - start
        return routing, clock() - began


def pipeline_desk(world: World) -> Desk:
    pool = AgentPool(world.agents)
    pipeline = standard_pipeline(sticky_window=STICKY_WINDOW)
    return Desk(
        world.agents,
        world.customers,
        world.teams,
        partial(pipeline.decide, pool=pool),
        pool.track,
    )


def full_scan_desk(world: World) -> Desk:
    peer = FullScan(world.agents, world.teams)
    return Desk(world.agents, world.customers, world.teams, peer.decide, peer.track)


def path(agent_id: str | None, reason: str) -> str:
    """Which rule decided, from the pipeline's reason (or the full scan's)."""
    if agent_id is None:
        return "queued"
    for name in PATHS[:3]:
        if name in reason:
            return name
    return "least loaded"


def mix(desk: Desk) -> str:
    counts = Counter(map(path, desk.chosen, desk.reasons))
    return ", ".join(f"{name} {counts[name] / len(desk.chosen):.1%}" for name in PATHS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--peer-tickets", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260302)
    args = parser.parse_args()

    began = time.perf_counter()
    tickets = make_tickets(args.tickets, args.seed)
    worlds = {n: World(n, tickets, args.seed) for n in SCALES}
    gc.collect()
    gc.freeze()  # the input data is not what is measured: collections skip it
    peer_counts = {n: min(args.peer_tickets, args.tickets) for n in SCALES}
    peer_counts[10_000] = max(1, peer_counts[10_000] // 10)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.tickets} tickets over {TEAMS} teams, {CUSTOMERS} customers; agents "
        f"{', '.join(f'{n:,}' for n in SCALES)}; seed {args.seed}; best of {args.repeats}; "
        f"data built in {time.perf_counter() - began:.1f} s; {os.cpu_count()} CPUs, load {load:.2f}"
    )

    # The pipeline's runs are timed in chunks of tickets (the first K, then CHUNK at a
    # time); per scale, chunks[n][i] holds chunk i's (routing, whole loop) seconds in
    # each repeat, and a figure adds up each chunk's best.
    edges = {
        n: sorted({0, k, len(tickets), *range(CHUNK, len(tickets), CHUNK)})
        for n, k in peer_counts.items()
    }
    chunks: dict[int, list[list[tuple[float, float]]]] = {
        n: [[] for _ in edges[n][1:]] for n in SCALES
    }
    peer_s: dict[int, list[float]] = {n: [] for n in SCALES}
    pipeline_desks: dict[int, Desk] = {}
    peer_desks: dict[int, Desk] = {}
    for _ in range(args.repeats):
        for n, world in worlds.items():
            desk = pipeline_desk(world)
            gc.collect()
            for i, (lo, hi) in enumerate(itertools.pairwise(edges[n])):
                chunks[n][i].append(desk.route(tickets[lo:hi]))
            pipeline_desks[n] = desk
            peer = full_scan_desk(world)
            gc.collect()
            peer_s[n].append(peer.route(tickets[: peer_counts[n]])[0])
            peer_desks[n] = peer

    print(
        f"\n{'':>7}{'pipeline, all tickets':^40}|{'the first K tickets':^50}\n"
        f"{'agents':>7}{'decisions/s':>14}{'us/decision':>13}{'whole loop/s':>13}|"
        f"{'K':>7}{'pipeline/s':>12}{'full scan/s':>13}{'ratio':>9}{'agree':>9}"
    )
    per_decision: dict[int, float] = {}
    rate: dict[int, float] = {}
    for n in SCALES:
        k = peer_counts[n]
        best = sum(min(routing for routing, _ in chunk) for chunk in chunks[n])
        loop = sum(min(whole for _, whole in chunk) for chunk in chunks[n])
        rate[n] = args.tickets / best
        per_decision[n] = best / args.tickets
        fast = k / min(routing for routing, _ in chunks[n][0])
        slow = k / min(peer_s[n])
        ours = pipeline_desks[n].chosen[:k]
        theirs = peer_desks[n].chosen
        agree = sum(a == b for a, b in zip(ours, theirs, strict=True))
        print(
            f"{n:>7,}{rate[n]:>14,.0f}{per_decision[n] * 1e6:>13.1f}{args.tickets / loop:>13,.0f}|"
            f"{k:>7,}{fast:>12,.0f}{slow:>13,.0f}{fast / slow:>8.1f}x{agree / k:>9.1%}"
        )
        if agree != k:
            wrong = [
                (t.id, a, b, why)
                for t, a, b, why in zip(
                    tickets, ours, theirs, pipeline_desks[n].reasons, strict=False
                )
                if a != b
            ]
            raise SystemExit(f"the pipeline and the full scan disagree at {n} agents: {wrong[:5]}")
    print("\nhow the pipeline decided (all tickets):")
    for n in SCALES:
        print(f"{n:>7,} agents: {mix(pipeline_desks[n])}")
    growth = per_decision[10_000] / per_decision[100]
    print(
        f"\npipeline cost per decision: {per_decision[100] * 1e6:.1f} us at 100 agents, "
        f"{per_decision[10_000] * 1e6:.1f} us at 10,000 ({growth:.2f}x); "
        f"runtime {time.perf_counter() - began:.0f} s"
    )
    print()
    print(bar("routing_cost_growth_100_to_10000_agents", growth, "<=", 2.0, digits=2))
    print(bar("routing_decisions_per_s_1000_agents", rate[1_000], ">=", 20_000, digits=0))


def bar(name: str, value: float, op: str, target: float, *, digits: int) -> str:
    ok = value >= target if op == ">=" else value <= target
    return f"BAR {name} {value:.{digits}f} {op} {target} {'PASS' if ok else 'MISS'}"


if __name__ == "__main__":
    main()
