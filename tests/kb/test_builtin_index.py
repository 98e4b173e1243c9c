"""What only the built-in index promises: pruned scoring stays close to exact, and upkeep."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.kb.articles import Article, ArticleStatus
from supportflow.kb.index import BuiltinIndex

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_WORDS = """
card refund payment transfer account password login invoice download cash limit exchange
rate pending declined verify identity top up fee charge 我的 卡 退款 登录 无法 账户 发票 下载 密码
"""
VOCABULARY = _WORDS.split()


def article(article_id: str, title: str, body: str = "", **fields: object) -> Article:
    return Article(
        id=article_id,
        title=title,
        body=body,
        status=ArticleStatus.PUBLISHED,
        created_at=NOW,
        updated_at=NOW,
        **fields,  # type: ignore[arg-type]
    )


def corpus(count: int, seed: int = 0) -> list[Article]:
    rng = random.Random(seed)
    return [
        article(
            f"a{i:04d}",
            " ".join(rng.choices(VOCABULARY, k=4)),
            " ".join(rng.choices(VOCABULARY, k=30)),
        )
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def pruned_and_exact() -> tuple[BuiltinIndex, BuiltinIndex]:
    articles = corpus(300)
    pruned = BuiltinIndex(posting_budget=200, candidates=8)
    exact = BuiltinIndex(posting_budget=10**9)
    pruned.rebuild(articles)
    exact.rebuild(articles)
    return pruned, exact


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8))
def test_pruned_scores_are_the_exact_scores_of_their_articles(
    pruned_and_exact: tuple[BuiltinIndex, BuiltinIndex], query_words: list[str]
) -> None:
    pruned, exact = pruned_and_exact
    query = " ".join(query_words)
    exact_scores = {hit.article_id: hit.score for hit in exact.search(query, limit=300)}
    hits = pruned.search(query, limit=5)
    assert hits
    top = max(exact_scores.values())
    for hit in hits:
        # Candidates are rescored over every feature but those whose combined weight
        # is under 1% of the best partial score.
        assert hit.score == pytest.approx(exact_scores[hit.article_id], abs=0.011 * top)


def test_pruning_keeps_the_best_article_for_a_distinctive_query() -> None:
    articles = corpus(300)
    articles.append(article("target", "Cannot download invoice PDF", "invoice download fails"))
    index = BuiltinIndex(posting_budget=200, candidates=8)
    index.rebuild(articles)
    assert index.search("cannot download invoice pdf", limit=1)[0].article_id == "target"


def test_update_replaces_and_remove_forgets() -> None:
    index = BuiltinIndex()
    index.add(article("a", "Refund policy"))
    index.add(article("a", "Login help"))
    assert len(index) == 1
    assert index.search("refund") == []
    assert [h.article_id for h in index.search("login")] == ["a"]
    assert index.remove("a") is True
    assert index.remove("a") is False
    assert "a" not in index
    assert index.search("login") == []


def test_many_removals_compact_and_keep_results() -> None:
    articles = corpus(400, seed=3)
    index = BuiltinIndex()
    index.rebuild(articles)
    for doomed in articles[:300]:
        index.remove(doomed.id)
    fresh = BuiltinIndex()
    fresh.rebuild(articles[300:])
    assert len(index) == len(fresh) == 100
    assert index._dead < 10_000  # compacted along the way or never needed it
    for query in ("refund card", "登录 无法", "invoice download fee"):
        assert summary(index, query) == summary(fresh, query)


def summary(index: BuiltinIndex, query: str) -> list[tuple[str, float, str]]:
    """Ids, scores to 1e-9 (sums may round in another order) and snippets."""
    return [(h.article_id, round(h.score, 9), h.snippet) for h in index.search(query, limit=10)]


def test_rebuild_keeps_the_last_article_of_an_id() -> None:
    index = BuiltinIndex()
    index.rebuild([article("a", "Refund"), article("a", "Login help")])
    assert len(index) == 1
    assert index.search("login")[0].title == "Login help"


def test_unknown_words_are_corrected_to_indexed_ones() -> None:
    index = BuiltinIndex()
    index.rebuild([article("a", "Exchange rate"), article("b", "Identity check")])
    assert index.search("exchnage", limit=1)[0].article_id == "a"
    strict = BuiltinIndex(typo_tolerance=False)
    strict.rebuild([article("a", "Exchange rate"), article("b", "Identity check")])
    corrected = index.search("exchnage", limit=1)[0].score
    assert strict.search("exchnage", limit=1)[0].score < corrected


def test_adding_something_else_is_refused() -> None:
    index = BuiltinIndex()
    with pytest.raises(ValidationFailed) as caught:
        index.add({"id": "a"})  # type: ignore[arg-type]
    assert caught.value.field == "article"
    assert len(index) == 0
