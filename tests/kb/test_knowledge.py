"""KnowledgeBase and the desk's knowledge calls, on every shipped store.

Lifecycle and history, version checks, the search index following committed writes only,
all-or-nothing imports, suggestions and "this solved it"; then a stateful test that
drives random writes against a model and checks the index and the history after each.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from supportflow import (
    AgentNotFound,
    ArticleMoveRefused,
    ArticleNotFound,
    ConcurrencyConflict,
    DuplicateEntity,
    EventType,
    InvalidTransition,
    KnowledgeBase,
    MemoryStore,
    SqliteStore,
    StorageError,
    Store,
    SupportDesk,
    TicketStatus,
    ValidationFailed,
)
from supportflow.kb import Article, ArticleStatus, Audience, BuiltinIndex, FieldWeights
from supportflow.testing import FixedClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HELP_CENTER = Path(__file__).parent / "data" / "help_center"
A = ArticleStatus


def draft(article_id: str, title: str, **fields: Any) -> dict[str, Any]:
    """An article's fields, a draft unless ``status`` says otherwise."""
    return {"id": article_id, "title": title, **fields}


def published(kb: KnowledgeBase, article_id: str, title: str, **fields: Any) -> Article:
    """A new article taken through review to published."""
    kb.create(draft(article_id, title, **fields), editor_id="a-ann")
    kb.submit_for_review(article_id, editor_id="a-ann")
    return kb.publish(article_id, editor_id="a-sue")


def found(kb: KnowledgeBase, query: str, **filters: Any) -> list[str]:
    """The ids a search returns, best first."""
    return [hit.article_id for hit in kb.search(query, **filters)]


def stored(kb: KnowledgeBase) -> list[tuple[Article, list[Any]]]:
    """Every article with its revisions: compare two to check that nothing was stored."""
    return [(a, kb.revisions(a.id)) for a in kb.list()]


@pytest.fixture
def kb(desk: SupportDesk) -> KnowledgeBase:
    """The populated desk's knowledge base (empty), on the clock ``clock``."""
    return desk.kb


# -- lifecycle and history --------------------------------------------------------------


def test_create_stores_the_article_and_its_first_revision(kb: KnowledgeBase) -> None:
    article = kb.create(draft("kb-1", "Reset your password", body="Use the link."), editor_id="a")
    assert (article.version, article.status) == (1, A.DRAFT)
    assert article.created_at == article.updated_at == START
    assert kb.get("kb-1") == article
    (revision,) = kb.revisions("kb-1")
    assert (revision.editor_id, revision.at, revision.changed) == ("a", START, ("created",))
    assert revision.article == article


def test_create_keeps_the_times_a_mapping_gives(kb: KnowledgeBase) -> None:
    earlier = START - timedelta(days=30)
    article = kb.create(draft("kb-1", "Old", created_at=earlier), editor_id="a")
    assert article.created_at == article.updated_at == earlier


def test_create_accepts_an_article_model(kb: KnowledgeBase) -> None:
    model = Article(id="kb-1", title="Model", created_at=START, updated_at=START)
    assert kb.create(model, editor_id="a") == model


