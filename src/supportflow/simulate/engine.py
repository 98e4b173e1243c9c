"""The discrete-event simulation: simulated customers and agents driving a real desk.

Everything a host deploys runs unchanged: ``SupportDesk`` with its store, classifier
pipeline, routing, SLA clocks, tiers and surveys. The simulation only plays the people:

- **Customers** write in as a Poisson process whose rate follows the scenario's hour-of-day
  and day-of-week profiles (drawn by thinning), each ticket with a channel, category, tier,
  priority, language and perhaps a complaint drawn from the mix. They answer information
  requests after a reply delay, reopen some resolutions and answer some surveys.
- **Agents** work the tickets the desk assigns them one at a time, in the order assigned,
  and only while their shift calendar is open: starting a ticket acknowledges it and sends
  the first reply; the handling time drawn for the ticket later ends in a request for
  information, an escalation (routed by the desk) or a resolution.
- The desk's scheduled jobs (SLA alerts and escalations, auto-close, the queue) run every
  ``jobs_every``.

The simulation learns of every assignment the desk makes, including those it makes from
its queue when an agent frees up, by watching the store's committed events (a thin
wrapper around the host's store), so it never guesses the desk's decisions.

**Determinism.** One seed fixes the run: arrivals, their attributes and each ticket's own
random stream (its handling times, whether it needs information, escalates, reopens, how
the customer scores it) come from separate generators, so two scenarios run with the same
seed see the same customers with the same needs (common random numbers): their
differences come from the desk, not from luck.
"""

from __future__ import annotations

import heapq
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, cast
from zoneinfo import ZoneInfo

import attrs

