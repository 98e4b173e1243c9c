"""MemoryStore, SqliteStore and PostgresStore, driven with the same random operations, agree.

Modelled on hypothesis's ``DatabaseComparison``: every rule runs on each store and the
results (model equality) or exception types must match. After each step everything the open
unit of work sees is compared; after each unit ends, everything committed in both tenants.

The protocol lets a store refuse a conflicting write at the call or only at ``commit()``.
When one store refuses at the call and another accepts, the accepting store must raise the
same error at ``commit()``, which the machine checks at once. After any refusal the unit
takes no further work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from supportflow.errors import (
    ConcurrencyConflict,
    DuplicateEntity,
    SupportflowError,
    ValidationFailed,
)
from supportflow.kb.articles import Article, ArticleRevision, ArticleStatus
from supportflow.models import (
    Agent,
    AgentStatus,
    AuthorKind,
    Channel,
    Customer,
    CustomerEvent,
    CustomerTier,
    Message,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from supportflow.storage.memory import MemoryStore
from supportflow.storage.sql import SqliteStore
from supportflow.testing.strategies import articles, customer_events

if TYPE_CHECKING:
    from collections.abc import Callable

    from supportflow.storage.protocols import Store, UnitOfWork
    from supportflow.testing.postgres import FreshDatabases

Outcome = tuple[str, Any]

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
TENANTS = ("acme", "globex")
TICKET_IDS = ("t-1", "t-2", "T-1", "t-10")
CUSTOMER_IDS = ("c-1", "c-2", "c-3")
AGENT_IDS = ("a-1", "a-2", "a-3")
MESSAGE_IDS = ("m-1", "m-2", "m-3", "m-4", "m-5")
CHANNELS = (Channel.EMAIL, Channel.CHAT)
EXTERNAL_IDS = ("x-1", "x-2")
TEXTS = ("退款申请", "login failed 登录失败 🙏", "Robert'); DROP TABLE tickets;--", "plain")
CURSOR_NAMES = ("routing.round_robin:team-1", "routing.round_robin:team-2", "游标 cursor")
ARTICLE_IDS = ("kb-1", "kb-2", "KB-1")
BAD_CURSOR_TEXTS = ("", "x" * 501, "a-\ud800")
"""Refused as a cursor name and as a value (501 characters is too long for either)."""
DEFERRABLE = (ConcurrencyConflict, DuplicateEntity)
"""Errors a store may raise at the call or only at ``commit()``."""

instants = st.builds(
    lambda minutes, zone: (T0 + timedelta(minutes=minutes)).astimezone(zone),
    st.sampled_from([0, 0, 5, 90, -30]),
    st.sampled_from([UTC, ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=-3))]),
)
ALL_TIME = (datetime(2019, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
"""Bounds of ``between`` that hold every customer event the machine draws."""
version_steps = st.sampled_from([1, 1, 1, 0, 2])
"""How far ahead of the stored version an update's version is (1 is the only valid one)."""