@pytest.mark.parametrize(
    ("article", "field"),
    [
        ({"id": "kb-1", "title": ""}, "article.title"),
        ({"id": "kb-1", "title": "T", "colour": "red"}, "article.colour"),
        ({"id": "kb-1", "title": "T", "version": 3}, "article.version"),
        ({"id": "kb-1", "title": "T", "created_at": datetime(2026, 3, 2)}, "article.created_at"),
        ("kb-1", "article"),
        (None, "article"),
    ],
)
def test_create_refuses_a_bad_article_naming_the_field(
    kb: KnowledgeBase, article: Any, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kb.create(article, editor_id="a")
    assert caught.value.field == field
    assert kb.list() == []


@pytest.mark.parametrize("editor_id", ["", "  ", None, 42, "x" * 201])
def test_writes_refuse_a_bad_editor_id(kb: KnowledgeBase, editor_id: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kb.create(draft("kb-1", "T"), editor_id=editor_id)
    assert caught.value.field == "editor_id"
    assert kb.list() == []


def test_create_refuses_a_taken_id_and_stores_nothing(kb: KnowledgeBase) -> None:
    kb.create(draft("kb-1", "First"), editor_id="a")
    before = stored(kb)
    with pytest.raises(DuplicateEntity):
        kb.create(draft("kb-1", "Second"), editor_id="b")
    assert stored(kb) == before


def test_every_edit_and_move_is_a_revision_with_who_when_and_what(
    kb: KnowledgeBase, clock: FixedClock
) -> None:
    kb.create(draft("kb-1", "Refunds", body="Ask us."), editor_id="a-ann")
    steps: list[tuple[str, Callable[[], Article]]] = [
        ("a-ann", lambda: kb.edit("kb-1", {"body": "Open Billing."}, editor_id="a-ann")),
        ("a-ann", lambda: kb.submit_for_review("kb-1", editor_id="a-ann", note="ready")),
        ("a-sue", lambda: kb.publish("kb-1", editor_id="a-sue")),
        ("a-bob", lambda: kb.edit("kb-1", {"tags": ["billing"]}, editor_id="a-bob")),
        ("a-sue", lambda: kb.confirm_review("kb-1", editor_id="a-sue")),
        ("a-sue", lambda: kb.archive("kb-1", editor_id="a-sue", note="product retired")),
        ("a-ann", lambda: kb.revive("kb-1", editor_id="a-ann")),
    ]
    for _editor, step in steps:
        clock.advance(timedelta(hours=1))
        step()
    history = kb.revisions("kb-1")
    assert [r.version for r in history] == list(range(1, 9))
    assert [r.editor_id for r in history] == ["a-ann"] + [editor for editor, _ in steps]
    assert [r.at for r in history] == [START + timedelta(hours=h) for h in range(8)]
    assert [r.changed for r in history] == [
        ("created",),
        ("body",),
        ("status",),
        ("last_reviewed_at", "status"),
        ("tags",),
        ("last_reviewed_at",),
        ("status",),
        ("status",),
    ]
    assert [r.note for r in history][2::4] == ["ready", "product retired"]
    assert [r.article.status for r in history] == [
        A.DRAFT,
        A.DRAFT,
        A.IN_REVIEW,
        A.PUBLISHED,
        A.PUBLISHED,
        A.PUBLISHED,
        A.ARCHIVED,
        A.DRAFT,
    ]
    assert history[3].article.last_reviewed_at == START + timedelta(hours=3)
    assert history[5].article.last_reviewed_at == START + timedelta(hours=5)
    assert history[-1].article == kb.get("kb-1")


def test_revisions_of_an_unknown_article_is_not_found(kb: KnowledgeBase) -> None:
    with pytest.raises(ArticleNotFound):
        kb.revisions("kb-missing")


def test_list_filters_by_status(kb: KnowledgeBase) -> None:
    kb.create(draft("kb-2", "Draft"), editor_id="a")
    published(kb, "kb-1", "Live")
    assert [a.id for a in kb.list()] == ["kb-1", "kb-2"]
    assert [a.id for a in kb.list(status="published")] == ["kb-1"]
    with pytest.raises(ValidationFailed) as caught:
        kb.list(status="live")
    assert caught.value.field == "status"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "published"}, "changes.status"),
        ({"version": 9}, "changes.version"),
        ({"title": ""}, "changes.title"),
        ({"audience": "everyone"}, "changes.audience"),
        ({"title": "Refunds"}, "changes"),  # changes nothing
        ({}, "changes"),
        ("title", "changes"),
        ({1: "x"}, "changes"),
    ],
)
def test_a_refused_edit_names_the_field_and_stores_nothing(
    kb: KnowledgeBase, changes: Any, field: str
) -> None:
    kb.create(draft("kb-1", "Refunds"), editor_id="a")
    before = stored(kb)
    with pytest.raises(ValidationFailed) as caught:
        kb.edit("kb-1", changes, editor_id="a")
    assert caught.value.field == field
    assert stored(kb) == before


def test_a_refused_move_names_what_is_allowed_and_stores_nothing(kb: KnowledgeBase) -> None:
    kb.create(draft("kb-1", "Refunds"), editor_id="a")
    before = stored(kb)
    with pytest.raises(ArticleMoveRefused) as caught:
        kb.publish("kb-1", editor_id="a")
    assert caught.value.allowed == ("archived", "in_review")
    with pytest.raises(ArticleMoveRefused):
        kb.revive("kb-1", editor_id="a")
    assert stored(kb) == before


