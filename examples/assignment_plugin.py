"""A host's assignment plugin: complaints go to seniors, registered by name and used by a desk.

The plugin is a pipeline filter (``admits`` and ``describe``) put into a ``Pipeline`` with
the shipped filters by a factory. The factory is registered under a name, so the host's
settings can say ``assignment = "complaints-to-seniors"``; a package would publish the
same factory as an entry point instead (see docs/plugins.md). Every decision's reason is
in the ticket's history, on its ``ticket.assigned`` or ``ticket.queued`` event.

Run it with ``python examples/assignment_plugin.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from supportflow import Agent, AgentRole, Customer, EventType, MemoryStore, SupportDesk
from supportflow.routing import (
    Availability,
    Candidate,
    LanguageMatch,
    Pipeline,
    RoutingRequest,
    WithinCapacity,
    registry,
)
from supportflow.sla import BusinessCalendar
from supportflow.testing import FixedClock


class SeniorsTakeComplaints:
    """A complaint goes to a senior or a lead; any other ticket to anyone."""

    def admits(self, candidate: Candidate, request: RoutingRequest) -> bool:
        complaint = request.ticket.complaint_category is not None
        return not complaint or candidate.agent.role in (AgentRole.SENIOR, AgentRole.LEAD)

    def describe(self, request: RoutingRequest) -> str | None:
        return "senior for a complaint" if request.ticket.complaint_category else None


def complaints_to_seniors(calendars: Mapping[str, BusinessCalendar] | None = None) -> Pipeline:
    """The complaint rule plus language, shift and room; the least loaded first."""
    return Pipeline(
        [SeniorsTakeComplaints(), LanguageMatch(), Availability(calendars), WithinCapacity()],
        name="complaints-to-seniors",
    )


registry.register_assignment("complaints-to-seniors", complaints_to_seniors)

AGENTS = (
    Agent(id="ana", name="Ana Lima", languages=("en",)),
    Agent(id="li", name="李娜 Li Na", languages=("zh",)),
    Agent(
        id="mei", name="周梅 Zhou Mei", languages=("zh", "en"), role=AgentRole.SENIOR, capacity=2
    ),
    Agent(id="sam", name="Sam Okafor", languages=("en",), role=AgentRole.LEAD, capacity=1),
)

REQUESTS = (
    ("email", "Where is the invoice for March?"),
    ("chat", "I asked for a refund and your agent was rude to me"),
    ("chat", "如何修改绑定手机号？"),
    ("web_form", "投诉：客服态度太差，一直没人回复"),
    ("email", "This is unacceptable, the app crashed again during checkout"),
    ("phone", "Terrible service, I want to complain about the delivery"),
    ("email", "Can I add two more seats to our plan?"),
)
"""(channel, text) of the morning's requests, in arrival order."""

ROUTING_EVENTS = (EventType.ASSIGNED, EventType.QUEUED)


def main() -> None:
    """Take in the morning's requests with the plugin picked by name; show who got what."""
    desk = SupportDesk(
        MemoryStore(),
        clock=FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        classifier=registry.classifier("keywords"),
        assignment=registry.assignment("complaints-to-seniors"),
        auto_assign=True,
    )
    for agent in AGENTS:
        desk.add_agent(agent)
    desk.add_customer(Customer(id="acme", name="Acme Logistics"))
    complaints: list[str | None] = []
    for channel, text in REQUESTS:
        ticket = desk.intake(channel=channel, customer_id="acme", body=text)
        if ticket.complaint_category is not None:
            complaints.append(ticket.assignee_id)
        routed = [e for e in desk.history(ticket.id) if e.type in ROUTING_EVENTS][-1]
        complaint = ticket.complaint_category.value if ticket.complaint_category else "-"
        print(f"{ticket.assignee_id or '(queue)':8} {complaint:19} {text}")
        print(f"{'':8} {routed.data['reason']}")
    seniors = {a.id for a in AGENTS if a.role in (AgentRole.SENIOR, AgentRole.LEAD)}
    print(
        f"\n{len(complaints)} complaints: {sum(a in seniors for a in complaints)} to seniors, "
        f"{complaints.count(None)} queued, "
        f"{sum(a not in seniors for a in complaints if a)} to anyone else"
    )


if __name__ == "__main__":
    main()
