"""Shared fixtures: a frozen clock, a populated desk on every shipped store, and helpers.

The desk's directory (the same on every store):

- teams ``t-support`` (escalates to ``t-senior``) and ``t-senior``;
- agents ``a-ann`` (agent, capacity 2, t-support), ``a-bob`` (agent, capacity 10,
  t-support), ``a-sue`` (senior, capacity 5, t-senior) and ``a-oli`` (agent, capacity 10,
  t-support, offline);
- customers ``c-vip``, ``c-key``, ``c-reg`` and ``c-pro``, one per tier.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from supportflow import (
    Agent,
    AgentRole,
    AgentStatus,
    Customer,
    CustomerTier,
    MemoryStore,
    SqliteStore,
    Store,
    SupportDesk,
    Team,
    Ticket,
    TicketStatus,
)
from supportflow.testing import FixedClock

# Detailed assertion messages from the shipped conformance suite (before anything imports it).
pytest.register_assert_rewrite("supportflow.testing.conformance")

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday morning; every fixture clock starts here."""

AGENT_IDS = ("a-ann", "a-bob", "a-sue", "a-oli")
CUSTOMER_IDS = ("c-vip", "c-key", "c-reg", "c-pro")


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Any]:
    """Fresh databases on one throwaway PostgreSQL server for the whole session; skips,
    with the reason, only when no server can be started here or psycopg is missing."""
    from supportflow.testing.postgres import FreshDatabases, postgres_available, postgres_server

    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (the postgres extra)")
    reason = postgres_available()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server() as dsn:
        yield FreshDatabases(dsn)


def _memory_store() -> Store:
    return MemoryStore()


def _sqlite_store() -> Store:
    return SqliteStore(":memory:")


STORE_FACTORIES: list[Any] = [
    pytest.param(_memory_store, id="memory"),
    pytest.param(_sqlite_store, id="sqlite"),
    pytest.param(None, id="postgres"),
]


@pytest.fixture(scope="session", params=STORE_FACTORIES)
def store_factory(request: pytest.FixtureRequest) -> Callable[[], Store]:
    """Makes an empty store of one shipped kind (the suite runs once per kind); the
    PostgreSQL kind makes a fresh database on the session's server for each store."""
    factory: Callable[[], Store] | None = request.param
    if factory is None:
        from supportflow.storage.postgres import PostgresStore

        databases = request.getfixturevalue("postgres_databases")
        return lambda: PostgresStore(databases.new_dsn())
    return factory


def _populate(desk: SupportDesk) -> None:
    desk.add_team(Team(id="t-senior", name="Senior support"))
    desk.add_team(Team(id="t-support", name="Support", escalation_team_id="t-senior"))
    desk.add_agent(
        Agent(id="a-ann", name="Ann", teams=("t-support",), languages=("en", "zh"), capacity=2)
    )
    desk.add_agent(Agent(id="a-bob", name="Bob", teams=("t-support",), capacity=10))
    desk.add_agent(
        Agent(id="a-sue", name="Sue", teams=("t-senior",), role=AgentRole.SENIOR, capacity=5)
    )
    desk.add_agent(
        Agent(
            id="a-oli",
            name="Oli",
            teams=("t-support",),
            capacity=10,
            status=AgentStatus.OFFLINE,
        )
    )
    # The team lead: offline, so routing never hands them work; leads may act on any ticket.
    desk.add_agent(
        Agent(
            id="a-lead",
            name="Lee",
            teams=("t-support",),
            role=AgentRole.LEAD,
            status=AgentStatus.OFFLINE,
        )
    )
    desk.add_customer(Customer(id="c-vip", name="Vera", tier=CustomerTier.VIP))
    desk.add_customer(Customer(id="c-key", name="Kai", tier=CustomerTier.KEY))
    desk.add_customer(Customer(id="c-reg", name="Rita", tier=CustomerTier.REGULAR))
    desk.add_customer(Customer(id="c-pro", name="Pat", tier=CustomerTier.PROSPECT))


@pytest.fixture(scope="session")
def populate() -> Callable[[SupportDesk], None]:
    """Adds the standard teams, agents and customers to a desk."""
    return _populate


_STORES: weakref.WeakKeyDictionary[SupportDesk, Store] = weakref.WeakKeyDictionary()


def _make_desk(
    store: Store, clock: Any = None, *, populated: bool = True, **kwargs: Any
) -> SupportDesk:
    desk = SupportDesk(store, clock=clock or FixedClock(START), **kwargs)
    _STORES[desk] = store
    if populated:
        _populate(desk)
    return desk


@pytest.fixture(scope="session")
def make_desk() -> Callable[..., SupportDesk]:
    """``make_desk(store, clock=None, populated=True, **desk_kwargs)``: a desk on ``store``.

    Desks made here (or by ``open_desk``) get a complete ``snapshot`` read straight from
    their store, teams and every directory entry included.
    """
    return _make_desk


@pytest.fixture(scope="session")
def open_desk(
    store_factory: Callable[[], Store],
) -> Callable[..., Any]:
    """``with open_desk(clock, **desk_kwargs) as desk:`` a populated desk on a fresh store.

    Session-scoped so hypothesis tests can build one desk per example; the store is closed
    when the block ends.
    """

    @contextmanager
    def opened(
        clock: FixedClock | None = None, *, populated: bool = True, **kwargs: Any
    ) -> Iterator[SupportDesk]:
        store = store_factory()
        try:
            yield _make_desk(store, clock, populated=populated, **kwargs)
        finally:
            store.close()

    return opened