def test_confirm_review_refuses_an_unpublished_article(kb: KnowledgeBase) -> None:
    kb.create(draft("kb-1", "Refunds"), editor_id="a")
    with pytest.raises(ValidationFailed) as caught:
        kb.confirm_review("kb-1", editor_id="a")
    assert caught.value.field == "article_id"
    assert "draft" in caught.value.reason


def test_a_vote_is_counted_without_a_revision(kb: KnowledgeBase) -> None:
    published(kb, "kb-1", "Refunds")
    kb.vote("kb-1", helpful=True)
    article = kb.vote("kb-1", helpful=False)
    assert (article.helpful_votes, article.unhelpful_votes, article.version) == (1, 1, 5)
    assert len(kb.revisions("kb-1")) == 3
    with pytest.raises(ValidationFailed) as caught:
        kb.vote("kb-1", helpful="yes")  # type: ignore[arg-type]
    assert caught.value.field == "helpful"


# -- versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda kb: kb.edit("kb-1", {"body": "New"}, editor_id="a", expected_version=1),
        lambda kb: kb.submit_for_review("kb-1", editor_id="a", expected_version=1),
        lambda kb: kb.archive("kb-1", editor_id="a", expected_version=1),
    ],
    ids=["edit", "submit_for_review", "archive"],
)
def test_a_write_based_on_a_stale_version_is_a_conflict(
    kb: KnowledgeBase, write: Callable[[KnowledgeBase], Article]
) -> None:
    kb.create(draft("kb-1", "Refunds"), editor_id="a")
    kb.edit("kb-1", {"body": "Someone else's edit"}, editor_id="b")
    before = stored(kb)
    with pytest.raises(ConcurrencyConflict) as caught:
        write(kb)
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
    assert stored(kb) == before


def test_publish_at_the_version_reviewed_succeeds(kb: KnowledgeBase) -> None:
    kb.create(draft("kb-1", "Refunds"), editor_id="a")
    reviewed = kb.submit_for_review("kb-1", editor_id="a")
    article = kb.publish("kb-1", editor_id="b", expected_version=reviewed.version)
    assert article.status is A.PUBLISHED


@pytest.mark.parametrize("version", [0, -1, True, "2", 1.0])
def test_a_bad_expected_version_is_refused(kb: KnowledgeBase, version: Any) -> None:
    kb.create(draft("kb-1", "Refunds"), editor_id="a")
    with pytest.raises(ValidationFailed) as caught:
        kb.edit("kb-1", {"body": "x"}, editor_id="a", expected_version=version)
    assert caught.value.field == "expected_version"


class _Proxy:
    """Delegates every attribute to ``inner``; subclasses override what they intercept."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _RacingStore(_Proxy):
    """A store whose next article read lets ``race`` commit first: a lost update, staged."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.race: Callable[[], object] | None = None

    def unit_of_work(self, tenant_id: str = "default") -> Any:
        return _RacingUnit(self._inner.unit_of_work(tenant_id), self)


class _RacingUnit(_Proxy):
    def __init__(self, inner: Any, store: _RacingStore) -> None:
        super().__init__(inner)
        self._store = store

    def __enter__(self) -> _RacingUnit:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    @property
    def articles(self) -> Any:
        return _RacingArticles(self._inner.articles, self._store)


class _RacingArticles(_Proxy):
    def __init__(self, inner: Any, store: _RacingStore) -> None:
        super().__init__(inner)
        self._store = store

    def get(self, article_id: str) -> Article:
        article: Article = self._inner.get(article_id)
        race, self._store.race = self._store.race, None
        if race is not None:
            race()
        return article