def event(ticket_id: str, seq: int, **fields: Any) -> TicketEvent:
    """Event ``seq`` of a ticket (its id is its stream position)."""
    return TicketEvent(id=f"{ticket_id}#{seq}", ticket_id=ticket_id, seq=seq, **fields)


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call returned, or the type of the supportflow error it raised."""
    try:
        return ("ok", call())
    except SupportflowError as exc:
        return ("error", type(exc))


def snapshot(uow: UnitOfWork) -> dict[str, Any]:
    """Everything a unit of work can see of its tenant."""
    tickets = uow.tickets
    return {
        "tickets": tickets.list(),
        "by_id": {t: outcome(partial(tickets.get, t)) for t in TICKET_IDS},
        "by_external_id": {
            (c, x): tickets.find_by_external_id(c, x) for c in CHANNELS for x in EXTERNAL_IDS
        },
        "open_counts": {a: n for a, n in tickets.open_counts_by_assignee().items() if n},
        "open_for": {a: tickets.open_for_assignee(a) for a in AGENT_IDS},
        "customers": uow.customers.list(),
        "agents": uow.agents.list(),
        "events": {t: uow.events.for_ticket(t) for t in TICKET_IDS},
        "messages": {t: uow.messages.for_ticket(t) for t in TICKET_IDS},
        "timeline": list(uow.events.between(T0 - timedelta(days=1), T0 + timedelta(days=1))),
        "cursors": {name: uow.cursors.get(name) for name in CURSOR_NAMES},
        "articles": uow.articles.list(),
        "articles_by_status": {s: uow.articles.list(status=s) for s in ArticleStatus},
        "article_by_id": {a: outcome(partial(uow.articles.get, a)) for a in ARTICLE_IDS},
        "revisions": {a: uow.articles.revisions(a) for a in ARTICLE_IDS},
        "customer_events": {c: uow.customer_events.for_customer(c) for c in CUSTOMER_IDS},
        "customer_timeline": list(uow.customer_events.between(*ALL_TIME)),
    }


class StoresAgree(RuleBasedStateMachine):
    """One unit of work is always open on each store, in the same tenant."""

    def __init__(self) -> None:
        super().__init__()
        self.stores: dict[str, Store] = {"memory": MemoryStore(), "sqlite": SqliteStore(":memory:")}
        self.units: dict[str, UnitOfWork] = {}
        self.tenant = TENANTS[0]

    def agree(self, outcomes: dict[str, Any]) -> Any:
        """The common value of ``outcomes``; fails naming each store's answer if they differ."""
        first, *others = outcomes.values()
        assert all(other == first for other in others), outcomes
        return first

    def on_each(self, call: Callable[[UnitOfWork], Any]) -> dict[str, Outcome]:
        return {name: outcome(partial(call, uow)) for name, uow in self.units.items()}

    def read(self, call: Callable[[UnitOfWork], Any]) -> Outcome:
        result: Outcome = self.agree(self.on_each(call))
        return result

    def write(self, call: Callable[[UnitOfWork], Any]) -> None:
        """Run a write on each store; a refusal ends the unit at once.

        If every store refused, the unit is rolled back. If only some did, each other store
        must raise the same error at ``commit()``.
        """
        outcomes = self.on_each(call)
        refused = {name: result for name, (status, result) in outcomes.items() if status == "error"}
        if not refused:
            return
        errors = set(refused.values())
        assert len(errors) == 1, outcomes
        (error,) = errors
        if len(refused) < len(outcomes):
            assert issubclass(error, DEFERRABLE), outcomes

        def finish(name: str, uow: UnitOfWork) -> None:
            if name in refused:
                uow.rollback()
            else:
                assert outcome(uow.commit) == ("error", error), f"{name} accepted: {outcomes}"

        self.end(finish, self.tenant)

    def begin(self, tenant: str) -> None:
        self.tenant = tenant
        self.units = {name: store.unit_of_work(tenant) for name, store in self.stores.items()}
        for uow in self.units.values():
            uow.__enter__()

    def end(self, finish: Callable[[str, UnitOfWork], None], next_tenant: str) -> None:
        """Finish the open units, check every tenant's committed data agrees, begin anew."""
        units, self.units = self.units, {}
        try:
            for name, uow in units.items():
                finish(name, uow)
        finally:
            for uow in units.values():
                uow.__exit__(None, None, None)
        for tenant in TENANTS:
            views = {}
            for name, store in self.stores.items():
                with store.unit_of_work(tenant) as uow:
                    views[name] = snapshot(uow)
            self.agree(views)
        self.begin(next_tenant)

    # Units of work

    @initialize(tenant=st.sampled_from(TENANTS))
    def start(self, tenant: str) -> None:
        """Give both tenants a ticket and a customer to update, then open a unit."""
        for owner in TENANTS:
            ticket = Ticket(
                id="t-1",
                channel=Channel.EMAIL,
                external_id="x-1",
                customer_id="c-1",
                subject=f"{owner}: 发票 invoice",
                body="seeded",
                status=TicketStatus.ASSIGNED,
                assignee_id="a-1",
                created_at=T0,
                updated_at=T0,
            )
            for store in self.stores.values():
                with store.unit_of_work(owner) as uow:
                    uow.tickets.add(ticket)
                    uow.customers.add(Customer(id="c-1", name=owner))
                    uow.commit()
        self.begin(tenant)

    @rule(next_tenant=st.sampled_from(TENANTS))
    def commit(self, next_tenant: str) -> None:
        outcomes: dict[str, Outcome] = {}

        def finish(name: str, uow: UnitOfWork) -> None:
            outcomes[name] = outcome(uow.commit)

        self.end(finish, next_tenant)
        self.agree(outcomes)

    @rule(how=st.sampled_from(["rollback", "leave", "raise"]), next_tenant=st.sampled_from(TENANTS))
    def discard(self, how: str, next_tenant: str) -> None:
        """End the unit without committing: ``rollback()``, or leave it quietly or by an error."""

        def finish(_name: str, uow: UnitOfWork) -> None:
            if how == "rollback":
                uow.rollback()
            elif how == "raise":
                error = RuntimeError("the host failed mid-unit")
                uow.__exit__(RuntimeError, error, error.__traceback__)

        self.end(finish, next_tenant)

    # Writes

    @rule(
        ticket_id=st.sampled_from(TICKET_IDS),
        channel=st.sampled_from(CHANNELS),
        external_id=st.none() | st.sampled_from(EXTERNAL_IDS),
        customer_id=st.sampled_from(CUSTOMER_IDS),
        status=st.sampled_from(TicketStatus),
        assignee_id=st.none() | st.sampled_from(AGENT_IDS),
        created_at=instants,
        subject=st.sampled_from(TEXTS),
    )
    def add_ticket(
        self,
        ticket_id: str,
        channel: Channel,
        external_id: str | None,
        customer_id: str,
        status: TicketStatus,
        assignee_id: str | None,
        created_at: datetime,
        subject: str,
    ) -> None:
        ticket = Ticket(
            id=ticket_id,
            channel=channel,
            external_id=external_id,
            customer_id=customer_id,
            subject=subject,
            body=subject * 2,
            status=status,
            assignee_id=assignee_id,
            created_at=created_at,
            updated_at=created_at,
        )
        self.write(lambda uow: uow.tickets.add(ticket))

    @rule(
        pick=st.integers(0, 7),
        status=st.sampled_from(TicketStatus),
        assignee_id=st.none() | st.sampled_from(AGENT_IDS),
        step=version_steps,
        at=instants,
    )
    def update_ticket(
        self, pick: int, status: TicketStatus, assignee_id: str | None, step: int, at: datetime
    ) -> None:
        _, tickets = self.read(lambda uow: uow.tickets.list())
        if not tickets:
            return
        current = tickets[pick % len(tickets)]
        changed = current.model_copy(
            update={
                "status": status,
                "assignee_id": assignee_id,
                "updated_at": at,
                "version": current.version + step,
            }
        )
        self.write(lambda uow: uow.tickets.update(changed))

    @rule(
        customer_id=st.sampled_from(CUSTOMER_IDS),
        name=st.sampled_from(TEXTS),
        tier=st.sampled_from(CustomerTier),
    )
    def add_customer(self, customer_id: str, name: str, tier: CustomerTier) -> None:
        customer = Customer(id=customer_id, name=name, tier=tier)
        self.write(lambda uow: uow.customers.add(customer))

    @rule(pick=st.integers(0, 7), step=version_steps)
    def update_customer(self, pick: int, step: int) -> None:
        _, customers = self.read(lambda uow: uow.customers.list())
        if not customers:
            return
        current = customers[pick % len(customers)]
        changed = current.model_copy(
            update={"purchase_count": current.purchase_count + 1, "version": current.version + step}
        )
        self.write(lambda uow: uow.customers.update(changed))

    @rule(
        agent_id=st.sampled_from(AGENT_IDS),
        capacity=st.integers(1, 20),
        status=st.sampled_from(AgentStatus),
    )
    def add_agent(self, agent_id: str, capacity: int, status: AgentStatus) -> None:
        agent = Agent(id=agent_id, name=f"Agent {agent_id}", capacity=capacity, status=status)
        self.write(lambda uow: uow.agents.add(agent))

    @rule(
        events=st.lists(
            st.builds(
                event,
                ticket_id=st.sampled_from(TICKET_IDS),
                seq=st.integers(1, 4),
                type=st.sampled_from(["ticket.created", "ticket.assigned"]),
                at=instants,
                actor=st.sampled_from(AGENT_IDS),
                data=st.sampled_from([{}, {"changes": {"status": "assigned"}}, {"说明": "退款"}]),
            ),
            min_size=1,
            max_size=3,
        )
    )
    def append_events(self, events: list[TicketEvent]) -> None:
        self.write(lambda uow: uow.events.append(events))

    @rule(
        events=st.lists(
            st.tuples(
                customer_events(customer_ids=st.sampled_from(CUSTOMER_IDS), seqs=st.integers(1, 4)),
                st.none() | instants,
            ),
            min_size=1,
            max_size=3,
        )
    )
    def append_customer_events(self, events: list[tuple[CustomerEvent, datetime | None]]) -> None:
        """Customer events, some at the few instants near T0 so ``between`` meets ties."""
        batch = [e if at is None else e.model_copy(update={"at": at}) for e, at in events]
        self.write(lambda uow: uow.customer_events.append(batch))

    @rule(customer_id=st.sampled_from(CUSTOMER_IDS), pick=st.integers(0, 3))
    def append_customer_event_again(self, customer_id: str, pick: int) -> None:
        """Append an event seen in the unit a second time: every store refuses it."""
        _, stream = self.read(lambda uow: uow.customer_events.for_customer(customer_id))
        if not stream:
            return
        again = stream[pick % len(stream)].model_copy(update={"actor": "again"})
        self.write(lambda uow: uow.customer_events.append([again]))

    @rule(pick=st.integers(0, 7), tier=st.sampled_from(CustomerTier), at=instants)
    def change_tier(self, pick: int, tier: CustomerTier, at: datetime) -> None:
        """What issue 6 asks of the desk: the customer's next version and its event at once."""
        _, customers = self.read(lambda uow: uow.customers.list())
        if not customers:
            return
        current = customers[pick % len(customers)]
        _, stream = self.read(lambda uow: uow.customer_events.for_customer(current.id))
        seq = len(stream) + 1
        changed = current.model_copy(update={"tier": tier, "version": current.version + 1})
        event = CustomerEvent(
            id=f"{current.id}#{seq}",
            customer_id=current.id,
            seq=seq,
            type="customer.tier_changed",
            at=at,
            actor="a-1",
            data={"from": current.tier.value, "to": tier.value, "reason": "审核 review"},
        )

        def change(uow: UnitOfWork) -> None:
            uow.customers.update(changed)
            uow.customer_events.append([event])

        self.write(change)

    @rule(
        message_id=st.sampled_from(MESSAGE_IDS),
        ticket_id=st.sampled_from(TICKET_IDS),
        body=st.sampled_from(TEXTS),
        created_at=instants,
    )
    def add_message(self, message_id: str, ticket_id: str, body: str, created_at: datetime) -> None:
        message = Message(
            id=message_id,
            ticket_id=ticket_id,
            author_kind=AuthorKind.CUSTOMER,
            author_id="c-1",
            body=body,
            created_at=created_at,
        )
        self.write(lambda uow: uow.messages.add(message))

    @rule(article=articles(ids=st.sampled_from(ARTICLE_IDS), max_body_chars=200))
    def add_article(self, article: Article) -> None:
        self.write(lambda uow: uow.articles.add(article))

    @rule(
        pick=st.integers(0, 7),
        status=st.sampled_from(ArticleStatus),
        title=st.sampled_from(TEXTS),
        step=version_steps,
        at=instants,
    )
    def update_article(
        self, pick: int, status: ArticleStatus, title: str, step: int, at: datetime
    ) -> None:
        _, stored = self.read(lambda uow: uow.articles.list())
        if not stored:
            return
        current = stored[pick % len(stored)]
        changed = current.model_copy(
            update={
                "status": status,
                "title": title,
                "updated_at": at,
                "helpful_votes": current.helpful_votes + 1,
                "version": current.version + step,
            }
        )
        self.write(lambda uow: uow.articles.update(changed))

    @rule(
        article=articles(ids=st.sampled_from(ARTICLE_IDS), max_body_chars=50),
        version=st.integers(1, 3),
        note=st.sampled_from(TEXTS),
        at=instants,
    )
    def add_revision(self, article: Article, version: int, note: str, at: datetime) -> None:
        """A revision (article, version) may already be stored: then every store refuses it."""
        recorded = article.model_copy(update={"version": version})
        revision = ArticleRevision(
            article_id=article.id,
            version=version,
            editor_id="a-1",
            at=at,
            changed=("body",),
            note=note,
            article=recorded,
        )
        self.write(lambda uow: uow.articles.add_revision(revision))

    @rule(article_id=st.sampled_from(ARTICLE_IDS), pick=st.integers(0, 3))
    def add_revision_again(self, article_id: str, pick: int) -> None:
        """Record a version seen in the unit a second time: every store refuses it."""
        _, history = self.read(lambda uow: uow.articles.revisions(article_id))
        if not history:
            return
        again = history[pick % len(history)].model_copy(update={"note": "again"})
        self.write(lambda uow: uow.articles.add_revision(again))

    @rule(pick=st.integers(0, 7), step=version_steps, at=instants)
    def edit_article(self, pick: int, step: int, at: datetime) -> None:
        """The desk's edit: the next version of an article and its revision in one call."""
        _, stored = self.read(lambda uow: uow.articles.list())
        if not stored:
            return
        current = stored[pick % len(stored)]
        # The revision validates its article: an edit cannot predate the article's creation.
        at = max(at, current.created_at)
        changed = current.model_copy(
            update={
                "body": current.body + " 更新",
                "updated_at": at,
                "version": current.version + step,
            }
        )
        revision = ArticleRevision(
            article_id=changed.id,
            version=changed.version,
            editor_id="a-2",
            at=at,
            changed=("body",),
            article=changed,
        )

        def edit(uow: UnitOfWork) -> None:
            uow.articles.update(changed)
            uow.articles.add_revision(revision)

        self.write(edit)

    @rule(name=st.sampled_from(CURSOR_NAMES), value=st.sampled_from(AGENT_IDS + TEXTS))
    def put_cursor(self, name: str, value: str) -> None:
        self.write(lambda uow: uow.cursors.put(name, value))

    @rule(
        name=st.sampled_from(CURSOR_NAMES),
        bad=st.sampled_from(BAD_CURSOR_TEXTS),
        bad_name=st.booleans(),
    )
    def put_bad_cursor(self, name: str, bad: str, bad_name: bool) -> None:
        """Every store refuses it at the call, stores nothing and keeps the unit going."""
        if bad_name:
            outcomes = self.on_each(lambda uow: uow.cursors.put(bad, "a-1"))
        else:
            outcomes = self.on_each(lambda uow: uow.cursors.put(name, bad))
        assert self.agree(outcomes) == ("error", ValidationFailed), outcomes

    # Reads

    @rule(assignee_id=st.sampled_from(AGENT_IDS))
    def open_for_assignee(self, assignee_id: str) -> None:
        self.read(lambda uow: uow.tickets.open_for_assignee(assignee_id))

    @rule(
        status=st.none() | st.sampled_from(TicketStatus),
        assignee_id=st.none() | st.sampled_from(AGENT_IDS),
        customer_id=st.none() | st.sampled_from(CUSTOMER_IDS),
    )
    def list_tickets(
        self, status: TicketStatus | None, assignee_id: str | None, customer_id: str | None
    ) -> None:
        self.read(
            lambda uow: uow.tickets.list(
                status=status, assignee_id=assignee_id, customer_id=customer_id
            )
        )

    @rule(start=instants, hours=st.sampled_from([0, 1, 2]))
    def events_between(self, start: datetime, hours: int) -> None:
        self.read(lambda uow: list(uow.events.between(start, start + timedelta(hours=hours))))

    @rule(customer_id=st.sampled_from(CUSTOMER_IDS))
    def customer_events_for_customer(self, customer_id: str) -> None:
        self.read(lambda uow: uow.customer_events.for_customer(customer_id))

    @rule(start=instants, hours=st.sampled_from([0, 1, 2]))
    def customer_events_between(self, start: datetime, hours: int) -> None:
        end = start + timedelta(hours=hours)
        self.read(lambda uow: list(uow.customer_events.between(start, end)))

    @rule(status=st.none() | st.sampled_from(ArticleStatus))
    def list_articles(self, status: ArticleStatus | None) -> None:
        self.read(lambda uow: uow.articles.list(status=status))

    @rule(article_id=st.sampled_from(ARTICLE_IDS))
    def article_revisions(self, article_id: str) -> None:
        self.read(lambda uow: uow.articles.revisions(article_id))

    @invariant()
    def units_see_the_same(self) -> None:
        if self.units:
            self.read(snapshot)

    def teardown(self) -> None:
        for uow in self.units.values():
            uow.__exit__(None, None, None)
        for store in self.stores.values():
            store.close()


StoresAgree.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoresAgree = StoresAgree.TestCase


def test_postgres_agrees_with_memory_and_sqlite(postgres_databases: FreshDatabases) -> None:
    """The same machine with a PostgreSQL store as the third (a fresh database per run)."""
    from supportflow.storage.postgres import PostgresStore

    class WithPostgres(StoresAgree):
        def __init__(self) -> None:
            super().__init__()
            self.stores["postgres"] = PostgresStore(postgres_databases.new_dsn())

    run_state_machine_as_test(
        WithPostgres,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
