"""SupportDesk: the service layer a host calls to run tickets through the process.

Each call validates its arguments, opens one unit of work on the injected store, checks
the change against the lifecycle, writes the ticket's new state with exactly one event per
ticket it changes (``resolve`` adds the ``feedback.survey_requested`` event of the
resolution, a low survey score its ``feedback.follow_up_raised``), and commits; a refused
call raises a
:class:`~supportflow.errors.SupportflowError` subclass and stores nothing. A ticket's
``version`` equals the number of its events, and each event's ``seq`` is the version it
produced, so ``supportflow.events.replay`` rebuilds the stored ticket from its events.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
from pydantic import BaseModel, Field, field_validator

from . import _validate as check
from ._build import assemble, evolve
from .analytics.metrics import GROUP_DIMENSIONS
from .analytics.report import Goals, MonthlyReport, monthly_report, report_window
from .analytics.surges import SurgeSettings
from .clock import Clock, SystemClock
from .errors import (
    AgentNotFound,
    AssignmentFailed,
    ConcurrencyConflict,
    DuplicateEntity,
    InvalidTransition,
    PermissionDenied,
    ReopenWindowExpired,
    TeamNotFound,
    TicketNotFound,
    ValidationFailed,
)
from .events import EventType, json_changes, json_value
from .feedback import (
    MAX_COMMENT_CHARS,
    SurveyRequest,
    SurveyResponse,
    accept_response,
    follow_up,
    request_survey,
)
from .kb.articles import Article, ArticleStatus, record_vote
from .kb.search import MAX_QUERY_CHARS, SearchHit, SearchIndex
from .kb.search_args import check_limit
from .knowledge import KnowledgeBase
from .lifecycle import ALLOWED_EVENTS, LifecycleEvent, next_status
from .models import (
    MAX_SUBJECT_CHARS,
    Agent,
    AgentStatus,
    AuthorKind,
    Channel,
    ComplaintCategory,
    Customer,
    CustomerEvent,
    CustomerTier,
    Message,
    Priority,
    SupportflowModel,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
    event_id,
)
from .roles import (
    PERMISSIONS,
    SYSTEM_ACTOR,
    WORKING_ROLES,
    DeskAction,
    Relation,
    customer_actor,
    relations_of,
    require,
)
from .routing.assignment import AssignmentStrategy, Decision, RecentAgent, RoutingRequest
from .routing.defaults import LanguageOnlyClassifier, default_strategy
from .routing.pool import AgentPool
from .routing.protocols import Classification, Classifier
from .sla.calendar import BusinessCalendar
from .sla.clock import AlertKind, Deadline, SlaClock, SlaState
from .sla.policy import Explanation, SlaMetric, SlaPolicy, Target
from .storage.protocols import DEFAULT_TENANT, OPEN_STATUSES, Store, UnitOfWork
from .text import subject_from_body
from .tiering import (
    DEFAULT_ENTITLEMENTS,
    CustomerFacts,
    TierChange,
    TierDecision,
    TierEntitlements,
    TierOverride,
    TierPolicy,
    assess,
    effective_tier,
    entitlements_for,
)

__all__ = ["DeskSettings", "DueJobsReport", "SlaImpact", "SupportDesk"]

_M = TypeVar("_M", bound=BaseModel)
# Every optional Ticket field at its default: intake fills the rest from checked input.
_TICKET_DEFAULTS: dict[str, Any] = {
    name: field.default for name, field in Ticket.model_fields.items() if not field.is_required()
}
_DUE_FIELDS = {metric: f"{metric.value}_due_at" for metric in SlaMetric}
_ALERT_EVENTS = {
    AlertKind.WARNING: EventType.SLA_WARNING,
    AlertKind.BREACHED: EventType.SLA_BREACHED,
    AlertKind.ESCALATED: EventType.SLA_ESCALATED,
}
# Statuses in which SLA clocks can run, so run_due_jobs looks only at these tickets.
_CLOCK_STATUSES = tuple(s for s in TicketStatus if s in OPEN_STATUSES)
_CLOCK_CACHE_SIZE = 4096
_PRIORITY_RANK = {p: rank for rank, p in enumerate(Priority)}  # urgent first
_log = logging.getLogger("supportflow")
_MAX_OVERRIDE = timedelta(days=366)
"""The longest SLA target a lead may set by hand (``override_sla_target``)."""


@attrs.define(slots=True)
class _Staged:
    """What a unit of work changed that the desk's caches must learn once it commits."""

    clocks: list[tuple[str, int, SlaClock]] = attrs.field(factory=list)
    tickets: list[Ticket] = attrs.field(factory=list)
    agents: list[Agent] = attrs.field(factory=list)


_STAGED: ContextVar[_Staged | None] = ContextVar("supportflow_staged", default=None)


