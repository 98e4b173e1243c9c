"""Random articles round-trip through both stores; the ``articles()`` strategy they come from.

The storage contract for articles is in ``supportflow.testing.conformance`` (run by
``test_conformance.py``); this adds a property over many random articles, of every status,
with Chinese, English and arbitrary text, and checks what the strategy itself promises.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.kb.articles import (
    MAX_ARTICLE_BODY_CHARS,
    Article,
    ArticleStatus,
    first_revision,
    move_article,
)
from supportflow.storage.memory import MemoryStore
from supportflow.storage.sql import SqliteStore
from supportflow.testing.strategies import articles

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from supportflow.storage.protocols import Store

CJK = re.compile(r"[\u4e00-\u9fff]")
ROUND_TRIP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_tenants = itertools.count()


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """One store per kind for the whole module; each example writes to a tenant of its own."""
    opened: Store = MemoryStore() if request.param == "memory" else SqliteStore(":memory:")
    yield opened
    opened.close()


@ROUND_TRIP
@given(article=articles())
def test_article_and_its_first_revision_round_trip(store: Store, article: Article) -> None:
    tenant = f"tenant-{next(_tenants)}"
    revision = first_revision(article, "a-1", note="首次发布 first draft")
    with store.unit_of_work(tenant) as uow:
        uow.articles.add(article)
        uow.articles.add_revision(revision)
        uow.commit()
    with store.unit_of_work(tenant) as uow:
        assert uow.articles.get(article.id) == article
        assert uow.articles.list() == [article]
        assert uow.articles.list(status=article.status) == [article]
        assert uow.articles.revisions(article.id) == [revision]


@ROUND_TRIP
@given(article=articles(statuses=[ArticleStatus.IN_REVIEW]))
def test_published_article_round_trips_with_both_revisions(store: Store, article: Article) -> None:
    """The desk's publish step: update and revision in one unit, both read back equal."""
    tenant = f"tenant-{next(_tenants)}"
    published, revision = move_article(
        article, ArticleStatus.PUBLISHED, "a-2", article.updated_at, note="审核通过"
    )
    with store.unit_of_work(tenant) as uow:
        uow.articles.add(article)
        uow.commit()
    with store.unit_of_work(tenant) as uow:
        uow.articles.update(published)
        uow.articles.add_revision(revision)
        uow.commit()
    with store.unit_of_work(tenant) as uow:
        assert uow.articles.get(article.id) == published
        assert uow.articles.list(status=ArticleStatus.IN_REVIEW) == []
        assert uow.articles.list(status=ArticleStatus.PUBLISHED) == [published]
        assert uow.articles.revisions(article.id) == [revision]


# The strategy


@settings(max_examples=40, deadline=None)
@given(article=articles())
def test_articles_survive_their_own_json(article: Article) -> None:
    assert Article.model_validate_json(article.model_dump_json()) == article


@settings(max_examples=40, deadline=None)
@given(article=articles())
def test_articles_keep_their_datetimes_in_order(article: Article) -> None:
    created, updated = article.created_at.astimezone(UTC), article.updated_at.astimezone(UTC)
    assert created <= updated
    if article.last_reviewed_at is not None:
        assert created <= article.last_reviewed_at.astimezone(UTC) <= updated
    if article.status is ArticleStatus.PUBLISHED:
        assert article.last_reviewed_at is not None


@pytest.mark.parametrize(
    ("what", "condition"),
    [
        ("a Chinese title", lambda a: CJK.search(a.title) is not None),
        ("an English title", lambda a: re.search(r"[A-Za-z]{3}", a.title) is not None),
        ("a mixed body", lambda a: CJK.search(a.body) and re.search("[A-Za-z]{3}", a.body)),
        ("a Chinese id", lambda a: CJK.search(a.id) is not None),
        ("a non-UTC zone", lambda a: a.created_at.utcoffset().total_seconds() != 0),
        ("a published article", lambda a: a.status is ArticleStatus.PUBLISHED),
    ],
)
def test_articles_include(what: str, condition: Callable[[Article], object]) -> None:
    quick = settings(max_examples=500, database=None, phases=[Phase.generate])
    found = find(articles(), lambda a: bool(condition(a)), settings=quick)
    assert isinstance(found, Article), what


@settings(max_examples=30, deadline=None)
@given(
    article=articles(ids=st.just("kb-only"), statuses=[ArticleStatus.ARCHIVED], max_body_chars=10)
)
def test_articles_follow_their_arguments(article: Article) -> None:
    assert article.id == "kb-only"
    assert article.status is ArticleStatus.ARCHIVED
    assert len(article.body) <= 10


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"statuses": []}, "statuses"),
        ({"max_body_chars": -1}, "max_body_chars"),
        ({"max_body_chars": MAX_ARTICLE_BODY_CHARS + 1}, "max_body_chars"),
    ],
)
def test_articles_refuse_bad_arguments(arguments: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        articles(**arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
