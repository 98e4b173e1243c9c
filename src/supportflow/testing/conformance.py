"""The storage contract as pytest tests: run them against your own store.

``storage.protocols`` states what a store must do; :class:`StoreContract` checks it. Subclass
it in your test suite, name the subclass ``Test...`` so pytest collects it, and supply a
``store`` fixture that returns a new, empty store::

    import pytest

    from supportflow.testing.conformance import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = MyStore(tmp_path / "support.db")
            yield store
            store.close()

If your store keeps data between instances (a file, a database server), also override
``reopen_store`` to return a function that opens another instance over the same data; the
persistence tests are skipped without it.

Some tests open two units of work of one store at once, in one thread. Each unit reads
before it writes, so a store that takes a write lock may refuse the second writer at once
with ``ConcurrencyConflict`` instead of waiting for a lock the first cannot release.

Importing this module requires pytest, a test dependency that supportflow itself does not
install. For detailed assertion messages, call
``pytest.register_assert_rewrite("supportflow.testing.conformance")`` in ``conftest.py``
before anything imports it.

The builders (:func:`make_ticket`, :func:`make_event`, :func:`make_customer_event`,
:func:`make_article`, ...) and
:func:`seed` are public so a host's own tests can use them; every datetime they produce is
timezone-aware.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import pytest

from ..errors import (
    AgentNotFound,
    ArticleNotFound,
    ConcurrencyConflict,
    ConflictError,
    CustomerNotFound,
    DuplicateEntity,
    NotFound,
    TeamNotFound,
    TicketNotFound,
    ValidationFailed,
)
from ..kb.articles import (
    MAX_ARTICLE_BODY_CHARS,
    Article,
    ArticleRevision,
    ArticleStatus,
    Audience,
)
from ..models import (
    MAX_BODY_CHARS,
    Agent,
    AgentRole,
    AgentStatus,
    AuthorKind,
    Channel,
    ComplaintCategory,
    Contact,
    Customer,
    CustomerEvent,
    CustomerTier,
    Message,
    Priority,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from ..storage.protocols import (
    DEFAULT_TENANT,
    MAX_CURSOR_NAME_CHARS,
    MAX_CURSOR_VALUE_CHARS,
    OPEN_STATUSES,
    Store,
    UnitOfWork,
)

__all__ = [
    "T0",
    "TENANT_A",
    "TENANT_B",
    "TRICKY_TEXTS",
    "StoreContract",
    "make_agent",
    "make_article",
    "make_customer",
    "make_customer_event",
    "make_event",
    "make_message",
    "make_revision",
    "make_team",
    "make_ticket",
    "next_version",
    "seed",
]

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
"""The instant the builders' default datetimes are based on (a Monday, 09:00 UTC)."""

TENANT_A = "tenant-a"
"""A tenant used by the tenancy tests."""

TENANT_B = "tenant-b"
"""Another tenant, which must never see :data:`TENANT_A`'s data."""

TRICKY_TEXTS: dict[str, str] = {
    "chinese": "您好，我的订单#20240301一直没有发货，请尽快处理！",
    "mixed": "登录失败 login failed after 更新 update v2.3，急",
    "emoji": "谢谢 🙏🏽 great support 👩‍💻 🇨🇳",
    "sql_quote": "Robert'); DROP TABLE tickets;--",
    "sql_or": "' OR '1'='1' --",
    "like_wildcards": "100% off_sale \\ %_ [a-z]*",
    "combining_marks": "cafe\u0301 and caf\u00e9 stay distinct",
    "whitespace": "  line one\r\nline two\n\ttabbed  ",
    "json_like": '{"status": "closed", "$where": "1 == 1"}',
    "right_to_left": "مرحبا שלום",
    "zero_width": "a\u200bb\ufeffc",
}
"""Text a store must return exactly as given: no normalization, trimming or escaping."""

_ZONES = (
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("America/New_York"),
    timezone(timedelta(hours=5, minutes=45)),
    UTC,
)


def make_customer(customer_id: str = "c-1", **fields: Any) -> Customer:
    """A valid customer; ``fields`` override any attribute."""
    return Customer.model_validate({"id": customer_id, "name": f"Customer {customer_id}"} | fields)


def make_agent(agent_id: str = "a-1", **fields: Any) -> Agent:
    """A valid agent; ``fields`` override any attribute."""
    return Agent.model_validate({"id": agent_id, "name": f"Agent {agent_id}"} | fields)


def make_team(team_id: str = "team-1", **fields: Any) -> Team:
    """A valid team; ``fields`` override any attribute."""
    return Team.model_validate({"id": team_id, "name": f"Team {team_id}"} | fields)


def make_ticket(ticket_id: str = "t-1", **fields: Any) -> Ticket:
    """A valid new ticket created at :data:`T0` by customer ``c-1``; ``fields`` override."""
    created_at = fields.get("created_at", T0)
    values: dict[str, Any] = {
        "id": ticket_id,
        "channel": Channel.EMAIL,
        "customer_id": "c-1",
        "subject": f"Subject of {ticket_id}",
        "body": f"Body of {ticket_id}",
        "created_at": created_at,
        "updated_at": created_at,
    }
    return Ticket.model_validate(values | fields)


def make_event(ticket_id: str = "t-1", seq: int = 1, **fields: Any) -> TicketEvent:
    """A valid event ``seq`` of ``ticket_id``, with id ``"{ticket_id}#{seq}"``, at T0 + seq min."""
    values: dict[str, Any] = {
        "id": f"{ticket_id}#{seq}",
        "ticket_id": ticket_id,
        "seq": seq,
        "type": "ticket.created" if seq == 1 else "ticket.note_added",
        "at": T0 + timedelta(minutes=seq),
        "actor": "system",
    }
    return TicketEvent.model_validate(values | fields)


def make_customer_event(customer_id: str = "c-1", seq: int = 1, **fields: Any) -> CustomerEvent:
    """A valid tier change, event ``seq`` of ``customer_id`` (id ``"{customer_id}#{seq}"``),
    by ``a-1`` at T0 + seq min; ``fields`` override any attribute."""
    values: dict[str, Any] = {
        "id": f"{customer_id}#{seq}",
        "customer_id": customer_id,
        "seq": seq,
        "type": "customer.tier_changed",
        "at": T0 + timedelta(minutes=seq),
        "actor": "a-1",
        "data": {"from": "regular", "to": "key", "reason": f"review {seq}"},
    }
    return CustomerEvent.model_validate(values | fields)


def make_message(message_id: str = "m-1", ticket_id: str = "t-1", **fields: Any) -> Message:
    """A valid customer message on ``ticket_id``, created at :data:`T0`; ``fields`` override."""
    values: dict[str, Any] = {
        "id": message_id,
        "ticket_id": ticket_id,
        "author_kind": AuthorKind.CUSTOMER,
        "author_id": "c-1",
        "body": f"Message {message_id}",
        "created_at": T0,
    }
    return Message.model_validate(values | fields)


def make_article(article_id: str = "kb-1", **fields: Any) -> Article:
    """A valid draft article written at :data:`T0`; ``fields`` override any attribute."""
    created_at = fields.get("created_at", T0)
    values: dict[str, Any] = {
        "id": article_id,
        "title": f"Article {article_id}",
        "body": f"How to fix {article_id}.",
        "created_at": created_at,
        "updated_at": created_at,
    }
    return Article.model_validate(values | fields)


def make_revision(article: Article | None = None, **fields: Any) -> ArticleRevision:
    """A valid revision recording ``article`` (by default :func:`make_article`) as it is:
    its id and version, edited by ``a-1`` at its ``updated_at``; ``fields`` override."""
    if article is None:
        article = make_article()
    values: dict[str, Any] = {
        "article_id": article.id,
        "version": article.version,
        "editor_id": "a-1",
        "at": article.updated_at,
        "changed": ("created",) if article.version == 1 else ("body",),
        "article": article,
    }
    return ArticleRevision.model_validate(values | fields)


_V = TypeVar("_V", Ticket, Customer, Agent, Team, Article)


def next_version(obj: _V, **changes: Any) -> _V:
    """``obj`` with ``changes`` applied and ``version`` raised by one: a valid ``update``."""
    return obj.model_copy(update={**changes, "version": obj.version + 1})


Entity = Ticket | Customer | Agent | Team | Article
Record = (
    Ticket
    | Customer
    | Agent
    | Team
    | Article
    | ArticleRevision
    | Message
    | TicketEvent
    | CustomerEvent
)


def seed(store: Store, *records: Record, tenant_id: str = DEFAULT_TENANT) -> None:
    """Add ``records`` to ``store`` in one committed unit of work of ``tenant_id``."""
    with store.unit_of_work(tenant_id) as uow:
        for record in records:
            _add(uow, record)
        uow.commit()


def _add(uow: UnitOfWork, record: Record) -> None:
    if isinstance(record, Ticket):
        uow.tickets.add(record)
    elif isinstance(record, Customer):
        uow.customers.add(record)
    elif isinstance(record, Agent):
        uow.agents.add(record)
    elif isinstance(record, Team):
        uow.teams.add(record)
    elif isinstance(record, Article):
        uow.articles.add(record)
    elif isinstance(record, ArticleRevision):
        uow.articles.add_revision(record)
    elif isinstance(record, Message):
        uow.messages.add(record)
    elif isinstance(record, CustomerEvent):
        uow.customer_events.append([record])
    else:
        uow.events.append([record])


class _Repository(Protocol):
    def get(self, object_id: str, /) -> Any: ...

    def add(self, obj: Any, /) -> None: ...

    def update(self, obj: Any, /) -> None: ...

    def list(self) -> Sequence[Any]: ...


_KINDS = ("ticket", "customer", "agent", "team", "article")

_NOT_FOUND: dict[str, type[NotFound]] = {
    "ticket": TicketNotFound,
    "customer": CustomerNotFound,
    "agent": AgentNotFound,
    "team": TeamNotFound,
    "article": ArticleNotFound,
}


def _repository(uow: UnitOfWork, kind: str) -> _Repository:
    repositories: dict[str, _Repository] = {
        "ticket": uow.tickets,
        "customer": uow.customers,
        "agent": uow.agents,
        "team": uow.teams,
        "article": uow.articles,
    }
    return repositories[kind]


def _build(kind: str, object_id: str, **fields: Any) -> Entity:
    if kind == "ticket":
        return make_ticket(object_id, **fields)
    if kind == "customer":
        return make_customer(object_id, **fields)
    if kind == "agent":
        return make_agent(object_id, **fields)
    if kind == "article":
        return make_article(object_id, **fields)
    return make_team(object_id, **fields)


def _renamed(obj: Entity, text: str) -> Entity:
    """The next version of ``obj`` with a visible change."""
    field = {Ticket: "subject", Article: "title"}.get(type(obj), "name")
    return obj.model_copy(update={field: text, "version": obj.version + 1})


def _get(store: Store, kind: str, object_id: str, tenant_id: str = DEFAULT_TENANT) -> Any:
    with store.unit_of_work(tenant_id) as uow:
        return _repository(uow, kind).get(object_id)


def _write_then_commit(uow: UnitOfWork, write: Callable[[UnitOfWork], object]) -> None:
    write(uow)
    uow.commit()


def _committed(store: Store, write: Callable[[UnitOfWork], object], tenant: str) -> None:
    with store.unit_of_work(tenant) as uow:
        _write_then_commit(uow, write)


def _refused(
    store: Store,
    write: Callable[[UnitOfWork], object],
    error: type[ConflictError],
    tenant_id: str = DEFAULT_TENANT,
) -> None:
    """``write`` then ``commit()`` raises ``error`` (at the call or at the commit)."""
    with store.unit_of_work(tenant_id) as uow, pytest.raises(error):
        _write_then_commit(uow, write)


def _instant(moment: datetime) -> datetime:
    assert moment.utcoffset() is not None, f"naive datetime returned: {moment!r}"
    return moment.astimezone(UTC)