class DeskSettings(SupportflowModel):
    """Rules of the desk that are data, not code."""

    reopen_window: timedelta = Field(
        default=timedelta(days=7),
        description="How long after resolution a ticket may be reopened; later customer "
        "messages open a follow-up ticket instead.",
    )
    auto_close_after: timedelta = Field(
        default=timedelta(days=3),
        description="run_due_jobs closes resolved tickets this long after resolution.",
    )

    @field_validator("reopen_window", "auto_close_after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value


@attrs.frozen(slots=True)
class DueJobsReport:
    """What one ``run_due_jobs`` pass did."""

    closed: tuple[str, ...] = ()
    """Tickets auto-closed."""
    assigned: tuple[str, ...] = ()
    """Queued tickets assigned because an agent had room (with ``auto_assign``)."""
    deferred: tuple[str, ...] = ()
    """Tickets skipped because another writer changed them; the next pass retries."""
    alerts: tuple[TicketEvent, ...] = ()
    """The ``sla.warning``, ``sla.breached`` and ``sla.escalated`` events recorded."""


@attrs.frozen(slots=True)
class SlaImpact:
    """What replacing the desk's SLA policy would change on the open tickets, at ``at``."""

    at: datetime
    newly_breached: tuple[tuple[str, SlaMetric], ...] = ()
    """``(ticket_id, metric)`` breached under the new policy but not under the current one."""
    no_longer_breached: tuple[tuple[str, SlaMetric], ...] = ()
    """``(ticket_id, metric)`` breached now but not under the new policy."""
    moved: tuple[tuple[str, SlaMetric, datetime | None, datetime | None], ...] = ()
    """``(ticket_id, metric, due now, due under the new policy)`` for every due time that
    changes."""


class SupportDesk:
    """Runs tickets through intake, assignment, work, resolution and closing.

    Args:
        store: where data lives (``MemoryStore``, ``SqliteStore`` or the host's own).
        tenant_id: the company this desk serves; every read and write is scoped to it.
        clock: the source of "now" (``SystemClock`` by default; tests inject a fixed one).
        classifier: called once at intake (default: language detection only).
        assignment: picks an agent when ``assign`` is given none, or queues the ticket
            with the reason (default: ``default_strategy()``, the least-loaded agent of
            the ticket's team; ``standard_pipeline()`` is the whole process).
        auto_assign: route every new ticket at intake: it is assigned, or it waits in
            the queue (``queue()``) until an agent has room.
        sla_policy: the SLA (default: none, so no clocks run); with one, every change
            stamps the ticket's due times and ``run_due_jobs`` raises SLA alerts.
        entitlements: what each customer tier gets (``TierEntitlements``). Given, its SLA
            terms replace the policy's own (``entitlements.apply_to(sla_policy)``, also
            for ``set_sla_policy`` and ``what_if``); without it the policy keeps the tier
            terms it carries (``default_policy``'s are the default table's). Either way
            the queue orders tickets of equal priority by the table's (default: the
            documented one's) ``routing_priority``, and routing reads the customer's
            entitlements from it (``RoutingRequest.entitlements``: account managers).
        settings: reopen window and auto-close delay.
        new_id: makes ids for tickets and messages (default: 128 random bits in hex);
            event ids are always ``"{ticket_id}#{seq}"``.
        search_index: the knowledge base's search index (default: a ``BuiltinIndex``;
            ``TantivyIndex`` for large knowledge bases); see :attr:`kb`.
    """

    def __init__(
        self,
        store: Store,
        *,
        tenant_id: str = DEFAULT_TENANT,
        clock: Clock | None = None,
        classifier: Classifier | None = None,
        assignment: AssignmentStrategy | None = None,
        auto_assign: bool = False,
        sla_policy: SlaPolicy | None = None,
        entitlements: TierEntitlements | None = None,
        settings: DeskSettings | None = None,
        new_id: Callable[[], str] | None = None,
        search_index: SearchIndex | None = None,
    ) -> None:
        if store is None:
            raise ValidationFailed("store", "is required (MemoryStore, SqliteStore or your own)")
        if isinstance(clock, datetime):
            raise ValidationFailed("clock", "must be a Clock, not a datetime; use FixedClock(...)")
        _collaborator("store", store, "unit_of_work")
        _collaborator("clock", clock, "now")
        _collaborator("classifier", classifier, "classify")
        _collaborator("assignment", assignment, "decide")
        _collaborator("search_index", search_index, "search")
        if not isinstance(auto_assign, bool):
            raise ValidationFailed("auto_assign", "must be true or false")
        if sla_policy is not None and not isinstance(sla_policy, SlaPolicy):
            raise ValidationFailed(
                "sla_policy", f"must be an SlaPolicy, not {type(sla_policy).__name__}"
            )
        if entitlements is not None and not isinstance(entitlements, TierEntitlements):
            raise ValidationFailed(
                "entitlements", f"must be TierEntitlements, not {type(entitlements).__name__}"
            )
        if settings is not None and not isinstance(settings, DeskSettings):
            raise ValidationFailed(
                "settings", f"must be DeskSettings, not {type(settings).__name__}"
            )
        if new_id is not None and not callable(new_id):
            raise ValidationFailed("new_id", "must be a callable returning a new id")
        self._store = store
        self._tenant_id = check.object_id("tenant_id", tenant_id)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._classifier: Classifier = (
            classifier if classifier is not None else LanguageOnlyClassifier()
        )
        self._assignment: AssignmentStrategy = (
            assignment if assignment is not None else default_strategy()
        )
        self._auto_assign = auto_assign
        self._pool: AgentPool | None = None
        self._pool_lock = threading.RLock()
        self._given_entitlements = entitlements
        self._entitlements = DEFAULT_ENTITLEMENTS if entitlements is None else entitlements
        self._sla_policy: SlaPolicy | None = (
            None if sla_policy is None else self._entitled(sla_policy)
        )
        self._clocks: OrderedDict[str, tuple[int, SlaClock]] = OrderedDict()
        self._clocks_lock = threading.Lock()
        self.settings = settings if settings is not None else DeskSettings()
        self._new_id: Callable[[], str] = new_id if new_id is not None else _random_id
        self._kb = KnowledgeBase(
            store, tenant_id=self._tenant_id, clock=self._clock, search_index=search_index
        )

    @property
    def tenant_id(self) -> str:
        """The tenant this desk is scoped to."""
        return self._tenant_id

    @property
    def entitlements(self) -> TierEntitlements:
        """The tier entitlements the desk runs (the documented defaults unless given)."""
        return self._entitlements

    @property
    def kb(self) -> KnowledgeBase:
        """The tenant's knowledge base: articles, their review and history, search."""
        return self._kb

    # -- directory ---------------------------------------------------------------------

    def add_customer(self, customer: Customer | Mapping[str, Any]) -> Customer:
        """Store a new customer, given as a model or its fields (``DuplicateEntity`` if taken)."""
        stored = _as_model("customer", Customer, customer)
        with self._unit() as uow:
            uow.customers.add(stored)
            uow.commit()
        return stored

    def add_team(self, team: Team | Mapping[str, Any]) -> Team:
        """Store a new team, given as a model or its fields."""
        stored = _as_model("team", Team, team)
        with self._unit() as uow:
            uow.teams.add(stored)
            uow.commit()
        return stored

    def add_agent(self, agent: Agent | Mapping[str, Any]) -> Agent:
        """Store a new agent, given as a model or its fields; every team it names must exist.

        The ids ``"system"`` and ``"customer:..."`` are refused: they name the other actors
        of ``supportflow.roles``.
        """
        stored = _as_model("agent", Agent, agent)
        if stored.id == SYSTEM_ACTOR or stored.id.startswith("customer:"):
            raise ValidationFailed(
                "agent.id", f"{stored.id!r} is reserved: it names the system or a customer"
            )
        with self._unit() as uow:
            for team_id in stored.teams:
                uow.teams.get(team_id)
            uow.agents.add(stored)
            self._stage_agent(stored)
            uow.commit()
        self._assign_queued()
        return stored

    def set_agent_status(self, agent_id: str, status: AgentStatus | str) -> Agent:
        """Mark an agent available, away or offline (routing skips offline agents)."""
        agent_id = check.object_id("agent_id", agent_id)
        new_status = check.enum_value("status", AgentStatus, status)
        with self._unit() as uow:
            agent = uow.agents.get(agent_id)
            updated = evolve(agent, {"status": new_status, "version": agent.version + 1})
            uow.agents.update(updated)
            self._stage_agent(updated)
            uow.commit()
        if new_status is not AgentStatus.OFFLINE:
            self._assign_queued()
        return updated

    def get_customer(self, customer_id: str) -> Customer:
        """The customer, or ``CustomerNotFound``."""
        customer_id = check.object_id("customer_id", customer_id)
        with self._unit() as uow:
            return uow.customers.get(customer_id)

    def get_agent(self, agent_id: str) -> Agent:
        """The agent, or ``AgentNotFound``."""
        agent_id = check.object_id("agent_id", agent_id)
        with self._unit() as uow:
            return uow.agents.get(agent_id)

    # -- tiers -------------------------------------------------------------------------

    def recompute_tier(
        self, customer_id: str, facts: CustomerFacts | None = None, *, policy: TierPolicy
    ) -> TierDecision:
        """The customer's tier under ``policy`` now, stored when it changed.

        ``facts`` default to the stored customer's lifetime totals
        (``CustomerFacts.from_customer``). An active override set with
        :meth:`set_tier_override` wins over the policy. A change updates the customer and
        appends a ``customer.tier_changed`` event with its reason, in one unit of work.
        """
        customer_id = check.object_id("customer_id", customer_id)
        if facts is not None and not isinstance(facts, CustomerFacts):
            raise ValidationFailed("facts", f"must be CustomerFacts, not {type(facts).__name__}")
        if facts is not None and facts.customer_id != customer_id:
            raise ValidationFailed("facts.customer_id", f"must be {customer_id!r}")
        if not isinstance(policy, TierPolicy):
            raise ValidationFailed("policy", f"must be a TierPolicy, not {type(policy).__name__}")
        now = self._now()
        with self._unit() as uow:
            customer = uow.customers.get(customer_id)
            found = facts if facts is not None else CustomerFacts.from_customer(customer)
            events = uow.customer_events.for_customer(customer_id)
            decision = effective_tier(assess(found, policy, now=now), _override_of(events), now)
            self._change_tier(uow, customer, decision, events, SYSTEM_ACTOR, now)
            uow.commit()
        return decision

    def set_tier_override(
        self, customer_id: str, override: TierOverride | Mapping[str, Any], *, actor: str
    ) -> Customer:
        """Set the customer's tier by hand, with a reason, until ``override.expires_at``.

        Appends a ``customer.tier_override_set`` event (``data["override"]``); the tier
        itself changes at once, with a ``customer.tier_changed`` event, when it differs.
        Later :meth:`recompute_tier` calls keep the override until it expires.
        """
        customer_id = check.object_id("customer_id", customer_id)
        given = _as_model("override", TierOverride, override)
        actor = check.object_id("actor", actor)
        now = self._now()
        if not given.active(now):
            raise ValidationFailed("override.expires_at", "must be in the future")
        with self._unit() as uow:
            customer = uow.customers.get(customer_id)
            self._permit(uow, DeskAction.OVERRIDE_TIER, actor, by_actor=True)
            events = uow.customer_events.for_customer(customer_id)
            seq = len(events) + 1
            uow.customer_events.append(
                (
                    _customer_event(
                        customer_id,
                        seq,
                        "customer.tier_override_set",
                        now,
                        actor,
                        {"override": given.model_dump(mode="json")},
                    ),
                )
            )
            kept = TierDecision(
                customer_id=customer_id, tier=customer.tier, rule="override", reason="unchanged"
            )
            decision = effective_tier(kept, given, now)
            customer = self._change_tier(uow, customer, decision, seq, actor, now)
            uow.commit()
        return customer

    def _change_tier(
        self,
        uow: UnitOfWork,
        customer: Customer,
        decision: TierDecision,
        events: list[CustomerEvent] | int,
        actor: str,
        now: datetime,
    ) -> Customer:
        """Store the decided tier when it differs, with its ``customer.tier_changed`` event."""
        if decision.tier is customer.tier:
            return customer
        change = TierChange(
            customer_id=customer.id,
            old=customer.tier,
            new=decision.tier,
            rule=decision.rule,
            reason=decision.reason,
        )
        seq = (events if isinstance(events, int) else len(events)) + 1
        updated = evolve(customer, {"tier": decision.tier, "version": customer.version + 1})
        uow.customers.update(updated)
        uow.customer_events.append(
            (
                _customer_event(
                    customer.id, seq, "customer.tier_changed", now, actor, change.event_data()
                ),
            )
        )
        return updated

    # -- reads -------------------------------------------------------------------------

    def get_ticket(self, ticket_id: str) -> Ticket:
        """The ticket, or ``TicketNotFound``."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._unit() as uow:
            return uow.tickets.get(ticket_id)

    def find_by_external_id(self, channel: Channel | str, external_id: str) -> Ticket | None:
        """The ticket a delivery made, if any: lets a host tell a new request from a repeat."""
        found_channel = check.enum_value("channel", Channel, channel)
        found_id = check.text("external_id", external_id, required=True, limit=500).strip()
        with self._unit() as uow:
            return uow.tickets.find_by_external_id(found_channel, found_id)

    def list_tickets(
        self,
        *,
        status: TicketStatus | str | None = None,
        assignee_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[Ticket]:
        """Tickets matching every given filter, oldest first."""
        wanted = None if status is None else check.enum_value("status", TicketStatus, status)
        assignee_id = check.optional_id("assignee_id", assignee_id)
        customer_id = check.optional_id("customer_id", customer_id)
        with self._unit() as uow:
            return uow.tickets.list(status=wanted, assignee_id=assignee_id, customer_id=customer_id)

    def history(self, ticket_id: str) -> list[TicketEvent]:
        """The ticket's events in order (``TicketNotFound`` for an unknown ticket)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._unit() as uow:
            uow.tickets.get(ticket_id)
            return uow.events.for_ticket(ticket_id)

    def monthly_report(
        self,
        month: str,
        *,
        timezone: str = "UTC",
        goals: Goals | None = None,
        calendar: BusinessCalendar | None = None,
        group_by: Sequence[str] = GROUP_DIMENSIONS,
        surge_settings: SurgeSettings | None = None,
    ) -> MonthlyReport:
        """The report of ``month`` (``"2026-03"``) from this desk's event log.

        Streams the events of :func:`~supportflow.analytics.report_window` (the previous
        month, or the surge baseline's four weeks if longer, to the month's end) through
        :func:`~supportflow.analytics.monthly_report` in one pass; memory holds the
        tickets still open, not the events. ``calendar`` adds business time to the
        durations (e.g. ``desk.sla_policy.calendar("business")``); ``goals`` default to
        the documents' (CSAT 90%, 90% resolved within 24 h, complaints down 30%). Render
        it with ``to_json()``, :func:`~supportflow.analytics.to_markdown` or
        :func:`~supportflow.analytics.to_html`.
        """
        goals = Goals() if goals is None else goals
        surges = SurgeSettings() if surge_settings is None else surge_settings
        if not isinstance(surges, SurgeSettings):
            raise ValidationFailed(
                "surge_settings", f"must be SurgeSettings, not {type(surges).__name__}"
            )
        start, end = report_window(month, timezone, surges)
        with self._unit() as uow:
            return monthly_report(
                uow.events.between(start, end),
                month=month,
                timezone=timezone,
                goals=goals,
                calendar=calendar,
                group_by=group_by,
                surge_settings=surges,
            )

    def messages(self, ticket_id: str) -> list[Message]:
        """The ticket's conversation: the customer's messages, replies and internal notes."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._unit() as uow:
            uow.tickets.get(ticket_id)
            return uow.messages.for_ticket(ticket_id)

    @property
    def sla_policy(self) -> SlaPolicy | None:
        """The SLA policy in force (``None``: no clocks run), with the tier terms it applies.

        With ``entitlements`` given, the tier terms are the table's. Change it with
        ``set_sla_policy``.
        """
        return self._sla_policy

    def _entitled(self, policy: SlaPolicy) -> SlaPolicy:
        """``policy`` as the desk runs it: with the given table's tier terms, if any."""
        table = self._given_entitlements
        return policy if table is None else table.apply_to(policy)

    def deadlines(self, ticket_id: str) -> tuple[Deadline, ...]:
        """The ticket's running SLA commitments, soonest first (none without a policy)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            if self._sla_policy is None:
                return ()
            return self._clock_for(uow, ticket).deadlines()

    def sla(self, ticket_id: str, *, at: datetime | None = None) -> SlaState:
        """Every SLA clock of the ticket at ``at`` (default now): due, used, paused, breached.

        Without a policy the state has no clocks.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        when = self._now() if at is None else check.aware("at", at)
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            if self._sla_policy is None:
                return SlaState(at=when, clocks={})
            return self._clock_for(uow, ticket).state(when)

    def explain_sla(self, ticket_id: str) -> Explanation:
        """Which policy rule set each of the ticket's targets, and why (``str()`` it)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        policy = self._require_policy()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            return policy.explain(self._clock_for(uow, ticket).facts)

    def what_if(self, policy: SlaPolicy, *, at: datetime | None = None) -> SlaImpact:
        """What ``policy`` would change on the open tickets, before it is put in place.

        Recomputes every open ticket's clocks from its events under both policies and
        compares them at ``at`` (default now). Stores nothing.
        """
        if not isinstance(policy, SlaPolicy):
            raise ValidationFailed("policy", f"must be an SlaPolicy, not {type(policy).__name__}")
        policy = self._entitled(policy)
        when = self._now() if at is None else check.aware("at", at)
        newly: list[tuple[str, SlaMetric]] = []
        cleared: list[tuple[str, SlaMetric]] = []
        moved: list[tuple[str, SlaMetric, datetime | None, datetime | None]] = []
        with self._unit() as uow:
            for ticket in self._open_tickets(uow):
                history = uow.events.for_ticket(ticket.id)
                tier = uow.customers.get(ticket.customer_id).tier
                after = SlaClock.replay(policy, history, tier=tier).state(when)
                if self._sla_policy is None:
                    before = SlaState(at=when, clocks={})
                else:
                    before = self._clock_for(uow, ticket).state(when)
                for metric in SlaMetric:
                    old, new = before.clocks.get(metric), after.clocks.get(metric)
                    was = old is not None and old.breached_at is not None
                    will = new is not None and new.breached_at is not None
                    if will and not was:
                        newly.append((ticket.id, metric))
                    elif was and not will:
                        cleared.append((ticket.id, metric))
                    old_due = None if old is None else old.due_at
                    new_due = None if new is None else new.due_at
                    if old_due != new_due:
                        moved.append((ticket.id, metric, old_due, new_due))
        return SlaImpact(
            at=when,
            newly_breached=tuple(newly),
            no_longer_breached=tuple(cleared),
            moved=tuple(moved),
        )

    def set_sla_policy(self, policy: SlaPolicy) -> tuple[str, ...]:
        """Put ``policy`` in place and restamp the open tickets whose due times change.

        Each restamped ticket gets one ``sla.retargeted`` event; the ids are returned. A
        ticket changed concurrently is retried once and otherwise restamped by its next
        change. Other desks on the same store must be given the policy too.
        """
        if not isinstance(policy, SlaPolicy):
            raise ValidationFailed("policy", f"must be an SlaPolicy, not {type(policy).__name__}")
        policy = self._entitled(policy)
        self._sla_policy = policy
        with self._clocks_lock:
            self._clocks.clear()
        now = self._now()
        with self._unit() as uow:
            candidates = [t.id for t in self._open_tickets(uow)]
        restamped: list[str] = []
        for ticket_id in candidates:
            for _attempt in range(2):
                try:
                    if self._restamp(ticket_id, policy, now):
                        restamped.append(ticket_id)
                    break
                except ConcurrencyConflict:
                    continue
        return tuple(restamped)

    def _restamp(self, ticket_id: str, policy: SlaPolicy, now: datetime) -> bool:
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            if ticket.status not in OPEN_STATUSES:
                return False
            stamps = self._stamps(self._clock_for(uow, ticket))
            if all(getattr(ticket, k) == v for k, v in stamps.items()):
                return False
            self._record(
                uow,
                ticket,
                EventType.SLA_RETARGETED,
                SYSTEM_ACTOR,
                now,
                {},
                status=ticket.status,
                data={"policy": policy.name},
            )
            uow.commit()
        return True

    def override_sla_target(
        self,
        ticket_id: str,
        metric: SlaMetric | str,
        within: timedelta | None,
        *,
        actor: str,
        reason: str,
        calendar: str | None = None,
    ) -> Ticket:
        """Set one SLA target of one ticket by hand; only a lead may (``supportflow.roles``).

        From now on the ticket's ``metric`` is due ``within`` of open time on ``calendar``
        (default: the calendar of the target the policy chose, else ``"business"``),
        whatever the policy's rules and the customer's tier say; ``within=None`` removes
        the override. One ``sla.target_overridden`` event records it (``data["metric"]``,
        ``data["target"]``, ``data["reason"]``) with the due times it restamps, and the
        ticket's clock honours it from then on, also under a policy set later (unless that
        policy lacks the calendar). ``explain_sla`` still explains the policy's own choice;
        ``sla()`` reports the rule ``"override"``. Needs an SLA policy; a resolved or closed
        ticket is refused (``InvalidTransition``), anyone but a lead (``PermissionDenied``).
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        found_metric = check.enum_value("metric", SlaMetric, metric)
        if within is not None and (
            not isinstance(within, timedelta) or not timedelta(0) < within <= _MAX_OVERRIDE
        ):
            raise ValidationFailed(
                "within", f"must be a timedelta above zero and at most {_MAX_OVERRIDE.days} days"
            )
        actor = check.object_id("actor", actor)
        reason = check.text("reason", reason, required=True, limit=MAX_SUBJECT_CHARS * 4)
        calendar = check.optional_text("calendar", calendar, limit=100)
        policy = self._require_policy()
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            if ticket.status not in OPEN_STATUSES:
                raise InvalidTransition(ticket.id, "override_sla_target", ticket.status.value, ())
            self._permit(uow, DeskAction.OVERRIDE_SLA_TARGET, actor, ticket, by_actor=True)
            clock = self._clock_for(uow, ticket)
            target: Target | None = None
            if within is not None:
                if calendar is None:
                    chosen = policy.select(clock.facts).get(found_metric)
                    calendar = "business" if chosen is None else chosen.target.calendar
                policy.calendar(calendar)
                target = Target(within=within, calendar=calendar)
            updated = self._record(
                uow,
                ticket,
                EventType.SLA_TARGET_OVERRIDDEN,
                actor,
                now,
                {},
                status=ticket.status,
                data={
                    "metric": found_metric.value,
                    "target": None if target is None else target.model_dump(mode="json"),
                    "reason": reason,
                },
                clock=clock,
            )
            uow.commit()
        return updated

    # -- intake ------------------------------------------------------------------------

    def intake(
        self,
        *,
        channel: Channel | str,
        customer_id: str,
        body: str = "",
        subject: str = "",
        external_id: str | None = None,
        priority: Priority | str | None = None,
        category: str | None = None,
        team_id: str | None = None,
        tags: Iterable[str] = (),
        language: str | None = None,
        received_at: datetime | None = None,
    ) -> Ticket:
        """Turn a request from any channel into a ticket, exactly once.

        Idempotent on ``(channel, external_id)``: delivering the same request again
        returns the ticket made the first time and stores nothing. At least one of
        ``subject`` and ``body`` must have text; a missing subject is taken from the
        body's first line, a missing body from the subject. ``received_at`` (default now)
        becomes ``created_at``, so SLA clocks start when the customer wrote.
        """
        channel = check.enum_value("channel", Channel, channel)
        customer_id = check.object_id("customer_id", customer_id)
        subject = check.text("subject", subject, required=False, limit=MAX_SUBJECT_CHARS).strip()
        body = check.text("body", body, required=False)
        if not subject and not body.strip():
            raise ValidationFailed("body", "subject and body are both empty")
        external_id = check.optional_text("external_id", external_id, limit=500)
        fields: dict[str, Any] = {
            "channel": channel,
            "external_id": external_id,
            "customer_id": customer_id,
            "subject": subject or subject_from_body(body),
            "body": body if body.strip() else subject,
            "priority": None
            if priority is None
            else check.enum_value("priority", Priority, priority),
            "category": check.optional_text("category", category, limit=100),
            "team_id": check.optional_id("team_id", team_id),
            "tags": check.labels("tags", tags),
            "language": check.optional_text("language", language, limit=100),
        }
        now = self._now()
        created_at = now if received_at is None else check.instant("received_at", received_at)
        try:
            return self._intake(fields, created_at, now)
        except DuplicateEntity:
            # Another worker stored the same delivery between our read and our commit.
            if external_id is None:
                raise
            with self._unit() as uow:
                existing = uow.tickets.find_by_external_id(channel, external_id)
            if existing is None:
                raise
            return existing

    def _intake(self, fields: dict[str, Any], created_at: datetime, now: datetime) -> Ticket:
        with self._unit() as uow:
            external_id = fields["external_id"]
            if external_id is not None:
                existing = uow.tickets.find_by_external_id(fields["channel"], external_id)
                if existing is not None:
                    # The channel and ticket only: the delivery's own text may hold contacts.
                    _log.debug(
                        "intake: a repeated %s delivery returns ticket %s",
                        fields["channel"].value,
                        existing.id,
                    )
                    return existing
            customer = uow.customers.get(fields["customer_id"])
            if fields["team_id"] is not None:
                uow.teams.get(fields["team_id"])
            given = {k: v for k, v in fields.items() if v is not None}
            draft = assemble(
                Ticket,
                {
                    **_TICKET_DEFAULTS,
                    **given,
                    "id": self._new_id(),
                    "created_at": created_at,
                    "updated_at": created_at,
                },
            )
            classified, result = self._classified(draft, given)
            ticket = self._stamped_new(classified, customer.tier)
            uow.tickets.add(ticket)
            uow.events.append((self._created_event(ticket, customer.tier, result),))
            uow.messages.add(
                self._message(
                    ticket, AuthorKind.CUSTOMER, ticket.customer_id, ticket.body, created_at
                )
            )
            if self._auto_assign:
                ticket = self._route_new(uow, ticket, max(now, created_at))
            uow.commit()
        return ticket

    def _route_new(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> Ticket:
        """Assign a new ticket by the strategy, or queue it; either way the reason is kept."""
        try:
            decision = self._decide(uow, ticket, now)
        except AssignmentFailed as exc:
            decision = Decision(None, f"queued: {exc.reason}")
        if decision.agent_id is not None:
            return self._assign_to(uow, ticket, decision, SYSTEM_ACTOR, now)
        return self._record(
            uow,
            ticket,
            EventType.QUEUED,
            SYSTEM_ACTOR,
            now,
            {},
            status=ticket.status,
            data=decision.as_data(),
        )

    def _classified(
        self, ticket: Ticket, given: Mapping[str, Any]
    ) -> tuple[Ticket, Classification | None]:
        """Apply the classifier's answer to what the request did not state itself."""
        result = self._classifier.classify(ticket)
        if result is None:
            return ticket, None
        if not isinstance(result, Classification):
            raise ValidationFailed(
                "classifier",
                f"classify() must return a Classification, not {type(result).__name__}",
            )
        update: dict[str, Any] = {}
        if "category" not in given and result.category is not None:
            update["category"] = check.text(
                "classification.category", result.category, required=True, limit=100
            )
        if result.complaint_category is not None:
            update["complaint_category"] = check.enum_value(
                "classification.complaint_category", ComplaintCategory, result.complaint_category
            )
        if "priority" not in given and result.priority is not None:
            update["priority"] = check.enum_value(
                "classification.priority", Priority, result.priority
            )
        if "language" not in given and result.language is not None:
            update["language"] = check.text(
                "classification.language", result.language, required=True, limit=100
            )
        return (evolve(ticket, update) if update else ticket), result

    def _created_event(
        self, ticket: Ticket, tier: CustomerTier, classification: Classification | None = None
    ) -> TicketEvent:
        """``ticket.created``: the whole ticket, the customer's tier then, the classification."""
        data: dict[str, Any] = {
            "ticket": ticket.model_dump(mode="json"),
            "customer_tier": tier.value,
        }
        if classification is not None:
            data["classification"] = _classification_data(classification)
        return assemble(
            TicketEvent,
            {
                "id": event_id(ticket.id, ticket.version),
                "ticket_id": ticket.id,
                "seq": ticket.version,
                "type": EventType.CREATED.value,
                "at": ticket.created_at,
                "actor": f"customer:{ticket.customer_id}",
                "data": data,
            },
        )

    # -- assignment --------------------------------------------------------------------

    def assign(
        self, ticket_id: str, agent_id: str | None = None, *, actor: str = SYSTEM_ACTOR
    ) -> Ticket:
        """Give the ticket to ``agent_id``, or to the strategy's pick when ``None``.

        A new ticket is assigned, one already assigned is reassigned; either way the new
        assignee must acknowledge it. The agent must be below capacity, on the ticket's
        channel too (``AssignmentFailed`` otherwise, with the strategy's reason when it
        found nobody). The event records who decided and why.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.optional_id("agent_id", agent_id)
        actor = check.object_id("actor", actor)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            next_status(ticket.id, ticket.status, self._assign_command(ticket.status))
            self._permit(uow, DeskAction.ASSIGN, actor, ticket, by_actor=True)
            decision = self._choose(uow, ticket, agent_id, now, actor=actor)
            updated = self._assign_to(uow, ticket, decision, actor, now)
            uow.commit()
        return updated

    def queue(self) -> list[Ticket]:
        """Tickets waiting for an agent: new and unassigned, in the order they are served.

        Most urgent first; among equal priorities, customers of the tier with the higher
        ``routing_priority`` (VIP, then key, regular, prospect by default; their tier now,
        not at intake); then oldest, then by id. With ``auto_assign`` each holds a
        ``ticket.queued`` event saying why no agent could take it; the desk assigns them
        in this order as agents get room.
        """
        with self._unit() as uow:
            return self._queued(uow)

    def _queued(self, uow: UnitOfWork) -> list[Ticket]:
        waiting = uow.tickets.list(status=TicketStatus.NEW)
        table = self._entitlements
        by_tier = {tier: entitlements_for(tier, table).routing_priority for tier in CustomerTier}
        by_customer: dict[str, int] = {}

        def routing_priority(customer_id: str) -> int:
            found = by_customer.get(customer_id)
            if found is None:
                found = by_customer[customer_id] = by_tier[uow.customers.get(customer_id).tier]
            return found

        return sorted(
            waiting,
            key=lambda t: (
                _PRIORITY_RANK[t.priority],
                -routing_priority(t.customer_id),
                t.created_at,
                t.id,
            ),
        )

    @staticmethod
    def _assign_command(status: TicketStatus) -> LifecycleEvent:
        return LifecycleEvent.ASSIGN if status is TicketStatus.NEW else LifecycleEvent.REASSIGN

    def _assign_to(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        decision: Decision,
        actor: str,
        now: datetime,
        *,
        event_type: EventType | None = None,
        changes: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        status_before: TicketStatus | None = None,
    ) -> Ticket:
        """Record the assignment ``decision`` made, with its reason, in one event.

        ``status_before`` is the status the assignment starts from when the same event
        made an earlier move (an escalation); a ``reason`` in ``data`` (the escalation's)
        keeps its place and the decision's goes to ``routing_reason``.
        """
        before = ticket.status if status_before is None else status_before
        command = self._assign_command(before)
        status = next_status(ticket.id, before, command)
        if event_type is None:
            event_type = (
                EventType.ASSIGNED if command is LifecycleEvent.ASSIGN else EventType.REASSIGNED
            )
        update: dict[str, Any] = dict(changes or {})
        update.update(assignee_id=decision.agent_id, assigned_at=now, acknowledged_at=None)
        if decision.team_id is not None:
            update["team_id"] = decision.team_id
        if decision.cursor is not None:
            uow.cursors.put(*decision.cursor)
        updated = self._record(
            uow,
            ticket,
            event_type,
            actor,
            now,
            update,
            status=status,
            data={
                "previous_assignee_id": ticket.assignee_id,
                **_decision_data(decision, given=data or {}),
            },
        )
        # At once, not only after the commit: a queue pass decides several tickets in one
        # unit, and each must see the load the previous ones added (tracking is idempotent).
        with self._pool_lock:
            if self._pool is not None:
                self._pool.track(updated)
        return updated

    def _choose(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        agent_id: str | None,
        now: datetime,
        *,
        actor: str,
        escalating: bool = False,
        field: str = "agent_id",
    ) -> Decision:
        """The named agent after the capacity check, or the strategy's pick; else raise."""
        if agent_id is None:
            decision = self._decide(uow, ticket, now, escalating=escalating)
            if decision.agent_id is None:
                raise AssignmentFailed(ticket.id, decision.reason)
            return decision
        agent = uow.agents.get(agent_id)
        if agent.id == ticket.assignee_id:
            raise ValidationFailed(field, f"ticket is already assigned to {agent.id!r}")
        full = self._no_room(uow, agent, ticket)
        if full is not None:
            raise AssignmentFailed(ticket.id, f"agent {agent.id!r} is {full}")
        return Decision(agent.id, f"chosen by {actor}")

    def _decide(
        self, uow: UnitOfWork, ticket: Ticket, now: datetime, *, escalating: bool = False
    ) -> Decision:
        """The strategy's decision, checked against storage (the pool is only a cache).

        A pick the store contradicts (offline, full, unknown) rebuilds the pool and asks
        once more; a second bad pick is the strategy's fault: ``AssignmentFailed``.
        """
        request = self._routing_request(uow, ticket, now, escalating=escalating)
        problem = ""
        for _ in range(2):
            with self._pool_lock:
                decision = self._assignment.decide(request, self._routing_pool())
            if not isinstance(decision, Decision):
                raise ValidationFailed(
                    "assignment", f"decide() must return a Decision, not {type(decision).__name__}"
                )
            if decision.agent_id is None:
                return decision
            problem = self._unfit(uow, ticket, decision) or ""
            if not problem:
                return decision
            self._drop_pool()
        raise AssignmentFailed(
            ticket.id, f"the strategy chose {decision.agent_id!r}, who is {problem}"
        )

    def _routing_request(
        self, uow: UnitOfWork, ticket: Ticket, now: datetime, *, escalating: bool = False
    ) -> RoutingRequest:
        """What the strategy is asked about ``ticket``, read from ``uow``."""
        customer = uow.customers.get(ticket.customer_id)
        return RoutingRequest(
            ticket=ticket,
            now=now,
            customer=customer,
            entitlements=entitlements_for(customer.tier, self._entitlements),
            teams=_TeamsOf(uow),
            escalating=escalating,
            recent=lambda: _recent_agents(uow, ticket),
            cursor=uow.cursors.get,
        )

    def _unfit(self, uow: UnitOfWork, ticket: Ticket, decision: Decision) -> str | None:
        """Why the store says the decided agent may not take the ticket, or ``None``."""
        agent_id = decision.agent_id or ""
        agent = self._agent_or_none(uow, agent_id)
        if agent is None:
            return "not an agent of this desk"
        if agent.status is AgentStatus.OFFLINE:
            return "offline"
        if agent.id == ticket.assignee_id:
            return "the current assignee"
        if decision.team_id is not None and self._team_or_none(uow, decision.team_id) is None:
            return f"moving the ticket to unknown team {decision.team_id!r}"
        return self._no_room(uow, agent, ticket)

    @staticmethod
    def _no_room(uow: UnitOfWork, agent: Agent, ticket: Ticket) -> str | None:
        held = uow.tickets.open_for_assignee(agent.id)
        if len(held) >= agent.capacity:
            return f"at capacity ({len(held)}/{agent.capacity})"
        limit = agent.channel_capacity.get(ticket.channel)
        if limit is not None:
            on_channel = sum(1 for t in held if t.channel is ticket.channel)
            if on_channel >= limit:
                return f"at their {ticket.channel.value} limit ({on_channel}/{limit})"
        return None

    @staticmethod
    def _agent_or_none(uow: UnitOfWork, agent_id: str) -> Agent | None:
        try:
            return uow.agents.get(agent_id)
        except AgentNotFound:
            return None

    @staticmethod
    def _team_or_none(uow: UnitOfWork, team_id: str) -> Team | None:
        try:
            return uow.teams.get(team_id)
        except TeamNotFound:
            return None

    def _assign_queued(self, now: datetime | None = None) -> tuple[str, ...]:
        """Assign queued tickets, most urgent and oldest first, while agents have room.

        The queue is read and decided in one unit of work that only reads (most queued
        tickets find nobody). Each ticket someone could take is then claimed, decided
        again and assigned in a unit of its own (``claim_waiting``: ``FOR UPDATE SKIP
        LOCKED`` on PostgreSQL, an immediate transaction on SQLite), so workers handing
        out the queue at once take different tickets and none waits for another: a
        ticket another worker holds is skipped. A conflict skips the ticket too, since the
        next trigger (a status change, a resolution, ``run_due_jobs``) tries again.
        """
        if not self._auto_assign:
            return ()
        at = self._now() if now is None else now
        assigned: list[str] = []
        try:
            with self._unit() as reading:
                for queued in self._queued(reading):
                    with self._pool_lock:
                        if self._routing_pool().ready_count() == 0:
                            break
                    try:
                        hopeful = self._decide(reading, queued, max(at, queued.updated_at))
                    except AssignmentFailed:
                        continue
                    if hopeful.agent_id is not None and self._claim_and_assign(queued.id, at):
                        assigned.append(queued.id)
        except ConcurrencyConflict:
            self._drop_pool()
        except BaseException:
            self._drop_pool()
            raise
        return tuple(assigned)

    def _claim_and_assign(self, ticket_id: str, at: datetime) -> bool:
        """Claim one queued ticket and assign it by the strategy; False when another
        worker holds it, it is no longer waiting, nobody fits any more, or a conflict."""
        try:
            with self._unit() as uow:
                ticket = uow.tickets.claim_waiting(ticket_id)
                if ticket is None:
                    return False
                when = max(at, ticket.updated_at)
                decision = self._decide(uow, ticket, when)
                if decision.agent_id is None:
                    return False
                self._assign_to(
                    uow, ticket, decision, SYSTEM_ACTOR, when, data={"from_queue": True}
                )
                uow.commit()
        except AssignmentFailed:
            return False
        except ConcurrencyConflict:
            self._drop_pool()
            return False
        return True

    def take_next(self, agent_id: str) -> Ticket | None:
        """Give the agent the most urgent queued ticket they may take; ``None`` if none.

        For agents who pull work instead of being pushed it. The queue is walked in
        :meth:`queue` order; a ticket is the agent's to take when the routing strategy,
        asked with this agent as the only candidate, would give it to them (skills,
        languages, team, tier rules). It is claimed without waiting (``claim_waiting``), so
        agents pulling at once from several workers get different tickets, and assigned
        to the agent, who acknowledges it next. ``AssignmentFailed`` when the agent is
        offline or has no room; ``PermissionDenied`` for the read-mostly roles (quality,
        trainer).
        """
        agent_id = check.object_id("agent_id", agent_id)
        now = self._now()
        with self._unit() as uow:
            self._permit(uow, DeskAction.TAKE_NEXT, agent_id)
            agent = uow.agents.get(agent_id)
            self._may_take(agent)
            held = uow.tickets.open_for_assignee(agent.id)
            if len(held) >= agent.capacity:
                raise AssignmentFailed(
                    None, f"agent {agent.id!r} is at capacity ({len(held)}/{agent.capacity})"
                )
            waiting = self._queued(uow)
            pool = AgentPool([agent], held)
            fits = [
                t
                for t in waiting
                if self._assignment.decide(
                    self._routing_request(uow, t, max(now, t.updated_at)), pool
                ).agent_id
                == agent.id
            ]
        for candidate in fits:
            with self._unit() as uow:
                ticket = uow.tickets.claim_waiting(candidate.id)
                if ticket is None:
                    continue
                agent = uow.agents.get(agent_id)
                self._may_take(agent)
                full = self._no_room(uow, agent, ticket)
                if full is not None:
                    raise AssignmentFailed(ticket.id, f"agent {agent.id!r} is {full}")
                updated = self._assign_to(
                    uow,
                    ticket,
                    Decision(agent.id, "taken from the queue by the agent"),
                    agent.id,
                    max(now, ticket.updated_at),
                    data={"from_queue": True},
                )
                uow.commit()
            return updated
        return None

    @staticmethod
    def _may_take(agent: Agent) -> None:
        if agent.status is AgentStatus.OFFLINE:
            raise AssignmentFailed(None, f"agent {agent.id!r} is offline")

    def _routing_pool(self) -> AgentPool:
        """The routing index, built from the store on first use (call under the lock).

        Built in a unit of work of its own, which only reads: the pool is a cache that
        every decision is checked against (``_unfit``), and reading every open ticket
        inside the deciding unit would tie that unit to every concurrent ticket write
        (PostgreSQL's ``SERIALIZABLE`` tracks what a transaction read, and would refuse it).
        """
        pool = self._pool
        if pool is None:
            held: list[Ticket] = []
            with self._store.unit_of_work(self._tenant_id) as reading:
                for status in _CLOCK_STATUSES:
                    if status is not TicketStatus.NEW:
                        held.extend(reading.tickets.list(status=status))
                agents = reading.agents.list()
            pool = self._pool = AgentPool(agents, held)
        return pool

    def _drop_pool(self) -> None:
        """Forget the routing index; the next decision rebuilds it from the store."""
        with self._pool_lock:
            self._pool = None

    def acknowledge(self, ticket_id: str, *, agent_id: str) -> Ticket:
        """The assignee confirms they have taken the ticket (assigned → in progress)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.ACKNOWLEDGE)
            self._permit(uow, DeskAction.ACKNOWLEDGE, agent_id, ticket)
            updated = self._record(
                uow,
                ticket,
                EventType.ACKNOWLEDGED,
                agent_id,
                now,
                {"acknowledged_at": now},
                status=status,
            )
            uow.commit()
        return updated

    # -- conversation ------------------------------------------------------------------

    def reply(self, ticket_id: str, *, agent_id: str, body: str, internal: bool = False) -> Ticket:
        """Post a public reply to the customer, or an internal note when ``internal``.

        The first public reply sets ``first_response_at``. Notes do not move the ticket and
        are accepted in every status but closed.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        body = check.text("body", body, required=True)
        internal = check.flag("internal", internal)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            if internal:
                if ticket.status is TicketStatus.CLOSED:
                    raise InvalidTransition(ticket.id, "add_note", ticket.status.value, ())
                status: TicketStatus = ticket.status
                event_type, changes = EventType.NOTE_ADDED, {}
            else:
                status = next_status(ticket.id, ticket.status, LifecycleEvent.REPLY)
                event_type, changes = EventType.REPLIED, self._first_response(ticket, now)
            action = DeskAction.ADD_NOTE if internal else DeskAction.REPLY
            self._permit(uow, action, agent_id, ticket)
            message = self._message(
                ticket, AuthorKind.AGENT, agent_id, body, now, internal=internal
            )
            uow.messages.add(message)
            updated = self._record(
                uow,
                ticket,
                event_type,
                agent_id,
                now,
                changes,
                status=status,
                data={"message_id": message.id},
            )
            uow.commit()
        return updated

    def request_info(self, ticket_id: str, *, agent_id: str, body: str) -> Ticket:
        """Ask the customer for information; the ticket waits on the customer."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        body = check.text("body", body, required=True)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.REQUEST_INFO)
            self._permit(uow, DeskAction.REQUEST_INFO, agent_id, ticket)
            message = self._message(ticket, AuthorKind.AGENT, agent_id, body, now)
            uow.messages.add(message)
            updated = self._record(
                uow,
                ticket,
                EventType.INFO_REQUESTED,
                agent_id,
                now,
                self._first_response(ticket, now),
                status=status,
                data={"message_id": message.id},
            )
            uow.commit()
        return updated

    def customer_replied(
        self, ticket_id: str, *, body: str, message_id: str | None = None
    ) -> Ticket:
        """Record a message from the customer and return the ticket that now holds it.

        A ticket waiting on the customer goes back in progress; a resolved one within the
        reopen window is reopened. A closed ticket is final: the message opens a follow-up
        ticket linked by ``follow_up_of`` (a resolved ticket past the window is closed and
        followed up the same way), and the follow-up is returned. ``message_id`` makes
        redelivery idempotent: a message already recorded returns the ticket unchanged.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        body = check.text("body", body, required=True)
        message_id = check.optional_id("message_id", message_id)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            if message_id is not None:
                holder = self._holder_of(uow, ticket, message_id)
                if holder is not None:
                    return holder
            if ticket.status is TicketStatus.CLOSED or self._reopen_expired(ticket, now):
                follow_up = self._follow_up(uow, ticket, body, now, message_id)
                uow.commit()
                return follow_up
            status = next_status(ticket.id, ticket.status, LifecycleEvent.CUSTOMER_REPLIED)
            message = self._message(
                ticket, AuthorKind.CUSTOMER, ticket.customer_id, body, now, message_id=message_id
            )
            uow.messages.add(message)
            changes: dict[str, Any] = {}
            if ticket.status is TicketStatus.RESOLVED:
                changes = {
                    "resolved_at": None,
                    "resolution": None,
                    "reopen_count": ticket.reopen_count + 1,
                }
            updated = self._record(
                uow,
                ticket,
                EventType.CUSTOMER_REPLIED,
                f"customer:{ticket.customer_id}",
                now,
                changes,
                status=status,
                data={"message_id": message.id},
            )
            uow.commit()
        return updated

    @staticmethod
    def _holder_of(uow: UnitOfWork, ticket: Ticket, message_id: str) -> Ticket | None:
        """The ticket already holding ``message_id``: this one or a follow-up of it."""
        if any(m.id == message_id for m in uow.messages.for_ticket(ticket.id)):
            return ticket
        if ticket.status is not TicketStatus.CLOSED:
            return None
        for other in uow.tickets.list(customer_id=ticket.customer_id):
            if other.follow_up_of == ticket.id:
                found = SupportDesk._holder_of(uow, other, message_id)
                if found is not None:
                    return found
        return None

    def _follow_up(
        self, uow: UnitOfWork, ticket: Ticket, body: str, now: datetime, message_id: str | None
    ) -> Ticket:
        if ticket.status is TicketStatus.RESOLVED:
            self._record(
                uow,
                ticket,
                EventType.CLOSED,
                SYSTEM_ACTOR,
                now,
                {"closed_at": now},
                status=next_status(ticket.id, ticket.status, LifecycleEvent.CLOSE),
                data={"reason": "customer wrote after the reopen window"},
            )
        subject = ticket.subject if ticket.subject.startswith("Re: ") else f"Re: {ticket.subject}"
        follow_up = Ticket(
            id=self._new_id(),
            channel=ticket.channel,
            customer_id=ticket.customer_id,
            subject=subject[:MAX_SUBJECT_CHARS],
            body=body,
            language=ticket.language,
            category=ticket.category,
            complaint_category=ticket.complaint_category,
            priority=ticket.priority,
            team_id=ticket.team_id,
            tags=ticket.tags,
            follow_up_of=ticket.id,
            created_at=now,
            updated_at=now,
        )
        tier = uow.customers.get(ticket.customer_id).tier
        follow_up = self._stamped_new(follow_up, tier)
        uow.tickets.add(follow_up)
        uow.events.append([self._created_event(follow_up, tier)])
        uow.messages.add(
            self._message(
                follow_up, AuthorKind.CUSTOMER, ticket.customer_id, body, now, message_id=message_id
            )
        )
        return follow_up

    # -- hold, escalate ----------------------------------------------------------------

    def hold(self, ticket_id: str, *, agent_id: str, reason: str) -> Ticket:
        """Park the ticket (waiting on a third party, a fix, a visit)."""
        return self._simple(
            ticket_id,
            agent_id,
            LifecycleEvent.HOLD,
            EventType.HELD,
            {},
            reason=("reason", reason),
            action=DeskAction.HOLD,
        )

    def release(self, ticket_id: str, *, agent_id: str) -> Ticket:
        """Take a parked ticket back into work."""
        return self._simple(
            ticket_id,
            agent_id,
            LifecycleEvent.RELEASE,
            EventType.RELEASED,
            {},
            action=DeskAction.RELEASE,
        )

    def escalate(
        self,
        ticket_id: str,
        *,
        actor: str,
        reason: str,
        to_agent_id: str | None = None,
        to_team_id: str | None = None,
        route: bool = False,
    ) -> Ticket:
        """Raise the escalation level, optionally handing the ticket over.

        With ``to_agent_id`` the ticket goes to that agent (a senior, say); with
        ``to_team_id`` the assignment strategy picks within that team; with ``route`` the
        strategy picks by the new level (``TeamRouting``: a senior from level 1, and from
        level 2 the team's escalation team, one team up per escalation). A handover puts
        the ticket back to assigned, so the new owner acknowledges it. One event records
        it, with the strategy's reason.
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        actor = check.object_id("actor", actor)
        reason = check.text("reason", reason, required=True, limit=MAX_SUBJECT_CHARS * 4)
        to_agent_id = check.optional_id("to_agent_id", to_agent_id)
        to_team_id = check.optional_id("to_team_id", to_team_id)
        route = check.flag("route", route)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.ESCALATE)
            self._permit(uow, DeskAction.ESCALATE, actor, ticket, by_actor=True)
            changes: dict[str, Any] = {"escalation_level": ticket.escalation_level + 1}
            if to_team_id is not None:
                uow.teams.get(to_team_id)
                changes["team_id"] = to_team_id
            data = {"reason": reason, "previous_assignee_id": ticket.assignee_id}
            if to_agent_id is not None or to_team_id is not None or route:
                raised = evolve(ticket, changes)
                decision = self._choose(
                    uow,
                    raised,
                    to_agent_id,
                    now,
                    actor=actor,
                    escalating=route and to_team_id is None,
                    field="to_agent_id",
                )
                updated = self._assign_to(
                    uow,
                    ticket,
                    decision,
                    actor,
                    now,
                    event_type=EventType.ESCALATED,
                    changes=changes,
                    data={"reason": reason},
                    status_before=status,
                )
                uow.commit()
                return updated
            updated = self._record(
                uow,
                ticket,
                EventType.ESCALATED,
                actor,
                now,
                changes,
                status=status,
                data=data,
            )
            uow.commit()
        return updated

    # -- resolve, close, reopen --------------------------------------------------------

    def resolve(self, ticket_id: str, *, agent_id: str, resolution: str) -> Ticket:
        """Mark the ticket solved; ``resolution`` says how (it feeds the knowledge base).

        The agent's freed room goes to the queue at once (with ``auto_assign``).
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        how = check.text("resolution", resolution, required=True)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.RESOLVE)
            self._permit(uow, DeskAction.RESOLVE, agent_id, ticket)
            resolved = self._record(
                uow,
                ticket,
                EventType.RESOLVED,
                agent_id,
                now,
                {"resolution": how, "resolved_at": now},
                status=status,
            )
            survey = request_survey(resolved).model_dump(mode="json")
            resolved = self._record(
                uow,
                resolved,
                EventType.SURVEY_REQUESTED,
                SYSTEM_ACTOR,
                now,
                {},
                status=resolved.status,
                data={"survey": survey},
            )
            uow.commit()
        self._assign_queued()
        return resolved

    def submit_feedback(
        self,
        survey_id: str,
        *,
        csat: int | None = None,
        nps: int | None = None,
        comment: str = "",
        channel: Channel | str | None = None,
    ) -> SurveyResponse | None:
        """Record the customer's answer to a survey sent at resolution.

        ``survey_id`` is the id of a ``feedback.survey_requested`` event's survey; the answer
        carries CSAT 1-5 and/or NPS 0-10, a comment and the channel it came in on (default:
        the channel the survey was sent on). Exactly one answer per survey: the same answer
        again returns ``None`` and records nothing; a different one raises
        ``SurveyAlreadyAnswered``. A low score also records a ``feedback.follow_up_raised``
        event assigned to the lead of the ticket's team. Feedback is taken on resolved and
        closed tickets.
        """
        wanted = check.text("survey_id", survey_id, required=True, limit=240).strip()
        ticket_id, marker, _number = wanted.rpartition("/survey/")
        if not marker or not ticket_id:
            raise ValidationFailed("survey_id", f"no survey {wanted!r}")
        found_channel = None if channel is None else check.enum_value("channel", Channel, channel)
        comment = check.text("comment", comment, required=False, limit=MAX_COMMENT_CHARS)
        now = self._now()
        with self._unit() as uow:
            try:
                ticket = uow.tickets.get(ticket_id)
            except TicketNotFound:
                raise ValidationFailed("survey_id", f"no survey {wanted!r}") from None
            events = uow.events.for_ticket(ticket.id)
            request, existing = _survey_of(events, wanted)
            if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
                raise InvalidTransition(
                    ticket.id, "submit feedback", ticket.status.value, ("resolved", "closed")
                )
            response = _as_model(
                "response",
                SurveyResponse,
                {
                    "survey_id": wanted,
                    "csat": csat,
                    "nps": nps,
                    "comment": comment,
                    "channel": request.channel if found_channel is None else found_channel,
                    "responded_at": now,
                },
                prefixed=False,
            )
            accepted = accept_response(request, existing, response)
            if accepted is None:
                return None
            ticket = self._record(
                uow,
                ticket,
                EventType.SURVEY_ANSWERED,
                SYSTEM_ACTOR,
                now,
                {},
                status=ticket.status,
                data={
                    "response": accepted.model_dump(mode="json"),
                    "context": _answer_context(uow, ticket, request),
                },
            )
            raised = follow_up(request, accepted)
            if raised is not None:
                lead = None if request.team_id is None else _lead_of(uow, request.team_id)
                self._record(
                    uow,
                    ticket,
                    EventType.FOLLOW_UP_RAISED,
                    SYSTEM_ACTOR,
                    now,
                    {},
                    status=ticket.status,
                    data={"follow_up": raised.model_dump(mode="json"), "assignee_id": lead},
                )
            uow.commit()
        return accepted

    def close(self, ticket_id: str, *, actor: str = SYSTEM_ACTOR) -> Ticket:
        """Close a resolved ticket for good."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        actor = check.object_id("actor", actor)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            next_status(ticket.id, ticket.status, LifecycleEvent.CLOSE)
            self._permit(uow, DeskAction.CLOSE, actor, ticket, by_actor=True)
            updated = self._close(uow, ticket, actor, now, reason=None)
            uow.commit()
        return updated

    def _close(
        self, uow: UnitOfWork, ticket: Ticket, actor: str, now: datetime, reason: str | None
    ) -> Ticket:
        status = next_status(ticket.id, ticket.status, LifecycleEvent.CLOSE)
        data = {} if reason is None else {"reason": reason}
        return self._record(
            uow, ticket, EventType.CLOSED, actor, now, {"closed_at": now}, status=status, data=data
        )

    def reopen(self, ticket_id: str, *, actor: str, reason: str) -> Ticket:
        """Reopen a resolved ticket within the reopen window (``ReopenWindowExpired`` after)."""
        ticket_id = check.object_id("ticket_id", ticket_id)
        actor = check.object_id("actor", actor)
        reason = check.text("reason", reason, required=True, limit=MAX_SUBJECT_CHARS * 4)
        now = self._now()
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, LifecycleEvent.REOPEN)
            if self._reopen_expired(ticket, now):
                allowed = [e for e in ALLOWED_EVENTS[ticket.status] if e != LifecycleEvent.REOPEN]
                raise ReopenWindowExpired(
                    ticket.id, ticket.status.value, allowed, self.settings.reopen_window
                )
            self._permit(uow, DeskAction.REOPEN, actor, ticket, by_actor=True)
            updated = self._record(
                uow,
                ticket,
                EventType.REOPENED,
                actor,
                now,
                {"resolved_at": None, "resolution": None, "reopen_count": ticket.reopen_count + 1},
                status=status,
                data={"reason": reason},
            )
            uow.commit()
        return updated

    # -- knowledge base ----------------------------------------------------------------

    def suggest_articles(
        self, ticket_id: str, *, limit: int = 5, actor: str = SYSTEM_ACTOR
    ) -> list[SearchHit]:
        """The published articles most likely to answer the ticket, best first.

        Searched with the ticket's subject and body, in every language and audience
        (agents read internal articles too). What was suggested is recorded in one
        ``kb.suggested`` event (``data["article_ids"]`` and ``data["scores"]``, best
        first), which the stale-article report counts; finding nothing records nothing.
        A closed ticket is refused (``InvalidTransition``).
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        limit = check_limit(limit)
        actor = check.object_id("actor", actor)
        now = self._now()
        with self._unit() as uow:
            ticket = self._open_for_kb(uow.tickets.get(ticket_id), "suggest_articles")
            self._permit(uow, DeskAction.SUGGEST_ARTICLES, actor, ticket, by_actor=True)
        # Outside the unit: a first search builds the index from the store.
        query = f"{ticket.subject}\n{ticket.body}"[:MAX_QUERY_CHARS]
        hits = self._kb.search(query, limit=limit)
        if not hits:
            return []
        with self._unit() as uow:
            ticket = self._open_for_kb(uow.tickets.get(ticket_id), "suggest_articles")
            self._record(
                uow,
                ticket,
                EventType.KB_SUGGESTED,
                actor,
                now,
                {},
                status=ticket.status,
                data={
                    "article_ids": [hit.article_id for hit in hits],
                    "scores": [round(hit.score, 4) for hit in hits],
                },
            )
            uow.commit()
        return hits

    def mark_solved(self, ticket_id: str, article_id: str, *, agent_id: str) -> Article:
        """Record that a published article solved the ticket; the article is returned.

        In one unit of work the article links the ticket (``solved_ticket_ids``) and
        counts a helpful vote, and the ticket records a ``kb.article_linked`` event
        (``data["article_id"]``). Marking the same article again changes nothing. An
        article that is not published is refused (``ValidationFailed`` on
        ``article_id``), as is a closed ticket (``InvalidTransition``).
        """
        ticket_id = check.object_id("ticket_id", ticket_id)
        article_id = check.object_id("article_id", article_id)
        agent_id = check.object_id("agent_id", agent_id)
        now = self._now()
        with self._unit() as uow:
            ticket = self._open_for_kb(uow.tickets.get(ticket_id), "mark_solved")
            self._permit(uow, DeskAction.MARK_SOLVED, agent_id, ticket)
            article = uow.articles.get(article_id)
            if ticket.id in article.solved_ticket_ids:
                return article
            if article.status is not ArticleStatus.PUBLISHED:
                raise ValidationFailed(
                    "article_id",
                    f"article {article.id!r} is {article.status.value}: only a published "
                    "article can be marked as solving a ticket",
                )
            linked = record_vote(article, helpful=True, ticket_id=ticket.id)
            uow.articles.update(linked)
            self._record(
                uow,
                ticket,
                EventType.KB_ARTICLE_LINKED,
                agent_id,
                now,
                {},
                status=ticket.status,
                data={"article_id": article.id, "article_version": linked.version},
            )
            uow.commit()
        return linked

    @staticmethod
    def _open_for_kb(ticket: Ticket, action: str) -> Ticket:
        """The ticket, unless it is closed (final: it records nothing more)."""
        if ticket.status is TicketStatus.CLOSED:
            raise InvalidTransition(ticket.id, action, ticket.status.value, ())
        return ticket

    # -- scheduled work ----------------------------------------------------------------

    def run_due_jobs(self, now: datetime | None = None) -> DueJobsReport:
        """Do the work that falls due by ``now``: SLA alerts, then auto-closing.

        With an SLA policy, every open ticket whose ``sla_check_at`` has come gets the
        ``sla.warning``, ``sla.breached`` and ``sla.escalated`` events that fell due, in
        order, each exactly once: the ticket's events say which were already recorded, and
        the version check refuses a second writer, so repeated or concurrent passes never
        record one twice. An escalation raises ``escalation_level`` to the ladder's rung.
        Resolved tickets are closed ``auto_close_after`` their resolution. With
        ``auto_assign`` the routing index is rebuilt from the store (picking up agents and
        tickets other processes changed) and queued tickets are assigned where agents have
        room. The host schedules this (every minute is plenty). Each ticket is its own
        unit of work; one changed concurrently is left for the next pass.
        """
        at = self._now() if now is None else check.instant("now", now)
        alerts: list[TicketEvent] = []
        deferred: list[str] = []
        if self._sla_policy is not None:
            with self._unit() as uow:
                due = [
                    t
                    for t in self._open_tickets(uow)
                    if t.sla_check_at is not None and t.sla_check_at <= at
                ]
            for ticket in due:
                try:
                    alerts.extend(self._raise_alerts(ticket, at))
                except (ConcurrencyConflict, InvalidTransition):
                    deferred.append(ticket.id)
        with self._unit() as uow:
            resolved = uow.tickets.list(status=TicketStatus.RESOLVED)
        cutoff = at - self.settings.auto_close_after
        closed: list[str] = []
        for ticket in resolved:
            if ticket.resolved_at is None or ticket.resolved_at > cutoff:
                continue
            try:
                with self._unit() as uow:
                    current = uow.tickets.get(ticket.id)
                    if current.version != ticket.version:
                        raise ConcurrencyConflict(
                            "ticket", ticket.id, ticket.version, current.version
                        )
                    self._close(
                        uow, current, SYSTEM_ACTOR, at, reason="auto-closed after resolution"
                    )
                    uow.commit()
                closed.append(ticket.id)
            except (ConcurrencyConflict, InvalidTransition):
                deferred.append(ticket.id)
        assigned: tuple[str, ...] = ()
        if self._auto_assign:
            self._drop_pool()
            assigned = self._assign_queued(at)
        return DueJobsReport(
            closed=tuple(closed), deferred=tuple(deferred), alerts=tuple(alerts), assigned=assigned
        )

    def _raise_alerts(self, listed: Ticket, at: datetime) -> list[TicketEvent]:
        """Record the SLA alerts of one ticket that fell due by ``at``, in one unit of work."""
        recorded: list[TicketEvent] = []
        with self._unit() as uow:
            ticket = uow.tickets.get(listed.id)
            if ticket.version != listed.version:
                raise ConcurrencyConflict("ticket", ticket.id, listed.version, ticket.version)
            clock = self._clock_for(uow, ticket)
            for alert in clock.pending_alerts(at):
                changes: dict[str, Any] = {}
                if alert.level is not None and alert.level > ticket.escalation_level:
                    changes["escalation_level"] = alert.level
                ticket = self._record(
                    uow,
                    ticket,
                    _ALERT_EVENTS[alert.kind],
                    SYSTEM_ACTOR,
                    at,
                    changes,
                    status=ticket.status,
                    data=alert.event_data(),
                    clock=clock,
                )
            if ticket.version != listed.version:
                recorded = [e for e in uow.events.for_ticket(ticket.id) if e.seq > listed.version]
            uow.commit()
        return recorded

    # -- internals ---------------------------------------------------------------------

    def _permit(
        self,
        uow: UnitOfWork,
        action: DeskAction,
        actor: str,
        ticket: Ticket | None = None,
        *,
        by_actor: bool = False,
    ) -> None:
        """Refuse with ``PermissionDenied`` unless ``actor`` may take ``action`` on ``ticket``.

        An ``agent_id=`` argument (``by_actor`` false) must name an agent (``AgentNotFound``
        otherwise); an ``actor=`` argument may also be the system or the ticket's customer,
        and anyone else is refused. The table is ``supportflow.roles.PERMISSIONS``.
        """
        rule = PERMISSIONS[action]
        if not by_actor:
            agent = uow.agents.get(actor)
        elif actor == SYSTEM_ACTOR:
            if rule.system:
                return
            raise PermissionDenied(actor, action.value, f"only {rule.describe()} may")
        else:
            found = self._agent_or_none(uow, actor)
            if found is None:
                if ticket is None or not customer_actor(actor, ticket):
                    raise PermissionDenied(
                        actor,
                        action.value,
                        "not an agent of this desk, the system or the ticket's customer",
                    )
                if rule.customer:
                    return
                raise PermissionDenied(
                    actor, action.value, f"only {rule.describe()} may, not the customer"
                )
            agent = found
        if agent.role in rule.roles:
            return
        if ticket is None:
            require(action, agent, actor=actor)
            return
        if (
            ticket.assignee_id == agent.id
            and Relation.ASSIGNEE in rule.relations
            and agent.role in WORKING_ROLES
        ):
            return  # the common case, decided without reading the team
        team = None if ticket.team_id is None else self._team_or_none(uow, ticket.team_id)
        require(action, agent, relations_of(agent, ticket, team), actor=actor)

    def _simple(
        self,
        ticket_id: str,
        agent_id: str,
        command: LifecycleEvent,
        event_type: EventType,
        changes: Mapping[str, Any],
        *,
        reason: tuple[str, str] | None = None,
        resolution: tuple[str, str] | None = None,
        stamp: str | None = None,
        action: DeskAction,
    ) -> Ticket:
        ticket_id = check.object_id("ticket_id", ticket_id)
        agent_id = check.object_id("agent_id", agent_id)
        data: dict[str, Any] = {}
        update = dict(changes)
        if reason is not None:
            data["reason"] = check.text(
                reason[0], reason[1], required=True, limit=MAX_SUBJECT_CHARS * 4
            )
        if resolution is not None:
            update["resolution"] = check.text(resolution[0], resolution[1], required=True)
        now = self._now()
        if stamp is not None:
            update[stamp] = now
        with self._unit() as uow:
            ticket = uow.tickets.get(ticket_id)
            status = next_status(ticket.id, ticket.status, command)
            self._permit(uow, action, agent_id, ticket)
            updated = self._record(
                uow, ticket, event_type, agent_id, now, update, status=status, data=data
            )
            uow.commit()
        return updated

    def _record(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        event_type: EventType,
        actor: str,
        now: datetime,
        changes: Mapping[str, Any],
        *,
        status: TicketStatus,
        data: Mapping[str, Any] | None = None,
        clock: SlaClock | None = None,
    ) -> Ticket:
        """Write the ticket's next version and the one event that produced it.

        With an SLA policy the event also advances the ticket's clock (``clock`` when the
        caller already holds it), and the due times it stamps travel in the same event.
        """
        version = ticket.version + 1
        update = dict(changes)
        if status is not ticket.status:
            update["status"] = status
        update["updated_at"] = now
        update["version"] = version
        extra = {} if not data else {k: json_value(v) for k, v in data.items()}
        event = self._event(ticket.id, version, event_type, now, actor, update, extra)
        if self._sla_policy is not None:
            if clock is None:
                clock = self._clock_for(uow, ticket)
            clock.apply(event)
            stamps = self._stamps(clock)
            changed = {k: v for k, v in stamps.items() if getattr(ticket, k) != v}
            if changed:
                update.update(changed)
                event = self._event(ticket.id, version, event_type, now, actor, update, extra)
            self._stage(ticket.id, version, clock)
        updated = evolve(ticket, update)
        uow.tickets.update(updated)
        uow.events.append((event,))
        self._stage_ticket(updated)
        return updated

    @staticmethod
    def _event(
        ticket_id: str,
        seq: int,
        event_type: EventType,
        at: datetime,
        actor: str,
        update: Mapping[str, Any],
        extra: Mapping[str, Any],
    ) -> TicketEvent:
        return assemble(
            TicketEvent,
            {
                "id": event_id(ticket_id, seq),
                "ticket_id": ticket_id,
                "seq": seq,
                "type": event_type.value,
                "at": at,
                "actor": actor,
                "data": {"changes": json_changes(update), **extra},
            },
        )

    # -- SLA clocks --------------------------------------------------------------------

    def _unit(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work on the store; the caches learn what it changed once it commits."""
        return self._tracked_unit()

    @contextmanager
    def _tracked_unit(self) -> Iterator[UnitOfWork]:
        staged = _Staged()
        token = _STAGED.set(staged)
        try:
            with self._store.unit_of_work(self._tenant_id) as uow:
                yield uow
        except BaseException:
            if staged.tickets or staged.agents:
                self._drop_pool()  # the index may have seen writes that did not land
            raise
        finally:
            _STAGED.reset(token)
        for ticket_id, version, clock in staged.clocks:
            self._cache(ticket_id, version, clock)
        if staged.tickets or staged.agents:
            with self._pool_lock:
                pool = self._pool
                if pool is not None:
                    for agent in staged.agents:
                        pool.put_agent(agent)
                    for ticket in staged.tickets:
                        pool.track(ticket)

    def _stage(self, ticket_id: str, version: int, clock: SlaClock) -> None:
        staged = _STAGED.get()
        if staged is not None:
            staged.clocks.append((ticket_id, version, clock))

    def _stage_ticket(self, ticket: Ticket) -> None:
        staged = _STAGED.get()
        if staged is not None:
            staged.tickets.append(ticket)

    def _stage_agent(self, agent: Agent) -> None:
        staged = _STAGED.get()
        if staged is not None:
            staged.agents.append(agent)

    def _cache(self, ticket_id: str, version: int, clock: SlaClock) -> None:
        with self._clocks_lock:
            self._clocks[ticket_id] = (version, clock)
            self._clocks.move_to_end(ticket_id)
            while len(self._clocks) > _CLOCK_CACHE_SIZE:
                self._clocks.popitem(last=False)

    def _clock_for(self, uow: UnitOfWork, ticket: Ticket) -> SlaClock:
        """A private copy of the ticket's clock at its stored version.

        Cached by ``(ticket, version)`` after a commit of this desk, else replayed from the
        ticket's events (committed data, so also cached). The customer's tier is read
        fresh, so a change of tier retargets the ticket's next change.
        """
        policy = self._require_policy()
        tier = uow.customers.get(ticket.customer_id).tier
        with self._clocks_lock:
            cached = self._clocks.get(ticket.id)
        if cached is not None and cached[0] == ticket.version and cached[1].policy is policy:
            clock = cached[1].copy()
        else:
            clock = SlaClock.replay(policy, uow.events.for_ticket(ticket.id), tier=tier)
            self._cache(ticket.id, ticket.version, clock.copy())
        clock.tier = tier
        return clock

    @staticmethod
    def _stamps(clock: SlaClock) -> dict[str, datetime | None]:
        deadlines, next_alert_at = clock.schedule()
        stamps: dict[str, datetime | None] = dict.fromkeys(_DUE_FIELDS.values())
        for deadline in deadlines:
            stamps[_DUE_FIELDS[deadline.metric]] = deadline.due_at
        stamps["sla_check_at"] = next_alert_at
        return stamps

    def _stamped_new(self, ticket: Ticket, tier: CustomerTier) -> Ticket:
        """A new ticket with its first due times, its clock staged for the cache."""
        if self._sla_policy is None:
            return ticket
        clock = SlaClock(self._sla_policy, tier=tier)
        clock.apply(self._created_event(ticket, tier))
        stamped = evolve(ticket, self._stamps(clock))
        self._stage(ticket.id, ticket.version, clock)
        return stamped

    def _open_tickets(self, uow: UnitOfWork) -> list[Ticket]:
        found: list[Ticket] = []
        for status in _CLOCK_STATUSES:
            found.extend(uow.tickets.list(status=status))
        return found

    def _require_policy(self) -> SlaPolicy:
        if self._sla_policy is None:
            raise ValidationFailed("sla_policy", "the desk has no SLA policy")
        return self._sla_policy

    def _message(
        self,
        ticket: Ticket,
        kind: AuthorKind,
        author_id: str,
        body: str,
        now: datetime,
        *,
        internal: bool = False,
        message_id: str | None = None,
    ) -> Message:
        return assemble(
            Message,
            {
                "id": message_id if message_id is not None else self._new_id(),
                "ticket_id": ticket.id,
                "author_kind": kind,
                "author_id": author_id,
                "body": body,
                "internal": internal,
                "created_at": now,
            },
        )

    @staticmethod
    def _first_response(ticket: Ticket, now: datetime) -> dict[str, Any]:
        return {} if ticket.first_response_at is not None else {"first_response_at": now}

    def _reopen_expired(self, ticket: Ticket, now: datetime) -> bool:
        return (
            ticket.status is TicketStatus.RESOLVED
            and ticket.resolved_at is not None
            and now - ticket.resolved_at > self.settings.reopen_window
        )

    def _now(self) -> datetime:
        return check.aware("clock", self._clock.now())


def _collaborator(field: str, value: object, method: str) -> None:
    """Refuse at construction an injected object that lacks the method its protocol needs."""
    if value is not None and not callable(getattr(value, method, None)):
        raise ValidationFailed(
            field, f"must have a {method}() method ({type(value).__name__} has none)"
        )


def _as_model(field: str, model: type[_M], value: object, *, prefixed: bool = True) -> _M:
    """``value`` as a ``model``: the model itself, or a mapping of its fields validated.

    An error names ``field.<the model's field>``, or the model's field alone without
    ``prefixed`` (for a model built from a call's own arguments).
    """
    if isinstance(value, model):
        return value
    if not isinstance(value, Mapping):
        raise ValidationFailed(field, f"must be a {model.__name__} or a mapping of its fields")
    try:
        return model.model_validate(value)
    except ValidationFailed as exc:
        if not prefixed:
            raise
        raise exc.prefixed(field) from None


def _customer_event(
    customer_id: str, seq: int, kind: str, at: datetime, actor: str, data: Mapping[str, Any]
) -> CustomerEvent:
    return CustomerEvent(
        id=event_id(customer_id, seq),
        customer_id=customer_id,
        seq=seq,
        type=kind,
        at=at,
        actor=actor,
        data=dict(data),
    )


def _override_of(events: Iterable[CustomerEvent]) -> TierOverride | None:
    """The latest override set in a customer's events (expired or not), if any."""
    found: TierOverride | None = None
    for event in events:
        if event.type == "customer.tier_override_set":
            found = TierOverride.model_validate(event.data["override"])
        elif event.type == "customer.tier_override_cleared":
            found = None
    return found


def _answer_context(uow: UnitOfWork, ticket: Ticket, request: SurveyRequest) -> dict[str, Any]:
    """Who and what a survey answer is about, so analytics can group it without the ticket.

    The resolving team and agent (from the survey), the ticket's channel and category, and
    the customer's tier when the answer came.
    """
    return {
        "customer_id": request.customer_id,
        "team_id": request.team_id,
        "agent_id": request.agent_id,
        "channel": ticket.channel.value,
        "category": ticket.category,
        "customer_tier": uow.customers.get(ticket.customer_id).tier.value,
    }


def _survey_of(
    events: Iterable[TicketEvent], wanted: str
) -> tuple[SurveyRequest, SurveyResponse | None]:
    """The survey ``wanted`` asked in a ticket's events, and the answer stored for it."""
    request: SurveyRequest | None = None
    answer: SurveyResponse | None = None
    for event in events:
        if event.type == EventType.SURVEY_REQUESTED:
            survey = event.data.get("survey")
            if isinstance(survey, Mapping) and survey.get("id") == wanted:
                request = SurveyRequest.model_validate(survey)
        elif event.type == EventType.SURVEY_ANSWERED:
            response = event.data.get("response")
            if isinstance(response, Mapping) and response.get("survey_id") == wanted:
                answer = SurveyResponse.model_validate(response)
    if request is None:
        raise ValidationFailed("survey_id", f"no survey {wanted!r}")
    return request, answer


def _lead_of(uow: UnitOfWork, team_id: str) -> str | None:
    """The lead of the team, or ``None`` when the team has none or no longer exists."""
    try:
        return uow.teams.get(team_id).lead_id
    except TeamNotFound:
        return None


def _random_id() -> str:
    """128 random bits as 32 hex digits (the shape of a UUID4 hex, at a fifth of the cost)."""
    return os.urandom(16).hex()


def _decision_data(decision: Decision, *, given: Mapping[str, Any]) -> dict[str, Any]:
    """Event data for an assignment: the decision's reason and strategy beside ``given``."""
    data = dict(given)
    data["reason" if "reason" not in data else "routing_reason"] = decision.reason
    if decision.strategy:
        data["strategy"] = decision.strategy
    return data


def _classification_data(result: Classification) -> dict[str, Any]:
    """What the classifier concluded, for the ticket's created event."""
    return {
        "category": result.category,
        "confidence": result.confidence,
        "labels": [[label, confidence] for label, confidence in result.labels],
        "needs_triage": result.needs_triage,
        "source": result.source,
        "evidence": list(result.evidence),
    }


def _recent_agents(uow: UnitOfWork, ticket: Ticket) -> list[RecentAgent]:
    """The agents of the customer's other tickets, most recently updated first."""
    others = [
        t
        for t in uow.tickets.list(customer_id=ticket.customer_id)
        if t.id != ticket.id and t.assignee_id is not None
    ]
    others.sort(key=lambda t: (t.updated_at, t.id), reverse=True)
    return [RecentAgent(t.assignee_id or "", t.id, t.updated_at) for t in others]


class _TeamsOf(Mapping[str, Team]):
    """The tenant's teams, read from the unit of work on first use."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._teams: dict[str, Team] | None = None

    def _all(self) -> dict[str, Team]:
        if self._teams is None:
            self._teams = {team.id: team for team in self._uow.teams.list()}
        return self._teams

    def __getitem__(self, team_id: str) -> Team:
        return self._all()[team_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())
