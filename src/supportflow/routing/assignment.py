"""What an assignment strategy is given and what it answers.

A strategy sees the ticket (with its customer, team and the customer's recent agents, in
a :class:`RoutingRequest`) and the desk's agents with their current load (an
:class:`~supportflow.routing.pool.AgentPool`), and answers a :class:`Decision`: an agent,
or the queue, with the reason in words an agent or a lead can check ("skill billing ✓,
load 3/8, VIP → account manager"). Strategies are pure: the desk stores the decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from ..models import Agent, AgentStatus, Channel, Customer, Team, Ticket
from ..tiering import Entitlements

if TYPE_CHECKING:
    from .pool import AgentPool

__all__ = [
    "AssignmentStrategy",
    "Candidate",
    "Decision",
    "Filter",
    "RecentAgent",
    "RoutingRequest",
]


@attrs.frozen(slots=True)
class Candidate:
    """An agent with the load they carry now.

    ``open`` counts their open tickets and ``weighted`` the same tickets weighted by
    priority (an urgent ticket weighs more than a low one); ``by_channel`` counts their
    open tickets per channel.
    """

    agent: Agent
    open: int = 0
    weighted: float = 0.0
    by_channel: Mapping[Channel, int] = attrs.field(factory=dict)

    @property
    def id(self) -> str:
        """The agent's id."""
        return self.agent.id

    @property
    def has_room(self) -> bool:
        """Whether the agent is below capacity."""
        return self.open < self.agent.capacity

    def has_room_on(self, channel: Channel) -> bool:
        """Whether the agent is below both capacity and their limit for ``channel``."""
        limit = self.agent.channel_capacity.get(channel)
        return self.has_room and (limit is None or self.by_channel.get(channel, 0) < limit)

    @property
    def online(self) -> bool:
        """Whether the agent is not offline."""
        return self.agent.status is not AgentStatus.OFFLINE

    @property
    def load_text(self) -> str:
        """``"load 3/8"``: open tickets over capacity, for explanations."""
        return f"load {self.open}/{self.agent.capacity}"


@attrs.frozen(slots=True)
class RecentAgent:
    """An agent who worked one of the customer's earlier tickets."""

    agent_id: str
    ticket_id: str
    at: datetime


def _no_cursor(name: str) -> str | None:
    return None


@attrs.frozen(slots=True)
class RoutingRequest:
    """The ticket to route and what the desk knows around it.

    ``recent_agents`` lists the agents of the customer's earlier tickets, newest first
    (read only when a strategy asks, as sticky routing does). ``cursor`` reads a named
    position persisted in storage (round-robin keeps its place per team there).
    ``teams`` holds the tenant's teams by id, for escalation routing to follow;
    ``escalating`` says this decision hands over an escalation (``escalate(route=True)``),
    the one moment a ticket may move up to its team's escalation team.
    ``entitlements`` is what the customer's tier is entitled to under the desk's table
    (``SupportDesk(entitlements=...)``), so the SLA and routing read one table; ``None``
    outside a desk, where a step falls back to its own table.
    """

    ticket: Ticket
    now: datetime
    customer: Customer | None = None
    entitlements: Entitlements | None = None
    teams: Mapping[str, Team] = attrs.field(factory=dict)
    escalating: bool = False
    recent: Callable[[], Sequence[RecentAgent]] = attrs.field(default=tuple, repr=False)
    cursor: Callable[[str], str | None] = attrs.field(default=_no_cursor, repr=False)

    @property
    def recent_agents(self) -> Sequence[RecentAgent]:
        """The customer's recent agents, newest first."""
        return self.recent()


@attrs.frozen(slots=True)
class Decision:
    """A strategy's answer: an agent, or the queue; always with the reason.

    ``reason`` is one line made of the steps that led here, e.g.
    ``"VIP → account manager, skill billing ✓, load 3/8"`` or
    ``"queued: no agent in team billing with skill refunds has room"``. ``cursor`` is a
    named position the desk persists with the assignment (round-robin's place).
    ``team_id`` is set when the ticket moves to another team (escalation routing).
    """

    agent_id: str | None
    reason: str
    strategy: str = ""
    cursor: tuple[str, str] | None = None
    team_id: str | None = None

    @property
    def queued(self) -> bool:
        """Whether the ticket waits in the queue."""
        return self.agent_id is None

    def as_data(self) -> dict[str, str]:
        """The decision as event data: reason and strategy."""
        data = {"reason": self.reason}
        if self.strategy:
            data["strategy"] = self.strategy
        return data


@runtime_checkable
class AssignmentStrategy(Protocol):
    """Picks the agent for a ticket, or queues it, and says why.

    Contract: return a :class:`Decision` naming an agent of ``pool`` who is online and
    has room (the desk checks, and refuses anything else), or a queued decision. Be
    deterministic for the same request and pool. ``Pipeline`` builds strategies from
    filters and an order; a strategy of your own can be as small as this::

        class FewestOpen:
            def decide(self, request: RoutingRequest, pool: AgentPool) -> Decision:
                best = min(
                    (c for c in pool if c.online and c.has_room),
                    key=lambda c: (c.open, c.id),
                    default=None,
                )
                if best is None:
                    return Decision(None, "queued: nobody has room")
                return Decision(best.id, best.load_text)
    """

    def decide(self, request: RoutingRequest, pool: AgentPool) -> Decision:
        """The decision for ``request.ticket``."""
        ...


@runtime_checkable
class Filter(Protocol):
    """A pipeline step that admits or refuses a candidate.

    ``describe`` says what the filter asks of this ticket (``"skill billing"``), or
    ``None`` when it asks nothing of it; the pipeline's reason marks it ``✓`` on the
    chosen agent and names it when nobody passes. A filter may also have
    ``tags(request) -> frozenset[str]``: the agent tags (``team:<id>``, ``skill:<s>``,
    ``lang:<code>``, ``senior``) every admitted agent carries, which lets the pool look
    the candidates up in an index instead of checking every agent.
    """

    def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
        """Whether ``candidate`` may take ``request.ticket``."""
        ...

    def describe(self, request: RoutingRequest) -> str | None:
        """What this filter requires of the ticket's agent, in a few words."""
        ...