_ASSIGNEES = ("a-1", "a-2")
"""The agents whose open tickets :func:`_everything` lists."""

_CURSOR = "routing.round_robin:team-1"
"""The cursor name the tests write (the shape the desk's round robin uses)."""

_CURSORS = (_CURSOR, "routing.round_robin:team-2")
"""The cursors :func:`_everything` reads."""

_ARTICLES = ("kb-1", "kb-2")
"""The articles whose revisions :func:`_everything` reads."""

_CUSTOMER_STREAMS = ("c-1", "c-2")
"""The customers whose events :func:`_everything` reads."""

_ALL_TIME = (T0 - timedelta(days=3650), T0 + timedelta(days=3650))
"""Bounds of ``between`` that hold every event the tests write."""


def _everything(uow: UnitOfWork, ticket_ids: Sequence[str]) -> dict[str, Any]:
    """What a unit sees of the tenant: every listing, the events and messages of tickets,
    the open tickets of :data:`_ASSIGNEES`, the cursors :data:`_CURSORS`, the revisions
    of :data:`_ARTICLES` and the events of :data:`_CUSTOMER_STREAMS`."""
    return {
        "tickets": uow.tickets.list(),
        "customers": uow.customers.list(),
        "agents": uow.agents.list(),
        "teams": uow.teams.list(),
        "open_counts": _nonzero(uow.tickets.open_counts_by_assignee()),
        "open_for": {a: uow.tickets.open_for_assignee(a) for a in _ASSIGNEES},
        "events": {t: uow.events.for_ticket(t) for t in ticket_ids},
        "messages": {t: uow.messages.for_ticket(t) for t in ticket_ids},
        "between": list(uow.events.between(*_ALL_TIME)),
        "cursors": {name: uow.cursors.get(name) for name in _CURSORS},
        "articles": uow.articles.list(),
        "revisions": {a: uow.articles.revisions(a) for a in _ARTICLES},
        "customer_events": {c: uow.customer_events.for_customer(c) for c in _CUSTOMER_STREAMS},
        "customer_between": list(uow.customer_events.between(*_ALL_TIME)),
    }


def _by_id(ticket: Ticket) -> str:
    return ticket.id


def _nonzero(counts: Any) -> dict[str, int]:
    """Open counts without zero entries (the protocol lets a store include or omit them)."""
    return {agent: n for agent, n in dict(counts).items() if n != 0}


def _everything_empty(ticket_ids: Sequence[str], **present: Any) -> dict[str, Any]:
    """The shape :func:`_everything` returns for an empty tenant, with ``present`` filled in."""
    empty: dict[str, Any] = {
        "tickets": [],
        "customers": [],
        "agents": [],
        "teams": [],
        "open_counts": {},
        "open_for": {a: [] for a in _ASSIGNEES},
        "events": {t: [] for t in ticket_ids},
        "messages": {t: [] for t in ticket_ids},
        "between": [],
        "cursors": dict.fromkeys(_CURSORS),
        "articles": [],
        "revisions": {a: [] for a in _ARTICLES},
        "customer_events": {c: [] for c in _CUSTOMER_STREAMS},
        "customer_between": [],
    }
    merged = ("open_for", "events", "messages", "cursors", "revisions", "customer_events")
    for key, value in present.items():
        if isinstance(value, dict) and key in merged:
            empty[key] = empty[key] | value
        else:
            empty[key] = value
    return empty


