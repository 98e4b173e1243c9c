"""A host-written assignment strategy: give each ticket to someone who speaks its language.

``SupportDesk`` asks its assignment strategy whenever ``assign`` is called without an agent.
A strategy is any object with a ``decide(request, pool)`` method returning a ``Decision``
(the ``supportflow.AssignmentStrategy`` protocol). This one composes two shipped pipelines:
agents who speak the ticket's language (both ``zh`` and ``en`` for a mixed ticket), and when
nobody does, the default least-loaded pick rather than a ticket left waiting.

Run it with ``python examples/custom_assignment.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from supportflow import (
    Agent,
    AgentPool,
    AgentStatus,
    AssignmentStrategy,
    Customer,
    Decision,
    MemoryStore,
    Pipeline,
    RoutingRequest,
    SupportDesk,
    Team,
    Ticket,
)
from supportflow.routing import Availability, LanguageMatch, WithinCapacity, default_strategy
from supportflow.testing import FixedClock


def can_read(agent: Agent, ticket: Ticket) -> bool:
    """Whether ``agent`` speaks the ticket's language (both ``zh`` and ``en`` for ``mixed``)."""
    wanted = {"zh", "en"} if ticket.language == "mixed" else {ticket.language or "en"}
    return wanted <= set(agent.languages)


class SpeaksTheLanguage:
    """The least-loaded agent who speaks the ticket's language, else the least loaded.

    Both steps are pipelines, so the choice is deterministic and each decision says why
    ("language zh ✓, ..., load 1/10" or "nobody speaks zh; ...").
    """

    def __init__(self) -> None:
        self.speakers = Pipeline(
            (LanguageMatch(), Availability(), WithinCapacity()), name="speaks-the-language"
        )
        self.anyone = default_strategy()

    def decide(self, request: RoutingRequest, pool: AgentPool) -> Decision:
        decision = self.speakers.decide(request, pool)
        if decision.agent_id is not None:
            return decision
        fallback = self.anyone.decide(request, pool)
        language = request.ticket.language
        return Decision(
            fallback.agent_id, f"nobody speaks {language}; {fallback.reason}", self.speakers.name
        )


AGENTS = (
    Agent(id="ana", name="Ana Lima", teams=("support",), languages=("en",)),
    Agent(id="li", name="李娜 Li Na", teams=("support",), languages=("zh",)),
    Agent(id="wei", name="王伟 Wang Wei", teams=("support",), languages=("zh", "en")),
    Agent(id="tom", name="Tom Berg", teams=("support",), languages=("en",), capacity=2),
)

REQUESTS = (
    ("chat", "如何修改绑定手机号？"),
    ("email", "Please add two seats to our plan."),
    ("web_form", "API 接口返回 401，token 刚刚更新过"),
    ("chat", "The export button 不能用了, please help"),
    ("portal", "试用版能升级到专业版吗？"),
    ("email", "Where is the invoice for March?"),
    ("phone", "发票抬头错误，需要重开发票"),
)
"""(channel, text) of the morning's requests, in arrival order."""


def run(strategy: AssignmentStrategy) -> list[tuple[Ticket, Agent]]:
    """A fresh desk using ``strategy``: take in every request and assign it."""
    desk = SupportDesk(
        MemoryStore(),
        clock=FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        assignment=strategy,
    )
    desk.add_team(Team(id="support", name="Support"))
    for agent in AGENTS:
        desk.add_agent(agent)
    desk.set_agent_status("wei", AgentStatus.AWAY)  # in a meeting: used only if needed
    desk.add_customer(Customer(id="acme", name="Acme Logistics"))
    assigned = []
    for channel, text in REQUESTS:
        ticket = desk.intake(channel=channel, customer_id="acme", body=text)
        ticket = desk.assign(ticket.id)
        assigned.append((ticket, desk.get_agent(ticket.assignee_id or "")))
    return assigned


def main() -> None:
    """Assign the same morning with the default strategy and with the custom one."""
    default = run(default_strategy())
    custom = run(SpeaksTheLanguage())
    print(f"{'language':9} {'least loaded (default)':24} {'speaks the language':22} request")
    for (ticket, before), (_, after) in zip(default, custom, strict=True):
        print(f"{ticket.language or '?':9} {before.id:24} {after.id:22} {ticket.subject}")
    unread = [sum(not can_read(a, t) for t, a in picks) for picks in (default, custom)]
    print(
        f"\nTickets given to someone who cannot read them: default {unread[0]}, custom {unread[1]}"
    )


if __name__ == "__main__":
    main()
