"""One valid call of every public SupportDesk method, on a shared world.

``tests/test_desk_bad_input.py`` spoils one argument at a time and expects a named error;
``tests/fuzz/test_fuzz_desk.py`` puts hostile values in them. Both start from this table,
so a new desk method is added here once. ``stored_rows`` reads what a call could change,
for the suites that check a refused call changed nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from supportflow import Store, TicketStatus
from supportflow.sla import CalendarSpec, default_policy
from supportflow.tiering import TierPolicy

S = TicketStatus
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = default_policy(
    CalendarSpec.model_validate(
        {"weekly": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}}
    )
)
"""The desk under test runs SLA clocks, so every call also exercises their bookkeeping."""
ARTICLES = [
    {
        "id": "kb-router",
        "title": "Router keeps dropping the connection",
        "body": "Restart the router, then update its firmware.",
        "status": "published",
    },
    {"id": "kb-draft", "title": "Router firmware notes", "status": "draft"},
]
"""The world's knowledge base: one published article the tickets' text finds, one draft."""


class T:
    """A placeholder for the id of a ticket in ``status``, filled in per test."""

    def __init__(self, status: TicketStatus) -> None:
        self.status = status

    def __repr__(self) -> str:
        return f"T({self.status.value})"


class Survey(T):
    """A placeholder for the survey id of the first resolution of a ticket in ``status``."""

    def __repr__(self) -> str:
        return f"Survey({self.status.value})"


VALID: dict[str, dict[str, Any]] = {
    "intake": {
        "channel": "email",
        "customer_id": "c-reg",
        "body": "Printer offline",
        "subject": "",
        "external_id": None,
        "priority": None,
        "category": None,
        "team_id": None,
        "tags": (),
        "language": None,
        "received_at": None,
    },
    "assign": {"ticket_id": T(S.NEW), "agent_id": "a-bob", "actor": "a-lead"},
    "take_next": {"agent_id": "a-bob"},
    "acknowledge": {"ticket_id": T(S.ASSIGNED), "agent_id": "a-bob"},
    "reply": {
        "ticket_id": T(S.IN_PROGRESS),
        "agent_id": "a-bob",
        "body": "Restart it",
        "internal": False,
    },
    "request_info": {"ticket_id": T(S.IN_PROGRESS), "agent_id": "a-bob", "body": "Model?"},
    "customer_replied": {
        "ticket_id": T(S.WAITING_ON_CUSTOMER),
        "body": "X200",
        "message_id": None,
    },
    "hold": {"ticket_id": T(S.IN_PROGRESS), "agent_id": "a-bob", "reason": "spare part"},
    "release": {"ticket_id": T(S.ON_HOLD), "agent_id": "a-bob"},
    "escalate": {
        "ticket_id": T(S.IN_PROGRESS),
        "actor": "a-bob",
        "reason": "needs a senior",
        "to_agent_id": None,
        "to_team_id": None,
        "route": False,
    },
    "resolve": {"ticket_id": T(S.IN_PROGRESS), "agent_id": "a-bob", "resolution": "Fixed"},
    "close": {"ticket_id": T(S.RESOLVED), "actor": "a-bob"},
    "reopen": {"ticket_id": T(S.RESOLVED), "actor": "c-reg", "reason": "still broken"},
    "run_due_jobs": {"now": None},
    "queue": {},
    "get_ticket": {"ticket_id": T(S.NEW)},
    "history": {"ticket_id": T(S.NEW)},
    "messages": {"ticket_id": T(S.NEW)},
    "deadlines": {"ticket_id": T(S.NEW)},
    "sla": {"ticket_id": T(S.IN_PROGRESS), "at": None},
    "explain_sla": {"ticket_id": T(S.NEW)},
    "what_if": {"policy": POLICY, "at": None},
    "monthly_report": {
        "month": "2026-03",
        "timezone": "UTC",
        "goals": None,
        "calendar": None,
        "group_by": ("team", "tier"),
        "surge_settings": None,
    },
    "set_sla_policy": {"policy": POLICY},
    "override_sla_target": {
        "ticket_id": T(S.IN_PROGRESS),
        "metric": "resolution",
        "within": timedelta(hours=4),
        "actor": "a-lead",
        "reason": "promised to the customer",
        "calendar": None,
    },
    "find_by_external_id": {"channel": "email", "external_id": "msg-1"},
    "list_tickets": {"status": None, "assignee_id": None, "customer_id": None},
    "get_customer": {"customer_id": "c-reg"},
    "get_agent": {"agent_id": "a-bob"},
    "set_agent_status": {"agent_id": "a-bob", "status": "away"},
    "add_customer": {"customer": {"id": "c-new", "name": "New"}},
    "add_team": {"team": {"id": "t-new", "name": "New"}},
    "add_agent": {"agent": {"id": "a-new", "name": "New", "teams": ["t-support"]}},
    "suggest_articles": {"ticket_id": T(S.IN_PROGRESS), "limit": 5, "actor": "a-bob"},
    "mark_solved": {"ticket_id": T(S.IN_PROGRESS), "article_id": "kb-router", "agent_id": "a-bob"},
    "recompute_tier": {"customer_id": "c-reg", "facts": None, "policy": TierPolicy()},
    "set_tier_override": {
        "customer_id": "c-reg",
        "override": {
            "tier": "vip",
            "reason": "strategic account",
            "set_by": "a-lead",
            "expires_at": START + timedelta(days=30),
        },
        "actor": "a-lead",
    },
    "submit_feedback": {
        "survey_id": Survey(S.RESOLVED),
        "csat": 5,
        "nps": None,
        "comment": "",
        "channel": None,
    },
}


def stored_rows(store: Store, tenant_id: str) -> Any:
    """Every row of a tenant a desk call could change, read straight from the store."""
    with store.unit_of_work(tenant_id) as uow:
        return {
            "tickets": {
                t.id: (t, uow.events.for_ticket(t.id), uow.messages.for_ticket(t.id))
                for t in uow.tickets.list()
            },
            "customers": {
                c.id: (c, uow.customer_events.for_customer(c.id)) for c in uow.customers.list()
            },
            "agents": uow.agents.list(),
            "teams": uow.teams.list(),
            "articles": {a.id: (a, uow.articles.revisions(a.id)) for a in uow.articles.list()},
        }