def _sample_tenant() -> list[Record]:
    """One of everything, with a first ticket that has events and messages and an article
    with two revisions."""
    first = make_ticket("t-1", external_id="x-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
    draft = make_article("kb-1", title="退款流程 refunds", tags=("billing", "退款"))
    published = next_version(
        draft, status=ArticleStatus.PUBLISHED, last_reviewed_at=T0 + timedelta(hours=1)
    )
    return [
        first,
        make_ticket("t-2", created_at=T0 + timedelta(hours=1)),
        make_customer("c-1", total_spend=Decimal("10.50")),
        make_agent("a-1", skills=("billing",)),
        make_team("team-1", lead_id="a-1"),
        make_event("t-1", 1, data={"ticket": {"id": "t-1"}}),
        make_event("t-1", 2, type="ticket.assigned", data={"changes": {"assignee_id": "a-1"}}),
        make_message("m-1", "t-1", body=TRICKY_TEXTS["mixed"]),
        published,
        make_revision(draft),
        make_revision(published, changed=("last_reviewed_at", "status")),
        make_customer_event("c-1", 1, data={"from": "regular", "to": "vip", "reason": "年度"}),
        make_customer_event("c-1", 2, type="customer.override_set", actor="a-2"),
    ]


@contextmanager
def _opened(factory: Callable[[], Store]) -> Iterator[Store]:
    """A store from ``factory``, closed when the ``with`` block ends."""
    opened = factory()
    try:
        yield opened
    finally:
        opened.close()


class StoreContract:
    """The storage contract of ``storage.protocols``, one behaviour per test.

    Subclass as ``Test<YourStore>`` and override the ``store`` fixture (a new, empty store
    per test); override ``reopen_store`` to enable the persistence tests.
    """

    @pytest.fixture
    def store(self) -> Store:
        """Override: a new, empty store for each test."""
        pytest.fail("subclass StoreContract and define a `store` fixture returning an empty store")

    @pytest.fixture
    def reopen_store(self) -> Callable[[], Store] | None:
        """Override: a function opening another store over the same data as ``store``."""
        return None

    # Units of work and tenants

    def test_unit_of_work_reports_its_tenant(self, store: Store) -> None:
        with store.unit_of_work(TENANT_A) as uow:
            assert uow.tenant_id == TENANT_A

    def test_unit_of_work_defaults_to_default_tenant(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.tenant_id == DEFAULT_TENANT

    # Add and get

    def test_ticket_round_trips_with_every_field_set(self, store: Store) -> None:
        ticket = make_ticket(
            "t-full",
            channel=Channel.SOCIAL_MEDIA,
            external_id="weibo:8812",
            language="zh",
            category="billing",
            complaint_category=ComplaintCategory.SERVICE_ATTITUDE,
            priority=Priority.URGENT,
            status=TicketStatus.RESOLVED,
            assignee_id="a-1",
            team_id="team-1",
            escalation_level=2,
            tags=("vip", "退款"),
            resolution="Refunded 全额",
            follow_up_of="t-0",
            reopen_count=1,
            assigned_at=T0 + timedelta(minutes=1),
            acknowledged_at=T0 + timedelta(minutes=2),
            first_response_at=T0 + timedelta(minutes=3),
            resolved_at=T0 + timedelta(hours=2),
            closed_at=T0 + timedelta(days=1),
            updated_at=T0 + timedelta(days=1),
            version=7,
        )
        seed(store, ticket)
        assert _get(store, "ticket", "t-full") == ticket

    def test_customer_round_trips_with_every_field_set(self, store: Store) -> None:
        customer = make_customer(
            "c-full",
            contact=Contact(email="li.wei@example.cn", phone="+86 10 5555 0100", handle="@liwei"),
            tier=CustomerTier.VIP,
            account_manager_id="a-9",
            purchase_count=42,
            total_spend=Decimal("1234567.89"),
            first_purchase_at=T0 - timedelta(days=700),
            last_purchase_at=T0 - timedelta(days=3),
            language="zh",
            version=3,
        )
        seed(store, customer)
        assert _get(store, "customer", "c-full") == customer

    def test_agent_round_trips_with_every_field_set(self, store: Store) -> None:
        agent = make_agent(
            "a-full",
            teams=("team-1", "team-2"),
            skills=("billing", "network"),
            languages=("zh", "en"),
            role=AgentRole.SENIOR,
            capacity=25,
            status=AgentStatus.AWAY,
            version=2,
        )
        seed(store, agent)
        assert _get(store, "agent", "a-full") == agent

    def test_team_round_trips_with_every_field_set(self, store: Store) -> None:
        team = make_team("team-full", lead_id="a-1", escalation_team_id="team-2", version=4)
        seed(store, team)
        assert _get(store, "team", "team-full") == team

    def test_message_round_trips_with_every_field_set(self, store: Store) -> None:
        message = make_message(
            "m-full", author_kind=AuthorKind.AGENT, author_id="a-1", internal=True
        )
        seed(store, message)
        with store.unit_of_work() as uow:
            assert uow.messages.for_ticket("t-1") == [message]

    def test_event_round_trips_with_its_data(self, store: Store) -> None:
        event = make_event(
            "t-1",
            1,
            data={
                "changes": {"status": "assigned", "assignee_id": "a-1", "tags": ["vip", "退款"]},
                "reason": "负载最低 least loaded",
                "score": 0.75,
                "count": 3,
                "flag": True,
                "missing": None,
            },
        )
        seed(store, event)
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("t-1") == [event]

    def test_ticket_found_by_channel_and_external_id(self, store: Store) -> None:
        ticket = make_ticket("t-1", channel=Channel.CHAT, external_id="conv-77")
        seed(store, ticket, make_ticket("t-2", channel=Channel.CHAT, external_id="conv-78"))
        with store.unit_of_work() as uow:
            assert uow.tickets.find_by_external_id(Channel.CHAT, "conv-77") == ticket

    def test_external_id_lookup_needs_the_same_channel(self, store: Store) -> None:
        seed(store, make_ticket("t-1", channel=Channel.CHAT, external_id="conv-77"))
        with store.unit_of_work() as uow:
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "conv-77") is None

    def test_add_stores_the_version_as_given(self, store: Store) -> None:
        seed(store, make_ticket("t-1", version=5))
        assert _get(store, "ticket", "t-1").version == 5

    # Not found

    @pytest.mark.parametrize("kind", _KINDS)
    def test_get_unknown_id_raises_its_not_found(self, store: Store, kind: str) -> None:
        with store.unit_of_work() as uow, pytest.raises(_NOT_FOUND[kind]) as caught:
            _repository(uow, kind).get("missing")
        assert caught.value.object_id == "missing"

    def test_unknown_external_id_finds_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "nope") is None

    def test_unknown_ticket_has_no_events_or_messages(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("missing") == []
            assert uow.messages.for_ticket("missing") == []

    def test_empty_store_lists_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(["t-1"])

    # Uniqueness

    @pytest.mark.parametrize("kind", _KINDS)
    def test_add_with_a_stored_id_raises_duplicate_entity(self, store: Store, kind: str) -> None:
        original = _build(kind, "x-1")
        seed(store, original)
        duplicate = _renamed(original, "the duplicate")
        _refused(store, lambda uow: _repository(uow, kind).add(duplicate), DuplicateEntity)
        assert _get(store, kind, "x-1") == original

    @pytest.mark.parametrize("kind", _KINDS)
    def test_adding_one_id_twice_in_a_unit_raises_duplicate_entity(
        self, store: Store, kind: str
    ) -> None:
        first, second = _build(kind, "x-1"), _build(kind, "x-1", version=2)

        def write(uow: UnitOfWork) -> None:
            _repository(uow, kind).add(first)
            _repository(uow, kind).add(second)

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow, pytest.raises(_NOT_FOUND[kind]):
            _repository(uow, kind).get("x-1")

    def test_add_with_a_stored_external_id_raises_duplicate_entity(self, store: Store) -> None:
        original = make_ticket("t-1", channel=Channel.EMAIL, external_id="<msg-1@example.com>")
        seed(store, original)
        retried = make_ticket("t-2", channel=Channel.EMAIL, external_id="<msg-1@example.com>")
        _refused(store, lambda uow: uow.tickets.add(retried), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.tickets.list() == [original]

    def test_same_external_id_twice_in_a_unit_raises_duplicate_entity(self, store: Store) -> None:
        def write(uow: UnitOfWork) -> None:
            uow.tickets.add(make_ticket("t-1", channel=Channel.PORTAL, external_id="req-9"))
            uow.tickets.add(make_ticket("t-2", channel=Channel.PORTAL, external_id="req-9"))

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.tickets.list() == []

    def test_same_external_id_on_another_channel_is_allowed(self, store: Store) -> None:
        email = make_ticket("t-1", channel=Channel.EMAIL, external_id="42")
        chat = make_ticket("t-2", channel=Channel.CHAT, external_id="42")
        seed(store, email, chat)
        with store.unit_of_work() as uow:
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "42") == email
            assert uow.tickets.find_by_external_id(Channel.CHAT, "42") == chat

    def test_tickets_without_external_id_never_collide(self, store: Store) -> None:
        tickets = [make_ticket(f"t-{n}", external_id=None) for n in range(3)]
        seed(store, *tickets)
        with store.unit_of_work() as uow:
            assert uow.tickets.list() == tickets

    def test_message_with_a_stored_id_raises_duplicate_entity(self, store: Store) -> None:
        original = make_message("m-1", body="first")
        seed(store, original)
        duplicate = make_message("m-1", body="second")
        _refused(store, lambda uow: uow.messages.add(duplicate), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.messages.for_ticket("t-1") == [original]

    def test_event_with_a_stored_ticket_and_seq_raises_duplicate_entity(self, store: Store) -> None:
        original = make_event("t-1", 1)
        seed(store, original)
        duplicate = make_event("t-1", 1, type="ticket.assigned")
        _refused(store, lambda uow: uow.events.append([duplicate]), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("t-1") == [original]

    def test_duplicate_seq_within_one_append_raises_duplicate_entity(self, store: Store) -> None:
        batch = [make_event("t-1", 1), make_event("t-1", 1, type="ticket.assigned")]
        _refused(store, lambda uow: uow.events.append(batch), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("t-1") == []

    def test_same_seq_on_different_tickets_is_allowed(self, store: Store) -> None:
        first, second = make_event("t-1", 1), make_event("t-2", 1)
        seed(store, first, second)
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("t-1") == [first]
            assert uow.events.for_ticket("t-2") == [second]

    # Versions

    @pytest.mark.parametrize("kind", _KINDS)
    def test_update_with_the_next_version_replaces_the_object(
        self, store: Store, kind: str
    ) -> None:
        original = _build(kind, "x-1")
        seed(store, original)
        changed = _renamed(original, "renamed")
        _committed(store, lambda uow: _repository(uow, kind).update(changed), DEFAULT_TENANT)
        stored = _get(store, kind, "x-1")
        assert stored == changed
        assert stored.version == 2

    @pytest.mark.parametrize("kind", _KINDS)
    @pytest.mark.parametrize(
        ("version", "why"), [(3, "same as stored"), (2, "behind stored"), (5, "skips one")]
    )
    def test_stale_update_raises_concurrency_conflict_and_keeps_stored(
        self, store: Store, kind: str, version: int, why: str
    ) -> None:
        stored = _build(kind, "x-1", version=3)
        seed(store, stored)
        stale = _renamed(stored, f"stale: {why}").model_copy(update={"version": version})
        _refused(store, lambda uow: _repository(uow, kind).update(stale), ConcurrencyConflict)
        assert _get(store, kind, "x-1") == stored

    def test_updates_chain_versions_within_one_unit(self, store: Store) -> None:
        v1 = make_ticket("t-1")
        seed(store, v1)
        v2 = next_version(v1, status=TicketStatus.ASSIGNED, assignee_id="a-1")
        v3 = next_version(v2, status=TicketStatus.IN_PROGRESS)

        def write(uow: UnitOfWork) -> None:
            uow.tickets.update(v2)
            uow.tickets.update(v3)

        _committed(store, write, DEFAULT_TENANT)
        assert _get(store, "ticket", "t-1") == v3

    def test_update_after_add_in_one_unit(self, store: Store) -> None:
        v1 = make_ticket("t-1")
        v2 = next_version(v1, status=TicketStatus.ASSIGNED, assignee_id="a-1")

        def write(uow: UnitOfWork) -> None:
            uow.tickets.add(v1)
            uow.tickets.update(v2)

        _committed(store, write, DEFAULT_TENANT)
        assert _get(store, "ticket", "t-1") == v2

    @pytest.mark.parametrize("kind", _KINDS)
    def test_update_of_an_unknown_id_is_refused(self, store: Store, kind: str) -> None:
        ghost = _build(kind, "ghost", version=2)
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            _write_then_commit(uow, lambda u: _repository(u, kind).update(ghost))
        with store.unit_of_work() as uow:
            assert _repository(uow, kind).list() == []

    def test_racing_units_on_one_ticket_commit_exactly_once(self, store: Store) -> None:
        v1 = make_ticket("t-1")
        seed(store, v1)
        with store.unit_of_work() as first, store.unit_of_work() as second:
            mine, theirs = first.tickets.get("t-1"), second.tickets.get("t-1")
            assert mine == theirs == v1
            first.tickets.update(next_version(mine, assignee_id="a-1"))
            first.commit()
            with pytest.raises(ConcurrencyConflict):
                _write_then_commit(
                    second, lambda uow: uow.tickets.update(next_version(theirs, assignee_id="a-2"))
                )
        assert _get(store, "ticket", "t-1") == next_version(v1, assignee_id="a-1")

    def test_racing_units_that_both_update_before_committing_commit_once(
        self, store: Store
    ) -> None:
        """Both units stage their update; the first commit wins, the second is refused.

        A store that locks rows on write and would make the second ``update`` wait may
        instead refuse it at once; either way exactly one change is stored.
        """
        v1 = make_ticket("t-1")
        seed(store, v1)
        outcomes: list[str] = []
        with store.unit_of_work() as first, store.unit_of_work() as second:
            first.tickets.update(next_version(first.tickets.get("t-1"), assignee_id="a-1"))
            try:
                second.tickets.update(next_version(second.tickets.get("t-1"), assignee_id="a-2"))
            except ConcurrencyConflict:
                outcomes.append("second refused at update")
            first.commit()
            if not outcomes:
                with pytest.raises(ConcurrencyConflict):
                    second.commit()
        assert _get(store, "ticket", "t-1") == next_version(v1, assignee_id="a-1")

    def test_conflict_stores_nothing_of_its_unit(self, store: Store) -> None:
        stored = make_ticket("t-1", version=2)
        seed(store, stored)

        def write(uow: UnitOfWork) -> None:
            uow.customers.add(make_customer("c-new"))
            uow.tickets.add(make_ticket("t-new"))
            uow.events.append([make_event("t-new", 1)])
            uow.messages.add(make_message("m-new", "t-new"))
            uow.cursors.put(_CURSOR, "a-1")
            uow.articles.add(make_article("kb-1"))
            uow.articles.add_revision(make_revision(make_article("kb-1")))
            uow.customer_events.append([make_customer_event("c-new", 1)])
            uow.tickets.update(next_version(make_ticket("t-1", version=1), subject="stale"))

        _refused(store, write, ConcurrencyConflict)
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1", "t-new"]) == _everything_empty(
                ["t-1", "t-new"], tickets=[stored]
            )

    def test_commit_after_a_caught_conflict_stores_nothing(self, store: Store) -> None:
        """A stale update dooms its unit, even if the caller catches the conflict.

        Nothing of the unit is stored, so ``commit()`` (which stores every write or raises)
        must raise.
        """
        stored = make_ticket("t-1", version=2)
        seed(store, stored)
        stale = next_version(make_ticket("t-1", version=1), subject="stale")
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer("c-new"))
            uow.messages.add(make_message("m-new", "t-1"))
            uow.cursors.put(_CURSOR, "a-1")
            uow.articles.add(make_article("kb-1"))
            uow.articles.add_revision(make_revision(make_article("kb-1")))
            uow.customer_events.append([make_customer_event("c-1", 1)])
            with suppress(ConcurrencyConflict):
                uow.tickets.update(stale)
            with pytest.raises(ConcurrencyConflict):
                uow.commit()
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(["t-1"], tickets=[stored])

    # Work queues: claiming a queued ticket

    def test_claim_returns_a_waiting_ticket(self, store: Store) -> None:
        waiting = make_ticket("t-1")
        seed(store, waiting)
        with store.unit_of_work() as uow:
            assert uow.tickets.claim_waiting("t-1") == waiting

    def test_claim_of_a_ticket_not_waiting_returns_none(self, store: Store) -> None:
        seed(
            store,
            make_ticket("t-assigned", status=TicketStatus.ASSIGNED, assignee_id="a-1"),
            make_ticket("t-resolved", status=TicketStatus.RESOLVED),
        )
        with store.unit_of_work() as uow:
            assert uow.tickets.claim_waiting("t-assigned") is None
            assert uow.tickets.claim_waiting("t-resolved") is None
            assert uow.tickets.claim_waiting("t-unknown") is None

    def test_claim_sees_only_its_tenant(self, store: Store) -> None:
        seed(store, make_ticket("t-1"), tenant_id=TENANT_A)
        with store.unit_of_work(TENANT_B) as uow:
            assert uow.tickets.claim_waiting("t-1") is None

    def test_a_claimed_ticket_is_not_handed_to_a_second_unit(self, store: Store) -> None:
        """The second unit gets ``None`` (it skips the ticket) or, from a store with one
        writer at a time, ``ConcurrencyConflict``; never the ticket."""
        seed(store, make_ticket("t-1"))
        with store.unit_of_work() as first, store.unit_of_work() as second:
            assert first.tickets.claim_waiting("t-1") is not None
            with suppress(ConcurrencyConflict):
                assert second.tickets.claim_waiting("t-1") is None

    def test_a_claim_ends_with_its_unit(self, store: Store) -> None:
        seed(store, make_ticket("t-1"))
        with store.unit_of_work() as first:
            assert first.tickets.claim_waiting("t-1") is not None
        with store.unit_of_work() as second:
            assert second.tickets.claim_waiting("t-1") is not None
            second.rollback()
            assert second.tickets.claim_waiting("t-1") is not None

    def test_a_claimed_and_assigned_ticket_is_not_waiting_any_more(self, store: Store) -> None:
        waiting = make_ticket("t-1")
        seed(store, waiting)
        with store.unit_of_work() as first:
            claimed = first.tickets.claim_waiting("t-1")
            assert claimed is not None
            first.tickets.update(
                next_version(claimed, status=TicketStatus.ASSIGNED, assignee_id="a-1")
            )
            first.commit()
        with store.unit_of_work() as second:
            assert second.tickets.claim_waiting("t-1") is None

    def test_threads_claiming_the_queue_take_each_ticket_once(self, store: Store) -> None:
        """Four threads assign the queue to themselves; every ticket goes to exactly one."""
        tickets = [make_ticket(f"t-{n:02}") for n in range(24)]
        seed(store, *tickets)
        taken: dict[str, list[str]] = {f"a-{n}": [] for n in range(4)}
        failures: list[BaseException] = []

        def work(agent_id: str) -> None:
            try:
                for ticket in tickets:
                    for _ in range(50):
                        try:
                            with store.unit_of_work() as uow:
                                claimed = uow.tickets.claim_waiting(ticket.id)
                                if claimed is not None:
                                    uow.tickets.update(
                                        next_version(
                                            claimed,
                                            status=TicketStatus.ASSIGNED,
                                            assignee_id=agent_id,
                                        )
                                    )
                                    uow.commit()
                                    taken[agent_id].append(ticket.id)
                            break
                        except ConcurrencyConflict:
                            continue
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(agent,)) for agent in taken]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        claimed_ids = sorted(t for ids in taken.values() for t in ids)
        assert claimed_ids == [t.id for t in tickets]
        with store.unit_of_work() as uow:
            for agent_id, ids in taken.items():
                assert {t.id for t in uow.tickets.list(assignee_id=agent_id)} == set(ids)

    # Atomicity and visibility

    def test_uncommitted_writes_are_invisible_to_other_units(self, store: Store) -> None:
        with store.unit_of_work() as writer:
            writer.tickets.add(make_ticket("t-1", external_id="x-1"))
            writer.customers.add(make_customer("c-1"))
            writer.events.append([make_event("t-1", 1)])
            writer.messages.add(make_message("m-1", "t-1"))
            writer.cursors.put(_CURSOR, "a-1")
            writer.articles.add(make_article("kb-1"))
            writer.articles.add_revision(make_revision(make_article("kb-1")))
            writer.customer_events.append([make_customer_event("c-1", 1)])
            with store.unit_of_work() as reader:
                assert _everything(reader, ["t-1"]) == _everything_empty(["t-1"])
                assert reader.tickets.find_by_external_id(Channel.EMAIL, "x-1") is None

    def test_uncommitted_update_is_invisible_to_other_units(self, store: Store) -> None:
        v1 = make_ticket("t-1")
        seed(store, v1)
        with store.unit_of_work() as writer:
            writer.tickets.update(next_version(v1, subject="changed"))
            with store.unit_of_work() as reader:
                assert reader.tickets.get("t-1") == v1

    def test_leaving_a_unit_without_commit_discards_its_writes(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.tickets.add(make_ticket("t-1"))
            uow.events.append([make_event("t-1", 1)])
            uow.messages.add(make_message("m-1", "t-1"))
            uow.cursors.put(_CURSOR, "a-1")
            uow.articles.add(make_article("kb-1"))
            uow.articles.add_revision(make_revision(make_article("kb-1")))
            uow.customer_events.append([make_customer_event("c-1", 1)])
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(["t-1"])

    def test_exception_in_a_unit_discards_its_writes_and_propagates(self, store: Store) -> None:
        class Boom(Exception):
            pass

        def fail_midway() -> None:
            with store.unit_of_work() as uow:
                uow.tickets.add(make_ticket("t-1"))
                uow.events.append([make_event("t-1", 1)])
                uow.messages.add(make_message("m-1", "t-1"))
                uow.cursors.put(_CURSOR, "a-1")
                uow.articles.add(make_article("kb-1"))
                uow.articles.add_revision(make_revision(make_article("kb-1")))
                uow.customer_events.append([make_customer_event("c-1", 1)])
                raise Boom

        with pytest.raises(Boom):
            fail_midway()
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(["t-1"])

    def test_rollback_discards_uncommitted_writes(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.tickets.add(make_ticket("t-1"))
            uow.customers.add(make_customer("c-1"))
            uow.cursors.put(_CURSOR, "a-1")
            uow.articles.add(make_article("kb-1"))
            uow.articles.add_revision(make_revision(make_article("kb-1")))
            uow.customer_events.append([make_customer_event("c-1", 1)])
            uow.rollback()
            with pytest.raises(TicketNotFound):
                uow.tickets.get("t-1")
            with pytest.raises(ArticleNotFound):
                uow.articles.get("kb-1")
            assert uow.articles.revisions("kb-1") == []
            assert uow.customer_events.for_customer("c-1") == []
            assert uow.cursors.get(_CURSOR) is None
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(["t-1"])

    def test_unit_reads_its_own_writes(self, store: Store) -> None:
        ticket = make_ticket("t-1", external_id="x-1", assignee_id="a-1")
        customer, agent, team = make_customer("c-1"), make_agent("a-1"), make_team("team-1")
        event, message = make_event("t-1", 1), make_message("m-1", "t-1")
        article = make_article("kb-1")
        revision = make_revision(article)
        changed = make_customer_event("c-1", 1)
        records = (ticket, customer, agent, team, event, message, article, revision, changed)
        with store.unit_of_work() as uow:
            for record in records:
                _add(uow, record)
            uow.cursors.put(_CURSOR, "a-1")
            assert uow.tickets.get("t-1") == ticket
            assert uow.articles.get("kb-1") == article
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "x-1") == ticket
            assert _everything(uow, ["t-1"]) == _everything_empty(
                ["t-1"],
                tickets=[ticket],
                customers=[customer],
                agents=[agent],
                teams=[team],
                open_counts={"a-1": 1},
                open_for={"a-1": [ticket]},
                events={"t-1": [event]},
                messages={"t-1": [message]},
                between=[event],
                cursors={_CURSOR: "a-1"},
                articles=[article],
                revisions={"kb-1": [revision]},
                customer_events={"c-1": [changed]},
                customer_between=[changed],
            )

    def test_unit_reads_its_own_updates(self, store: Store) -> None:
        v1 = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        seed(store, v1)
        v2 = next_version(v1, status=TicketStatus.RESOLVED)
        with store.unit_of_work() as uow:
            uow.tickets.update(v2)
            assert uow.tickets.get("t-1") == v2
            assert uow.tickets.list(status=TicketStatus.RESOLVED) == [v2]
            assert _nonzero(uow.tickets.open_counts_by_assignee()) == {}

    def test_commit_makes_ticket_events_and_messages_visible_together(self, store: Store) -> None:
        ticket = make_ticket("t-1")
        events = [make_event("t-1", 1), make_event("t-1", 2)]
        message = make_message("m-1", "t-1")
        with store.unit_of_work() as uow:
            uow.tickets.add(ticket)
            uow.events.append(events)
            uow.messages.add(message)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.tickets.get("t-1") == ticket
            assert uow.events.for_ticket("t-1") == events
            assert uow.messages.for_ticket("t-1") == [message]

    def test_failed_commit_stores_none_of_ticket_events_and_messages(self, store: Store) -> None:
        seed(store, make_customer("c-1"))

        def write(uow: UnitOfWork) -> None:
            uow.tickets.add(make_ticket("t-1"))
            uow.events.append([make_event("t-1", 1), make_event("t-1", 2)])
            uow.messages.add(make_message("m-1", "t-1"))
            uow.cursors.put(_CURSOR, "a-1")
            uow.articles.add(make_article("kb-1"))
            uow.articles.add_revision(make_revision(make_article("kb-1")))
            uow.customer_events.append([make_customer_event("c-1", 1)])
            uow.customers.add(make_customer("c-1", name="again"))

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(
                ["t-1"], customers=[make_customer("c-1")]
            )

    def test_racing_intakes_of_one_external_id_store_one_ticket(self, store: Store) -> None:
        """Two units both find no ticket for a webhook, then both add one; one is refused.

        A store may refuse the loser at its ``add`` or at its ``commit()``, with
        ``DuplicateEntity`` or (if it cannot tell yet) ``ConcurrencyConflict``.
        """
        first_ticket = make_ticket("t-1", channel=Channel.CHAT, external_id="hook-1")
        second_ticket = make_ticket("t-2", channel=Channel.CHAT, external_id="hook-1")
        refused: list[str] = []
        with store.unit_of_work() as first, store.unit_of_work() as second:
            assert first.tickets.find_by_external_id(Channel.CHAT, "hook-1") is None
            assert second.tickets.find_by_external_id(Channel.CHAT, "hook-1") is None
            for name, uow, ticket in (
                ("first", first, first_ticket),
                ("second", second, second_ticket),
            ):
                try:
                    uow.tickets.add(ticket)
                    uow.events.append([make_event(ticket.id, 1)])
                except ConflictError:
                    refused.append(name)
            for name, uow in (("first", first), ("second", second)):
                if name not in refused:
                    try:
                        uow.commit()
                    except ConflictError:
                        refused.append(name)
        assert len(refused) == 1, refused
        winner = second_ticket if refused == ["first"] else first_ticket
        with store.unit_of_work() as uow:
            assert uow.tickets.list() == [winner]
            assert uow.tickets.find_by_external_id(Channel.CHAT, "hook-1") == winner
            assert [e.ticket_id for e in uow.events.between(T0, T0 + timedelta(days=1))] == [
                winner.id
            ]

    # Tenancy

    @pytest.mark.parametrize("kind", _KINDS)
    def test_same_id_in_two_tenants_is_two_objects(self, store: Store, kind: str) -> None:
        mine, theirs = _build(kind, "x-1", version=1), _build(kind, "x-1", version=4)
        seed(store, mine, tenant_id=TENANT_A)
        seed(store, theirs, tenant_id=TENANT_B)
        assert _get(store, kind, "x-1", TENANT_A) == mine
        assert _get(store, kind, "x-1", TENANT_B) == theirs

    @pytest.mark.parametrize("kind", _KINDS)
    def test_update_in_one_tenant_leaves_the_other_alone(self, store: Store, kind: str) -> None:
        mine, theirs = _build(kind, "x-1"), _build(kind, "x-1")
        seed(store, mine, tenant_id=TENANT_A)
        seed(store, theirs, tenant_id=TENANT_B)
        changed = _renamed(mine, "changed in A")
        _committed(store, lambda uow: _repository(uow, kind).update(changed), TENANT_A)
        assert _get(store, kind, "x-1", TENANT_A) == changed
        assert _get(store, kind, "x-1", TENANT_B) == theirs

    @pytest.mark.parametrize("kind", _KINDS)
    def test_tenant_cannot_update_another_tenants_object(self, store: Store, kind: str) -> None:
        theirs = _build(kind, "x-1")
        seed(store, theirs, tenant_id=TENANT_A)
        hijack = _renamed(theirs, "hijacked")
        with store.unit_of_work(TENANT_B) as uow, pytest.raises((NotFound, ConcurrencyConflict)):
            _write_then_commit(uow, lambda u: _repository(u, kind).update(hijack))
        assert _get(store, kind, "x-1", TENANT_A) == theirs
        with store.unit_of_work(TENANT_B) as uow:
            assert _repository(uow, kind).list() == []

    def test_same_event_and_message_ids_in_two_tenants_are_separate(self, store: Store) -> None:
        mine = (make_event("t-1", 1, actor="a"), make_message("m-1", "t-1", body="a"))
        theirs = (make_event("t-1", 1, actor="b"), make_message("m-1", "t-1", body="b"))
        seed(store, *mine, tenant_id=TENANT_A)
        seed(store, *theirs, tenant_id=TENANT_B)
        for tenant, (event, message) in ((TENANT_A, mine), (TENANT_B, theirs)):
            with store.unit_of_work(tenant) as uow:
                assert uow.events.for_ticket("t-1") == [event]
                assert uow.messages.for_ticket("t-1") == [message]

    def test_same_external_id_in_two_tenants_is_allowed(self, store: Store) -> None:
        mine = make_ticket("t-1", external_id="shared")
        theirs = make_ticket("t-2", external_id="shared")
        seed(store, mine, tenant_id=TENANT_A)
        seed(store, theirs, tenant_id=TENANT_B)
        with store.unit_of_work(TENANT_A) as uow:
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "shared") == mine
        with store.unit_of_work(TENANT_B) as uow:
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "shared") == theirs

    def test_tenant_never_sees_another_tenants_data(self, store: Store) -> None:
        seed(
            store,
            make_ticket("t-1", external_id="x-1", status=TicketStatus.ASSIGNED, assignee_id="a-1"),
            make_customer("c-1"),
            make_agent("a-1"),
            make_team("team-1"),
            make_event("t-1", 1),
            make_message("m-1", "t-1"),
            make_article("kb-1", status=ArticleStatus.PUBLISHED),
            make_revision(make_article("kb-1")),
            make_customer_event("c-1", 1),
            tenant_id=TENANT_A,
        )
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), TENANT_A)
        with store.unit_of_work(TENANT_B) as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(["t-1"])
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "x-1") is None
            assert uow.articles.list(status=ArticleStatus.PUBLISHED) == []
            ids = ("t-1", "c-1", "a-1", "team-1", "kb-1")
            for kind, object_id in zip(_KINDS, ids, strict=True):
                with pytest.raises(_NOT_FOUND[kind]):
                    _repository(uow, kind).get(object_id)

    # Listings

    def test_tickets_listed_by_created_at_then_id(self, store: Store) -> None:
        shanghai = ZoneInfo("Asia/Shanghai")
        early = make_ticket("t-z", created_at=datetime(2024, 3, 4, 8, 0, tzinfo=UTC))
        tie_upper = make_ticket("t-B", created_at=datetime(2024, 3, 4, 17, 0, tzinfo=shanghai))
        tie_lower = make_ticket("t-a", created_at=datetime(2024, 3, 4, 9, 0, tzinfo=UTC))
        late = make_ticket("t-0", created_at=datetime(2024, 3, 4, 9, 30, tzinfo=UTC))
        seed(store, late, tie_lower, early, tie_upper)
        with store.unit_of_work() as uow:
            assert [t.id for t in uow.tickets.list()] == ["t-z", "t-B", "t-a", "t-0"]

    def test_tickets_filtered_by_status(self, store: Store) -> None:
        new, resolved = make_ticket("t-1"), make_ticket("t-2", status=TicketStatus.RESOLVED)
        seed(store, new, resolved)
        with store.unit_of_work() as uow:
            assert uow.tickets.list(status=TicketStatus.RESOLVED) == [resolved]
            assert uow.tickets.list(status=TicketStatus.NEW) == [new]
            assert uow.tickets.list(status=TicketStatus.CLOSED) == []

    def test_tickets_filtered_by_assignee(self, store: Store) -> None:
        mine = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        theirs = make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-2")
        seed(store, mine, theirs, make_ticket("t-3"))
        with store.unit_of_work() as uow:
            assert uow.tickets.list(assignee_id="a-1") == [mine]

    def test_tickets_filtered_by_customer(self, store: Store) -> None:
        mine = make_ticket("t-1", customer_id="c-1")
        theirs = make_ticket("t-2", customer_id="c-2")
        seed(store, mine, theirs)
        with store.unit_of_work() as uow:
            assert uow.tickets.list(customer_id="c-2") == [theirs]

    def test_ticket_filters_combine(self, store: Store) -> None:
        def ticket(ticket_id: str, status: TicketStatus, assignee: str, customer: str) -> Ticket:
            return make_ticket(ticket_id, status=status, assignee_id=assignee, customer_id=customer)

        match = ticket("t-1", TicketStatus.IN_PROGRESS, "a-1", "c-1")
        seed(
            store,
            match,
            ticket("t-2", TicketStatus.RESOLVED, "a-1", "c-1"),
            ticket("t-3", TicketStatus.IN_PROGRESS, "a-2", "c-1"),
            ticket("t-4", TicketStatus.IN_PROGRESS, "a-1", "c-2"),
        )
        with store.unit_of_work() as uow:
            found = uow.tickets.list(
                status=TicketStatus.IN_PROGRESS, assignee_id="a-1", customer_id="c-1"
            )
            assert found == [match]

    @pytest.mark.parametrize("kind", ["customer", "agent", "team", "article"])
    def test_listed_by_id(self, store: Store, kind: str) -> None:
        ids = ["b", "B", "a-10", "a-9", "张", "A"]
        seed(store, *(_build(kind, i) for i in ids))
        with store.unit_of_work() as uow:
            assert [o.id for o in _repository(uow, kind).list()] == sorted(ids)

    def test_open_counts_count_only_open_statuses(self, store: Store) -> None:
        tickets = [
            make_ticket(f"t-{status.value}", status=status, assignee_id="a-1")
            for status in TicketStatus
        ]
        tickets += [
            make_ticket("t-other", status=TicketStatus.ON_HOLD, assignee_id="a-2"),
            make_ticket("t-unassigned", status=TicketStatus.NEW),
            make_ticket("t-done", status=TicketStatus.CLOSED, assignee_id="a-3"),
        ]
        seed(store, *tickets)
        with store.unit_of_work() as uow:
            counts = _nonzero(uow.tickets.open_counts_by_assignee())
        assert counts == {"a-1": len(OPEN_STATUSES), "a-2": 1}

    def test_open_counts_follow_committed_updates(self, store: Store) -> None:
        first = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        second = make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        seed(store, first, second)

        def write(uow: UnitOfWork) -> None:
            uow.tickets.update(next_version(first, assignee_id="a-2"))
            uow.tickets.update(next_version(second, status=TicketStatus.RESOLVED))

        _committed(store, write, DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert _nonzero(uow.tickets.open_counts_by_assignee()) == {"a-2": 1}

    # One assignee's open tickets

    def test_open_for_assignee_lists_only_open_statuses(self, store: Store) -> None:
        tickets = [
            make_ticket(f"t-{status.value}", status=status, assignee_id="a-1")
            for status in TicketStatus
        ]
        seed(store, *tickets)
        with store.unit_of_work() as uow:
            found = uow.tickets.open_for_assignee("a-1")
        assert {t.status for t in found} == OPEN_STATUSES
        assert found == sorted((t for t in tickets if t.status in OPEN_STATUSES), key=_by_id)

    def test_open_for_assignee_ordered_by_created_at_then_id(self, store: Store) -> None:
        shanghai = ZoneInfo("Asia/Shanghai")

        def mine(ticket_id: str, created_at: datetime) -> Ticket:
            return make_ticket(
                ticket_id, created_at=created_at, status=TicketStatus.IN_PROGRESS, assignee_id="a-1"
            )

        early = mine("t-z", datetime(2024, 3, 4, 8, 0, tzinfo=UTC))
        tie_upper = mine("t-B", datetime(2024, 3, 4, 17, 0, tzinfo=shanghai))
        tie_lower = mine("t-a", datetime(2024, 3, 4, 9, 0, tzinfo=UTC))
        late = mine("t-0", datetime(2024, 3, 4, 9, 30, tzinfo=UTC))
        seed(store, late, tie_lower)
        seed(store, early, tie_upper)
        with store.unit_of_work() as uow:
            assert uow.tickets.open_for_assignee("a-1") == [early, tie_upper, tie_lower, late]

    def test_open_for_assignee_leaves_out_other_assignees(self, store: Store) -> None:
        mine = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        seed(
            store,
            mine,
            make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-2"),
            make_ticket("t-3", status=TicketStatus.ASSIGNED, assignee_id="A-1"),
            make_ticket("t-4", status=TicketStatus.ASSIGNED, assignee_id="a-10"),
            make_ticket("t-5"),
        )
        with store.unit_of_work() as uow:
            assert uow.tickets.open_for_assignee("a-1") == [mine]
            assert uow.tickets.open_for_assignee("a-9") == []
            assert uow.tickets.open_for_assignee("a-%") == []

    def test_open_for_assignee_agrees_with_list_and_open_counts(self, store: Store) -> None:
        statuses = list(TicketStatus)
        tickets = [
            make_ticket(
                f"t-{n}",
                status=statuses[n % len(statuses)],
                assignee_id=(None, "a-1", "a-2")[n % 3],
                created_at=T0 + timedelta(minutes=(n * 7) % 11),
            )
            for n in range(30)
        ]
        seed(store, *tickets)
        with store.unit_of_work() as uow:
            counts = _nonzero(uow.tickets.open_counts_by_assignee())
            for agent in ("a-1", "a-2"):
                listed = uow.tickets.list(assignee_id=agent)
                found = uow.tickets.open_for_assignee(agent)
                assert found == [t for t in listed if t.status in OPEN_STATUSES]
                assert len(found) == counts[agent]

    def test_open_for_assignee_follows_committed_updates(self, store: Store) -> None:
        first = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        second = make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        done = make_ticket("t-3", status=TicketStatus.RESOLVED, assignee_id="a-2")
        seed(store, first, second, done)
        moved = next_version(first, assignee_id="a-2")
        reopened = next_version(done, status=TicketStatus.IN_PROGRESS)

        def write(uow: UnitOfWork) -> None:
            uow.tickets.update(moved)
            uow.tickets.update(next_version(second, status=TicketStatus.RESOLVED))
            uow.tickets.update(reopened)

        _committed(store, write, DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.tickets.open_for_assignee("a-1") == []
            assert uow.tickets.open_for_assignee("a-2") == [moved, reopened]

    def test_open_for_assignee_sees_the_units_own_writes(self, store: Store) -> None:
        kept = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        resolved = make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        handed_over = make_ticket("t-3", status=TicketStatus.ASSIGNED, assignee_id="a-2")
        seed(store, kept, resolved, handed_over)
        added = make_ticket(
            "t-0", status=TicketStatus.NEW, assignee_id="a-1", created_at=T0 - timedelta(hours=1)
        )
        taken = next_version(handed_over, assignee_id="a-1")
        with store.unit_of_work() as writer:
            writer.tickets.add(added)
            writer.tickets.update(next_version(resolved, status=TicketStatus.RESOLVED))
            writer.tickets.update(taken)
            assert writer.tickets.open_for_assignee("a-1") == [added, kept, taken]
            assert writer.tickets.open_for_assignee("a-2") == []
            with store.unit_of_work() as reader:
                assert reader.tickets.open_for_assignee("a-1") == [kept, resolved]
                assert reader.tickets.open_for_assignee("a-2") == [handed_over]

    def test_open_for_assignee_forgets_rolled_back_writes(self, store: Store) -> None:
        kept = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1")
        seed(store, kept)
        with store.unit_of_work() as uow:
            uow.tickets.add(make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-1"))
            uow.tickets.update(next_version(kept, status=TicketStatus.CLOSED))
            assert uow.tickets.open_for_assignee("a-1") == [
                make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-1")
            ]
            uow.rollback()
            assert uow.tickets.open_for_assignee("a-1") == [kept]
        with store.unit_of_work() as uow:
            assert uow.tickets.open_for_assignee("a-1") == [kept]

    def test_open_for_assignee_sees_only_its_tenant(self, store: Store) -> None:
        mine = make_ticket("t-1", status=TicketStatus.ASSIGNED, assignee_id="a-1", subject="A")
        theirs = make_ticket("t-2", status=TicketStatus.ASSIGNED, assignee_id="a-1", subject="B")
        seed(store, mine, tenant_id=TENANT_A)
        seed(store, theirs, tenant_id=TENANT_B)
        with store.unit_of_work(TENANT_A) as uow:
            assert uow.tickets.open_for_assignee("a-1") == [mine]
        with store.unit_of_work(TENANT_B) as uow:
            assert uow.tickets.open_for_assignee("a-1") == [theirs]
        with store.unit_of_work() as uow:
            assert uow.tickets.open_for_assignee("a-1") == []

    def test_events_of_a_ticket_ordered_by_seq(self, store: Store) -> None:
        third, first, second = make_event("t-1", 3), make_event("t-1", 1), make_event("t-1", 2)
        seed(store, third)
        seed(store, first, second)
        seed(store, make_event("t-2", 1))
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("t-1") == [first, second, third]

    def test_events_between_is_half_open(self, store: Store) -> None:
        start, end = T0, T0 + timedelta(hours=1)
        before = make_event("t-1", 1, at=start - timedelta(microseconds=1))
        at_start = make_event("t-1", 2, at=start)
        inside = make_event("t-1", 3, at=end - timedelta(microseconds=1))
        at_end = make_event("t-1", 4, at=end)
        seed(store, before, at_start, inside, at_end)
        with store.unit_of_work() as uow:
            assert list(uow.events.between(start, end)) == [at_start, inside]

    def test_events_between_ordered_by_at_ticket_and_seq(self, store: Store) -> None:
        at = T0 + timedelta(minutes=5)
        later = make_event("t-a", 1, at=at + timedelta(seconds=1))
        b2, b1 = make_event("t-b", 2, at=at), make_event("t-b", 1, at=at)
        a3 = make_event("t-a", 3, at=at)
        c1 = make_event("t-c", 1, at=at - timedelta(seconds=1))
        seed(store, later, b2, a3)
        seed(store, b1, c1)
        with store.unit_of_work() as uow:
            found = list(uow.events.between(T0, T0 + timedelta(hours=1)))
        assert found == [c1, a3, b1, b2, later]

    def test_events_between_compares_instants_across_offsets(self, store: Store) -> None:
        shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
        first = make_event("t-1", 1, at=datetime(2024, 3, 4, 17, 0, tzinfo=shanghai))
        second = make_event("t-2", 1, at=datetime(2024, 3, 4, 9, 30, tzinfo=UTC))
        third = make_event("t-3", 1, at=datetime(2024, 3, 4, 5, 0, tzinfo=new_york))
        seed(store, third, second, first)
        start = datetime(2024, 3, 4, 17, 0, tzinfo=shanghai)
        end = datetime(2024, 3, 4, 5, 0, tzinfo=new_york)
        with store.unit_of_work() as uow:
            assert list(uow.events.between(start, end)) == [first, second]
            whole_day = uow.events.between(T0 - timedelta(hours=9), T0 + timedelta(hours=9))
            assert list(whole_day) == [first, second, third]

    def test_messages_listed_in_the_order_added(self, store: Store) -> None:
        late = make_message("m-b", created_at=T0 + timedelta(hours=1))
        early = make_message("m-a", created_at=T0)
        later_unit = make_message("m-0", created_at=T0 - timedelta(hours=1))
        seed(store, late, early, make_message("m-other", "t-2"))
        seed(store, later_unit)
        with store.unit_of_work() as uow:
            assert uow.messages.for_ticket("t-1") == [late, early, later_unit]

    # Customer events

    def test_customer_event_round_trips_with_its_data(self, store: Store) -> None:
        event = make_customer_event(
            "c-1",
            1,
            actor="a-7",
            data={
                "from": "regular",
                "to": "vip",
                "reason": "年度消费超过十万 annual spend over 100k",
                "spend": "120000.00",
                "override": True,
                "expires": None,
            },
        )
        seed(store, event)
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == [event]

    def test_unknown_customer_has_no_events(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("missing") == []
            assert list(uow.customer_events.between(*_ALL_TIME)) == []

    def test_customer_events_ordered_by_seq(self, store: Store) -> None:
        third, first = make_customer_event("c-1", 3), make_customer_event("c-1", 1)
        second = make_customer_event("c-1", 2, at=T0)
        seed(store, third)
        seed(store, first, second)
        seed(store, make_customer_event("c-2", 1))
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == [first, second, third]

    def test_customer_events_between_is_half_open(self, store: Store) -> None:
        start, end = T0, T0 + timedelta(hours=1)
        before = make_customer_event("c-1", 1, at=start - timedelta(microseconds=1))
        at_start = make_customer_event("c-1", 2, at=start)
        inside = make_customer_event("c-1", 3, at=end - timedelta(microseconds=1))
        at_end = make_customer_event("c-1", 4, at=end)
        seed(store, before, at_start, inside, at_end)
        with store.unit_of_work() as uow:
            assert list(uow.customer_events.between(start, end)) == [at_start, inside]

    def test_customer_events_between_ordered_by_at_customer_and_seq(self, store: Store) -> None:
        at = T0 + timedelta(minutes=5)
        later = make_customer_event("c-a", 1, at=at + timedelta(seconds=1))
        b2, b1 = make_customer_event("c-b", 2, at=at), make_customer_event("c-b", 1, at=at)
        a3 = make_customer_event("c-a", 3, at=at)
        c1 = make_customer_event("c-c", 1, at=at - timedelta(seconds=1))
        upper = make_customer_event("C-z", 1, at=at)
        seed(store, later, b2, a3)
        seed(store, b1, c1, upper)
        with store.unit_of_work() as uow:
            found = list(uow.customer_events.between(T0, T0 + timedelta(hours=1)))
        assert found == [c1, upper, a3, b1, b2, later]

    def test_customer_events_between_compares_instants_across_offsets(self, store: Store) -> None:
        shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
        first = make_customer_event("c-1", 1, at=datetime(2024, 3, 4, 17, 0, tzinfo=shanghai))
        second = make_customer_event("c-2", 1, at=datetime(2024, 3, 4, 9, 30, tzinfo=UTC))
        third = make_customer_event("c-3", 1, at=datetime(2024, 3, 4, 5, 0, tzinfo=new_york))
        seed(store, third, second, first)
        start = datetime(2024, 3, 4, 17, 0, tzinfo=shanghai)
        end = datetime(2024, 3, 4, 5, 0, tzinfo=new_york)
        with store.unit_of_work() as uow:
            assert list(uow.customer_events.between(start, end)) == [first, second]

    @pytest.mark.parametrize("zone", _ZONES, ids=str)
    def test_customer_event_time_keeps_its_instant(self, store: Store, zone: Any) -> None:
        moment = datetime(2024, 7, 1, 23, 59, 59, 123456, tzinfo=zone)
        seed(store, make_customer_event("c-1", 1, at=moment))
        with store.unit_of_work() as uow:
            (got,) = uow.customer_events.for_customer("c-1")
        assert _instant(got.at) == _instant(moment)

    def test_customer_event_with_a_stored_customer_and_seq_raises_duplicate_entity(
        self, store: Store
    ) -> None:
        original = make_customer_event("c-1", 1)
        seed(store, original)
        duplicate = make_customer_event("c-1", 1, type="customer.override_set")
        _refused(store, lambda uow: uow.customer_events.append([duplicate]), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == [original]

    def test_duplicate_customer_seq_within_one_append_raises_duplicate_entity(
        self, store: Store
    ) -> None:
        batch = [make_customer_event("c-1", 1), make_customer_event("c-1", 1, actor="a-2")]
        _refused(store, lambda uow: uow.customer_events.append(batch), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == []

    def test_same_customer_seq_in_two_appends_of_a_unit_raises_duplicate_entity(
        self, store: Store
    ) -> None:
        def write(uow: UnitOfWork) -> None:
            uow.customer_events.append([make_customer_event("c-1", 1)])
            uow.customer_events.append([make_customer_event("c-1", 1, actor="a-2")])

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == []

    def test_refused_customer_append_stores_nothing_of_its_unit(self, store: Store) -> None:
        seed(store, make_customer_event("c-1", 2))

        def write(uow: UnitOfWork) -> None:
            uow.customers.add(make_customer("c-2"))
            uow.tickets.add(make_ticket("t-1"))
            uow.events.append([make_event("t-1", 1)])
            uow.customer_events.append([make_customer_event("c-2", 1)])
            uow.customer_events.append(
                [make_customer_event("c-1", 3), make_customer_event("c-1", 2, actor="a-2")]
            )

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow:
            assert _everything(uow, ["t-1"]) == _everything_empty(
                ["t-1"],
                customer_events={"c-1": [make_customer_event("c-1", 2)]},
                customer_between=[make_customer_event("c-1", 2)],
            )

    def test_same_seq_on_different_customers_is_allowed(self, store: Store) -> None:
        first, second = make_customer_event("c-1", 1), make_customer_event("c-2", 1)
        seed(store, first, second)
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == [first]
            assert uow.customer_events.for_customer("c-2") == [second]

    def test_customer_and_ticket_streams_with_one_id_are_separate(self, store: Store) -> None:
        """A customer and a ticket may share an id: their events are two logs, not one."""
        ticket_event, customer_event = make_event("x-1", 1), make_customer_event("x-1", 1)
        seed(store, ticket_event, customer_event)
        with store.unit_of_work() as uow:
            assert uow.events.for_ticket("x-1") == [ticket_event]
            assert uow.customer_events.for_customer("x-1") == [customer_event]
            assert list(uow.events.between(*_ALL_TIME)) == [ticket_event]
            assert list(uow.customer_events.between(*_ALL_TIME)) == [customer_event]

    def test_same_customer_events_in_two_tenants_are_separate(self, store: Store) -> None:
        mine, theirs = make_customer_event("c-1", 1), make_customer_event("c-1", 1, actor="a-2")
        seed(store, mine, tenant_id=TENANT_A)
        seed(store, theirs, tenant_id=TENANT_B)
        for tenant, event in ((TENANT_A, mine), (TENANT_B, theirs)):
            with store.unit_of_work(tenant) as uow:
                assert uow.customer_events.for_customer("c-1") == [event]
                assert list(uow.customer_events.between(*_ALL_TIME)) == [event]

    def test_uncommitted_customer_events_are_seen_only_by_their_unit(self, store: Store) -> None:
        stored, staged = make_customer_event("c-1", 1), make_customer_event("c-1", 2)
        seed(store, stored)
        with store.unit_of_work() as writer:
            writer.customer_events.append([staged])
            assert writer.customer_events.for_customer("c-1") == [stored, staged]
            assert list(writer.customer_events.between(*_ALL_TIME)) == [stored, staged]
            with store.unit_of_work() as reader:
                assert reader.customer_events.for_customer("c-1") == [stored]
                assert list(reader.customer_events.between(*_ALL_TIME)) == [stored]
            writer.commit()
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == [stored, staged]

    def test_tier_change_stores_the_customer_and_its_event_together(self, store: Store) -> None:
        v1 = make_customer("c-1")
        seed(store, v1)
        v2 = next_version(v1, tier=CustomerTier.VIP)
        changed = make_customer_event("c-1", 1, data={"from": "regular", "to": "vip"})
        with store.unit_of_work() as uow:
            uow.customers.update(v2)
            uow.customer_events.append([changed])
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("c-1") == v2
            assert uow.customer_events.for_customer("c-1") == [changed]

    def test_stale_tier_change_stores_neither_customer_nor_event(self, store: Store) -> None:
        stored = make_customer("c-1", version=2)
        seed(store, stored)
        stale = next_version(make_customer("c-1"), tier=CustomerTier.VIP)

        def write(uow: UnitOfWork) -> None:
            uow.customer_events.append([make_customer_event("c-1", 1)])
            uow.customers.update(stale)

        _refused(store, write, ConcurrencyConflict)
        with store.unit_of_work() as uow:
            assert uow.customers.get("c-1") == stored
            assert uow.customer_events.for_customer("c-1") == []

    def test_racing_appends_of_one_customer_seq_store_one_event(self, store: Store) -> None:
        """Two units both read a customer's stream and append its next event; one is refused
        (``DuplicateEntity``, or ``ConcurrencyConflict`` from a store that cannot tell yet)."""
        events = {
            "first": make_customer_event("c-1", 1, actor="a-1"),
            "second": make_customer_event("c-1", 1, actor="a-2"),
        }
        refused: list[str] = []
        with store.unit_of_work() as first, store.unit_of_work() as second:
            units = {"first": first, "second": second}
            for uow in units.values():
                assert uow.customer_events.for_customer("c-1") == []
            for name, uow in units.items():
                try:
                    uow.customer_events.append([events[name]])
                except ConflictError:
                    refused.append(name)
            for name, uow in units.items():
                if name not in refused:
                    try:
                        uow.commit()
                    except ConflictError:
                        refused.append(name)
        assert len(refused) == 1, refused
        winner = events["second" if refused == ["first"] else "first"]
        with store.unit_of_work() as uow:
            assert uow.customer_events.for_customer("c-1") == [winner]

    # Cursors

    def test_unknown_cursor_is_none(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) is None

    def test_cursor_round_trips_once_committed(self, store: Store) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) == "a-1"
            assert uow.cursors.get("routing.round_robin:team-2") is None

    @pytest.mark.parametrize("name", sorted(TRICKY_TEXTS))
    def test_cursor_text_round_trips_verbatim(self, store: Store, name: str) -> None:
        text = TRICKY_TEXTS[name]
        _committed(store, lambda uow: uow.cursors.put(text, text), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.cursors.get(text) == text

    def test_longest_cursor_name_and_value_round_trip(self, store: Store) -> None:
        name = ("名" * MAX_CURSOR_NAME_CHARS)[:MAX_CURSOR_NAME_CHARS]
        value = ("值🙂" * MAX_CURSOR_VALUE_CHARS)[:MAX_CURSOR_VALUE_CHARS]
        _committed(store, lambda uow: uow.cursors.put(name, value), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.cursors.get(name) == value

    def test_cursor_names_match_only_themselves(self, store: Store) -> None:
        def write(uow: UnitOfWork) -> None:
            uow.cursors.put("team_1", "underscore")
            uow.cursors.put("Team_1", "upper")
            uow.cursors.put("team_1 ", "trailing space")

        _committed(store, write, DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.cursors.get("team_1") == "underscore"
            assert uow.cursors.get("Team_1") == "upper"
            assert uow.cursors.get("team_1 ") == "trailing space"
            assert uow.cursors.get("teamx1") is None
            assert uow.cursors.get("team%") is None

    def test_cursor_put_replaces_the_stored_value(self, store: Store) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-2"), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) == "a-2"

    def test_last_cursor_put_in_a_unit_wins(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.cursors.put(_CURSOR, "a-1")
            uow.cursors.put(_CURSOR, "a-2")
            assert uow.cursors.get(_CURSOR) == "a-2"
            uow.cursors.put(_CURSOR, "a-1")
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) == "a-1"

    def test_uncommitted_cursor_is_seen_only_by_its_unit(self, store: Store) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        with store.unit_of_work() as writer:
            writer.cursors.put(_CURSOR, "a-2")
            writer.cursors.put("routing.round_robin:team-2", "a-3")
            assert writer.cursors.get(_CURSOR) == "a-2"
            with store.unit_of_work() as reader:
                assert reader.cursors.get(_CURSOR) == "a-1"
                assert reader.cursors.get("routing.round_robin:team-2") is None
            writer.commit()
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) == "a-2"
            assert uow.cursors.get("routing.round_robin:team-2") == "a-3"

    def test_rolled_back_cursor_put_is_discarded(self, store: Store) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            uow.cursors.put(_CURSOR, "a-2")
            uow.rollback()
            assert uow.cursors.get(_CURSOR) == "a-1"
            uow.cursors.put(_CURSOR, "a-3")
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) == "a-1"

    def test_racing_cursor_puts_store_one_whole_value(self, store: Store) -> None:
        """Two units read one cursor and both move it; cursors carry no version.

        A store without snapshot checks lets the later commit win (the round robin then
        repeats one agent: acceptable). A store that refuses a unit whose snapshot is stale
        (SQLite) raises ``ConcurrencyConflict`` at the second put or commit; the first
        value stays. Either way the stored value is one of the two, never a mix.
        """
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        with store.unit_of_work() as first, store.unit_of_work() as second:
            assert first.cursors.get(_CURSOR) == second.cursors.get(_CURSOR) == "a-1"
            first.cursors.put(_CURSOR, "a-2")
            first.commit()
            try:
                second.cursors.put(_CURSOR, "a-3")
                second.commit()
                expected = "a-3"
            except ConcurrencyConflict:
                expected = "a-2"
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) == expected

    def test_same_cursor_in_two_tenants_is_two_values(self, store: Store) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), TENANT_A)
        with store.unit_of_work(TENANT_B) as uow:
            assert uow.cursors.get(_CURSOR) is None
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "b-1"), TENANT_B)
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-2"), TENANT_A)
        with store.unit_of_work(TENANT_A) as uow:
            assert uow.cursors.get(_CURSOR) == "a-2"
        with store.unit_of_work(TENANT_B) as uow:
            assert uow.cursors.get(_CURSOR) == "b-1"
        with store.unit_of_work() as uow:
            assert uow.cursors.get(_CURSOR) is None

    @pytest.mark.parametrize(
        "bad",
        ["", "n" * (MAX_CURSOR_NAME_CHARS + 1), "team\ud800", None, 7],
        ids=["empty", "too-long", "lone-surrogate", "none", "int"],
    )
    def test_bad_cursor_name_is_refused_and_nothing_stored(self, store: Store, bad: Any) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationFailed) as refused:
                uow.cursors.put(bad, "a-2")
            assert refused.value.field == "name"
            with pytest.raises(ValidationFailed) as refused:
                uow.cursors.get(bad)
            assert refused.value.field == "name"
            uow.cursors.put("routing.round_robin:team-2", "a-3")
            uow.commit()
        with store.unit_of_work() as uow:
            assert _everything(uow, [])["cursors"] == {
                _CURSOR: "a-1",
                "routing.round_robin:team-2": "a-3",
            }

    @pytest.mark.parametrize(
        "bad",
        ["", "v" * (MAX_CURSOR_VALUE_CHARS + 1), "a-\udfff", None, 7],
        ids=["empty", "too-long", "lone-surrogate", "none", "int"],
    )
    def test_bad_cursor_value_is_refused_and_nothing_stored(self, store: Store, bad: Any) -> None:
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            with pytest.raises(ValidationFailed) as refused:
                uow.cursors.put(_CURSOR, bad)
            assert refused.value.field == "value"
            with pytest.raises(ValidationFailed) as refused:
                uow.cursors.put("routing.round_robin:team-2", bad)
            assert refused.value.field == "value"
            assert uow.cursors.get(_CURSOR) == "a-1"
            assert uow.cursors.get("routing.round_robin:team-2") is None
            uow.commit()
        with store.unit_of_work() as uow:
            assert _everything(uow, [])["cursors"] == {
                _CURSOR: "a-1",
                "routing.round_robin:team-2": None,
            }

    # Knowledge-base articles

    def test_article_round_trips_with_every_field_set(self, store: Store) -> None:
        article = make_article(
            "kb-full",
            title="打印机离线 Printer shows offline",
            body="1. 重启打印机 Restart the printer.\n2. Re-add it in Settings › Printers.\n",
            tags=("printer", "打印机", "network"),
            language="zh",
            product="LaserJet 500",
            audience=Audience.INTERNAL,
            status=ArticleStatus.PUBLISHED,
            owner_id="a-7",
            created_at=T0 - timedelta(days=30),
            updated_at=T0,
            last_reviewed_at=T0 - timedelta(days=2),
            review_interval=timedelta(days=90, hours=12, microseconds=5),
            helpful_votes=12,
            unhelpful_votes=3,
            solved_ticket_ids=("t-9", "工单-1"),
            version=17,
        )
        seed(store, article)
        assert _get(store, "article", "kb-full") == article

    def test_revision_round_trips_with_its_article(self, store: Store) -> None:
        article = make_article("kb-1", body="新的步骤 new steps", version=3)
        revision = make_revision(
            article,
            editor_id="a-2",
            at=datetime(2024, 3, 4, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
            changed=("body", "tags"),
            note="客户反馈 customer feedback",
        )
        seed(store, revision)
        with store.unit_of_work() as uow:
            assert uow.articles.revisions("kb-1") == [revision]

    def test_articles_filtered_by_status(self, store: Store) -> None:
        by_status = {
            status: make_article(f"kb-{status.value}", status=status) for status in ArticleStatus
        }
        seed(store, *by_status.values(), make_article("kb-0", status=ArticleStatus.PUBLISHED))
        with store.unit_of_work() as uow:
            for status, article in by_status.items():
                expected = [article]
                if status is ArticleStatus.PUBLISHED:
                    expected.insert(0, make_article("kb-0", status=ArticleStatus.PUBLISHED))
                assert uow.articles.list(status=status) == expected, status
            assert len(uow.articles.list()) == len(ArticleStatus) + 1

    def test_filtered_articles_listed_by_id(self, store: Store) -> None:
        ids = ["b", "B", "kb-10", "kb-9", "张", "A"]
        seed(store, *(make_article(i, status=ArticleStatus.PUBLISHED) for i in ids))
        seed(store, make_article("a-draft"))
        with store.unit_of_work() as uow:
            found = uow.articles.list(status=ArticleStatus.PUBLISHED)
        assert [a.id for a in found] == sorted(ids)

    def test_article_status_filter_follows_committed_updates(self, store: Store) -> None:
        published = make_article("kb-1", status=ArticleStatus.PUBLISHED)
        seed(store, published, make_article("kb-2", status=ArticleStatus.PUBLISHED))
        archived = next_version(published, status=ArticleStatus.ARCHIVED)
        _committed(store, lambda uow: uow.articles.update(archived), DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert [a.id for a in uow.articles.list(status=ArticleStatus.PUBLISHED)] == ["kb-2"]
            assert uow.articles.list(status=ArticleStatus.ARCHIVED) == [archived]

    def test_article_status_filter_sees_only_the_units_own_updates(self, store: Store) -> None:
        draft = make_article("kb-1")
        seed(store, draft)
        in_review = next_version(draft, status=ArticleStatus.IN_REVIEW)
        added = make_article("kb-0", status=ArticleStatus.IN_REVIEW)
        with store.unit_of_work() as writer:
            writer.articles.update(in_review)
            writer.articles.add(added)
            assert writer.articles.list(status=ArticleStatus.IN_REVIEW) == [added, in_review]
            assert writer.articles.list(status=ArticleStatus.DRAFT) == []
            with store.unit_of_work() as reader:
                assert reader.articles.list(status=ArticleStatus.IN_REVIEW) == []
                assert reader.articles.list(status=ArticleStatus.DRAFT) == [draft]

    def test_revisions_ordered_by_version(self, store: Store) -> None:
        v1 = make_article("kb-1")
        v2 = next_version(v1, body="second")
        v3 = next_version(v2, body="third")
        first, second, third = make_revision(v1), make_revision(v2), make_revision(v3)
        seed(store, third)
        seed(store, first, make_revision(make_article("kb-2")))
        with store.unit_of_work() as uow:
            uow.articles.add_revision(second)
            assert uow.articles.revisions("kb-1") == [first, second, third]
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.articles.revisions("kb-1") == [first, second, third]

    def test_revisions_of_an_unknown_article_are_empty(self, store: Store) -> None:
        seed(store, make_revision(make_article("kb-1")))
        with store.unit_of_work() as uow:
            assert uow.articles.revisions("kb-2") == []
            assert uow.articles.revisions("KB-1") == []

    def test_revision_with_a_stored_version_raises_duplicate_entity(self, store: Store) -> None:
        original = make_revision(make_article("kb-1"), note="first")
        seed(store, original)
        again = make_revision(make_article("kb-1", title="rewritten"), note="second")
        _refused(store, lambda uow: uow.articles.add_revision(again), DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.articles.revisions("kb-1") == [original]

    def test_same_revision_twice_in_a_unit_raises_duplicate_entity(self, store: Store) -> None:
        def write(uow: UnitOfWork) -> None:
            uow.articles.add_revision(make_revision(make_article("kb-1"), note="first"))
            uow.articles.add_revision(make_revision(make_article("kb-1"), note="second"))

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.articles.revisions("kb-1") == []

    def test_same_version_of_different_articles_is_allowed(self, store: Store) -> None:
        first, second = make_revision(make_article("kb-1")), make_revision(make_article("kb-2"))
        seed(store, first, second)
        with store.unit_of_work() as uow:
            assert uow.articles.revisions("kb-1") == [first]
            assert uow.articles.revisions("kb-2") == [second]

    def test_same_article_and_revisions_in_two_tenants_are_separate(self, store: Store) -> None:
        mine = make_article("kb-1", title="A", status=ArticleStatus.PUBLISHED)
        theirs = make_article("kb-1", title="B")
        seed(store, mine, make_revision(mine), tenant_id=TENANT_A)
        seed(store, theirs, make_revision(theirs), tenant_id=TENANT_B)
        for tenant, article in ((TENANT_A, mine), (TENANT_B, theirs)):
            with store.unit_of_work(tenant) as uow:
                assert uow.articles.get("kb-1") == article
                assert uow.articles.revisions("kb-1") == [make_revision(article)]
        with store.unit_of_work(TENANT_B) as uow:
            assert uow.articles.list(status=ArticleStatus.PUBLISHED) == []

    def test_edit_stores_the_article_and_its_revision_together(self, store: Store) -> None:
        v1 = make_article("kb-1")
        seed(store, v1, make_revision(v1))
        v2 = next_version(v1, body="更新 updated", updated_at=T0 + timedelta(hours=1))

        def write(uow: UnitOfWork) -> None:
            uow.articles.update(v2)
            uow.articles.add_revision(make_revision(v2))

        _committed(store, write, DEFAULT_TENANT)
        with store.unit_of_work() as uow:
            assert uow.articles.get("kb-1") == v2
            assert uow.articles.revisions("kb-1") == [make_revision(v1), make_revision(v2)]

    def test_stale_edit_stores_neither_article_nor_revision(self, store: Store) -> None:
        v1 = make_article("kb-1")
        v2 = next_version(v1, body="theirs")
        seed(store, v2, make_revision(v1), make_revision(v2))
        mine = next_version(v1, body="mine")

        def write(uow: UnitOfWork) -> None:
            uow.articles.add_revision(make_revision(next_version(v2, body="mine, later")))
            uow.articles.update(mine)

        _refused(store, write, ConcurrencyConflict)
        with store.unit_of_work() as uow:
            assert uow.articles.get("kb-1") == v2
            assert uow.articles.revisions("kb-1") == [make_revision(v1), make_revision(v2)]

    def test_duplicate_revision_stores_nothing_of_its_unit(self, store: Store) -> None:
        """Two editors both record version 2: the later unit's article update is not kept."""
        v1 = make_article("kb-1")
        seed(store, v1, make_revision(v1), make_revision(next_version(v1, body="theirs")))

        def write(uow: UnitOfWork) -> None:
            uow.articles.update(next_version(v1, body="mine"))
            uow.articles.add(make_article("kb-2"))
            uow.articles.add_revision(make_revision(next_version(v1, body="mine")))

        _refused(store, write, DuplicateEntity)
        with store.unit_of_work() as uow:
            assert uow.articles.list() == [v1]
            assert uow.articles.revisions("kb-1") == [
                make_revision(v1),
                make_revision(next_version(v1, body="theirs")),
            ]

    def test_racing_votes_on_one_article_commit_once(self, store: Store) -> None:
        v1 = make_article("kb-1", status=ArticleStatus.PUBLISHED)
        seed(store, v1)
        with store.unit_of_work() as first, store.unit_of_work() as second:
            mine, theirs = first.articles.get("kb-1"), second.articles.get("kb-1")
            first.articles.update(next_version(mine, helpful_votes=mine.helpful_votes + 1))
            first.commit()
            with pytest.raises(ConcurrencyConflict):
                _write_then_commit(
                    second,
                    lambda uow: uow.articles.update(
                        next_version(theirs, unhelpful_votes=theirs.unhelpful_votes + 1)
                    ),
                )
        assert _get(store, "article", "kb-1") == next_version(v1, helpful_votes=1)

    @pytest.mark.parametrize("name", sorted(TRICKY_TEXTS))
    def test_article_text_round_trips_verbatim(self, store: Store, name: str) -> None:
        text = TRICKY_TEXTS[name]
        article = make_article("kb-1", title=text, body=text, tags=(text,), product=text)
        revision = make_revision(article, note=text, changed=(text,))
        seed(store, article, revision)
        with store.unit_of_work() as uow:
            got = uow.articles.get("kb-1")
            assert (got.title, got.body, got.tags, got.product) == (
                article.title,
                text,
                article.tags,
                article.product,
            )
            (got_revision,) = uow.articles.revisions("kb-1")
            assert (got_revision.note, got_revision.changed) == (text, (text,))
            assert got_revision.article == article

    def test_longest_article_body_round_trips(self, store: Store) -> None:
        body = ("知识库正文🙂" * (MAX_ARTICLE_BODY_CHARS // 6 + 1))[:MAX_ARTICLE_BODY_CHARS]
        article = make_article("kb-1", body=body)
        seed(store, article, make_revision(article))
        with store.unit_of_work() as uow:
            assert uow.articles.get("kb-1").body == body
            assert uow.articles.revisions("kb-1")[0].article.body == body

    # Round trips

    @pytest.mark.parametrize("zone", _ZONES, ids=str)
    def test_datetimes_keep_their_instant(self, store: Store, zone: Any) -> None:
        moment = datetime(2024, 7, 1, 23, 59, 59, 123456, tzinfo=zone)
        ticket = make_ticket(
            "t-1",
            created_at=moment,
            updated_at=moment + timedelta(microseconds=1),
            resolved_at=moment + timedelta(days=200),
        )
        customer = make_customer("c-1", first_purchase_at=moment)
        event = make_event("t-1", 1, at=moment)
        message = make_message("m-1", "t-1", created_at=moment)
        article = make_article("kb-1", created_at=moment, last_reviewed_at=moment)
        revision = make_revision(article, at=moment)
        seed(store, ticket, customer, event, message, article, revision)
        with store.unit_of_work() as uow:
            got = uow.tickets.get("t-1")
            got_customer = uow.customers.get("c-1")
            (got_event,) = uow.events.for_ticket("t-1")
            (got_message,) = uow.messages.for_ticket("t-1")
            got_article = uow.articles.get("kb-1")
            (got_revision,) = uow.articles.revisions("kb-1")
        assert _instant(got.created_at) == _instant(moment)
        assert _instant(got.updated_at) == _instant(moment) + timedelta(microseconds=1)
        assert got.resolved_at is not None
        assert _instant(got.resolved_at) == _instant(moment + timedelta(days=200))
        assert got_customer.first_purchase_at is not None
        assert _instant(got_customer.first_purchase_at) == _instant(moment)
        assert _instant(got_event.at) == _instant(moment)
        assert _instant(got_message.created_at) == _instant(moment)
        assert got_article.last_reviewed_at is not None
        for instant in (got_article.created_at, got_article.last_reviewed_at, got_revision.at):
            assert _instant(instant) == _instant(moment)
        assert _instant(got_revision.article.updated_at) == _instant(moment)

    def test_ambiguous_local_time_keeps_its_instant(self, store: Store) -> None:
        """01:30 on the night New York leaves DST happens twice; ``fold`` picks the second."""
        new_york = ZoneInfo("America/New_York")
        first = datetime(2024, 11, 3, 1, 30, tzinfo=new_york)
        second = datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=new_york)
        seed(store, make_ticket("t-1", created_at=first), make_ticket("t-2", created_at=second))
        with store.unit_of_work() as uow:
            got = {t.id: _instant(t.created_at) for t in uow.tickets.list()}
        assert got == {"t-1": _instant(first), "t-2": _instant(second)}
        assert got["t-2"] - got["t-1"] == timedelta(hours=1)

    @pytest.mark.parametrize("name", sorted(TRICKY_TEXTS))
    def test_text_round_trips_verbatim(self, store: Store, name: str) -> None:
        text = TRICKY_TEXTS[name]
        ticket = make_ticket("t-1", subject=text, body=text, resolution=text)
        customer = make_customer("c-1", name=text)
        message = make_message("m-1", "t-1", body=text)
        event = make_event("t-1", 1, data={"comment": text, text: [text]})
        changed = make_customer_event("c-1", 1, data={"reason": text, text: [text]})
        seed(store, ticket, customer, message, event, changed)
        with store.unit_of_work() as uow:
            got = uow.tickets.get("t-1")
            assert (got.subject, got.body, got.resolution) == (text, text, text)
            assert uow.customers.get("c-1").name == text
            assert uow.messages.for_ticket("t-1")[0].body == text
            assert uow.events.for_ticket("t-1")[0].data == {"comment": text, text: [text]}
            assert uow.customer_events.for_customer("c-1")[0].data == {
                "reason": text,
                text: [text],
            }

    def test_longest_body_round_trips(self, store: Store) -> None:
        body = ("工单正文🙂" * (MAX_BODY_CHARS // 5 + 1))[:MAX_BODY_CHARS]
        seed(store, make_ticket("t-1", body=body), make_message("m-1", "t-1", body=body))
        with store.unit_of_work() as uow:
            assert uow.tickets.get("t-1").body == body
            assert uow.messages.for_ticket("t-1")[0].body == body

    def test_injection_looking_ids_are_plain_ids(self, store: Store) -> None:
        sneaky = make_ticket("t' OR '1'='1", external_id="x'); DROP TABLE tickets;--")
        plain = make_ticket("t-1", external_id="x-1")
        seed(store, sneaky, plain)
        with store.unit_of_work() as uow:
            assert uow.tickets.get("t' OR '1'='1") == sneaky
            assert uow.tickets.find_by_external_id(Channel.EMAIL, sneaky.external_id or "") == (
                sneaky
            )
            assert uow.tickets.find_by_external_id(Channel.EMAIL, "' OR '1'='1") is None
            assert uow.tickets.list(customer_id="' OR '1'='1") == []
            assert [t.id for t in uow.tickets.list()] == ["t' OR '1'='1", "t-1"]

    def test_like_wildcards_in_ids_match_only_themselves(self, store: Store) -> None:
        seed(store, make_ticket("t_1"), make_ticket("tx1"), make_ticket("t%"))
        with store.unit_of_work() as uow:
            assert uow.tickets.get("t_1").id == "t_1"
            assert uow.tickets.get("t%").id == "t%"
            with pytest.raises(TicketNotFound):
                uow.tickets.get("t%1")

    def test_ids_are_case_sensitive(self, store: Store) -> None:
        lower, upper = make_customer("acme"), make_customer("ACME", name="Upper")
        seed(store, lower, upper)
        with store.unit_of_work() as uow:
            assert uow.customers.get("acme") == lower
            assert uow.customers.get("ACME") == upper

    def test_non_ascii_ids_round_trip(self, store: Store) -> None:
        customer = make_customer("客户-张三")
        ticket = make_ticket("工单-1", customer_id="客户-张三", assignee_id="坐席-1")
        seed(store, customer, ticket, make_event("工单-1", 1), make_message("消息-1", "工单-1"))
        with store.unit_of_work() as uow:
            assert uow.customers.get("客户-张三") == customer
            assert uow.tickets.list(customer_id="客户-张三") == [ticket]
            assert [e.id for e in uow.events.for_ticket("工单-1")] == ["工单-1#1"]
            assert [m.id for m in uow.messages.for_ticket("工单-1")] == ["消息-1"]

    def test_decimal_spend_is_exact(self, store: Store) -> None:
        customer = make_customer("c-1", total_spend=Decimal("98765432109876.01"))
        seed(store, customer)
        got = _get(store, "customer", "c-1")
        assert got.total_spend == Decimal("98765432109876.01")

    # Persistence across store instances (only with a ``reopen_store`` fixture)

    def test_committed_data_survives_reopening(
        self, store: Store, reopen_store: Callable[[], Store] | None
    ) -> None:
        if reopen_store is None:
            pytest.skip("no reopen_store fixture: the store keeps nothing between instances")
        records = _sample_tenant()
        seed(store, *records, tenant_id=TENANT_A)
        _committed(store, lambda uow: uow.cursors.put(_CURSOR, "a-1"), TENANT_A)
        with store.unit_of_work(TENANT_A) as uow:
            before = _everything(uow, ["t-1", "t-2"])
        assert before["cursors"][_CURSOR] == "a-1"
        assert before["open_for"]["a-1"] == [records[0]]
        with _opened(reopen_store) as again, again.unit_of_work(TENANT_A) as uow:
            assert _everything(uow, ["t-1", "t-2"]) == before
            assert uow.tickets.get("t-1") == records[0]

    def test_uncommitted_data_does_not_survive_reopening(
        self, store: Store, reopen_store: Callable[[], Store] | None
    ) -> None:
        if reopen_store is None:
            pytest.skip("no reopen_store fixture: the store keeps nothing between instances")
        with store.unit_of_work() as uow:
            for record in _sample_tenant():
                _add(uow, record)
            uow.cursors.put(_CURSOR, "a-1")
        with _opened(reopen_store) as again, again.unit_of_work() as uow:
            assert _everything(uow, ["t-1", "t-2"]) == _everything_empty(["t-1", "t-2"])

    def test_versions_are_checked_across_store_instances(
        self, store: Store, reopen_store: Callable[[], Store] | None
    ) -> None:
        if reopen_store is None:
            pytest.skip("no reopen_store fixture: the store keeps nothing between instances")
        v1 = make_ticket("t-1")
        seed(store, v1)
        with _opened(reopen_store) as again:
            _committed(
                again, lambda uow: uow.tickets.update(next_version(v1, subject="x")), DEFAULT_TENANT
            )
        stale = next_version(v1, subject="stale")
        _refused(store, lambda uow: uow.tickets.update(stale), ConcurrencyConflict)
        assert _get(store, "ticket", "t-1") == next_version(v1, subject="x")