def test_a_concurrent_edit_makes_the_later_writer_conflict(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    inner = store_factory()
    try:
        racing = _RacingStore(inner)
        ours, theirs = KnowledgeBase(racing, clock=clock), KnowledgeBase(inner, clock=clock)
        ours.create(draft("kb-1", "Refunds"), editor_id="a")
        racing.race = lambda: theirs.edit("kb-1", {"body": "Theirs"}, editor_id="b")
        with pytest.raises(ConcurrencyConflict):
            ours.edit("kb-1", {"body": "Ours"}, editor_id="a")
        assert ours.get("kb-1").body == "Theirs"
        assert [r.editor_id for r in ours.revisions("kb-1")] == ["a", "b"]
    finally:
        inner.close()


# -- the search index -------------------------------------------------------------------


def test_the_index_follows_publish_edit_and_archive(kb: KnowledgeBase) -> None:
    kb.create(draft("kb-1", "Refund not received", body="Refunds take 5 days."), editor_id="a")
    assert found(kb, "refnd not recieved") == []  # a draft is not searchable
    kb.submit_for_review("kb-1", editor_id="a")
    kb.publish("kb-1", editor_id="a")
    assert found(kb, "refnd not recieved") == ["kb-1"]
    kb.edit("kb-1", {"title": "Missing reimbursement", "body": "Allow a week."}, editor_id="a")
    (hit,) = kb.search("reimbursement")
    assert (hit.article_id, hit.title) == ("kb-1", "Missing reimbursement")
    assert [h.title for h in kb.search("refund not received")] == ["Missing reimbursement"]
    kb.archive("kb-1", editor_id="a")
    assert found(kb, "reimbursement") == []
    assert found(kb, "reimbursement", statuses={"archived"}) == ["kb-1"]


def test_the_index_is_built_from_the_store_on_first_use(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    store = store_factory()
    try:
        earlier = KnowledgeBase(store, clock=clock)
        published(earlier, "kb-1", "无法登录怎么办", body="请先重置密码。")
        later = KnowledgeBase(store, clock=clock)
        assert found(later, "最近无法登录账户") == ["kb-1"]
        # Another writer's article reaches an index already built through a rebuild.
        published(earlier, "kb-2", "无法登录的其他原因")
        assert "kb-2" not in found(later, "无法登录")
        assert later.rebuild_index() == 2
        assert set(found(later, "无法登录")) == {"kb-1", "kb-2"}
    finally:
        store.close()


class _FailingStore(_Proxy):
    """A store whose commits fail after the writes were made: a rolled-back unit."""

    failing = False

    def unit_of_work(self, tenant_id: str = "default") -> Any:
        return _FailingUnit(self._inner.unit_of_work(tenant_id), self)


class _FailingUnit(_Proxy):
    def __init__(self, inner: Any, store: _FailingStore) -> None:
        super().__init__(inner)
        self._store = store

    def __enter__(self) -> _FailingUnit:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def commit(self) -> None:
        if self._store.failing:
            raise StorageError("disk full")
        self._inner.commit()


def test_a_rolled_back_write_is_not_in_the_index(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    inner = store_factory()
    try:
        failing = _FailingStore(inner)
        kb = KnowledgeBase(failing, clock=clock)
        published(kb, "kb-1", "Refund not received")
        assert found(kb, "refund") == ["kb-1"]  # the index is built
        failing.failing = True
        with pytest.raises(StorageError):
            kb.edit("kb-1", {"title": "Reimbursement missing"}, editor_id="a")
        with pytest.raises(StorageError):
            kb.archive("kb-1", editor_id="a")
        with pytest.raises(StorageError):
            kb.create(draft("kb-2", "Reimbursement", status="published"), editor_id="a")
        assert [h.title for h in kb.search("reimbursement")] == ["Refund not received"]
        assert found(kb, "refund") == ["kb-1"]
        assert [a.id for a in kb.list()] == ["kb-1"]
    finally:
        inner.close()


def test_search_filters_and_snippets(kb: KnowledgeBase) -> None:
    published(
        kb, "kb-en", "Refund not received", body="Refunds reach your card in 5 days.", product="pay"
    )
    published(
        kb, "kb-in", "Refund override", body="Agents: refund from the console.", audience="internal"
    )
    published(kb, "kb-zh", "退款没有到账", body="退款五个工作日内到账。", language="zh")
    assert set(found(kb, "refund")) == {"kb-en", "kb-in"}
    assert found(kb, "refund", audience="public") == ["kb-en"]
    assert found(kb, "refund", product="pay") == ["kb-en"]
    assert found(kb, "退款到账", language="zh") == ["kb-zh"]
    (hit,) = kb.search("refunds card", audience=Audience.PUBLIC)
    assert hit.marked() == "<mark>Refunds</mark> reach your <mark>card</mark> in 5 days."
    with pytest.raises(ValidationFailed) as caught:
        kb.search("refund", limit=0)
    assert caught.value.field == "limit"


def test_a_desk_uses_the_index_it_is_given(store_factory: Callable[[], Store]) -> None:
    index = BuiltinIndex(field_weights=FieldWeights(title=2.0, tags=0.4, body=1.0))
    store = store_factory()
    try:
        desk = SupportDesk(store, clock=FixedClock(START), search_index=index)
        published(desk.kb, "kb-1", "Refund not received")
        assert desk.kb.index is index
        assert "kb-1" in index
    finally:
        store.close()


@pytest.mark.parametrize("index", [object(), "tantivy", MemoryStore()])
def test_an_object_that_is_not_an_index_is_refused(index: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        KnowledgeBase(MemoryStore(), search_index=index)
    assert caught.value.field == "search_index"
    with pytest.raises(ValidationFailed) as caught:
        SupportDesk(MemoryStore(), search_index=index)
    assert caught.value.field == "search_index"


def test_tenants_have_their_own_knowledge_base(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    store = store_factory()
    try:
        acme = KnowledgeBase(store, tenant_id="acme", clock=clock)
        globex = KnowledgeBase(store, tenant_id="globex", clock=clock)
        published(acme, "kb-1", "Refund not received")
        assert found(globex, "refund") == []
        with pytest.raises(ArticleNotFound):
            globex.get("kb-1")
    finally:
        store.close()


# -- importing --------------------------------------------------------------------------


def test_import_stores_every_article_with_a_first_revision(kb: KnowledgeBase) -> None:
    imported = kb.import_articles(HELP_CENTER / "export.json", editor_id="a-ops")
    assert [a.id for a in imported] == ["360001001", "360001002", "360001003", "360001004"]
    assert kb.list() == imported
    (revision,) = kb.revisions("360001002")
    assert (revision.editor_id, revision.note) == ("a-ops", "imported from export.json")
    assert found(kb, "can't log in")[0] == "360001002"
    assert "360001004" not in found(kb, "下载发票")  # imported as a draft


def test_import_reads_csv_and_a_markdown_folder_as_drafts(kb: KnowledgeBase) -> None:
    kb.import_articles(HELP_CENTER / "export.csv", editor_id="a")
    markdown = kb.import_articles(str(HELP_CENTER / "markdown"), editor_id="a", status="draft")
    assert {a.status for a in markdown} == {A.DRAFT}
    assert len(kb.list()) == 7
    drafts = {a.id for a in markdown}
    assert drafts.isdisjoint(found(kb, "退款多久到账"))  # not searchable: drafts
    assert found(kb, "年付 退款")[0] == "faq-refund-window"


def test_import_is_all_or_nothing_when_an_id_is_taken(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.create(draft("faq-locked-account", "Already here"), editor_id="a")
    before = stored(kb)
    with pytest.raises(DuplicateEntity) as caught:
        kb.import_articles(HELP_CENTER / "export.csv", editor_id="a")
    assert caught.value.key == "faq-locked-account"
    assert stored(kb) == before
    assert found(kb, "upgrade plan") == []


def test_importing_the_same_export_twice_is_refused(kb: KnowledgeBase) -> None:
    kb.import_articles(HELP_CENTER / "markdown", editor_id="a")
    before = stored(kb)
    with pytest.raises(DuplicateEntity):
        kb.import_articles(HELP_CENTER / "markdown", editor_id="a")
    assert stored(kb) == before


def test_an_invalid_record_refuses_the_whole_import(kb: KnowledgeBase, tmp_path: Path) -> None:
    shutil.copytree(HELP_CENTER / "markdown", tmp_path / "docs")
    broken = "---\nupdated_at: 2025-08-14 09:00\n---\n# Naive time\n"
    (tmp_path / "docs" / "zz-broken.md").write_text(broken, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        kb.import_articles(tmp_path / "docs", editor_id="a")
    assert caught.value.field.startswith("zz-broken.md")
    assert kb.list() == []


@pytest.mark.parametrize("path", ["", "   ", 42, None, b"export.json", "missing.json"])
def test_a_bad_import_path_is_refused(kb: KnowledgeBase, path: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kb.import_articles(path, editor_id="a")
    assert caught.value.field == "path"


# -- suggestions and "this solved it" ---------------------------------------------------


@pytest.fixture
def help_center(desk: SupportDesk) -> SupportDesk:
    """The desk with the fixture help center imported (JSON and CSV)."""
    desk.kb.import_articles(HELP_CENTER / "export.json", editor_id="a-sue")
    desk.kb.import_articles(HELP_CENTER / "export.csv", editor_id="a-sue")
    return desk


def test_suggestions_are_recorded_with_their_scores(
    help_center: SupportDesk, ticket_in: Callable[..., Any]
) -> None:
    ticket = ticket_in(
        TicketStatus.IN_PROGRESS,
        subject="Locked out",
        body="Too many login attempts and now the account is locked",
    )
    hits = help_center.suggest_articles(ticket.id, limit=3, actor="a-bob")
    assert hits[0].article_id == "faq-locked-account"  # internal articles are suggested too
    assert len(hits) == 3
    event = help_center.history(ticket.id)[-1]
    assert (event.type, event.actor) == (EventType.KB_SUGGESTED, "a-bob")
    assert event.data["article_ids"] == [h.article_id for h in hits]
    assert event.data["scores"] == [round(h.score, 4) for h in hits]
    assert event.data["changes"]["version"] == ticket.version + 1
    after = help_center.get_ticket(ticket.id)
    assert (after.status, after.version) == (ticket.status, ticket.version + 1)


def test_suggestions_skip_drafts(help_center: SupportDesk, ticket_in: Callable[..., Any]) -> None:
    ticket = ticket_in(TicketStatus.NEW, body="如何下载发票？")
    hits = help_center.suggest_articles(ticket.id)
    assert "360001004" not in [h.article_id for h in hits]


def test_no_suggestion_records_no_event(desk: SupportDesk, ticket_in: Callable[..., Any]) -> None:
    ticket = ticket_in(TicketStatus.IN_PROGRESS)
    assert desk.suggest_articles(ticket.id) == []
    assert desk.get_ticket(ticket.id).version == ticket.version


def test_mark_solved_links_the_article_counts_a_vote_and_records_it(
    help_center: SupportDesk, ticket_in: Callable[..., Any]
) -> None:
    ticket = ticket_in(TicketStatus.IN_PROGRESS, body="I can't log in to my account")
    before = help_center.kb.get("360001002")
    article = help_center.mark_solved(ticket.id, "360001002", agent_id="a-bob")
    assert article.solved_ticket_ids == (ticket.id,)
    assert (article.helpful_votes, article.version) == (before.helpful_votes + 1, 2)
    assert help_center.kb.get("360001002") == article
    assert len(help_center.kb.revisions("360001002")) == 1  # a link is not an edit
    event = help_center.history(ticket.id)[-1]
    assert (event.type, event.actor) == (EventType.KB_ARTICLE_LINKED, "a-bob")
    assert event.data["article_id"] == "360001002"
    assert help_center.get_ticket(ticket.id).status is TicketStatus.IN_PROGRESS


def test_marking_the_same_article_twice_changes_nothing(
    help_center: SupportDesk, ticket_in: Callable[..., Any]
) -> None:
    ticket = ticket_in(TicketStatus.RESOLVED)
    first = help_center.mark_solved(ticket.id, "360001002", agent_id="a-bob")
    events = help_center.history(ticket.id)
    assert help_center.mark_solved(ticket.id, "360001002", agent_id="a-lead") == first
    assert help_center.history(ticket.id) == events
    assert help_center.kb.get("360001002").helpful_votes == 1


@pytest.mark.parametrize(
    ("article_id", "agent_id", "status", "error"),
    [
        ("360001004", "a-bob", TicketStatus.IN_PROGRESS, ValidationFailed),  # a draft
        ("kb-missing", "a-bob", TicketStatus.IN_PROGRESS, ArticleNotFound),
        ("360001002", "a-nobody", TicketStatus.IN_PROGRESS, AgentNotFound),
        ("360001002", "a-bob", TicketStatus.CLOSED, InvalidTransition),
    ],
)
def test_a_refused_mark_solved_stores_nothing(
    help_center: SupportDesk,
    ticket_in: Callable[..., Any],
    snapshot: Callable[[SupportDesk], Any],
    article_id: str,
    agent_id: str,
    status: TicketStatus,
    error: type[Exception],
) -> None:
    ticket = ticket_in(status)
    before = (snapshot(help_center), stored(help_center.kb))
    with pytest.raises(error) as caught:
        help_center.mark_solved(ticket.id, article_id, agent_id=agent_id)
    if isinstance(caught.value, ValidationFailed):
        assert caught.value.field == "article_id"
        assert "draft" in str(caught.value)
    assert (snapshot(help_center), stored(help_center.kb)) == before


# -- the upkeep reports ----------------------------------------------------------------


def _resolved(desk: SupportDesk, clock: FixedClock, body: str) -> str:
    """A ticket about ``body``, resolved an hour after it came in; its id."""
    ticket = desk.intake(channel="email", customer_id="c-reg", body=body)
    desk.assign(ticket.id, "a-bob")
    desk.acknowledge(ticket.id, agent_id="a-bob")
    clock.advance(timedelta(hours=1))
    desk.resolve(ticket.id, agent_id="a-bob", resolution="Answered.")
    return ticket.id


def test_gaps_clusters_the_period_s_uncovered_tickets(
    help_center: SupportDesk, clock: FixedClock
) -> None:
    before = _resolved(help_center, clock, "Where do I download my invoice PDF?")
    clock.advance(timedelta(minutes=1))
    since = clock.now()
    invoices = [
        _resolved(help_center, clock, "Where can I download last month's invoice?"),
        _resolved(help_center, clock, "Invoice PDF download link is broken"),
    ]
    covered = _resolved(help_center, clock, "Too many login attempts, my account is locked")
    report = help_center.kb.gaps(since=since, until=clock.now() + timedelta(seconds=1))
    assert (report.examined, report.uncovered) == (3, 2)
    (cluster,) = report.clusters
    assert cluster.ticket_ids == tuple(invoices)
    assert {"invoice", "download"} <= set(cluster.terms)
    assert before not in cluster.ticket_ids
    assert covered not in cluster.ticket_ids
    lenient = help_center.kb.gaps(since=since, until=clock.now(), threshold=0.0)
    assert lenient.uncovered == 0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"since": START, "until": START}, "until"),
        ({"since": datetime(2026, 3, 1), "until": START}, "since"),
        ({"since": START, "until": "tomorrow"}, "until"),
        ({"since": START - timedelta(days=1), "until": START, "treshold": 0.3}, "treshold"),
        ({"since": START - timedelta(days=1), "until": START, "threshold": 2}, "threshold"),
    ],
)
def test_gaps_refuses_bad_arguments_naming_them(
    kb: KnowledgeBase, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kb.gaps(**arguments)
    assert caught.value.field == field


def test_stale_report_counts_suggestions_of_the_window(
    help_center: SupportDesk, clock: FixedClock, ticket_in: Callable[..., Any]
) -> None:
    ticket = ticket_in(TicketStatus.IN_PROGRESS, body="Too many login attempts, account locked")
    suggested = [hit.article_id for hit in help_center.suggest_articles(ticket.id)]
    for _ in range(5):
        help_center.kb.vote("faq-upgrade", helpful=False)
    report = help_center.kb.stale_report(never_suggested_after=timedelta(0))
    reasons = {entry.article_id: entry.reasons for entry in report.entries}
    assert report.examined == 7  # the published ones
    assert reasons["faq-upgrade"][0] == "unhelpful"
    for article_id in suggested:
        assert "never_suggested" not in reasons[article_id]
    unsuggested = {a.id for a in help_center.kb.list(status="published")} - set(suggested)
    assert unsuggested
    for article_id in unsuggested:
        assert "never_suggested" in reasons[article_id]
    clock.advance(timedelta(days=91))  # the suggestion falls out of the window
    later = help_center.kb.stale_report()
    assert all("never_suggested" in entry.reasons for entry in later.entries)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"suggestion_window": timedelta(0)}, "suggestion_window"),
        ({"suggestion_window": 90}, "suggestion_window"),
        ({"min_votes": 0}, "min_votes"),
        ({"now": START}, "now"),
        ({"ratio": 0.5}, "ratio"),
    ],
)
def test_stale_report_refuses_bad_options_naming_them(
    kb: KnowledgeBase, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kb.stale_report(**options)
    assert caught.value.field == field


# -- stateful: random writes against a model --------------------------------------------

_WORDS = ("refund", "invoice", "login", "password", "退款", "发票", "登录", "账户")
_MOVES = {
    A.DRAFT: {A.IN_REVIEW, A.ARCHIVED},
    A.IN_REVIEW: {A.DRAFT, A.PUBLISHED, A.ARCHIVED},
    A.PUBLISHED: {A.IN_REVIEW, A.ARCHIVED},
    A.ARCHIVED: {A.DRAFT},
}


def _token(n: int) -> str:
    """A made-up word unique to one article: ``qzjaa``, ``qzjab``, ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "qzj" + letters[n // 26 % 26] + letters[n % 26]


class _Expected:
    """What the model knows of one article."""

    def __init__(self, token: str, status: ArticleStatus, title: str) -> None:
        self.token = token
        self.status = status
        self.title = title
        self.body = ""
        self.revisions = 1
        self.votes = 0


class KnowledgeBaseMachine(RuleBasedStateMachine):
    """Random creates, edits, moves and votes; after each step, search and history agree."""

    articles = Bundle("articles")

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.clock = FixedClock(START)
        self.kb = KnowledgeBase(self.store, clock=self.clock)
        self.model: dict[str, _Expected] = {}

    def make_store(self) -> Store:
        """The store under test."""
        return MemoryStore()

    @initialize()
    def build_the_index_early(self) -> None:
        """Half the point: the index must follow writes made after it was built."""
        assert self.kb.search("anything") == []

    @rule(
        target=articles,
        status=st.sampled_from([A.DRAFT, A.PUBLISHED]),
        words=st.lists(st.sampled_from(_WORDS), max_size=3),
    )
    def create(self, status: ArticleStatus, words: list[str]) -> str:
        n = len(self.model)
        token = _token(n)
        title = " ".join([token, *words])
        article_id = f"kb-{n}"
        self.kb.create({"id": article_id, "title": title, "status": status}, editor_id="a")
        self.model[article_id] = _Expected(token, status, title)
        return article_id

    @rule(
        article_id=articles,
        field=st.sampled_from(["title", "body"]),
        words=st.lists(st.sampled_from(_WORDS), max_size=3),
    )
    def edit(self, article_id: str, field: str, words: list[str]) -> None:
        expected = self.model[article_id]
        value = " ".join([expected.token, *words]) if field == "title" else " ".join(words)
        self.clock.advance(timedelta(minutes=1))
        if value == getattr(expected, field):
            with pytest.raises(ValidationFailed):
                self.kb.edit(article_id, {field: value}, editor_id="a")
            return
        self.kb.edit(article_id, {field: value}, editor_id="a")
        setattr(expected, field, value)
        expected.revisions += 1

    @rule(article_id=articles, to=st.sampled_from(list(ArticleStatus)))
    def move(self, article_id: str, to: ArticleStatus) -> None:
        expected = self.model[article_id]
        moves = {
            A.DRAFT: self.kb.revive,
            A.IN_REVIEW: self.kb.submit_for_review,
            A.PUBLISHED: self.kb.publish,
            A.ARCHIVED: self.kb.archive,
        }
        if to not in _MOVES[expected.status]:
            with pytest.raises(ArticleMoveRefused):
                moves[to](article_id, editor_id="a")
            return
        assert moves[to](article_id, editor_id="a").status is to
        expected.status = to
        expected.revisions += 1

    @rule(article_id=articles, helpful=st.booleans())
    def vote(self, article_id: str, helpful: bool) -> None:
        self.kb.vote(article_id, helpful=helpful)
        self.model[article_id].votes += 1

    @invariant()
    def search_finds_exactly_the_published_articles(self) -> None:
        for article_id, expected in self.model.items():
            hits = self.kb.search(expected.token, limit=50)
            with_token = [h.article_id for h in hits if expected.token in h.title.split()]
            if expected.status is A.PUBLISHED:
                assert with_token == [article_id]
                assert hits[0].article_id == article_id
            else:
                assert with_token == []

    @invariant()
    def history_counts_every_edit_and_move(self) -> None:
        for article_id, expected in self.model.items():
            article = self.kb.get(article_id)
            assert (article.status, article.title, article.body) == (
                expected.status,
                expected.title,
                expected.body,
            )
            assert len(self.kb.revisions(article_id)) == expected.revisions
            assert article.version == expected.revisions + expected.votes
            assert article.helpful_votes + article.unhelpful_votes == expected.votes

    def teardown(self) -> None:
        self.store.close()


class SqliteKnowledgeBaseMachine(KnowledgeBaseMachine):
    """The same machine on SQLite."""

    def make_store(self) -> Store:
        """A private SQLite database."""
        return SqliteStore(":memory:")


_STATEFUL = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestKnowledgeBaseOnMemory = KnowledgeBaseMachine.TestCase
TestKnowledgeBaseOnMemory.settings = _STATEFUL
TestKnowledgeBaseOnSqlite = SqliteKnowledgeBaseMachine.TestCase
TestKnowledgeBaseOnSqlite.settings = _STATEFUL