@pytest.fixture
def clock() -> FixedClock:
    """A clock frozen at :data:`START` until the test advances it."""
    return FixedClock(START)


@pytest.fixture
def desk(open_desk: Callable[..., Any], clock: FixedClock) -> Iterator[SupportDesk]:
    """A populated desk on a fresh store, reading time from ``clock``."""
    with open_desk(clock) as opened:
        yield opened


def _drive(
    desk: SupportDesk, ticket_id: str, status: TicketStatus | str, *, agent_id: str = "a-bob"
) -> Ticket:
    """Move a new ticket along the main path until it reaches ``status``."""
    status = TicketStatus(status)
    ticket = desk.get_ticket(ticket_id)
    steps: list[tuple[TicketStatus, Callable[[], Ticket]]] = [
        (TicketStatus.ASSIGNED, lambda: desk.assign(ticket_id, agent_id)),
        (TicketStatus.IN_PROGRESS, lambda: desk.acknowledge(ticket_id, agent_id=agent_id)),
    ]
    if status is TicketStatus.WAITING_ON_CUSTOMER:
        steps.append(
            (
                TicketStatus.WAITING_ON_CUSTOMER,
                lambda: desk.request_info(ticket_id, agent_id=agent_id, body="Which model?"),
            )
        )
    elif status is TicketStatus.ON_HOLD:
        steps.append(
            (
                TicketStatus.ON_HOLD,
                lambda: desk.hold(ticket_id, agent_id=agent_id, reason="waiting for a part"),
            )
        )
    elif status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        steps.append(
            (
                TicketStatus.RESOLVED,
                lambda: desk.resolve(ticket_id, agent_id=agent_id, resolution="Reset the router"),
            )
        )
        steps.append((TicketStatus.CLOSED, lambda: desk.close(ticket_id, actor=agent_id)))
    for reached, step in steps:
        if ticket.status is status:
            break
        ticket = step()
        assert ticket.status is reached
    assert ticket.status is status
    return ticket


@pytest.fixture(scope="session")
def drive() -> Callable[..., Ticket]:
    """``drive(desk, ticket_id, status, agent_id="a-bob")`` moves a new ticket to ``status``."""
    return _drive


def _new_ticket(desk: SupportDesk, status: TicketStatus | str, **intake: Any) -> Ticket:
    agent_id = intake.pop("agent_id", "a-bob")
    fields: dict[str, Any] = {
        "channel": "email",
        "customer_id": "c-reg",
        "body": "My router keeps dropping the connection.",
    }
    fields.update(intake)
    ticket = desk.intake(**fields)
    return _drive(desk, ticket.id, status, agent_id=agent_id)


@pytest.fixture(scope="session")
def new_ticket() -> Callable[..., Ticket]:
    """``new_ticket(desk, status, agent_id="a-bob", **intake)``: intake, then drive."""
    return _new_ticket


@pytest.fixture
def ticket_in(desk: SupportDesk) -> Callable[..., Ticket]:
    """``ticket_in(status, agent_id="a-bob", **intake)``: a ticket on ``desk`` in ``status``."""

    def make(status: TicketStatus | str, **intake: Any) -> Ticket:
        return _new_ticket(desk, status, **intake)

    return make


def _snapshot(desk: SupportDesk) -> dict[str, Any]:
    """Everything a desk call could change, as comparable values."""
    store = _STORES.get(desk)
    if store is None:
        return _snapshot_through_desk(desk)
    with store.unit_of_work(desk.tenant_id) as uow:
        return {
            "tickets": {
                t.id: (t, uow.events.for_ticket(t.id), uow.messages.for_ticket(t.id))
                for t in uow.tickets.list()
            },
            "agents": uow.agents.list(),
            "customers": uow.customers.list(),
            "teams": uow.teams.list(),
        }


def _snapshot_through_desk(desk: SupportDesk) -> dict[str, Any]:
    tickets = {t.id: (t, desk.history(t.id), desk.messages(t.id)) for t in desk.list_tickets()}
    agents = [_found(desk.get_agent, agent_id) for agent_id in AGENT_IDS]
    customers = [_found(desk.get_customer, customer_id) for customer_id in CUSTOMER_IDS]
    return {"tickets": tickets, "agents": agents, "customers": customers}


def _found(get: Callable[[str], Any], object_id: str) -> Any:
    try:
        return get(object_id)
    except LookupError:
        return None


@pytest.fixture(scope="session")
def snapshot() -> Callable[[SupportDesk], dict[str, Any]]:
    """``snapshot(desk)``: every ticket with its history and messages, and the directory.

    Compare two snapshots to check that a refused call stored nothing.
    """
    return _snapshot


class _Tags(HTMLParser):
    """Counts a page's tags and checks every opened element is closed, in order."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen[tag] = self.seen.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen[tag] = self.seen.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        opened = self.stack.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"


def _html_tags(page: str) -> dict[str, int]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"left open: {parser.stack}"
    return parser.seen


@pytest.fixture
def html_tags() -> Callable[[str], dict[str, int]]:
    """Checks a page is balanced HTML and counts its tags (``{"svg": 5, ...}``)."""
    return _html_tags
