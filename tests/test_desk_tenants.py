"""Tenant isolation at the desk: tenant A's calls never read or change tenant B's data.

Two desks share one store (memory, SQLite and PostgreSQL); both tenants hold the same ids (teams,
agents, customers, tickets, messages, articles), and B holds some ids A lacks. Every public
desk call of A, and the knowledge-base calls, run on A; B's stored state stays exactly as
it was, and naming B's own ids from A raises a ``NotFound``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest

from desk_calls import ARTICLES, POLICY, START, VALID, S, Survey, T, stored_rows
from supportflow import (
    AgentNotFound,
    ArticleNotFound,
    CustomerNotFound,
    NotFound,
    Store,
    SupportDesk,
    SupportflowError,
    Team,
    TeamNotFound,
    TicketNotFound,
)
from supportflow.testing import FixedClock
from supportflow.tiering import TierPolicy

STATUSES = (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.ON_HOLD, S.RESOLVED)
KB_CALLS: dict[str, dict[str, Any]] = {
    "get": {"article_id": "kb-router"},
    "revisions": {"article_id": "kb-router"},
    "list": {},
    "search": {"query": "router firmware"},
    "edit": {"article_id": "kb-router", "changes": {"body": "A's body"}, "editor_id": "a-sue"},
    "vote": {"article_id": "kb-router", "helpful": False},
    "submit_for_review": {"article_id": "kb-draft", "editor_id": "a-sue"},
    "create": {"article": {"id": "kb-a", "title": "A only", "body": "x"}, "editor_id": "a-sue"},
    "archive": {"article_id": "kb-router", "editor_id": "a-sue"},
    "stale_report": {},
    "rebuild_index": {},
}


class Tenant:
    """A populated desk of one tenant with one ticket per status; ids made by a counter."""

    def __init__(
        self,
        store: Store,
        tenant_id: str,
        populate: Callable[[SupportDesk], None],
        new_ticket: Callable[..., Any],
    ) -> None:
        numbers = count(1)
        self.prefix = "id"
        self.desk = SupportDesk(
            store,
            tenant_id=tenant_id,
            clock=FixedClock(START),
            sla_policy=POLICY,
            new_id=lambda: f"{self.prefix}-{next(numbers)}",
        )
        populate(self.desk)
        for article in ARTICLES:
            self.desk.kb.create(article, editor_id="a-sue")
        self.tickets = {status: new_ticket(self.desk, status).id for status in STATUSES}

    def filled(self, value: Any) -> Any:
        if isinstance(value, Survey):
            return f"{self.tickets[value.status]}/survey/1"
        if isinstance(value, T):
            return self.tickets[value.status]
        return value


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Iterator[Store]:
    """One store of each shipped kind (memory, SQLite, PostgreSQL), shared by both tenants."""
    made: Store = store_factory()
    yield made
    made.close()


@pytest.fixture
def tenants(
    store: Store, populate: Callable[[SupportDesk], None], new_ticket: Callable[..., Any]
) -> tuple[Tenant, Tenant]:
    """Tenants A and B on one store, with the same ids; B also has ids of its own."""
    a = Tenant(store, "tenant-a", populate, new_ticket)
    b = Tenant(store, "tenant-b", populate, new_ticket)
    assert a.tickets == b.tickets  # the same ids in both tenants
    b.prefix = "b-only"
    b.desk.add_team(Team(id="t-b-only", name="B's own team"))
    b.desk.add_agent({"id": "a-b-only", "name": "B's agent", "teams": ["t-b-only"]})
    b.desk.add_customer({"id": "c-b-only", "name": "B's customer"})
    b.desk.kb.create(
        {"id": "kb-b-only", "title": "Zebra crossing guide", "body": "Only B knows zebras."},
        editor_id="a-sue",
    )
    b.tickets[S.CLOSED] = b.desk.intake(channel="chat", customer_id="c-b-only", body="Zebra?").id
    return a, b


def test_every_desk_call_of_a_leaves_b_as_it_was(tenants: tuple[Tenant, Tenant]) -> None:
    a, _b = tenants
    store = a.desk._store
    before_b = stored_rows(store, "tenant-b")
    before_a = stored_rows(store, "tenant-a")
    for method, args in sorted(VALID.items()):
        # A call the world's state refuses still must not touch B.
        with contextlib.suppress(SupportflowError):
            getattr(a.desk, method)(**{k: a.filled(v) for k, v in args.items()})
    for method, args in KB_CALLS.items():
        getattr(a.desk.kb, method)(**args)
    assert stored_rows(store, "tenant-b") == before_b
    assert stored_rows(store, "tenant-a") != before_a  # A's calls did change A


def test_reads_of_a_see_only_a(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    desk = a.desk
    assert {t.id for t in desk.list_tickets()} == set(a.tickets.values())
    assert desk.list_tickets(customer_id="c-b-only") == []
    assert "kb-b-only" not in {article.id for article in desk.kb.list()}
    assert desk.kb.search("zebra") == []
    assert all(h.article_id != "kb-b-only" for h in desk.suggest_articles(a.tickets[S.NEW]))
    assert desk.queue() == [desk.get_ticket(a.tickets[S.NEW])]
    ticket_id = a.tickets[S.IN_PROGRESS]
    assert desk.history(ticket_id) == b.desk.history(ticket_id)  # the same story, A's copy
    created = desk.monthly_report("2026-03").metrics.total.volume
    assert created == len(a.tickets)
    assert b.desk.monthly_report("2026-03").metrics.total.volume == created + 1  # B's own
    b_only = b.tickets[S.CLOSED]
    assert desk.find_by_external_id("chat", "zebra") is None
    for read in (desk.get_ticket, desk.history, desk.messages, desk.deadlines, desk.sla):
        with pytest.raises(TicketNotFound):
            read(b_only)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda d, t: d.get_customer("c-b-only"), CustomerNotFound),
        (lambda d, t: d.get_agent("a-b-only"), AgentNotFound),
        (lambda d, t: d.kb.get("kb-b-only"), ArticleNotFound),
        (lambda d, t: d.kb.vote("kb-b-only", helpful=True), ArticleNotFound),
        (lambda d, t: d.intake(channel="email", customer_id="c-b-only", body="x"), NotFound),
        (lambda d, t: d.add_agent({"id": "a-x", "name": "X", "teams": ["t-b-only"]}), TeamNotFound),
        (lambda d, t: d.set_agent_status("a-b-only", "away"), AgentNotFound),
        (lambda d, t: d.assign(t[S.NEW], "a-b-only", actor="a-lead"), AgentNotFound),
        (
            lambda d, t: d.escalate(
                t[S.IN_PROGRESS], actor="a-bob", reason="r", to_team_id="t-b-only"
            ),
            TeamNotFound,
        ),
        (lambda d, t: d.mark_solved(t[S.IN_PROGRESS], "kb-b-only", agent_id="a-bob"), NotFound),
        (lambda d, t: d.reply(t["b"], agent_id="a-bob", body="hi"), TicketNotFound),
        (lambda d, t: d.customer_replied(t["b"], body="hi"), TicketNotFound),
        (lambda d, t: d.close(t["b"]), TicketNotFound),
        (lambda d, t: d.resolve(t["b"], agent_id="a-bob", resolution="x"), TicketNotFound),
        (lambda d, t: d.recompute_tier("c-b-only", policy=_tier_policy()), CustomerNotFound),
    ],
)
def test_naming_b_ids_from_a_is_not_found_and_changes_nothing(
    tenants: tuple[Tenant, Tenant], call: Callable[..., Any], error: type[NotFound]
) -> None:
    a, b = tenants
    store = a.desk._store
    before = (stored_rows(store, "tenant-a"), stored_rows(store, "tenant-b"))
    with pytest.raises(error):
        call(a.desk, {**a.tickets, "b": b.tickets[S.CLOSED]})
    assert (stored_rows(store, "tenant-a"), stored_rows(store, "tenant-b")) == before


def _tier_policy() -> TierPolicy:
    return TierPolicy()