from ..desk import SupportDesk
from ..errors import SupportflowError, ValidationFailed
from ..models import (
    Agent,
    AgentStatus,
    ComplaintCategory,
    Customer,
    CustomerTier,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from ..routing.assignment import AssignmentStrategy
from ..routing.pipeline import Pipeline
from ..routing.protocols import Classification
from ..routing.steps import (
    LeastLoaded,
    RoundRobin,
    TeamRouting,
    WithinCapacity,
    standard_pipeline,
)
from ..sla.calendar import BusinessCalendar
from ..sla.policy import SlaPolicy, default_policy
from ..storage.memory import MemoryStore
from ..storage.protocols import DEFAULT_TENANT, Store, UnitOfWork
from ..testing.clock import FixedClock
from .scenario import Scenario

__all__ = ["Progress", "Simulation", "TicketRecord"]

_AFTER_DAYS = 14
"""Days past the scenario's end the desk keeps working on what arrived before it."""

_IDLE_KINDS = frozenset({"shift", "jobs"})
"""Events that keep recurring by themselves: they alone do not keep the run going."""

Progress = Callable[[float], None]
"""Called now and then with the share of simulated time done, 0 to 1."""

_EN = {
    "billing": "I was charged twice for my last order, please refund one payment.",
    "technical": "The app crashes every time I upload a file. Error 500.",
    "account": "I cannot log in to my account, the password reset mail never comes.",
    "sales": "Which plan would fit a team of twenty people, and is there a discount?",
    "shipping": "My parcel has not arrived yet, where is it?",
}
_ZH = {
    "billing": "上个订单被重复扣款了，请退还一笔。",
    "technical": "上传文件时应用总是闪退，报错500。",
    "account": "无法登录账户，重置密码的邮件一直收不到。",
    "sales": "二十人的团队适合哪个套餐？有折扣吗？",
    "shipping": "我的包裹还没到，现在在哪里？",
}


@attrs.define(slots=True)
class TicketRecord:
    """What the simulation saw of one ticket (timestamps in seconds since the epoch)."""

    number: int
    ticket_id: str
    created: float
    tier: str
    category: str
    first_response: float | None = None
    resolved: float | None = None


@attrs.define(slots=True)
class _Plan:
    """One ticket's needs, drawn from its own random stream when it arrives."""

    work: float
    info: bool
    reply_delay: float
    second_work: float
    escalate: bool
    escalated_work: float
    reopen: bool
    reopen_delay: float
    reopen_work: float
    survey: tuple[int, int] | None
    survey_delay: float


@attrs.define(slots=True)
class _TicketState:
    record: TicketRecord
    plan: _Plan
    stage: str = "first"
    """Which work comes next: ``first``, ``second`` (after the customer's answer),
    ``escalated``, ``reopened``."""
    resolutions: int = 0
    working: bool = False
    """An agent is on it now (a second hand-over of the same ticket is ignored)."""
    customer_id: str = ""
    """Whose ticket it is: the customer reopens it as ``customer:<id>``."""


@attrs.define(slots=True)
class _AgentState:
    agent_id: str
    calendar: BusinessCalendar | None
    work: deque[str] = attrs.Factory(deque)
    busy: bool = False
    busy_seconds: float = 0.0
    waking: bool = False


class _Classifier:
    """Reads what the simulation decided from the ticket's tags: its complaint category."""

    def classify(self, ticket: Ticket) -> Classification:
        for tag in ticket.tags:
            if tag.startswith("complaint:"):
                return Classification(complaint_category=ComplaintCategory(tag[10:]))
        return Classification()


class _Watched:
    """The host's store, telling the simulation of every event a commit made durable."""

    def __init__(self, store: Store, on_commit: Callable[[list[TicketEvent]], None]) -> None:
        self._store = store
        self._on_commit = on_commit

    def unit_of_work(self, tenant_id: str = DEFAULT_TENANT) -> UnitOfWork:
        return cast(UnitOfWork, _WatchedUnit(self._store.unit_of_work(tenant_id), self._on_commit))

    def close(self) -> None:
        self._store.close()


class _WatchedEvents:
    def __init__(self, log: Any, seen: list[TicketEvent]) -> None:
        self._log = log
        self._seen = seen

    def append(self, events: Sequence[TicketEvent]) -> None:
        self._log.append(events)
        self._seen.extend(events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._log, name)


class _WatchedUnit(AbstractContextManager["_WatchedUnit"]):
    _uow: Any = None  # until entered, attributes are looked up on None (AttributeError)

    def __init__(self, inner: Any, on_commit: Callable[[list[TicketEvent]], None]) -> None:
        self._inner = inner
        self._on_commit = on_commit
        self._seen: list[TicketEvent] = []

    def __enter__(self) -> _WatchedUnit:
        self._uow = self._inner.__enter__()
        self.events = _WatchedEvents(self._uow.events, self._seen)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        result: bool | None = self._inner.__exit__(kind, value, traceback)
        return result

    def commit(self) -> None:
        self._uow.commit()
        seen, self._seen[:] = list(self._seen), []
        if seen:
            self._on_commit(seen)

    def rollback(self) -> None:
        self._seen.clear()
        self._uow.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def _choice(rng: random.Random, table: Mapping[Any, float]) -> Any:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


class Simulation:
    """One run of a scenario: build the desk, play the people, keep what happened.

    ``store`` is where the desk keeps its data (default: a new ``MemoryStore``; a
    ``SqliteStore`` keeps it for ``supportflow report``). ``progress`` is called with the
    share of simulated time done.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        store: Store | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        if not isinstance(scenario, Scenario):
            raise ValidationFailed(
                "scenario", f"must be a Scenario (load_scenario), not {type(scenario).__name__}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValidationFailed("seed", f"must be a whole number from 0, not {seed!r}")
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.store: Store = MemoryStore() if store is None else store
        self._progress = progress
        self._zone = ZoneInfo(scenario.timezone)
        self._start = scenario.start.timestamp()
        self._end = scenario.end.timestamp()
        self._clock = FixedClock(scenario.start)
        self._heap: list[tuple[float, int, str, Any]] = []
        self._order = 0
        self.tickets: dict[str, _TicketState] = {}
        self.records: list[TicketRecord] = []
        self.agents: dict[str, _AgentState] = {}
        self.refused: dict[str, int] = {}
        self.wall_seconds = 0.0
        self._ids = 0
        self._busy_events = 0
        """Scheduled events other than shifts and jobs: the jobs stop when none is left."""
        self._pending: list[tuple[str, str]] = []
        """(agent, ticket) assignments the desk committed since they were last handed out."""
        calendars = {name: BusinessCalendar(spec) for name, spec in scenario.calendars.items()}
        self._calendars = calendars
        self.sla_policy = self._policy()
        self.desk = SupportDesk(
            _Watched(self.store, self._committed),
            clock=self._clock,
            classifier=_Classifier(),
            assignment=self._routing(),
            auto_assign=True,
            sla_policy=self.sla_policy,
            new_id=self._next_id,
        )

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        """The scenario's calendars, by name."""
        return self._calendars

    # -- set-up ------------------------------------------------------------------------

    def _next_id(self) -> str:
        """Ids in the order things happen, so a seed gives the same ids every run."""
        self._ids += 1
        return f"s{self._ids:08d}"

    def _policy(self) -> SlaPolicy | None:
        sla = self.scenario.sla
        if sla == "none":
            return None
        if sla == "default":
            return default_policy(self._calendars["business"])
        return SlaPolicy.from_dict(sla)

    def _routing(self) -> AssignmentStrategy:
        routing = self.scenario.routing
        if routing == "standard":
            return standard_pipeline(calendars=self._calendars)
        order = RoundRobin() if routing == "round_robin" else LeastLoaded()
        return Pipeline((WithinCapacity(),), order=order, team=TeamRouting(), name=routing)

    def _populate(self) -> None:
        scenario, desk = self.scenario, self.desk
        leads: dict[str, str] = {}
        for group in scenario.agents:
            for n in range(1, group.count + 1):
                agent_id = f"{group.name}-{n}"
                if group.role.value == "lead" and group.team not in leads:
                    leads[group.team] = agent_id
        for team in scenario.teams:
            escalation = team.escalation_team
            desk.add_team(
                Team(
                    id=team.id,
                    name=team.name,
                    lead_id=leads.get(team.id),
                    escalation_team_id=escalation,
                )
            )
        for group in scenario.agents:
            calendar = self._calendars.get(group.shift) if group.shift else None
            for n in range(1, group.count + 1):
                agent_id = f"{group.name}-{n}"
                desk.add_agent(
                    Agent(
                        id=agent_id,
                        name=agent_id,
                        teams=(group.team,),
                        skills=group.skills,
                        languages=group.languages,
                        role=group.role,
                        capacity=group.capacity,
                        channel_capacity=group.channel_capacity,
                        calendar=group.shift,
                        status=self._status_at_start(group.works_tickets, calendar),
                    )
                )
                if group.works_tickets:
                    self.agents[agent_id] = _AgentState(agent_id, calendar)
                    if calendar is not None:
                        self._shifts(agent_id, calendar)
        rng = random.Random(f"{self.seed}/customers")
        tiers = scenario.mix.tier
        self._customers: dict[CustomerTier, list[str]] = {tier: [] for tier in tiers}
        for n in range(scenario.behaviour.customers):
            tier = _choice(rng, tiers)
            customer_id = f"c{n:07d}"
            desk.add_customer(Customer(id=customer_id, name=f"Customer {n}", tier=tier))
            self._customers[tier].append(customer_id)

    def _status_at_start(self, works: bool, calendar: BusinessCalendar | None) -> AgentStatus:
        if not works or (calendar is not None and not calendar.is_open(self.scenario.start)):
            return AgentStatus.OFFLINE
        return AgentStatus.AVAILABLE

    def _shifts(self, agent_id: str, calendar: BusinessCalendar) -> None:
        """The agent logs in when their shift opens and out when it closes.

        Offline agents are not counted as ready, so the desk stops offering them its queue
        at night, and logging in hands them the queue at once.
        """
        until = self.scenario.end + timedelta(days=_AFTER_DAYS)
        for interval in calendar.open_intervals(self.scenario.start, until):
            start, end = interval.start.timestamp(), interval.end.timestamp()
            if start > self._start:
                self._at(start, "shift", (agent_id, True))
            self._at(end, "shift", (agent_id, False))

    def _shift(self, ts: float, arg: tuple[str, bool]) -> None:
        agent_id, on = arg
        status = AgentStatus.AVAILABLE if on else AgentStatus.OFFLINE
        self._call("set_agent_status", self.desk.set_agent_status, agent_id, status)
        agent = self.agents[agent_id]
        if on and not agent.busy:
            self._start_next(agent, ts)

    # -- the event loop ----------------------------------------------------------------

    def _at(self, ts: float, kind: str, arg: Any = None) -> None:
        self._order += 1
        if kind not in _IDLE_KINDS:
            self._busy_events += 1
        heapq.heappush(self._heap, (ts, self._order, kind, arg))

    def _now(self, ts: float) -> datetime:
        instant = datetime.fromtimestamp(ts, UTC)
        self._clock.set(instant)
        return instant

    def run(self) -> Simulation:
        """Play the scenario to its end and until the work it started is done."""
        started = time.perf_counter()
        self._populate()
        self._arrivals()
        jobs = self.scenario.jobs_every.total_seconds()
        self._at(self._start + jobs, "jobs")
        horizon = self._end + _AFTER_DAYS * 86400  # work begun before the end is finished
        span = self._end - self._start
        next_report = 0.0
        handlers: dict[str, Callable[[float, Any], None]] = {
            "arrive": self._arrive,
            "done": self._done,
            "reply": self._customer_reply,
            "reopen": self._reopen,
            "survey": self._survey,
            "wake": self._wake,
            "shift": self._shift,
            "jobs": self._jobs,
        }
        while self._heap:
            ts, _, kind, arg = heapq.heappop(self._heap)
            if kind not in _IDLE_KINDS:
                self._busy_events -= 1
            if ts > horizon:
                break
            self._now(ts)
            handlers[kind](ts, arg)
            while self._pending:
                self._hand_out(ts)
            if self._progress is not None and ts - self._start >= next_report:
                self._progress(min(1.0, (ts - self._start) / span))
                next_report += span / 100
        if self._progress is not None:
            self._progress(1.0)
        self.wall_seconds = time.perf_counter() - started
        return self

    def _jobs(self, ts: float, _: Any) -> None:
        self._call("run_due_jobs", self.desk.run_due_jobs)
        for state in self.agents.values():
            if not state.busy and state.work:
                self._start_next(state, ts)
        if self._busy_events:  # something besides shifts and jobs is still to happen
            self._at(ts + self.scenario.jobs_every.total_seconds(), "jobs")

    def _call(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A desk call; a refusal is counted (the desk's rules won), never fatal."""
        try:
            return call(*args, **kwargs)
        except SupportflowError as exc:
            name = f"{what}: {type(exc).__name__}"
            self.refused[name] = self.refused.get(name, 0) + 1
            return None

    # -- customers ---------------------------------------------------------------------

    def _arrivals(self) -> None:
        """Every arrival time, by thinning a Poisson process at the peak rate."""
        scenario = self.scenario
        hours, days = scenario.arrivals.profile()
        base = scenario.arrivals.per_hour / 3600
        hourly: list[float] = []
        t = self._start
        while t < self._end:
            local = datetime.fromtimestamp(t, self._zone)
            hourly.append(base * hours[local.hour] * days[local.weekday()])
            t += 3600
        peak = max(hourly)
        rng = random.Random(f"{self.seed}/arrivals")
        t, number = self._start, 0
        while True:
            t += rng.expovariate(peak)
            if t >= self._end:
                break
            if rng.random() * peak <= hourly[int((t - self._start) // 3600)]:
                number += 1
                self._at(t, "arrive", (number, rng.random()))

    def _arrive(self, ts: float, arg: tuple[int, float]) -> None:
        number, _ = arg
        scenario, mix = self.scenario, self.scenario.mix
        rng = random.Random(f"{self.seed}/ticket/{number}")
        tier = _choice(rng, mix.tier)
        customers = self._customers.get(tier) or next(c for c in self._customers.values() if c)
        customer_id = customers[rng.randrange(len(customers))]
        category = _choice(rng, mix.category)
        language = _choice(rng, mix.language)
        channel = _choice(rng, mix.channel)
        priority = _choice(rng, mix.priority)
        complaint = _choice(rng, mix.complaint_category) if rng.random() < mix.complaints else None
        plan = self._plan(rng, category)
        texts = _ZH if language.startswith("zh") else _EN
        body = texts.get(category, texts["billing"])
        ticket = self._call(
            "intake",
            self.desk.intake,
            channel=channel,
            customer_id=customer_id,
            body=body,
            category=category,
            team_id=scenario.team_of(category),
            priority=priority,
            language=language,
            tags=(f"complaint:{complaint.value}",) if complaint is not None else (),
        )
        if ticket is None:
            return
        record = TicketRecord(number, ticket.id, ts, tier.value, category)
        self.records.append(record)
        self.tickets[ticket.id] = _TicketState(record, plan, customer_id=customer_id)

    def _plan(self, rng: random.Random, category: str) -> _Plan:
        behaviour = self.scenario.behaviour
        handling = self.scenario.handling.of(category)
        work = handling.sample(rng)
        info = rng.random() < behaviour.info_requests
        escalate = rng.random() < behaviour.escalations
        reopen = rng.random() < behaviour.reopens
        surveyed = rng.random() < behaviour.surveys
        survey = None
        if surveyed:
            csat = rng.choices(range(1, 6), weights=behaviour.csat)[0]
            nps = rng.choices(range(11), weights=behaviour.nps)[0]
            survey = (csat, nps)
        return _Plan(
            work=work * (0.4 if info else 1.0),
            info=info,
            reply_delay=behaviour.reply_delay.sample(rng),
            second_work=work * 0.6,
            escalate=escalate,
            escalated_work=handling.sample(rng),
            reopen=reopen,
            reopen_delay=behaviour.reopen_delay.sample(rng),
            reopen_work=handling.sample(rng) * 0.5,
            survey=survey,
            survey_delay=behaviour.survey_delay.sample(rng),
        )

    def _customer_reply(self, ts: float, ticket_id: str) -> None:
        state = self.tickets[ticket_id]
        ticket = self._call(
            "customer_replied",
            self.desk.customer_replied,
            ticket_id,
            body="Here is the information you asked for.",
        )
        if ticket is None:
            return
        state.stage = "second"
        if ticket.assignee_id in self.agents:
            self._give(ticket.assignee_id, ticket_id, ts)

    def _reopen(self, ts: float, ticket_id: str) -> None:
        state = self.tickets[ticket_id]
        ticket = self._call(
            "reopen",
            self.desk.reopen,
            ticket_id,
            actor=f"customer:{state.customer_id}",
            reason="It is still not working.",
        )
        if ticket is None:
            return
        state.stage = "reopened"
        state.record.resolved = None
        if ticket.assignee_id in self.agents and ticket.status is not TicketStatus.NEW:
            self._give(ticket.assignee_id, ticket_id, ts)

    def _survey(self, ts: float, arg: tuple[str, int]) -> None:
        ticket_id, resolution = arg
        plan = self.tickets[ticket_id].plan
        if plan.survey is None:
            return
        csat, nps = plan.survey
        self._call(
            "submit_feedback",
            self.desk.submit_feedback,
            f"{ticket_id}/survey/{resolution}",
            csat=csat,
            nps=nps,
        )

    # -- agents ------------------------------------------------------------------------

    def _committed(self, events: list[TicketEvent]) -> None:
        """Hand each ticket the desk assigned (at intake, from its queue, on escalation)."""
        for event in events:
            changes = event.data.get("changes")
            if not changes or "assignee_id" not in changes:
                continue
            agent_id = changes["assignee_id"]
            if agent_id in self.agents:
                self._pending.append((agent_id, event.ticket_id))

    def _give(self, agent_id: str, ticket_id: str, ts: float) -> None:
        state = self.agents[agent_id]
        if ticket_id not in state.work:
            state.work.append(ticket_id)
        if not state.busy:
            self._start_next(state, ts)

    def _start_next(self, agent: _AgentState, ts: float) -> None:
        while agent.work:
            calendar = agent.calendar
            if calendar is not None and not calendar.is_open(self._clock.now()):
                if not agent.waking:
                    agent.waking = True
                    self._at(calendar.next_open(self._clock.now()).timestamp(), "wake", agent)
                return
            ticket_id = agent.work.popleft()
            state = self.tickets.get(ticket_id)
            if state is None or state.working:
                continue
            ticket = self._call("get_ticket", self.desk.get_ticket, ticket_id)
            if ticket is None or ticket.assignee_id != agent.agent_id:
                continue
            if ticket.status not in (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS):
                continue
            if ticket.status is TicketStatus.ASSIGNED:
                self._call("acknowledge", self.desk.acknowledge, ticket_id, agent_id=agent.agent_id)
            if state.record.first_response is None:
                done = self._call(
                    "reply",
                    self.desk.reply,
                    ticket_id,
                    agent_id=agent.agent_id,
                    body="Thank you, we are looking into it.",
                )
                if done is not None:
                    state.record.first_response = ts
            seconds = self._work_of(state)
            finish = self._finish_time(agent, ts, seconds)
            agent.busy = True
            state.working = True
            agent.busy_seconds += seconds
            self._at(finish, "done", (agent, ticket_id))
            return

    def _work_of(self, state: _TicketState) -> float:
        plan = state.plan
        return {
            "first": plan.work,
            "second": plan.second_work,
            "escalated": plan.escalated_work,
            "reopened": plan.reopen_work,
        }[state.stage]

    def _finish_time(self, agent: _AgentState, ts: float, seconds: float) -> float:
        if agent.calendar is None:
            return ts + seconds
        start = datetime.fromtimestamp(ts, UTC)
        return agent.calendar.add(start, timedelta(seconds=seconds)).timestamp()

    def _wake(self, ts: float, agent: _AgentState) -> None:
        agent.waking = False
        if not agent.busy:
            self._start_next(agent, ts)

    def _done(self, ts: float, arg: tuple[_AgentState, str]) -> None:
        agent, ticket_id = arg
        agent.busy = False
        state = self.tickets[ticket_id]
        state.working = False
        plan, desk, me = state.plan, self.desk, agent.agent_id
        if state.stage == "first" and plan.info:
            if (
                self._call(
                    "request_info",
                    desk.request_info,
                    ticket_id,
                    agent_id=me,
                    body="Could you tell us more?",
                )
                is not None
            ):
                self._at(ts + plan.reply_delay, "reply", ticket_id)
        elif state.stage in ("first", "second") and plan.escalate:
            state.stage = "escalated"
            routed = self._call(
                "escalate",
                desk.escalate,
                ticket_id,
                actor=me,
                reason="Needs a specialist.",
                route=True,
            )
            if routed is None:  # nobody above has room: the agent carries on with it
                self._give(me, ticket_id, ts)
        else:
            resolved = self._call(
                "resolve", desk.resolve, ticket_id, agent_id=me, resolution="Solved."
            )
            if resolved is not None:
                state.resolutions += 1
                state.record.resolved = ts
                if plan.reopen and state.stage != "reopened":
                    self._at(ts + plan.reopen_delay, "reopen", ticket_id)
                if plan.survey is not None:
                    self._at(ts + plan.survey_delay, "survey", (ticket_id, state.resolutions))
        self._start_next(agent, ts)

    def _hand_out(self, ts: float) -> None:
        """Give agents the tickets the desk assigned during the last calls."""
        pending, self._pending = self._pending, []
        for agent_id, ticket_id in pending:
            self._give(agent_id, ticket_id, ts)

    # -- results -----------------------------------------------------------------------

    def waits(self) -> Iterator[float]:
        """Seconds from arrival to the first response, for tickets that got one."""
        for record in self.records:
            if record.first_response is not None:
                yield record.first_response - record.created

    def utilisation(self) -> dict[str, float]:
        """Each agent's busy share of the simulated span (work past the end included)."""
        span = self._end - self._start
        return {a.agent_id: a.busy_seconds / span for a in self.agents.values()}
